// Dokploy version helpers: the emulator changes shapes and available procedures by version (API.md §7).

/** Version the emulator reports unless told otherwise. */
export const DEFAULT_VERSION = 'v0.30.2'

/**
 * Normalise '0.30.2' / 'v0.30.2' to 'v0.30.2'; throws on anything else so a typo in a test fails loudly.
 * @param {string} version
 * @returns {string}
 */
export function normalizeVersion(version) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(String(version).trim())
  if (!m) throw new Error(`Invalid Dokploy version: ${version}`)
  return `v${m[1]}.${m[2]}.${m[3]}`
}

/** @param {string} v @returns {number[]} */
function parts(v) {
  return normalizeVersion(v).slice(1).split('.').map(Number)
}

/**
 * True when `version` >= `min`.
 * @param {string} version
 * @param {string} min
 * @returns {boolean}
 */
export function atLeast(version, min) {
  const a = parts(version)
  const b = parts(min)
  for (let i = 0; i < 3; i++) {
    if (a[i] !== b[i]) return a[i] > b[i]
  }
  return true
}

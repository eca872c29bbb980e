/** `KEY=value` blocks: the env input, and Dokploy's env/buildArgs/buildSecrets fields. */
export interface EnvEntry {
  key: string
  value: string
}

export type EnvStrategy = 'merge' | 'replace'

export interface EnvPlan {
  env: string
  added: string[]
  changed: string[]
  removed: string[]
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/

const isContent = (line: string): boolean => line.trim() !== '' && !line.trim().startsWith('#')

function split(line: string): EnvEntry | undefined {
  const at = line.indexOf('=')
  if (at <= 0) return undefined
  return { key: line.slice(0, at).trim(), value: line.slice(at + 1) }
}

/** Values of a Dokploy env block, to be masked. */
export function envValues(block: string): string[] {
  return block
    .split(/\r?\n/)
    .filter(isContent)
    .map((line) => split(line)?.value ?? '')
    .filter(Boolean)
}

/** Parses the env input; a bad line is reported by number and key only, never by value. */
export function parseEnvInput(text: string): { entries: EnvEntry[]; problems: string[] } {
  const entries: EnvEntry[] = []
  const problems: string[] = []
  text.split(/\r?\n/).forEach((line, index) => {
    if (!isContent(line)) return
    const entry = split(line)
    if (!entry) problems.push(`line ${index + 1} has no KEY=value`)
    // the line is not quoted: it may be part of a secret pasted across lines
    else if (!KEY.test(entry.key)) problems.push(`line ${index + 1} does not start with a valid variable name (letters, digits, _ . -)`)
    else {
      const existing = entries.findIndex((e) => e.key === entry.key)
      if (existing >= 0) entries.splice(existing, 1)
      entries.push(entry)
    }
  })
  return { entries, problems }
}

/**
 * merge: set the given keys where they stand, append new ones, keep every other line.
 * replace: the given entries become the whole block.
 */
export function planEnv(current: string, wanted: EnvEntry[], strategy: EnvStrategy): EnvPlan {
  const lines = current === '' ? [] : current.split(/\r?\n/)
  const before = new Map<string, string>()
  for (const line of lines.filter(isContent)) {
    const entry = split(line)
    if (entry) before.set(entry.key, entry.value)
  }
  const added = wanted.filter((e) => !before.has(e.key)).map((e) => e.key)
  const changed = wanted.filter((e) => before.has(e.key) && before.get(e.key) !== e.value).map((e) => e.key)
  const wantedKeys = new Set(wanted.map((e) => e.key))

  if (strategy === 'replace') {
    const removed = [...before.keys()].filter((key) => !wantedKeys.has(key))
    return { env: wanted.map((e) => `${e.key}=${e.value}`).join('\n'), added, changed, removed }
  }
  const values = new Map(wanted.map((e) => [e.key, e.value]))
  const merged = lines.map((line) => {
    const entry = isContent(line) ? split(line) : undefined
    return entry && values.has(entry.key) ? `${entry.key}=${values.get(entry.key)}` : line
  })
  for (const key of added) merged.push(`${key}=${values.get(key)}`)
  return { env: merged.join('\n'), added, changed, removed: [] }
}

export const envChanges = (plan: EnvPlan): number => plan.added.length + plan.changed.length + plan.removed.length

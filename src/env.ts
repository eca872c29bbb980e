/**
 * `KEY=value` blocks: the env input, merged into or replacing Dokploy's env text. How the build reads
 * that text (dotenv), to learn its secrets, is in secrets.ts.
 */
export interface EnvEntry {
  key: string
  /** As written after `=`: quotes and the line breaks of a multi-line value kept. */
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

const QUOTES = ['"', "'", '`']

const isContent = (line: string): boolean => line.trim() !== '' && !line.trim().startsWith('#')

/** One unit of a block: a line, or the lines of a quoted value that spans several. */
interface Chunk {
  /** 1-based number of its first line. */
  line: number
  text: string
  /** Set for `KEY=value`, whatever the key looks like. */
  entry?: EnvEntry
  /** Its quote is never closed: the chunk runs to the end of the block. */
  unterminated?: boolean
}

function split(line: string): EnvEntry | undefined {
  const at = line.indexOf('=')
  if (at <= 0) return undefined
  return { key: line.slice(0, at).trim(), value: line.slice(at + 1) }
}

/** Index of the first `quote` in `text` from `from` that no backslash escapes, or -1. */
function closingQuote(text: string, quote: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === quote) return i
  }
  return -1
}

/** The quote a value opens and does not close on its own line (dotenv: it then spans lines). */
function openQuote(value: string): string | undefined {
  const start = value.trimStart()
  const quote = QUOTES.find((q) => start.startsWith(q))
  return quote && closingQuote(start, quote, 1) < 0 ? quote : undefined
}

/**
 * Splits a block into chunks, dotenv style: a value that opens a quote runs to the line that
 * closes it. `strict` (the env input): an unclosed quote takes the rest of the block, so none of it
 * is read as keys; otherwise (Dokploy's text, as dotenv reads it) it is a line like any other.
 */
function readBlock(text: string, strict: boolean): Chunk[] {
  const lines = text === '' ? [] : text.split(/\r?\n/)
  const chunks: Chunk[] = []
  for (let i = 0; i < lines.length; i++) {
    const entry = isContent(lines[i]) ? split(lines[i]) : undefined
    const quote = entry && openQuote(entry.value)
    let end = i
    if (quote) {
      while (++end < lines.length && closingQuote(lines[end], quote, 0) < 0);
      if (end === lines.length && !strict) end = i
    }
    const text = lines.slice(i, Math.min(end, lines.length - 1) + 1).join('\n')
    const chunk: Chunk = { line: i + 1, text, entry: entry && { key: entry.key, value: text.slice(text.indexOf('=') + 1) } }
    if (end === lines.length) chunk.unterminated = true
    chunks.push(chunk)
    i = Math.min(end, lines.length - 1)
  }
  return chunks
}

/** Parses the env input; a bad line is reported by number and key only, never by value. */
export function parseEnvInput(text: string): { entries: EnvEntry[]; problems: string[] } {
  const entries: EnvEntry[] = []
  const problems: string[] = []
  const seen = new Map<string, number[]>()
  for (const { line, text: content, entry, unterminated } of readBlock(text, true)) {
    if (!isContent(content)) continue
    // a bad line is not quoted: it may be part of a secret pasted across lines
    if (!entry) problems.push(`line ${line} has no KEY=value`)
    else if (!KEY.test(entry.key)) problems.push(`line ${line} does not start with a valid variable name (letters, digits, _ . -)`)
    else if (unterminated) problems.push(`line ${line}: the value of ${entry.key} opens a quote that is never closed`)
    else {
      seen.set(entry.key, [...(seen.get(entry.key) ?? []), line])
      entries.push(entry)
    }
  }
  for (const [key, lines] of seen) {
    if (lines.length > 1) problems.push(`${key} is set more than once (lines ${lines.join(', ')})`)
  }
  return { entries, problems }
}

const format = (entry: EnvEntry): string => `${entry.key}=${entry.value}`

/**
 * merge: set the given keys where they stand, append new ones, keep every other line.
 * replace: the given entries become the whole block.
 * A multi-line value of the current block is one entry: kept or replaced whole, its lines never read as keys.
 */
export function planEnv(current: string, wanted: EnvEntry[], strategy: EnvStrategy): EnvPlan {
  const chunks = readBlock(current, false)
  const before = new Map<string, string>()
  for (const { entry } of chunks) if (entry) before.set(entry.key, entry.value)
  const added = wanted.filter((e) => !before.has(e.key)).map((e) => e.key)
  const changed = wanted.filter((e) => before.has(e.key) && before.get(e.key) !== e.value).map((e) => e.key)
  const wantedKeys = new Set(wanted.map((e) => e.key))

  if (strategy === 'replace') {
    const removed = [...before.keys()].filter((key) => !wantedKeys.has(key))
    return { env: wanted.map(format).join('\n'), added, changed, removed }
  }
  const values = new Map(wanted.map((e) => [e.key, e.value]))
  const merged = chunks.map(({ entry, text }) => (entry && values.has(entry.key) ? format({ key: entry.key, value: values.get(entry.key) as string }) : text))
  for (const key of added) merged.push(format({ key, value: values.get(key) as string }))
  return { env: merged.join('\n'), added, changed, removed: [] }
}

export const envChanges = (plan: EnvPlan): number => plan.added.length + plan.changed.length + plan.removed.length

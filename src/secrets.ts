import * as core from '@actions/core'
import { wall } from './logger.js'

/**
 * The one place that decides what is a secret, and how env text is read to find them.
 *
 * Two sets:
 * - `masked`: values the runner is told to mask (core.setSecret). The runner then hides them in every
 *   later line of the whole job and drops any job output that holds one, so only what can really be a
 *   secret goes there.
 * - `known`: every secret the step knows, `masked` included. `redact` removes all of them from server
 *   text before it is printed, in the log, the annotations and the job summary.
 *
 * What is a secret (`classify`):
 * 1. never: booleans, numbers under 8 digits, log levels, environment names, values under 4 characters;
 * 2. the password of a connection string (`scheme://user:PASSWORD@host`), under any name;
 * 3. every line of a PEM block (`-----BEGIN …-----`), under any name;
 * 4. a value that looks like one, under any name: a JWT, a well-known token format (`sk_live_…`,
 *    `ghp_…`, `xoxb-…`, `AKIA…`), a hex string of 32+ characters, or a random-looking string of 20+
 *    characters (letters and digits mixed the way random text mixes them, not words);
 * 5. a value under a secret-like name (password, secret, token, key, credential, auth, DSN, private
 *    key, salt, signature, cookie…), unless the name ends in a word that names no secret (…_PATH, …_URL,
 *    …_HOST, …_PORT, …_TTL, …_ENABLED…) or the value is a host name, a path, or a URL that carries
 *    no key (no user info, not a DSN). A plain word (letters only, up to 12) there is only `known`:
 *    hidden from what the step prints, not given to the runner, which would blank that word in every
 *    later line of the job;
 * 6. anything else (plain words, host names, URLs without a password) is no secret and stays readable.
 */
const masked = new Set<string>()
const known = new Set<string>()

/** Shorter values would blank common text all over the log; they protect nothing anyway. */
const MIN_SECRET_LENGTH = 4

export type Secrecy = 'secret' | 'known' | undefined

/** Every line of the value, trimmed, told to the runner and kept for `redact`. */
function keep(value: string, level: 'secret' | 'known', always = false): void {
  for (const line of value.split(/\r\n|\r|\n/)) {
    const part = line.trim()
    if (!part || (!always && part.length < MIN_SECRET_LENGTH)) continue
    known.add(part)
    if (level === 'secret' && !masked.has(part)) {
      masked.add(part)
      // a mask sent while the runner's commands are stopped would be lost
      wall.lower()
      core.setSecret(part)
    }
  }
}

/**
 * A value known to be a secret (an input such as the API key, a registry password): masked line by
 * line. `always`: even a short value (the API key, whatever its length).
 */
export function registerSecret(value: string | null | undefined, always = false): void {
  if (value) keep(value, 'secret', always)
}

/** Every secret the step knows, replaced by `***`. */
export function redact(text: string): string {
  let out = text
  for (const secret of [...known].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***')
  return out
}

/**
 * For a job output: the values the runner masks, replaced. The runner drops an output that holds one
 * (actions/runner#1061), so none may reach it.
 */
export function redactMasked(text: string): string {
  let out = text
  for (const secret of [...masked].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***')
  return out
}

// ---------------------------------------------------------------------------------------------
// What is a secret

const BOOLEAN = /^(true|false|yes|no|on|off|y|n|enabled|disabled|enable|disable)$/i
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i
const LOG_LEVEL = /^(trace|debug|info|information|notice|warn|warning|error|err|fatal|critical|crit|alert|emerg|emergency|silent|verbose|silly|http|off|all|none)$/i
const ENVIRONMENT_NAME = /^(production|prod|staging|stage|stg|development|develop|dev|test|testing|local|preview|qa|uat|sandbox|live|demo|ci|main|master)$/i

/** Name words that make a value secret: compared with whole words of the name. */
const SECRET_WORDS = new Set(['key', 'keys', 'pass', 'pwd', 'pw', 'passphrase', 'auth', 'authorization', 'dsn', 'jwt', 'salt', 'pepper', 'cookie', 'signature', 'sig', 'hmac', 'otp', 'pat', 'pin', 'creds', 'cred'])
/** Stems found anywhere in a name (PGPASSWORD, githubPrivateKey, X_APIKEY). */
const SECRET_STEMS = /password|passwd|secret|token|credential|apikey|privatekey|accesskey|secretkey|masterkey|signingkey|encryptionkey|licensekey|webhookkey/
/** A last word that says the value is not the secret itself but a setting about it. */
const SETTING_WORDS = new Set([
  'path', 'file', 'filename', 'dir', 'directory', 'enabled', 'disabled', 'enable', 'disable', 'ttl', 'timeout', 'expiry', 'expires', 'expiration',
  'lifetime', 'age', 'length', 'size', 'count', 'type', 'mode', 'header', 'algorithm', 'alg', 'host', 'hostname', 'port', 'url', 'uri', 'endpoint',
  'issuer', 'audience', 'name', 'user', 'username', 'email', 'region', 'version', 'scope', 'scopes', 'field', 'format', 'strategy', 'provider', 'id',
  'server', 'domain', 'origin', 'realm', 'method', 'level'
])

/** The words of a name: `databaseRootPassword`, `DB_ROOT_PASSWORD` and `db.root-password` give database/db, root, password. */
export const nameWords = (name: string): string[] =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)

export function isSecretName(name: string): boolean {
  const words = nameWords(name)
  if (words.length === 0) return false
  if (SETTING_WORDS.has(words[words.length - 1]) && words.length > 1) return false
  return words.some((word) => SECRET_WORDS.has(word)) || SECRET_STEMS.test(words.join(''))
}

/** Well-known token formats: a prefix and enough token characters after it. */
const TOKEN_FORMATS = [
  /^(sk|rk|pk)_(live|test)_[A-Za-z0-9]{10,}$/,
  /^whsec_[A-Za-z0-9+/=]{16,}$/,
  /^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}$/,
  /^github_pat_[A-Za-z0-9_]{20,}$/,
  /^glpat-[A-Za-z0-9_-]{16,}$/,
  /^xox[abposr]-[A-Za-z0-9-]{10,}$/,
  /^(AKIA|ASIA)[A-Z0-9]{16}$/,
  /^AIza[A-Za-z0-9_-]{30,}$/,
  /^SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}$/,
  /^(npm|dop_v1|shpat|shpss|hf|pypi)[-_][A-Za-z0-9_-]{16,}$/
]
const JWT = /^eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const HEX = /^[0-9a-f]{32,}$/i
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}\.?(:\d{1,5})?$/i
const IP_ADDRESS = /^(\d{1,3}\.){3}\d{1,3}(:\d{1,5})?$/
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i
const PATH = /^(~|\.{1,2})?\/[^\s]*$/

/** Shannon entropy of the characters, in bits per character. */
function entropy(text: string): number {
  const counts = new Map<string, number>()
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1)
  let bits = 0
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length)
  return bits
}

/**
 * Runs of one kind (digits, capitals, small letters; a capital followed by small letters is one word)
 * in the parts of a text between separators that mix kinds. Words and numbers make few long runs;
 * random text many short ones.
 */
function runs(text: string): { chars: number; runs: number; digitRuns: number; longestWord: number } {
  let chars = 0
  let count = 0
  let digitRuns = 0
  let longestWord = 0
  for (const segment of text.split(/[^A-Za-z0-9]+/)) {
    const found = segment.match(/[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+|[0-9]+/g) ?? []
    // a word or a number between separators is structure, not randomness
    if (found.length < 2) continue
    chars += segment.length
    for (const run of found) {
      count++
      if (/^[0-9]/.test(run)) digitRuns++
      else longestWord = Math.max(longestWord, run.length)
    }
  }
  return { chars, runs: count, digitRuns, longestWord }
}

/** Long and random-looking: what a generated password, key or token is, whatever its name. */
export function looksLikeSecret(value: string): boolean {
  const text = value.trim()
  if (/\s/.test(text) || text.length < 16) return false
  if (JWT.test(text) || TOKEN_FORMATS.some((format) => format.test(text))) return true
  if (text.length < 20 || UUID.test(text) || URL_LIKE.test(text) || PATH.test(text) || HOST_NAME.test(text)) return false
  if (HEX.test(text)) return true
  if (!/^[\x21-\x7e]+$/.test(text) || !/[0-9]/.test(text) || !/[A-Za-z]/.test(text)) return false
  const { chars, runs: count, digitRuns, longestWord } = runs(text)
  if (chars < 14 || count === 0 || entropy(text) < 3.5) return false
  // many short runs; letters in short runs cut by digits again and again (no version number); or
  // letters that no language writes (few vowels) mixed with digits
  const letters = text.replace(/[^A-Za-z]/g, '')
  const vowels = letters.replace(/[^aeiouyAEIOUY]/g, '').length
  return chars / count <= 2.8 || (digitRuns >= 4 && longestWord <= 6 && !/\d\.\d/.test(text)) || (letters.length >= 12 && vowels / letters.length <= 0.25)
}

/** Values that are settings, whatever their name. */
const isPlainSetting = (value: string): boolean =>
  BOOLEAN.test(value) || (NUMBER.test(value) && value.replace(/\D/g, '').length < 8) || LOG_LEVEL.test(value) || ENVIRONMENT_NAME.test(value)

/**
 * How secret a value is (see the top of this file): 'secret' (masked by the runner and redacted),
 * 'known' (redacted only) or undefined (readable). `name` is the variable's or field's name, if any.
 * `secretField`: the field says every value in it is secret (Dokploy's build secrets), whatever its name.
 * A connection string or PEM block is not judged whole: `learnValue` takes its secret parts.
 */
export function classify(name: string | undefined, value: string, secretField = false): Secrecy {
  const text = value.trim()
  if (text.length < MIN_SECRET_LENGTH || isPlainSetting(text)) return undefined
  if (looksLikeSecret(text)) return 'secret'
  if (!secretField && !(name && isSecretName(name))) return undefined
  if (HOST_NAME.test(text) || IP_ADDRESS.test(text) || PATH.test(text)) return undefined
  // a URL is the secret only when it carries one (a DSN's key, user info); its password alone is taken apart
  if (URL_LIKE.test(text)) return /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s]+@/i.test(text) || (name !== undefined && nameWords(name).includes('dsn')) ? 'secret' : undefined
  if (/^[A-Za-z]{1,12}$/.test(text)) return 'known'
  return 'secret'
}

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g
/** `scheme://user:password@host`, or a password alone (`redis://:password@host`). */
const CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/([^\s:/?#@]*):([^\s/?#@]+)@/gi
/** Query parameters that carry a secret: `?token=…`, `&sig=…`, `?password=…`. */
const QUERY_PARAMETER = /[?&]([A-Za-z0-9_.-]+)=([^&#\s]+)/g

/** A percent-encoded part as the build may print it: both forms. */
function bothForms(part: string): string[] {
  try {
    const decoded = decodeURIComponent(part)
    return decoded === part ? [part] : [part, decoded]
  } catch {
    return [part]
  }
}

/** The PEM blocks, connection-string passwords and secret query parameters of a text, under any name. */
function learnParts(text: string): void {
  for (const block of text.match(PEM_BLOCK) ?? []) keep(block, 'secret')
  for (const match of text.matchAll(CREDENTIALS)) bothForms(match[2]).forEach((part) => keep(part, 'secret'))
  for (const match of text.matchAll(QUERY_PARAMETER)) {
    if (isSecretName(match[1]) || looksLikeSecret(match[2])) bothForms(match[2]).forEach((part) => keep(part, 'secret'))
  }
}

/**
 * Learns the secrets in one value: its PEM blocks and connection-string passwords whatever its name,
 * then the value itself (each of its lines, for a multi-line value) as `classify` rules.
 */
export function learnValue(name: string | undefined, value: string | null | undefined, secretField = false): void {
  if (!value) return
  learnParts(value)
  const rest = value.replace(PEM_BLOCK, '\n')
  const lines = rest.split(/\r\n|\r|\n/)
  for (const line of lines) {
    const level = classify(name, line, secretField)
    if (level) keep(line, level)
  }
}

// ---------------------------------------------------------------------------------------------
// How env text is read: as Dokploy reads it (dotenv 16.x `parse`), so every value the build sees is known

export interface DotenvEntry {
  key: string
  value: string
}

// The reading below follows dotenv 16's rules as its documentation and behaviour give them (written
// here from those facts, and checked against them case by case in __tests__/unit/secrets.test.ts).


const KEY_CHAR = /[\w.-]/
const QUOTES = new Set(["'", '"', '`'])
/** Where a line ends for dotenv's pattern: LF (CR is LF by then), LS, PS. */
const isLineEnd = (c: string | undefined): boolean => c === '\n' || c === '\u2028' || c === '\u2029'
const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c)
/** White space that does not end a line. */
const isBlank = (c: string | undefined): boolean => isSpace(c) && !isLineEnd(c)

/** The index of the end of the line `from` is on. */
function lineEnd(text: string, from: number): number {
  let i = from
  while (i < text.length && !isLineEnd(text[i])) i++
  return i
}

/** After a value: blanks, then a comment or the line's end. */
function endsLine(text: string, from: number): boolean {
  let i = from
  while (isBlank(text[i])) i++
  return i >= text.length || isLineEnd(text[i]) || text[i] === '#'
}

/**
 * The closing quote of a value that opens at `open`, or undefined. `\\q` may be an escaped quote or a
 * backslash and the closing one: the longest reading that leaves only a comment on its line is taken.
 */
function closingQuote(text: string, open: number): number | undefined {
  const quote = text[open]
  const candidates: number[] = []
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] !== quote) continue
    candidates.push(i)
    if (text[i - 1] !== '\\') break
  }
  for (let k = candidates.length - 1; k >= 0; k--) if (endsLine(text, candidates[k] + 1)) return candidates[k]
  return undefined
}

/** One variable read at `at`, a line's start: its key, its value as written, and where reading goes on; or undefined. */
function readEntry(text: string, at: number): { key: string; raw: string; next: number } | undefined {
  let i = at
  while (isSpace(text[i])) i++
  const keyAt = (from: number): number => {
    let j = from
    while (j < text.length && KEY_CHAR.test(text[j])) j++
    return j
  }
  const attempt = (keyStart: number): { key: string; raw: string; next: number } | undefined => {
    const keyEnd = keyAt(keyStart)
    if (keyEnd === keyStart) return undefined
    let j = keyEnd
    while (isSpace(text[j])) j++
    if (text[j] === '=') j++
    else if (text[keyEnd] === ':' && isSpace(text[keyEnd + 1])) j = keyEnd + 2
    else return undefined
    return { key: text.slice(keyStart, keyEnd), ...readValue(text, j) }
  }
  if (text.startsWith('export', i) && isSpace(text[i + 6])) {
    let j = i + 6
    while (isSpace(text[j])) j++
    const found = attempt(j)
    if (found) return found
  }
  return attempt(i)
}

function readValue(text: string, at: number): { raw: string; next: number } {
  let j = at
  while (isSpace(text[j])) j++
  if (QUOTES.has(text[j])) {
    const close = closingQuote(text, j)
    if (close !== undefined) return { raw: text.slice(j, close + 1), next: afterComment(text, close + 1) }
  }
  if (at >= text.length || text[at] === '#' || text[at] === '\n') return { raw: '', next: afterComment(text, at) }
  let end = at
  while (end < text.length && text[end] !== '#' && text[end] !== '\n') end++
  return { raw: text.slice(at, end), next: afterComment(text, end) }
}

/** Past blanks and a comment: the end of the line. */
function afterComment(text: string, from: number): number {
  let i = from
  while (isBlank(text[i])) i++
  return text[i] === '#' ? lineEnd(text, i) : i
}

/**
 * Env text as dotenv 16 reads it. A variable starts a line: optional `export `, a key of word
 * characters, dots and dashes, then `=` (white space around it allowed) or `:` right after the key and
 * one white space. Its value is quoted ('…', "…" or `…`, over several lines if need be, a backslash
 * before a quote inside) when a closing quote leaves only a comment on its line; else it runs to a `#`
 * or the line's end, trimmed. Double quotes expand `\n` and `\r`. A line that does not fit is skipped;
 * the last value of a key set twice wins, as in the build's environment.
 */
export function readDotenv(text: string): DotenvEntry[] {
  const source = text.replace(/\r\n?/g, '\n')
  const values = new Map<string, string>()
  let at = 0
  while (at < source.length) {
    const entry = readEntry(source, at)
    if (entry) {
      let value = entry.raw.trim()
      const quote = value[0]
      if (value.length >= 2 && QUOTES.has(quote) && value[value.length - 1] === quote) value = value.slice(1, -1)
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r')
      values.delete(entry.key)
      values.set(entry.key, value)
    }
    // the next line start after where this reading started (or ended)
    let next = entry ? entry.next : at
    while (next < source.length && !isLineEnd(source[next])) next++
    at = next + 1
  }
  return [...values].map(([key, value]) => ({ key, value }))
}

/**
 * Learns the secrets of a block of env text (a service's env, build args, build secrets, the env input).
 * `allSecret`: every value is secret by its field (Dokploy's build secrets), whatever its name.
 */
export function learnEnvText(text: string | null | undefined, allSecret = false): void {
  if (!text) return
  for (const { key, value } of readDotenv(text)) learnValue(key, value, allSecret)
}

/** Fields of Dokploy's replies that hold env text. */
const ENV_FIELD = /^(env|buildArgs|previewEnv|previewBuildArgs)$/
const SECRET_ENV_FIELD = /^(buildSecrets|previewBuildSecrets)$/

/**
 * Learns every secret a reply holds (a service's `.one`, a project's rows): env blocks value by value,
 * fields with secret-like names, connection strings and PEM blocks anywhere, and `KEY=value` or
 * `KEY: value` lines inside other multi-line text (a compose file). Other fields are not judged by
 * their looks: ids are random too, and the step prints them.
 */
export function learnSecretsOf(reply: unknown, depth = 0): void {
  if (depth > 8 || !reply || typeof reply !== 'object') return
  for (const [name, field] of Object.entries(reply as Record<string, unknown>)) {
    if (typeof field !== 'string') learnSecretsOf(field, depth + 1)
    else if (ENV_FIELD.test(name)) learnEnvText(field)
    else if (SECRET_ENV_FIELD.test(name)) learnEnvText(field, true)
    else if (isSecretName(name)) learnValue(name, field)
    else if (/[\r\n]/.test(field)) learnEmbedded(field)
    else learnParts(field)
  }
}

/** `KEY=value`, `KEY: value` and `- KEY=value` lines inside a multi-line field (a compose file, a script). */
function learnEmbedded(text: string): void {
  learnParts(text)
  for (const line of text.replace(PEM_BLOCK, '\n').split(/\r\n|\r|\n/)) {
    const assignment = /^\s*(?:-\s*)?(?:export\s+)?["']?([A-Za-z_][\w.-]*)["']?\s*[=:]\s*(.*?)\s*$/.exec(line)
    if (!assignment) continue
    const value = assignment[2].replace(/^(['"`])([\s\S]*)\1$/, '$2')
    const level = classify(assignment[1], value)
    if (level) keep(value, level)
  }
}

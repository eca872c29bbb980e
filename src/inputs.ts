import { readFileSync } from 'node:fs'
import { Input } from './constants.js'
import { OPERATIONS, RESOURCE_INPUTS, operationsOf, type Operation, type ResourceInput } from './operations.js'
import { parseEnvInput, type EnvEntry, type EnvStrategy } from './env.js'
import { clip, defaultRunInfo, DESCRIPTION_LIMIT, TITLE_LIMIT } from './title.js'

/** Every input, validated and typed. Nothing is sent to Dokploy until this succeeds. */
export interface Settings {
  baseUrl: string
  apiKey: string
  /** Extra headers for every request to Dokploy and the log socket (a Cloudflare Access service token). */
  headers: Record<string, string>
  /** One kind, or `database` for every database kind. */
  resource: ResourceInput
  operation: Operation
  /** Several ids, or several names (`*`: every service of the kind) in a project. */
  target: { ids: string[] } | { project: string; environment?: string; names: string[] | '*' }
  wait: boolean
  /** Take the step's own deploy back out of Dokploy's queue when the step is cancelled or times out before it builds. */
  cancelQueued: boolean
  waitTimeoutMs: number
  requestTimeoutMs: number
  pollIntervalMs: number
  logLines: number
  /** live: stream the build log into the step; tail: only its last lines on failure; none: neither. */
  log: LogMode
  retries: number
  title: string
  description: string
  image?: { dockerImage: string; registryUrl?: string; username?: string; password?: string }
  env?: { entries: EnvEntry[]; strategy: EnvStrategy }
  /** running: after `done`, check that the new version runs (rollout-check.ts); none: Dokploy's word alone. */
  verify: VerifyMode
  /** How long the new version may take to run and turn healthy, counted after `done`. */
  verifyTimeoutMs: number
  /** An HTTP check after `done`: an absolute URL, or a path joined to the service's public URL. */
  verifyUrl?: string
  /** Text the verify-url body must contain. */
  verifyText?: string
  /** rollback: when the rollout check or verify-url fails, roll the application back to its previous good deployment. */
  onFailure: 'none' | 'rollback'
  /** The commit a `follow` looks for, and whose commit status is posted: GITHUB_SHA unless `commit` says. */
  commit?: string
  /** operation follow of a pull request's preview deployment (its head commit is `commit`). */
  pullRequest?: number
  /** Set with github-deployment: true or commit-status: true. */
  github?: { token: string; environment?: string; deployments: boolean; statuses: boolean }
  warnings: string[]
}

export const VERIFY_MODES = ['running', 'none'] as const
export type VerifyMode = (typeof VERIFY_MODES)[number]

export const LOG_MODES = ['live', 'tail', 'none'] as const
export type LogMode = (typeof LOG_MODES)[number]

export class InputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InputError'
  }
}

export type GetInput = (name: string) => string

const bad = (name: string, value: string, accepted: string): InputError =>
  new InputError(`Input "${name}" is ${value === '' ? 'empty' : `"${clip(value, 80)}"`}: ${accepted}.`)

function oneOf<T extends string>(get: GetInput, name: string, allowed: readonly T[], fallback: T): T {
  const value = get(name).trim() || fallback
  if (!(allowed as readonly string[]).includes(value)) throw bad(name, value, `expected one of ${allowed.join(', ')}`)
  return value as T
}

function seconds(get: GetInput, name: string, fallback: number, min: number, max: number): number {
  const raw = get(name).trim()
  if (raw === '') return fallback * 1000
  const value = Number(raw)
  if (!/^\d+(\.\d+)?$/.test(raw) || value < min || value > max) throw bad(name, raw, `expected a number of seconds from ${min} to ${max}`)
  return Math.round(value * 1000)
}

function integer(get: GetInput, name: string, fallback: number, min: number, max: number): number {
  const raw = get(name).trim()
  if (raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw bad(name, raw, `expected a whole number from ${min} to ${max}`)
  return Number(raw)
}

function boolean(get: GetInput, name: string, fallback: boolean): boolean {
  const raw = get(name).trim()
  if (raw === '') return fallback
  if (/^(true|yes|on|1)$/i.test(raw)) return true
  if (/^(false|no|off|0)$/i.test(raw)) return false
  throw bad(name, raw, 'expected true or false')
}

/** U+0000–U+001F and U+007F: a tab, a line break, an escape pasted with the key. */
const hasControlCharacter = (text: string): boolean => [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i

/** Accepts a trailing `/` or `/api`, and refuses anything fetch would mangle or a log would expose. */
export function normalizeUrl(raw: string, warnings: string[] = []): string {
  // never echo credentials written into the URL
  const value = raw.trim().replace(/\/\/\S*@/, '//***@')
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw bad(Input.url, value, 'expected the Dokploy base URL, such as https://dokploy.example.com')
  }
  if (url.username || url.password) throw bad(Input.url, value, 'credentials in the URL are not accepted; pass the key as api-key')
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(Input.url, value, 'expected an http:// or https:// URL')
  if (url.search || url.hash) throw bad(Input.url, value, 'expected the base URL without ?query or #fragment')
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) {
    warnings.push(`${url.origin} is plain http: the API key travels unencrypted. Use https:// if the server has it.`)
  }
  const path = url.pathname.replace(/\/+$/, '')
  // the tRPC endpoint is the action's to build: from it, every call would go to /api/trpc/api/trpc/…
  const trpc = /\/api\/trpc$/i.exec(path)
  if (trpc) throw bad(Input.url, value, `expected the Dokploy base URL without /api/trpc, here ${url.origin}${path.slice(0, trpc.index)}`)
  return `${url.origin}${path.replace(/\/api$/, '').replace(/\/+$/, '')}`
}

export function readSettings(get: GetInput, env: NodeJS.ProcessEnv = process.env): Settings {
  const warnings: string[] = []
  const rawUrl = get(Input.url).trim()
  if (rawUrl === '') throw bad(Input.url, '', 'expected the Dokploy base URL, such as https://dokploy.example.com')
  const baseUrl = normalizeUrl(rawUrl, warnings)

  const apiKey = get(Input.apiKey).trim()
  if (apiKey === '') throw new InputError(`Input "${Input.apiKey}" is empty: pass a Dokploy API key, e.g. api-key: \${{ secrets.DOKPLOY_API_KEY }}.`)
  if (hasControlCharacter(apiKey)) {
    throw new InputError(`Input "${Input.apiKey}" contains a control character (such as a tab or a line break): paste the key alone, on one line.`)
  }
  if (/\s/.test(apiKey)) throw new InputError(`Input "${Input.apiKey}" contains white space: paste the key alone.`)

  const headers = readHeaders(get(Input.headers))

  const resource = oneOf(get, Input.resource, RESOURCE_INPUTS, 'application')
  let operation = oneOf(get, Input.operation, OPERATIONS, 'deploy')
  if (!operationsOf(resource).includes(operation)) {
    throw bad(Input.operation, operation, `${resource} supports ${operationsOf(resource).join(', ')}`)
  }

  const target = readTarget(get, resource)
  const image = readImage(get, resource)
  if (image && operation === 'redeploy') {
    warnings.push('redeploy does not pull images; deploying instead so the new docker-image is used.')
    operation = 'deploy'
  }
  if (image && operation !== 'deploy') throw bad(Input.dockerImage, image.dockerImage, `only used with operation deploy, not ${operation}`)

  const envSetting = readEnv(get, operation, warnings)
  const wait = boolean(get, Input.wait, true)
  if (operation === 'follow') {
    if (!wait) throw bad(Input.wait, 'false', 'operation follow follows a deployment to its end: it needs wait: true')
    if (envSetting) throw bad(Input.env, '***', 'operation follow sends nothing to Dokploy: env is applied by deploy or redeploy')
  }
  const github = readGithub(get, operation, wait)
  const pullRequest = readPullRequest(get, env, operation, resource)
  const commit = readCommit(get, env, operation === 'follow' || github?.statuses === true, pullRequest)

  const run = defaultRunInfo(env)
  const settings: Settings = {
    baseUrl,
    apiKey,
    headers,
    resource,
    operation,
    target,
    wait,
    cancelQueued: boolean(get, Input.cancelQueued, true),
    waitTimeoutMs: seconds(get, Input.waitTimeout, 600, 1, 6 * 3600),
    requestTimeoutMs: seconds(get, Input.requestTimeout, 30, 1, 3600),
    pollIntervalMs: seconds(get, Input.pollInterval, 10, 1, 300),
    logLines: integer(get, Input.logLines, 50, 0, 10000),
    log: oneOf(get, Input.log, LOG_MODES, 'live'),
    retries: integer(get, Input.retries, 3, 0, 10),
    title: clip(get(Input.title).trim() || run.title, TITLE_LIMIT),
    description: clip(get(Input.description).trim() || run.description, DESCRIPTION_LIMIT),
    image,
    env: envSetting,
    commit,
    pullRequest: pullRequest?.number,
    verify: oneOf(get, Input.verify, VERIFY_MODES, 'running'),
    verifyTimeoutMs: seconds(get, Input.verifyTimeout, 120, 1, 3600),
    ...readVerifyUrl(get, resource),
    onFailure: readOnFailure(get, resource, operation),
    github,
    warnings
  }
  return settings
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/
/** Headers the action sets itself, or that only the HTTP and WebSocket layers may set. */
const RESERVED_HEADER = /^(x-api-key|content-type|content-length|host|connection|upgrade|transfer-encoding|te|trailer|keep-alive|proxy-.*|sec-websocket-.*|expect|cookie)$/i

/** The values of the headers input, for masking before anything else reads it: each line's part after its colon (a line without one whole). */
export function headerInputValues(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => (line.includes(':') ? line.slice(line.indexOf(':') + 1) : line).trim())
}

/**
 * `Name: value` per line; blank lines are skipped. A value is never echoed, and neither is a line whose
 * name cannot be told apart from a value: only a valid name, and the line number, are ever quoted.
 */
export function readHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {}
  const accepted = 'expected one "Name: value" per line, such as CF-Access-Client-Id: <id>, a name of letters, digits and !#$%&\'*+-.^_`|~'
  const lines = text.split(/\r?\n/)
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    const at = `Input "${Input.headers}", line ${i + 1}`
    const colon = line.indexOf(':')
    if (colon < 0) throw new InputError(`${at} has no colon (its text is not shown: it may be a value): ${accepted}.`)
    const name = line.slice(0, colon).trim()
    const value = line.slice(colon + 1).trim()
    if (!HEADER_NAME.test(name)) throw new InputError(`${at}: the part before the colon is not a header name (it is not shown: it may be a value): ${accepted}.`)
    if (RESERVED_HEADER.test(name)) throw new InputError(`${at}: ${name} is set by the action or by HTTP itself and cannot be given: ${accepted}, other than x-api-key, Content-Type, Host, Connection, Cookie, Proxy-* and Sec-WebSocket-*.`)
    if (value === '') throw new InputError(`${at}: ${name} has no value: ${accepted}.`)
    if ([...value].some((c) => (c.charCodeAt(0) < 0x20 && c !== '\t') || c.charCodeAt(0) === 0x7f)) {
      throw new InputError(`${at}: the value of ${name} contains a control character (it is not shown): ${accepted}, each value on its line.`)
    }
    const key = name.toLowerCase()
    if (Object.keys(headers).some((known) => known.toLowerCase() === key)) throw new InputError(`${at}: ${name} is given twice: ${accepted}, each header once.`)
    headers[name] = value
  })
  return headers
}

/** Several values, one per line or separated by commas; blanks dropped. */
const list = (text: string): string[] =>
  text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean)

function readTarget(get: GetInput, resource: ResourceInput): Settings['target'] {
  const id = get(Input.id).trim()
  const project = get(Input.project).trim()
  const environment = get(Input.environment).trim()
  const name = get(Input.name).trim()
  if (id) {
    if (name || project) throw bad(Input.id, id, `give either id, or project and name, not both (name is "${name}", project is "${project}")`)
    // an environment only narrows a lookup by name
    if (environment) throw bad(Input.environment, environment, 'only used with project and name, not with id')
    if (resource === 'database') throw bad(Input.resource, resource, 'with id, name the kind of database (postgres, mysql, mariadb, mongo, redis or libsql); database is for a lookup by name')
    const ids = list(id)
    const wrong = ids.find((one) => !/^[\w.-]{1,128}$/.test(one))
    if (wrong !== undefined) throw bad(Input.id, wrong, 'expected a Dokploy ID (letters, digits, - and _) for each service, one per line or separated by commas')
    refuseRepeats(Input.id, ids)
    return { ids }
  }
  if (!name) throw new InputError(`Input "${Input.id}" is empty and so is "${Input.name}": give the resource's id, or its project and name.`)
  const names = list(name)
  if (!project) throw bad(Input.project, '', `expected the project that holds "${names.join('", "')}"`)
  if (names.includes('*')) {
    if (names.length > 1) throw bad(Input.name, name, '* means every service of the kind: give it alone, or give names')
    return { project, environment: environment || undefined, names: '*' }
  }
  refuseRepeats(Input.name, names)
  return { project, environment: environment || undefined, names }
}

/** The same service twice would be deployed twice. */
function refuseRepeats(input: string, values: string[]): void {
  const repeated = values.find((value, i) => values.indexOf(value) !== i)
  if (repeated !== undefined) throw bad(input, repeated, 'each service once: this one is given twice')
}

/**
 * The GitHub deployment mirrors a deploy's outcome: there must be a deploy (or a followed one), and the step
 * must wait for its end. A commit status can be posted for any operation.
 */
function readGithub(get: GetInput, operation: Operation, wait: boolean): Settings['github'] {
  const deployments = boolean(get, Input.githubDeployment, false)
  const statuses = boolean(get, Input.commitStatus, false)
  const environment = get(Input.githubEnvironment).trim()
  if (!deployments) {
    // github-token always holds the runner's token (its default), so only the environment is stray
    if (environment) throw bad(Input.githubEnvironment, environment, `only used with ${Input.githubDeployment}: true`)
    if (!statuses) return undefined
  }
  if (deployments && operation !== 'deploy' && operation !== 'redeploy' && operation !== 'follow') {
    throw bad(Input.githubDeployment, 'true', `records a deploy, so it needs operation deploy, redeploy or follow, not ${operation}`)
  }
  if (deployments && !wait) throw bad(Input.githubDeployment, 'true', 'reports the outcome of the deploy, so it needs wait: true')
  const token = get(Input.githubToken).trim()
  const which = deployments ? `${Input.githubDeployment}: true pass a token with deployments: write` : `${Input.commitStatus}: true pass a token with statuses: write`
  if (token === '') throw new InputError(`Input "${Input.githubToken}" is empty: with ${which} (the default is \${{ github.token }}).`)
  if (/\s/.test(token) || hasControlCharacter(token)) throw new InputError(`Input "${Input.githubToken}" contains white space or a control character: pass the token alone.`)
  // GitHub environment names: up to 255 characters on one line
  if (environment.length > 255 || hasControlCharacter(environment)) throw bad(Input.githubEnvironment, environment, 'expected a GitHub environment name (up to 255 characters, one line)')
  return { token, environment: environment || undefined, deployments, statuses }
}

/**
 * A whole commit SHA (40 hex digits): Dokploy writes whole SHAs, and a prefix could name a neighbour's
 * commit. A pull request's preview is deployed from its head commit, which a pull_request run's GITHUB_SHA
 * is not (that is the merge commit): it comes from the event.
 */
function readCommit(get: GetInput, env: NodeJS.ProcessEnv, needed: boolean, pullRequest: PullRequest | undefined): string | undefined {
  const given = get(Input.commit).trim()
  if (!needed) {
    if (given) throw bad(Input.commit, given, `only used with operation follow or ${Input.commitStatus}: true`)
    return undefined
  }
  const fallback = pullRequest ? pullRequest.headSha : (env.GITHUB_SHA ?? '').trim()
  const commit = given || fallback || ''
  if (!/^[0-9a-f]{40}$/i.test(commit)) {
    const missing = pullRequest
      ? `expected the pull request's head commit (40 hex digits); this run's event does not name it, so give commit`
      : 'expected a whole commit SHA (40 hex digits); outside GitHub Actions GITHUB_SHA is not set, so give commit'
    throw bad(Input.commit, commit, given ? 'expected a whole commit SHA (40 hex digits), never a prefix' : missing)
  }
  return commit.toLowerCase()
}

interface PullRequest {
  number: number
  /** From the event, when it is this pull request's. */
  headSha?: string
}

/** The pull request whose preview a follow follows: the input, else the pull_request event's own. */
function readPullRequest(get: GetInput, env: NodeJS.ProcessEnv, operation: Operation, resource: ResourceInput): PullRequest | undefined {
  const given = get(Input.pullRequest).trim()
  const event = pullRequestEvent(env)
  if (operation !== 'follow') {
    if (given) throw bad(Input.pullRequest, given, 'only used with operation follow (a pull request\'s preview deployment)')
    return undefined
  }
  if (!given) return event && resource === 'application' ? event : undefined
  if (!/^[1-9]\d{0,9}$/.test(given)) throw bad(Input.pullRequest, given, 'expected a pull request number, such as 42')
  if (resource !== 'application') throw bad(Input.pullRequest, given, `only applications have preview deployments, not ${resource}`)
  const number = Number(given)
  return { number, headSha: event?.number === number ? event.headSha : undefined }
}

/** A pull_request (or pull_request_target) run's pull request, from the event file the runner writes. */
function pullRequestEvent(env: NodeJS.ProcessEnv): PullRequest | undefined {
  if (env.GITHUB_EVENT_NAME !== 'pull_request' && env.GITHUB_EVENT_NAME !== 'pull_request_target') return undefined
  try {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8')) as { pull_request?: { number?: unknown; head?: { sha?: unknown } } }
    const number = event.pull_request?.number
    const sha = event.pull_request?.head?.sha
    return typeof number === 'number' ? { number, headSha: typeof sha === 'string' ? sha : undefined } : undefined
  } catch {
    return undefined
  }
}

/** on-failure: rollback needs an application deploy (Dokploy's rollbacks are the application's). */
function readOnFailure(get: GetInput, resource: ResourceInput, operation: Operation): Settings['onFailure'] {
  const value = oneOf(get, Input.onFailure, ['none', 'rollback'] as const, 'none')
  if (value === 'rollback' && (resource !== 'application' || (operation !== 'deploy' && operation !== 'redeploy'))) {
    throw bad(Input.onFailure, value, `rolls back a failed deploy of an application (Dokploy has rollbacks for applications only), not a ${operation} of ${resource}`)
  }
  return value
}

/** verify-url: an http(s) URL without credentials, or a path (joined to the service's URL); verify-text only with it. */
function readVerifyUrl(get: GetInput, resource: ResourceInput): Pick<Settings, 'verifyUrl' | 'verifyText'> {
  const raw = get(Input.verifyUrl).trim()
  const text = get(Input.verifyText)
  if (raw === '') {
    if (text.trim() !== '') throw bad(Input.verifyText, text.trim(), `only used together with ${Input.verifyUrl}`)
    return {}
  }
  // never echo credentials written into the URL
  const shown = raw.replace(/\/\/\S*@/, '//***@')
  if (hasControlCharacter(raw) || /\s/.test(raw)) throw bad(Input.verifyUrl, shown, 'expected one URL or path, without white space')
  if (raw.startsWith('/')) {
    if (resource !== 'application' && resource !== 'compose') {
      throw bad(Input.verifyUrl, shown, `a path is joined to the service's public URL, and ${resource} has none: give an absolute http:// or https:// URL`)
    }
  } else {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw bad(Input.verifyUrl, shown, 'expected an absolute http:// or https:// URL, or a path such as /health joined to the service\'s URL')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(Input.verifyUrl, shown, 'expected an http:// or https:// URL')
    if (url.username || url.password) throw bad(Input.verifyUrl, shown, 'credentials in the URL are not accepted')
  }
  if (text !== '' && (hasControlCharacter(text) || text.trim() === '')) throw bad(Input.verifyText, text.trim(), 'expected text on one line')
  return { verifyUrl: raw, verifyText: text === '' ? undefined : text }
}

/** Operations that leave the running containers' environment as it was. */
const KEEPS_RUNNING_ENV: readonly Operation[] = ['start', 'stop', 'reload']

/** Never echoes the env text: its values are secrets. */
function readEnv(get: GetInput, operation: Operation, warnings: string[]): Settings['env'] {
  const text = get(Input.env)
  const strategyGiven = get(Input.envStrategy).trim() !== ''
  const strategy = oneOf(get, Input.envStrategy, ['merge', 'replace'] as const, 'merge')
  if (text.trim() === '') {
    if (strategyGiven) throw bad(Input.envStrategy, strategy, `only used together with ${Input.env}`)
    return undefined
  }
  const { entries, problems } = parseEnvInput(text)
  if (problems.length) {
    throw new InputError(`Input "${Input.env}": ${problems.join('; ')}. Expected lines KEY=value, each key once (# comments and blank lines are ignored; a quoted value may span lines).`)
  }
  if (entries.length === 0) {
    if (strategy === 'replace') {
      throw new InputError(`Input "${Input.env}" holds only comments and blank lines: with env-strategy replace that would delete every variable. Give the KEY=value lines to keep.`)
    }
    warnings.push(`${Input.env} holds only comments and blank lines: no variable is set.`)
    return undefined
  }
  if (operation === 'rollback') throw new InputError(`Input "${Input.env}" is not used with operation rollback: a rollback restores the environment stored with that deployment.`)
  if (KEEPS_RUNNING_ENV.includes(operation)) {
    warnings.push(`${Input.env} is saved, but the service only picks it up at its next deploy: ${operation} does not apply it.`)
  }
  return { entries, strategy }
}

function readImage(get: GetInput, resource: ResourceInput): Settings['image'] {
  const dockerImage = get(Input.dockerImage).trim()
  const registryUrl = get(Input.registryUrl).trim()
  const username = get(Input.registryUsername).trim()
  const password = get(Input.registryPassword).trim()
  if (!dockerImage) {
    const stray = [
      [Input.registryUrl, registryUrl],
      [Input.registryUsername, username],
      [Input.registryPassword, password ? '***' : '']
    ].find(([, value]) => value)
    if (stray) throw bad(stray[0], stray[1], `only used together with ${Input.dockerImage}`)
    return undefined
  }
  if (resource !== 'application') throw bad(Input.dockerImage, dockerImage, `only applications have an image, not ${resource}`)
  if (/\s/.test(dockerImage)) throw bad(Input.dockerImage, dockerImage, 'expected an image reference such as ghcr.io/acme/web:1.2.3')
  return {
    dockerImage,
    registryUrl: registryUrl || undefined,
    username: username || undefined,
    password: password || undefined
  }
}

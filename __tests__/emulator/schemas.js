// Request schemas of the emulated procedures, taken from Dokploy's openapi.json, and a small validator that
// answers like Zod v4 does inside tRPC (same issue codes and messages), so clients see realistic 400s.
// Unknown keys are stripped, as Zod objects do. `update` schemas list the commonly used fields only; other
// keys are stripped (ignored) rather than applied.

import { atLeast } from './versions.js'

/**
 * @typedef {object} FieldSpec
 * @property {'string'|'number'|'integer'|'boolean'|'array'|'object'|'enum'} type
 * @property {boolean} [nullable]
 * @property {boolean} [optional]
 * @property {unknown} [default]
 * @property {number} [minLength]
 * @property {number} [maxLength]
 * @property {RegExp} [pattern]
 * @property {number} [min]
 * @property {number} [max]
 * @property {string[]} [values] for enums
 * @property {string} [since] key exists (and is required unless optional) only from this version on
 */

/** @typedef {Record<string, FieldSpec>} Schema */

const id = /** @type {FieldSpec} */ ({ type: 'string', minLength: 1 })
const str = /** @type {FieldSpec} */ ({ type: 'string' })
const nstr = /** @type {FieldSpec} */ ({ type: 'string', nullable: true })
const bool = /** @type {FieldSpec} */ ({ type: 'boolean' })
const nbool = /** @type {FieldSpec} */ ({ type: 'boolean', nullable: true })
const num = /** @type {FieldSpec} */ ({ type: 'number' })
const nnum = /** @type {FieldSpec} */ ({ type: 'number', nullable: true })
const narr = /** @type {FieldSpec} */ ({ type: 'array', nullable: true })
const appName = /** @type {FieldSpec} */ ({ type: 'string', minLength: 1, maxLength: 63, pattern: /^[a-zA-Z0-9._-]+$/ })
const status = /** @type {FieldSpec} */ ({ type: 'enum', values: ['idle', 'running', 'done', 'error'] })
const dbPassword = /** @type {FieldSpec} */ ({ type: 'string', pattern: /^[a-zA-Z0-9@#%^&*()_+\-=[\]{}|;:,.<>?~`]*$/ })

/** @param {FieldSpec} f @returns {FieldSpec} */
const opt = (f) => ({ ...f, optional: true })

/** @param {string} key @returns {Schema} */
const byId = (key) => ({ [key]: id })

/** @param {string} key @returns {Schema} */
const deployInput = (key) => ({ [key]: id, title: opt(str), description: opt(str) })

/** Fields shared by every `<db>.update`. @param {string} key @returns {Schema} */
const dbUpdate = (key) => ({
  [key]: id,
  name: opt(id),
  appName: opt(appName),
  description: opt(nstr),
  dockerImage: opt(str),
  command: opt(nstr),
  args: opt(narr),
  env: opt(nstr),
  memoryReservation: opt(nstr),
  memoryLimit: opt(nstr),
  cpuReservation: opt(nstr),
  cpuLimit: opt(nstr),
  externalPort: opt(nnum),
  applicationStatus: opt(status),
  replicas: opt(num)
})

/** @type {Record<string, Schema>} */
export const SCHEMAS = {
  'application.one': byId('applicationId'),
  'application.deploy': deployInput('applicationId'),
  'application.redeploy': deployInput('applicationId'),
  'application.start': byId('applicationId'),
  'application.stop': byId('applicationId'),
  'application.killBuild': byId('applicationId'),
  'application.cancelDeployment': byId('applicationId'),
  'application.cleanQueues': byId('applicationId'),
  'application.reload': { appName, applicationId: str },
  'application.saveEnvironment': {
    applicationId: str,
    env: nstr,
    buildArgs: nstr,
    buildSecrets: { ...nstr, since: 'v0.25.6' },
    createEnvFile: { ...bool, since: 'v0.26.1' }
  },
  'application.saveDockerProvider': { dockerImage: nstr, applicationId: str, username: nstr, password: nstr, registryUrl: nstr },
  'application.update': {
    applicationId: id,
    name: opt(id),
    appName: opt(appName),
    description: opt(nstr),
    env: opt(nstr),
    buildArgs: opt(nstr),
    buildSecrets: opt(nstr),
    title: opt(nstr),
    enabled: opt(nbool),
    command: opt(nstr),
    args: opt(narr),
    refreshToken: opt(nstr),
    sourceType: opt({ type: 'enum', values: ['github', 'docker', 'git', 'gitlab', 'bitbucket', 'gitea', 'drop'] }),
    repository: opt(nstr),
    owner: opt(nstr),
    branch: opt(nstr),
    buildPath: opt(nstr),
    autoDeploy: opt(nbool),
    username: opt(nstr),
    password: opt(nstr),
    dockerImage: opt(nstr),
    registryUrl: opt(nstr),
    dockerfile: opt(nstr),
    replicas: opt(num),
    applicationStatus: opt(status),
    buildType: opt({
      type: 'enum',
      values: ['dockerfile', 'heroku_buildpacks', 'paketo_buildpacks', 'nixpacks', 'static', 'railpack']
    }),
    createEnvFile: opt(bool),
    watchPaths: opt(narr)
  },
  'application.search': {
    q: opt(str),
    name: opt(str),
    appName: opt(str),
    description: opt(str),
    repository: opt(str),
    owner: opt(str),
    dockerImage: opt(str),
    projectId: opt(str),
    environmentId: opt(str),
    limit: { type: 'number', min: 1, max: 100, default: 20, optional: true },
    offset: { type: 'number', min: 0, default: 0, optional: true }
  },

  'compose.one': byId('composeId'),
  'compose.deploy': deployInput('composeId'),
  'compose.redeploy': deployInput('composeId'),
  'compose.start': byId('composeId'),
  'compose.stop': byId('composeId'),
  'compose.killBuild': byId('composeId'),
  'compose.cancelDeployment': byId('composeId'),
  'compose.cleanQueues': byId('composeId'),
  'compose.saveEnvironment': { composeId: str, env: nstr, createEnvFile: opt(bool) },
  'compose.update': {
    composeId: str,
    name: opt(id),
    appName: opt(appName),
    description: opt(nstr),
    env: opt(nstr),
    composeFile: opt(str),
    refreshToken: opt(nstr),
    sourceType: opt({ type: 'enum', values: ['git', 'github', 'gitlab', 'bitbucket', 'gitea', 'raw'] }),
    composeType: opt({ type: 'enum', values: ['docker-compose', 'stack'] }),
    repository: opt(nstr),
    owner: opt(nstr),
    branch: opt(nstr),
    autoDeploy: opt(nbool),
    command: opt(str),
    createEnvFile: opt(bool),
    composePath: opt(id),
    composeStatus: opt(status),
    watchPaths: opt(narr)
  },

  'deployment.all': byId('applicationId'),
  'deployment.allByCompose': byId('composeId'),
  'deployment.allByType': { id, type: { type: 'enum', values: ['application', 'compose', 'server', 'schedule', 'previewDeployment', 'backup', 'volumeBackup'] } },
  'previewDeployment.all': byId('applicationId'),
  'deployment.readLogs': {
    deploymentId: id,
    tail: { type: 'integer', min: 1, max: 10000, default: 100, optional: true }
  },

  'swarm.getAppInfos': { appName: { type: 'array' }, serverId: opt(str) },
  'docker.getContainersByAppNameMatch': {
    appType: opt({ type: 'enum', values: ['stack', 'docker-compose'] }),
    appName: { type: 'string', minLength: 1, pattern: /^[a-zA-Z0-9.\-_]+$/ },
    serverId: opt(str)
  },

  'rollback.rollback': byId('rollbackId'),
  'application.readLogs': {
    applicationId: id,
    tail: { type: 'integer', min: 1, max: 10000, default: 100, optional: true },
    since: { type: 'string', pattern: /^(all|\d+[smhd])$/, default: 'all', optional: true }
  },

  'domain.byApplicationId': byId('applicationId'),
  'domain.byComposeId': byId('composeId'),

  'project.one': byId('projectId'),
  'environment.one': byId('environmentId'),
  'environment.byProjectId': { projectId: str }
}

for (const [router, key] of /** @type {const} */ ([
  ['postgres', 'postgresId'],
  ['mysql', 'mysqlId'],
  ['mariadb', 'mariadbId'],
  ['mongo', 'mongoId'],
  ['redis', 'redisId'],
  ['libsql', 'libsqlId']
])) {
  SCHEMAS[`${router}.one`] = byId(key)
  SCHEMAS[`${router}.deploy`] = { [key]: str }
  SCHEMAS[`${router}.rebuild`] = { [key]: str }
  SCHEMAS[`${router}.start`] = byId(key)
  SCHEMAS[`${router}.stop`] = byId(key)
  SCHEMAS[`${router}.reload`] = { [key]: str, appName }
  SCHEMAS[`${router}.saveEnvironment`] = { [key]: str, env: nstr }
  /** @type {Schema} */
  const update = dbUpdate(key)
  if (router === 'redis') {
    update.databasePassword = opt(str)
  } else {
    update.databasePassword = opt(dbPassword)
    if (router !== 'mongo' && router !== 'libsql') update.databaseName = opt(id)
    update.databaseUser = opt(id)
  }
  if (router === 'mysql' || router === 'mariadb') update.databaseRootPassword = opt(dbPassword)
  SCHEMAS[`${router}.update`] = update
}

/** @param {unknown} v @returns {string} Zod's name for the received type */
function received(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN'
  return typeof v
}

/** @typedef {{code: string, path: (string|number)[], message: string} & Record<string, unknown>} ZodIssue */

/**
 * Check one value against one field spec; returns the issues found (empty = valid).
 * @param {FieldSpec} spec
 * @param {unknown} v
 * @param {string} key
 * @returns {ZodIssue[]}
 */
function checkField(spec, v, key) {
  const path = [key]
  if (v === null && spec.nullable) return []
  const expected = spec.type === 'integer' ? 'number' : spec.type
  const invalidType = () => [
    { expected, code: 'invalid_type', path, message: `Invalid input: expected ${expected}, received ${received(v)}` }
  ]
  switch (spec.type) {
    case 'enum':
      if (typeof v === 'string' && spec.values?.includes(v)) return []
      return [
        {
          code: 'invalid_value',
          values: spec.values,
          path,
          message: `Invalid option: expected one of ${(spec.values ?? []).map((x) => JSON.stringify(x)).join('|')}`
        }
      ]
    case 'string': {
      if (typeof v !== 'string') return invalidType()
      const issues = []
      if (spec.minLength !== undefined && v.length < spec.minLength) {
        issues.push({
          origin: 'string',
          code: 'too_small',
          minimum: spec.minLength,
          inclusive: true,
          path,
          message: `Too small: expected string to have >=${spec.minLength} characters`
        })
      }
      if (spec.maxLength !== undefined && v.length > spec.maxLength) {
        issues.push({
          origin: 'string',
          code: 'too_big',
          maximum: spec.maxLength,
          inclusive: true,
          path,
          message: `Too big: expected string to have <=${spec.maxLength} characters`
        })
      }
      if (spec.pattern && !spec.pattern.test(v)) {
        issues.push({
          origin: 'string',
          code: 'invalid_format',
          format: 'regex',
          pattern: String(spec.pattern),
          path,
          message: `Invalid string: must match pattern ${spec.pattern}`
        })
      }
      return issues
    }
    case 'number':
    case 'integer': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return invalidType()
      if (spec.type === 'integer' && !Number.isInteger(v)) {
        return [
          { expected: 'int', format: 'safeint', code: 'invalid_type', path, message: 'Invalid input: expected int, received number' }
        ]
      }
      if (spec.min !== undefined && v < spec.min) {
        return [
          { origin: 'number', code: 'too_small', minimum: spec.min, inclusive: true, path, message: `Too small: expected number to be >=${spec.min}` }
        ]
      }
      if (spec.max !== undefined && v > spec.max) {
        return [
          { origin: 'number', code: 'too_big', maximum: spec.max, inclusive: true, path, message: `Too big: expected number to be <=${spec.max}` }
        ]
      }
      return []
    }
    case 'boolean':
      return typeof v === 'boolean' ? [] : invalidType()
    case 'array':
      return Array.isArray(v) ? [] : invalidType()
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? [] : invalidType()
  }
  return []
}

/**
 * Validate `input` against `schema` as the server at `version` would.
 * @param {Schema} schema
 * @param {unknown} input
 * @param {string} version
 * @returns {{ok: true, value: Record<string, any>} | {ok: false, issues: ZodIssue[]}}
 */
export function validate(schema, input, version) {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      issues: [{ expected: 'object', code: 'invalid_type', path: [], message: `Invalid input: expected object, received ${received(input)}` }]
    }
  }
  const src = /** @type {Record<string, unknown>} */ (input)
  /** @type {Record<string, any>} */
  const value = {}
  /** @type {ZodIssue[]} */
  const issues = []
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.since && !atLeast(version, spec.since)) continue // key unknown to that version: stripped
    const v = src[key]
    if (v === undefined) {
      if (spec.default !== undefined) value[key] = spec.default
      else if (!spec.optional) issues.push(...checkField(spec, v, key))
      continue
    }
    const found = checkField(spec, v, key)
    if (found.length) issues.push(...found)
    else value[key] = v
  }
  return issues.length ? { ok: false, issues } : { ok: true, value }
}

/**
 * Zod's `flatten()`: root issues in formErrors, the rest by their first path key.
 * @param {ZodIssue[]} issues
 */
export function flattenIssues(issues) {
  /** @type {string[]} */
  const formErrors = []
  /** @type {Record<string, string[]>} */
  const fieldErrors = {}
  for (const issue of issues) {
    if (issue.path.length === 0) formErrors.push(issue.message)
    else (fieldErrors[String(issue.path[0])] ??= []).push(issue.message)
  }
  return { formErrors, fieldErrors }
}

/**
 * REST query strings carry only strings: turn numbers and booleans back into values for the fields that expect them.
 * @param {Schema} schema
 * @param {Record<string, string>} params
 * @returns {Record<string, unknown>}
 */
export function coerceQuery(schema, params) {
  /** @type {Record<string, unknown>} */
  const out = { ...params }
  for (const [key, raw] of Object.entries(params)) {
    const spec = schema[key]
    if (!spec) continue
    if ((spec.type === 'number' || spec.type === 'integer') && raw !== '' && !Number.isNaN(Number(raw))) out[key] = Number(raw)
    if (spec.type === 'boolean' && (raw === 'true' || raw === 'false')) out[key] = raw === 'true'
  }
  return out
}

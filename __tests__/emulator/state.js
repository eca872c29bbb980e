// Seed fixture: one organisation, projects, environments and services with deterministic ids and
// secrets. Every secret value carries a unique marker (SECRET_MARKERS) so tests can scan outputs for leaks.

/** Appended to names (and used in messages) when `hostile: true`: HTML, Markdown and a table pipe. */
export const HOSTILE_TEXT = '<img src=x onerror=alert(1)> [x](http://evil) |'

/** Lines a hostile server puts in build logs and error messages: GitHub workflow commands. */
export const WORKFLOW_COMMAND_LINES = ['::set-output name=status::done', '::add-mask::x', '::error::forged']

/** Service kinds: id key, status key, relation name on environments, label used in "… not found". */
export const KINDS = {
  application: { idKey: 'applicationId', statusKey: 'applicationStatus', relation: 'applications', label: 'Application' },
  compose: { idKey: 'composeId', statusKey: 'composeStatus', relation: 'compose', label: 'Compose' },
  postgres: { idKey: 'postgresId', statusKey: 'applicationStatus', relation: 'postgres', label: 'Postgres' },
  mysql: { idKey: 'mysqlId', statusKey: 'applicationStatus', relation: 'mysql', label: 'MySql' },
  mariadb: { idKey: 'mariadbId', statusKey: 'applicationStatus', relation: 'mariadb', label: 'Mariadb' },
  mongo: { idKey: 'mongoId', statusKey: 'applicationStatus', relation: 'mongo', label: 'Mongo' },
  redis: { idKey: 'redisId', statusKey: 'applicationStatus', relation: 'redis', label: 'Redis' },
  libsql: { idKey: 'libsqlId', statusKey: 'applicationStatus', relation: 'libsql', label: 'Libsql' }
}

/** @typedef {keyof typeof KINDS} Kind */
/** @typedef {Record<string, any>} Row */

/** Database kinds (synchronous deploy, no deployment rows). */
export const DB_KINDS = /** @type {Kind[]} */ (['postgres', 'mysql', 'mariadb', 'mongo', 'redis', 'libsql'])

/** libsql first appears in Dokploy v0.29.0: older servers have no router and list none. */
export const LIBSQL_SINCE = 'v0.29.0'

/**
 * Deterministic "random-looking" string derived from a seed string (xmur3 hash + mulberry32).
 * @param {string} seed
 * @param {number} length
 * @param {string} [alphabet]
 * @returns {string}
 */
export function pseudo(seed, length, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789') {
  let h = 1779033703 ^ seed.length
  for (let i = 0; i < seed.length; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i), 3432918353)
    h = (h << 13) | (h >>> 19)
  }
  let a = h >>> 0
  let out = ''
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296
    out += alphabet[Math.floor(r * alphabet.length)]
  }
  return out
}

/** @param {string} word */
const marker = (word) => `S3CR3T-${word}-${pseudo(`marker:${word}`, 8)}`

const T0 = Date.parse('2026-08-01T09:00:00.000Z')
/** @param {number} minutes */
const at = (minutes) => new Date(T0 + minutes * 60000).toISOString()

/** The GitHub App provider shared by the git-sourced services (its tokens are secrets too). */
function githubProvider() {
  return {
    githubId: 'gh-acme',
    githubAppName: 'acme-dokploy',
    githubAppId: 123456,
    githubClientId: 'Iv1.0a1b2c3d4e5f6a7b',
    githubClientSecret: marker('ghclientsecret'),
    githubInstallationId: '7654321',
    githubPrivateKey: `-----BEGIN RSA PRIVATE KEY-----\n${marker('ghprivatekey')}\n-----END RSA PRIVATE KEY-----`,
    githubWebhookSecret: marker('ghwebhooksecret'),
    gitProviderId: 'gp-acme'
  }
}

/**
 * @typedef {object} AppSeed
 * @property {string} id
 * @property {string} name
 * @property {string} environmentId
 * @property {string} key short word for markers
 * @property {'github'|'docker'|'git'} sourceType
 */

/** Swarm settings every application and database row carries, all unset. */
const SWARM_DEFAULTS = {
  healthCheckSwarm: null,
  restartPolicySwarm: null,
  placementSwarm: null,
  updateConfigSwarm: null,
  rollbackConfigSwarm: null,
  modeSwarm: null,
  labelsSwarm: null,
  networkSwarm: null,
  stopGracePeriodSwarm: null,
  endpointSpecSwarm: null,
  ulimitsSwarm: null,
  replicas: 1
}

/** @param {AppSeed} s @param {string} displayName @returns {Row} */
function applicationRow(s, displayName) {
  const docker = s.sourceType === 'docker'
  return {
    applicationId: s.id,
    name: displayName,
    appName: `${s.name.toLowerCase()}-${pseudo(`app:${s.id}`, 6, 'abcdefghijklmnopqrstuvwxyz')}`,
    description: null,
    env: `NODE_ENV=production\nDATABASE_URL=postgres://app:${marker(`${s.key}env`)}@db:5432/app\nLOG_LEVEL=info`,
    previewEnv: null,
    watchPaths: null,
    previewBuildArgs: null,
    previewBuildSecrets: null,
    previewLabels: null,
    previewWildcard: null,
    previewPort: 3000,
    previewHttps: false,
    previewPath: '/',
    previewCertificateType: 'none',
    previewCustomCertResolver: null,
    previewLimit: 3,
    isPreviewDeploymentsActive: false,
    previewRequireCollaboratorPermissions: true,
    rollbackActive: false,
    buildArgs: `NPM_TOKEN=${marker(`${s.key}buildargs`)}`,
    buildSecrets: `SENTRY_AUTH_TOKEN=${marker(`${s.key}buildsecrets`)}`,
    memoryReservation: null,
    memoryLimit: null,
    cpuReservation: null,
    cpuLimit: null,
    title: null,
    enabled: null,
    subtitle: null,
    command: null,
    args: null,
    refreshToken: marker(`${s.key}refreshtoken`),
    sourceType: s.sourceType,
    cleanCache: false,
    repository: s.sourceType === 'github' ? s.name.toLowerCase() : null,
    owner: s.sourceType === 'github' ? 'acme' : null,
    branch: s.sourceType === 'github' ? 'main' : null,
    buildPath: '/',
    triggerType: 'push',
    autoDeploy: !docker,
    gitlabProjectId: null,
    gitlabRepository: null,
    gitlabOwner: null,
    gitlabBranch: null,
    gitlabBuildPath: null,
    gitlabPathNamespace: null,
    giteaRepository: null,
    giteaOwner: null,
    giteaBranch: null,
    giteaBuildPath: null,
    bitbucketRepository: null,
    bitbucketRepositorySlug: null,
    bitbucketOwner: null,
    bitbucketBranch: null,
    bitbucketBuildPath: null,
    username: docker ? 'acme-bot' : null,
    password: docker ? marker(`${s.key}registrypassword`) : null,
    dockerImage: docker ? 'ghcr.io/acme/api:1.0' : null,
    registryUrl: docker ? 'ghcr.io' : null,
    customGitUrl: s.sourceType === 'git' ? `git@github.com:acme/${s.name.toLowerCase()}.git` : null,
    customGitBranch: s.sourceType === 'git' ? 'main' : null,
    customGitBuildPath: s.sourceType === 'git' ? '/' : null,
    customGitSSHKeyId: s.sourceType === 'git' ? 'ssh-acme' : null,
    enableSubmodules: false,
    dockerfile: 'Dockerfile',
    dockerContextPath: null,
    dockerBuildStage: null,
    dropBuildPath: null,
    ...SWARM_DEFAULTS,
    applicationStatus: 'done',
    buildType: 'dockerfile',
    railpackVersion: '0.2.2',
    herokuVersion: '24',
    publishDirectory: null,
    isStaticSpa: null,
    createEnvFile: true,
    createdAt: at(1),
    registryId: null,
    rollbackRegistryId: null,
    environmentId: s.environmentId,
    githubId: s.sourceType === 'github' ? 'gh-acme' : null,
    gitlabId: null,
    giteaId: null,
    bitbucketId: null,
    serverId: null,
    buildServerId: null,
    buildRegistryId: null
  }
}

/** @param {string} id @param {string} name @param {string} displayName @param {string} environmentId @returns {Row} */
function composeRow(id, name, displayName, environmentId) {
  return {
    composeId: id,
    name: displayName,
    appName: `${name}-${pseudo(`compose:${id}`, 6, 'abcdefghijklmnopqrstuvwxyz')}`,
    description: null,
    env: `POSTGRES_PASSWORD=${marker('stackenv')}\nDOMAIN=shop.example.com`,
    composeFile: `services:\n  app:\n    image: ghcr.io/acme/shop:latest\n    environment:\n      - ADMIN_PASSWORD=${marker('stackcomposefile')}\n`,
    refreshToken: marker('stackrefreshtoken'),
    sourceType: 'github',
    composeType: 'docker-compose',
    repository: 'stack',
    owner: 'acme',
    branch: 'main',
    autoDeploy: true,
    gitlabProjectId: null,
    gitlabRepository: null,
    gitlabOwner: null,
    gitlabBranch: null,
    gitlabPathNamespace: null,
    bitbucketRepository: null,
    bitbucketRepositorySlug: null,
    bitbucketOwner: null,
    bitbucketBranch: null,
    giteaRepository: null,
    giteaOwner: null,
    giteaBranch: null,
    customGitUrl: null,
    customGitBranch: null,
    customGitSSHKeyId: null,
    command: '',
    createEnvFile: true,
    enableSubmodules: false,
    composePath: './docker-compose.yml',
    suffix: '',
    randomize: false,
    isolatedDeployment: false,
    isolatedDeploymentsVolume: false,
    triggerType: 'push',
    composeStatus: 'done',
    environmentId,
    createdAt: at(2),
    watchPaths: null,
    githubId: 'gh-acme',
    gitlabId: null,
    bitbucketId: null,
    giteaId: null,
    serverId: null
  }
}

const DB_IMAGES = {
  postgres: 'postgres:16',
  mysql: 'mysql:8',
  mariadb: 'mariadb:11',
  mongo: 'mongo:7',
  redis: 'redis:7',
  libsql: 'ghcr.io/tursodatabase/libsql-server:v0.24.32'
}

/**
 * @param {Kind} kind @param {string} id @param {string} name @param {string} displayName
 * @param {string} environmentId @param {string} key short word for markers
 * @returns {Row}
 */
function databaseRow(kind, id, name, displayName, environmentId, key) {
  /** @type {Row} */
  const row = {
    [KINDS[kind].idKey]: id,
    name: displayName,
    appName: `${name}-${pseudo(`${kind}:${id}`, 6, 'abcdefghijklmnopqrstuvwxyz')}`,
    description: null
  }
  if (kind !== 'redis') {
    if (kind !== 'mongo' && kind !== 'libsql') row.databaseName = 'app'
    row.databaseUser = 'app'
  }
  row.databasePassword = marker(`${key}password`)
  // The brief asks for a root password on every database but redis (real Dokploy: mysql/mariadb only); libsql has none.
  if (kind !== 'redis' && kind !== 'libsql') row.databaseRootPassword = marker(`${key}rootpassword`)
  if (kind === 'libsql') Object.assign(row, { sqldNode: 'primary', sqldPrimaryUrl: null, enableNamespaces: false })
  Object.assign(row, {
    dockerImage: DB_IMAGES[/** @type {keyof typeof DB_IMAGES} */ (kind)],
    command: null,
    args: null,
    env: `TZ=UTC\nBACKUP_TOKEN=${marker(`${key}env`)}`,
    memoryReservation: null,
    memoryLimit: null,
    cpuReservation: null,
    cpuLimit: null,
    externalPort: null,
    applicationStatus: 'done',
    ...SWARM_DEFAULTS,
    createdAt: at(3),
    environmentId,
    serverId: null
  })
  if (kind === 'mongo') row.replicaSets = false
  if (kind === 'libsql') Object.assign(row, { externalGRPCPort: null, externalAdminPort: null })
  return row
}

/**
 * A domain row as Dokploy v0.30.2 stores it (no secret in it).
 * @param {string} id @param {{applicationId?: string, composeId?: string}} owner @param {string} host @param {boolean} https @param {string} path
 * @returns {Row}
 */
export function domainRow(id, owner, host, https, path) {
  return {
    domainId: id,
    host,
    https,
    port: 3000,
    customEntrypoint: null,
    path,
    serviceName: owner.composeId ? 'app' : null,
    domainType: owner.composeId ? 'compose' : 'application',
    uniqueConfigKey: 1,
    createdAt: at(1),
    composeId: owner.composeId ?? null,
    customCertResolver: null,
    applicationId: owner.applicationId ?? null,
    previewDeploymentId: null,
    certificateType: https ? 'letsencrypt' : 'none',
    internalPath: '/',
    stripPath: false,
    middlewares: [],
    forwardAuthEnabled: false,
    enabled: true
  }
}

/**
 * @typedef {object} State
 * @property {Row} organization
 * @property {Row[]} projects
 * @property {Row[]} environments
 * @property {Record<Kind, Row[]>} services rows by kind, live (mutated by procedures)
 * @property {Record<string, Row>} githubProviders by githubId; `.one` embeds the service's provider (with its tokens)
 * @property {Row[]} domains every domain row (applicationId or composeId set), as `domain.byApplicationId` returns them
 * @property {Record<string, string>} ids readable key -> id
 * @property {Record<string, string>} names readable key -> current display name (differs when hostile)
 * @property {(kind: Kind, id: string) => Row | undefined} find
 * @property {() => string[]} servers ids of the remote servers services run or build on
 * @property {(id: string) => {kind: Kind, row: Row} | undefined} lookup
 * @property {(projectId: string) => Row | undefined} project
 * @property {(environmentId: string) => Row | undefined} environment
 */

/**
 * Build a fresh fixture.
 * @param {{hostile?: boolean}} [options]
 * @returns {State}
 */
export function createState(options = {}) {
  /** @param {string} name */
  const display = (name) => (options.hostile ? `${name} ${HOSTILE_TEXT}` : name)
  /** @type {Record<string, string>} */
  const ids = {}
  /** @type {Record<string, string>} */
  const names = {}
  const org = { organizationId: 'org-acme', name: 'Acme', slug: 'acme', createdAt: at(0), ownerId: 'user-owner' }

  /** @param {string} key @param {string} id @param {string} name @param {string} envWord */
  const project = (key, id, name, envWord) => {
    ids[key] = id
    names[key] = display(name)
    return {
      projectId: id,
      name: names[key],
      description: options.hostile ? `Project ${HOSTILE_TEXT}` : null,
      createdAt: at(0),
      organizationId: org.organizationId,
      env: `SHARED_TOKEN=${marker(envWord)}`
    }
  }
  /** @param {string} key @param {string} id @param {string} name @param {string} projectId @param {boolean} isDefault @param {string} envWord */
  const environment = (key, id, name, projectId, isDefault, envWord) => {
    ids[key] = id
    names[key] = name
    return { environmentId: id, name, description: null, createdAt: at(0), env: `ENV_TOKEN=${marker(envWord)}`, projectId, isDefault }
  }

  const projects = [project('shop', 'proj-shop', 'shop', 'shopprojectenv'), project('blog', 'proj-blog', 'blog', 'blogprojectenv')]
  const environments = [
    environment('prod', 'env-shop-prod', 'production', 'proj-shop', true, 'shopprodenv'),
    environment('staging', 'env-shop-stg', 'staging', 'proj-shop', false, 'shopstgenv'),
    environment('blogProd', 'env-blog-prod', 'production', 'proj-blog', true, 'blogprodenv')
  ]

  /** @type {Record<Kind, Row[]>} */
  const services = { application: [], compose: [], postgres: [], mysql: [], mariadb: [], mongo: [], redis: [], libsql: [] }
  /** @param {string} key @param {AppSeed} seed */
  const app = (key, seed) => {
    ids[key] = seed.id
    names[key] = display(seed.name)
    services.application.push(applicationRow(seed, names[key]))
  }
  /** @param {string} key @param {Kind} kind @param {string} id @param {string} name @param {string} environmentId @param {string} word */
  const db = (key, kind, id, name, environmentId, word) => {
    ids[key] = id
    names[key] = display(name)
    services[kind].push(databaseRow(kind, id, name, names[key], environmentId, word))
  }

  app('web', { id: 'app-web', name: 'web', environmentId: 'env-shop-prod', key: 'web', sourceType: 'github' })
  app('api', { id: 'app-api', name: 'api', environmentId: 'env-shop-prod', key: 'api', sourceType: 'docker' })
  ids.stack = 'cmp-stack'
  names.stack = display('stack')
  services.compose.push(composeRow('cmp-stack', 'stack', names.stack, 'env-shop-prod'))
  db('postgres', 'postgres', 'pg-db', 'db', 'env-shop-prod', 'pgdb')
  db('mysql', 'mysql', 'my-db', 'mysql-db', 'env-shop-prod', 'mysqldb')
  db('mariadb', 'mariadb', 'mdb-db', 'maria-db', 'env-shop-prod', 'mariadb')
  db('mongo', 'mongo', 'mg-db', 'mongo-db', 'env-shop-prod', 'mongodb')
  db('redis', 'redis', 'rd-cache', 'cache', 'env-shop-prod', 'rediscache')
  app('webStaging', { id: 'app-web-stg', name: 'web', environmentId: 'env-shop-stg', key: 'webstg', sourceType: 'github' })
  app('worker', { id: 'app-worker-stg', name: 'Worker', environmentId: 'env-shop-stg', key: 'workerstg', sourceType: 'git' })
  db('libsql', 'libsql', 'ls-edge', 'edge', 'env-shop-prod', 'libsqledge')
  db('postgresStaging', 'postgres', 'pg-db-stg', 'db', 'env-shop-stg', 'pgdbstg')
  db('redisStaging', 'redis', 'rd-cache-stg', 'cache', 'env-shop-stg', 'rediscachestg')
  db('libsqlStaging', 'libsql', 'ls-edge-stg', 'edge', 'env-shop-stg', 'libsqledgestg')
  app('blogWeb', { id: 'app-blog-web', name: 'web', environmentId: 'env-blog-prod', key: 'blogweb', sourceType: 'github' })
  ids.org = org.organizationId
  names.org = org.name

  // web answers on an internal http name first and its public https one second; the stack on a path; api has none
  const domains = [
    domainRow('dom-web-1', { applicationId: 'app-web' }, 'web.internal.example.com', false, '/'),
    domainRow('dom-web-2', { applicationId: 'app-web' }, 'shop.example.com', true, '/'),
    domainRow('dom-stack-1', { composeId: 'cmp-stack' }, 'stack.example.com', false, '/app')
  ]

  /** @type {State} */
  const state = {
    organization: org,
    projects,
    environments,
    services,
    domains,
    githubProviders: { 'gh-acme': githubProvider() },
    ids,
    names,
    find: (kind, id) => services[kind].find((r) => r[KINDS[kind].idKey] === id),
    // the remote servers of the organisation: those a service runs or builds on
    servers: () => [
      ...new Set(
        Object.values(services)
          .flat()
          .flatMap((r) => [r.serverId, r.buildServerId])
          .filter((id) => typeof id === 'string' && id)
      )
    ],
    lookup: (id) => {
      for (const kind of /** @type {Kind[]} */ (Object.keys(KINDS))) {
        const row = state.find(kind, id)
        if (row) return { kind, row }
      }
      return undefined
    },
    project: (projectId) => projects.find((p) => p.projectId === projectId),
    environment: (environmentId) => environments.find((e) => e.environmentId === environmentId)
  }
  return state
}

/**
 * Every secret marker in the seed fixture, in a stable order. A leak scan that finds none of these in an
 * output is meaningful only because each secret field in API.md §6 holds one of them.
 * @type {string[]}
 */
export const SECRET_MARKERS = (() => {
  const found = new Set()
  const walk = (/** @type {unknown} */ v) => {
    if (typeof v === 'string') for (const m of v.match(/S3CR3T-[a-z0-9]+-[a-z0-9]+/g) ?? []) found.add(m)
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x)
  }
  const s = createState()
  walk([s.projects, s.environments, s.services, s.githubProviders])
  return [...found]
})()

/**
 * What Dokploy offers for each resource (API.md §3): one table read by one dispatcher.
 * Databases have no redeploy, and their `rebuild` deletes volumes, so it is never listed.
 */
export const RESOURCES = ['application', 'compose', 'postgres', 'mysql', 'mariadb', 'mongo', 'redis', 'libsql'] as const
export const OPERATIONS = ['deploy', 'redeploy', 'start', 'stop', 'reload', 'follow', 'rollback'] as const

export type Resource = (typeof RESOURCES)[number]
export type Operation = (typeof OPERATIONS)[number]

/** Every database kind: what `resource: database` stands for. */
export const DATABASES: readonly Resource[] = ['postgres', 'mysql', 'mariadb', 'mongo', 'redis', 'libsql']

/** The resource input: one kind, or `database` for every database kind at once. */
export const RESOURCE_INPUTS = [...RESOURCES, 'database'] as const
export type ResourceInput = (typeof RESOURCE_INPUTS)[number]

/** The kinds a resource input names. */
export const kindsOf = (input: ResourceInput): readonly Resource[] => (input === 'database' ? DATABASES : [input])

/**
 * queued: Dokploy enqueues a build and answers at once; the deployment row is followed.
 * sync: the HTTP answer is the result.
 * sync-long: synchronous but may take minutes (database deploy): gets the wait bound, not the request bound.
 * follow: nothing is sent; the deployment Dokploy started itself for a commit (a push) is found and followed.
 */
export type Mode = 'queued' | 'sync' | 'sync-long' | 'follow'

export interface ResourceSpec {
  router: Resource
  idKey: string
  statusKey: 'applicationStatus' | 'composeStatus'
  /** Key of the service list in a project.all environment. */
  listKey: string
  /** Dashboard path segment. */
  dashboardType: string
  /** Query listing this service's deployment rows, for queued resources. */
  deploymentList?: 'deployment.all' | 'deployment.allByCompose'
  /** Query listing this service's domains, for services that have a public URL. */
  domainList?: 'domain.byApplicationId' | 'domain.byComposeId'
  operations: Partial<Record<Operation, Mode>>
}

const database = (router: Resource, idKey: string): ResourceSpec => ({
  router,
  idKey,
  statusKey: 'applicationStatus',
  listKey: router,
  dashboardType: router,
  operations: { deploy: 'sync-long', start: 'sync', stop: 'sync', reload: 'sync' }
})

export const SPECS: Record<Resource, ResourceSpec> = {
  application: {
    router: 'application',
    idKey: 'applicationId',
    statusKey: 'applicationStatus',
    listKey: 'applications',
    dashboardType: 'application',
    deploymentList: 'deployment.all',
    domainList: 'domain.byApplicationId',
    // rollback: Dokploy's rollback.rollback to a previous deployment's image (rollback.ts); synchronous, no row
    operations: { deploy: 'queued', redeploy: 'queued', start: 'sync', stop: 'sync', reload: 'sync', follow: 'follow', rollback: 'sync' }
  },
  compose: {
    router: 'compose',
    idKey: 'composeId',
    statusKey: 'composeStatus',
    listKey: 'compose',
    dashboardType: 'compose',
    deploymentList: 'deployment.allByCompose',
    domainList: 'domain.byComposeId',
    operations: { deploy: 'queued', redeploy: 'queued', start: 'sync', stop: 'sync', follow: 'follow' }
  },
  postgres: database('postgres', 'postgresId'),
  mysql: database('mysql', 'mysqlId'),
  mariadb: database('mariadb', 'mariadbId'),
  mongo: database('mongo', 'mongoId'),
  redis: database('redis', 'redisId'),
  libsql: database('libsql', 'libsqlId')
}

/** Operations every kind the input names has, for validation and error messages. */
export const operationsOf = (input: ResourceInput): Operation[] =>
  OPERATIONS.filter((op) => kindsOf(input).every((kind) => SPECS[kind].operations[op] !== undefined))

/** The service status a successful synchronous operation leaves behind. */
export const statusAfter = (operation: Operation): 'done' | 'idle' => (operation === 'stop' ? 'idle' : 'done')

/** Operations that call for the stored appName (it has a random suffix, so it must be read). */
export const needsAppName = (operation: Operation): boolean => operation === 'reload'

/** Operations whose end is a deployment row the step follows: its own deploy, or one Dokploy started for a commit. */
export const followsRow = (mode: Mode | undefined): boolean => mode === 'queued' || mode === 'follow'

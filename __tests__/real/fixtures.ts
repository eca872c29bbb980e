import { randomBytes } from 'node:crypto'
import type { RealDokploy } from './dokploy.js'

/**
 * The services the conformance suite needs, created through the API the way the dashboard creates
 * them (v0.25+ shapes: services live in environments), in a project of their own that is removed
 * afterwards. Every password and env value is a marker the suite then looks for in everything the
 * action printed or wrote.
 */
export interface Fixtures {
  tag: string
  projectId: string
  projectName: string
  /** A server before v0.25: services sit on the project, there are no environments (names are ''). */
  legacy: boolean
  production: { environmentId: string; name: string }
  staging: { environmentId: string; name: string }
  /** `web` exists in both environments, or twice in the project before v0.25: an ambiguous name. */
  ids: Record<'web' | 'stagingWeb' | 'api' | 'stack' | DatabaseKind, string>
  names: Record<'web' | 'api' | 'stack' | DatabaseKind, string>
  /** Database kinds this server has (libsql arrived in v0.29). */
  databases: DatabaseKind[]
  secrets: string[]
}

export type DatabaseKind = 'postgres' | 'mysql' | 'mariadb' | 'mongo' | 'redis' | 'libsql'
export const IMAGE = 'nginx:alpine'

interface EnvironmentRow {
  environmentId: string
  name: string
  isDefault?: boolean
}

export async function createFixtures(api: RealDokploy): Promise<Fixtures> {
  const tag = randomBytes(3).toString('hex')
  // passwords must match Dokploy's DATABASE_PASSWORD_REGEX: letters, digits and a few symbols
  const secret = (what: string): string => `Dac${what}S3cr3t${randomBytes(6).toString('hex')}`
  const secrets: string[] = []
  const keep = (value: string): string => (secrets.push(value), value)

  const projectName = `dokploy-action conformance ${tag}`
  const created = await api.mutate<{ project?: { projectId: string }; projectId?: string }>('project.create', {
    name: projectName,
    description: 'created by npm run test:real; safe to delete'
  })
  // v0.25+ answers {project, environment}; older servers answer the project, and have no environments
  const projectId = created.project?.projectId ?? created.projectId ?? ''
  const legacy = created.project === undefined
  let production = { environmentId: '', name: '' }
  let staging = { environmentId: '', name: '' }
  if (!legacy) {
    await api.mutate('environment.create', { projectId, name: 'staging' })
    const project = await api.query<{ environments: EnvironmentRow[] }>('project.one', { projectId })
    const main = project.environments.find((e) => e.isDefault) ?? project.environments.find((e) => e.name !== 'staging')
    const other = project.environments.find((e) => e.name === 'staging')
    if (!main || !other) throw new Error('project.one did not list the default and the staging environment')
    production = { environmentId: main.environmentId, name: main.name }
    staging = { environmentId: other.environmentId, name: other.name }
  }
  /** Where a new service goes: an environment, or the project itself before v0.25. */
  const placed = (environment: { environmentId: string }): Record<string, string> =>
    legacy ? { projectId } : { environmentId: environment.environmentId }

  const application = async (environment: { environmentId: string }, name: string): Promise<string> => {
    const app = await api.mutate<{ applicationId: string }>('application.create', { name, ...placed(environment) })
    await api.mutate('application.saveDockerProvider', { applicationId: app.applicationId, dockerImage: IMAGE, username: null, password: null, registryUrl: null })
    return app.applicationId
  }
  const web = await application(production, 'web')
  // v0.25+: in staging; before, a second `web` in the same project
  const stagingWeb = await application(staging, 'web')
  const api_ = await application(production, 'api')
  await api.mutate('application.saveEnvironment', {
    applicationId: web,
    env: `DATABASE_URL=postgres://app:${keep(secret('Url'))}@db:5432/app\nAPI_TOKEN=${keep(secret('Token'))}\nPLAIN=visible`,
    buildArgs: '',
    buildSecrets: '',
    createEnvFile: true
  })
  const stack = await api.mutate<{ composeId: string }>('compose.create', {
    name: 'stack',
    ...placed(production),
    composeType: 'docker-compose',
    sourceType: 'raw',
    composeFile: `services:\n  web:\n    image: ${IMAGE}\n`
  })

  const where = placed(production)
  const databases: Partial<Record<DatabaseKind, string>> = {}
  const create: Record<DatabaseKind, () => object> = {
    postgres: () => ({ name: 'pg', ...where, databaseName: 'app', databaseUser: 'app', databasePassword: keep(secret('Pg')), dockerImage: 'postgres:16' }),
    mysql: () => ({ name: 'my', ...where, databaseName: 'app', databaseUser: 'app', databasePassword: keep(secret('My')), databaseRootPassword: keep(secret('MyRoot')), dockerImage: 'mysql:8' }),
    mariadb: () => ({ name: 'maria', ...where, databaseName: 'app', databaseUser: 'app', databasePassword: keep(secret('Maria')), databaseRootPassword: keep(secret('MariaRoot')), dockerImage: 'mariadb:11' }),
    mongo: () => ({ name: 'mongo', ...where, databaseUser: 'app', databasePassword: keep(secret('Mongo')), dockerImage: 'mongo:7', replicaSets: false }),
    redis: () => ({ name: 'cache', ...where, databasePassword: keep(secret('Redis')), dockerImage: 'redis:7' }),
    libsql: () => ({
      name: 'lite',
      appName: `lite-${tag}`,
      ...where,
      description: '',
      dockerImage: 'ghcr.io/tursodatabase/libsql-server:v0.24.32',
      databaseUser: 'libsql',
      databasePassword: keep(secret('Lite')),
      sqldNode: 'primary',
      sqldPrimaryUrl: null,
      enableNamespaces: false,
      serverId: null
    })
  }
  const idKey = (kind: DatabaseKind): string => `${kind}Id`
  for (const kind of Object.keys(create) as DatabaseKind[]) {
    try {
      const row = await api.mutate<Record<string, string> | boolean>(`${kind}.create`, create[kind]())
      databases[kind] = typeof row === 'object' && row[idKey(kind)] ? row[idKey(kind)] : await findId(api, projectId, kind)
    } catch (error) {
      // an older server without this kind (libsql) answers 404; anything else is a real failure
      if (kind !== 'libsql' || !String(error).includes('404')) throw error
    }
  }

  return {
    tag,
    projectId,
    projectName,
    legacy,
    production,
    staging,
    ids: { web, stagingWeb, api: api_, stack: stack.composeId, ...(databases as Record<DatabaseKind, string>) },
    names: { web: 'web', api: 'api', stack: 'stack', postgres: 'pg', mysql: 'my', mariadb: 'maria', mongo: 'mongo', redis: 'cache', libsql: 'lite' },
    databases: Object.keys(databases) as DatabaseKind[],
    secrets
  }
}

/** Some create procedures answer `true` rather than the row: find the new service in its environment. */
async function findId(api: RealDokploy, projectId: string, kind: DatabaseKind): Promise<string> {
  const project = await api.query<{ environments?: Record<string, unknown>[] } & Record<string, unknown>>('project.one', { projectId })
  for (const environment of project.environments ?? [project]) {
    const list = environment[kind] as Record<string, string>[] | undefined
    if (list?.[0]) return list[0][`${kind}Id`]
  }
  throw new Error(`${kind}.create answered without an id, and project.one does not list it`)
}

export async function removeFixtures(api: RealDokploy, fixtures: Fixtures | undefined): Promise<void> {
  if (fixtures) await api.mutate('project.remove', { projectId: fixtures.projectId })
}

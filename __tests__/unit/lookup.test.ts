import { describe, expect, it } from '@jest/globals'
import { DokployClient } from '../../src/dokploy/client.js'
import type { RawRequest, RawResponse } from '../../src/dokploy/transport.js'
import { locate, locateAll, LookupError, matchByName, placeTargets } from '../../src/lookup.js'
import type { Target } from '../../src/target.js'

const ok = (json: unknown): RawResponse => {
  const text = JSON.stringify({ result: { data: { json } } })
  return { status: 200, header: (name) => (name.toLowerCase() === 'content-type' ? 'application/json' : null), text, bytes: text.length }
}

/** A Dokploy that answers project.all and environment.byProjectId from fixtures, and records what was asked. */
function server(projects: unknown, byProjectId: Record<string, unknown> = {}) {
  const calls: string[] = []
  const transport = async (request: RawRequest): Promise<RawResponse> => {
    const url = new URL(request.url)
    const procedure = url.pathname.replace('/api/trpc/', '')
    calls.push(procedure)
    if (procedure === 'project.all') return ok(projects)
    if (procedure === 'environment.byProjectId') {
      const input = JSON.parse(url.searchParams.get('input') ?? '{}') as { json: { projectId: string } }
      return ok(byProjectId[input.json.projectId] ?? [])
    }
    throw new Error(`unexpected call ${procedure}`)
  }
  const client = new DokployClient({ baseUrl: 'https://dokploy.example.com', apiKey: 'k', requestTimeoutMs: 1000, retries: 0, transport })
  return { client, calls }
}

const noWarn = (message: string): void => {
  throw new Error(`unexpected warning: ${message}`)
}

async function lookupError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(LookupError)
    return (error as Error).message
  }
  throw new Error('expected a LookupError, the lookup succeeded')
}

/** ≤ v0.24: services sit directly on the project. */
const V024 = [
  {
    projectId: 'P1',
    name: 'shop',
    env: 'SHARED=secret',
    applications: [
      { applicationId: 'A1', name: 'web', appName: 'web-abc123', env: 'KEY=secret' },
      { applicationId: 'A2', name: 'api', appName: 'api-def456' }
    ],
    compose: [{ composeId: 'C1', name: 'stack', appName: 'stack-x1' }],
    postgres: [{ postgresId: 'D1', name: 'db', appName: 'db-q1', databasePassword: 'pw' }]
  },
  { projectId: 'P2', name: 'blog', applications: [{ applicationId: 'A9', name: 'web', appName: 'web-zzz' }] }
]

/** v0.25–v0.28: environments with full rows. */
const V028 = [
  {
    projectId: 'P1',
    name: 'shop',
    environments: [
      {
        environmentId: 'E1',
        name: 'production',
        isDefault: true,
        applications: [
          { applicationId: 'A1', name: 'web', appName: 'web-abc123' },
          { applicationId: 'A2', name: 'api', appName: 'api-def456' }
        ],
        compose: [],
        postgres: [{ postgresId: 'D1', name: 'db', appName: 'db-q1' }]
      },
      {
        environmentId: 'E2',
        name: 'staging',
        isDefault: false,
        applications: [{ applicationId: 'A3', name: 'web', appName: 'web-stg' }],
        compose: [],
        postgres: []
      }
    ]
  }
]

/** ≥ v0.29: trimmed; databases as ids only. */
const V029 = [
  {
    projectId: 'P1',
    name: 'shop',
    environments: [
      {
        name: 'production',
        environmentId: 'E1',
        isDefault: true,
        applications: [{ applicationId: 'A1', name: 'web', applicationStatus: 'done' }],
        compose: [{ composeId: 'C1', name: 'stack', composeStatus: 'idle' }],
        postgres: [{ postgresId: 'D1' }],
        mysql: [],
        mariadb: [],
        mongo: [],
        redis: [],
        libsql: []
      },
      {
        name: 'staging',
        environmentId: 'E2',
        isDefault: false,
        applications: [],
        compose: [],
        postgres: [{ postgresId: 'D2' }],
        mysql: [],
        mariadb: [],
        mongo: [],
        redis: [],
        libsql: []
      }
    ],
    projectTags: []
  }
]
const V029_ENVIRONMENTS = {
  P1: [
    { environmentId: 'E1', name: 'production', isDefault: true, env: 'X=secret', applications: [], postgres: [{ postgresId: 'D1', name: 'db', appName: 'db-prod1' }] },
    { environmentId: 'E2', name: 'staging', isDefault: false, applications: [], postgres: [{ postgresId: 'D2', name: 'db-stg', appName: 'db-stg1' }] }
  ]
}

describe('matchByName', () => {
  const items = [{ n: 'Web' }, { n: 'web' }, { n: 'API' }, { n: undefined }]
  const name = (item: { n?: string }) => item.n

  it('prefers exact, case-sensitive matches', () => {
    expect(matchByName(items, 'web', name)).toEqual([{ n: 'web' }])
    expect(matchByName(items, 'Web', name)).toEqual([{ n: 'Web' }])
  })

  it('falls back to a case-insensitive match', () => {
    expect(matchByName(items, 'api', name)).toEqual([{ n: 'API' }])
  })

  it('returns every case-insensitive match, so the caller can report the ambiguity', () => {
    expect(matchByName(items, 'WEB', name)).toEqual([{ n: 'Web' }, { n: 'web' }])
  })

  it('returns nothing when no name matches, and never matches an item without a name', () => {
    expect(matchByName(items, 'db', name)).toEqual([])
    expect(matchByName(items, 'undefined', name)).toEqual([])
  })
})

describe('locate on ≤ v0.24 (services on the project)', () => {
  it('finds an application by project and name', async () => {
    const { client, calls } = server(V024)
    await expect(locate(client, 'application', { project: 'shop', name: 'api' }, noWarn)).resolves.toEqual({
      resource: 'application',
      id: 'A2',
      name: 'api',
      appName: 'api-def456',
      projectId: 'P1',
      environmentId: undefined,
      environmentName: undefined
    })
    expect(calls).toEqual(['project.all'])
  })

  it('finds a database by name from the project list', async () => {
    const { client } = server(V024)
    await expect(locate(client, 'postgres', { project: 'shop', name: 'db' }, noWarn)).resolves.toMatchObject({ id: 'D1', appName: 'db-q1' })
  })

  it('warns that the environment input is ignored', async () => {
    const { client } = server(V024)
    const warnings: string[] = []
    const found = await locate(client, 'compose', { project: 'shop', environment: 'production', name: 'stack' }, (m) => warnings.push(m))
    expect(found.id).toBe('C1')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/no environments; ignoring environment "production"/)
  })
})

describe('locate on v0.25–v0.28 (environments with full rows)', () => {
  it('finds a service by name in the environment filter', async () => {
    const { client, calls } = server(V028)
    await expect(locate(client, 'application', { project: 'shop', environment: 'staging', name: 'web' }, noWarn)).resolves.toEqual({
      resource: 'application',
      id: 'A3',
      name: 'web',
      appName: 'web-stg',
      projectId: 'P1',
      environmentId: 'E2',
      environmentName: 'staging'
    })
    expect(calls).toEqual(['project.all'])
  })

  it('finds a service that exists in only one environment without a filter', async () => {
    const { client } = server(V028)
    await expect(locate(client, 'application', { project: 'shop', name: 'api' }, noWarn)).resolves.toMatchObject({
      id: 'A2',
      environmentId: 'E1',
      environmentName: 'production'
    })
  })

  it('refuses a name found in several environments, listing them', async () => {
    const { client } = server(V028)
    const message = await lookupError(locate(client, 'application', { project: 'shop', name: 'web' }, noWarn))
    expect(message).toMatch(/"web" exists in several environments of project "shop"/)
    expect(message).toContain('"production", "staging"')
    expect(message).toMatch(/Set the environment input/)
  })

  it('matches project, environment and name case-insensitively when unique', async () => {
    const { client } = server(V028)
    await expect(locate(client, 'application', { project: 'SHOP', environment: 'Staging', name: 'WEB' }, noWarn)).resolves.toMatchObject({ id: 'A3' })
  })

  it('reads a database name straight from the full rows, without environment.byProjectId', async () => {
    const { client, calls } = server(V028)
    await expect(locate(client, 'postgres', { project: 'shop', name: 'db' }, noWarn)).resolves.toMatchObject({ id: 'D1', appName: 'db-q1' })
    expect(calls).toEqual(['project.all'])
  })

  it('names the environments when the environment filter matches none', async () => {
    const { client } = server(V028)
    const message = await lookupError(locate(client, 'application', { project: 'shop', environment: 'qa', name: 'web' }, noWarn))
    expect(message).toMatch(/no single environment named "qa"/)
    expect(message).toContain('"production", "staging"')
  })
})

describe('locate on ≥ v0.29 (trimmed, databases as ids only)', () => {
  it('queries environment.byProjectId for database names and appName', async () => {
    const { client, calls } = server(V029, V029_ENVIRONMENTS)
    await expect(locate(client, 'postgres', { project: 'shop', name: 'db' }, noWarn)).resolves.toEqual({
      resource: 'postgres',
      id: 'D1',
      name: 'db',
      appName: 'db-prod1',
      projectId: 'P1',
      environmentId: 'E1',
      environmentName: 'production'
    })
    expect(calls).toEqual(['project.all', 'environment.byProjectId'])
  })

  it('keeps to the environment filter after environment.byProjectId', async () => {
    const { client } = server(V029, V029_ENVIRONMENTS)
    await expect(locate(client, 'postgres', { project: 'shop', environment: 'staging', name: 'db-stg' }, noWarn)).resolves.toMatchObject({
      id: 'D2',
      environmentId: 'E2'
    })
    const message = await lookupError(locate(client, 'postgres', { project: 'shop', environment: 'staging', name: 'db' }, noWarn))
    expect(message).toMatch(/No postgres named "db" in environment "staging" of project "shop"/)
    expect(message).toContain('"db-stg"')
  })

  it('needs no second call for an application, whose name project.all still carries', async () => {
    const { client, calls } = server(V029, V029_ENVIRONMENTS)
    await expect(locate(client, 'compose', { project: 'shop', name: 'stack' }, noWarn)).resolves.toMatchObject({ id: 'C1', environmentName: 'production' })
    expect(calls).toEqual(['project.all'])
  })
})

describe('not-found messages', () => {
  it('lists the projects that exist', async () => {
    const { client } = server(V024)
    const message = await lookupError(locate(client, 'application', { project: 'shopp', name: 'web' }, noWarn))
    expect(message).toMatch(/No project named "shopp" is visible to this key/)
    expect(message).toContain('"shop", "blog"')
  })

  it('lists the services of the resource type that exist', async () => {
    const { client } = server(V028)
    const message = await lookupError(locate(client, 'application', { project: 'shop', name: 'worker' }, noWarn))
    expect(message).toMatch(/No application named "worker" in project "shop"/)
    expect(message).toMatch(/Application services there: .*"web \(production\)".*"api \(production\)".*"web \(staging\)"/)
  })

  it('says none when the project has no service of that type', async () => {
    const { client } = server(V024)
    const message = await lookupError(locate(client, 'redis', { project: 'shop', name: 'cache' }, noWarn))
    expect(message).toMatch(/Redis services there: none/)
  })

  it('caps a long list', async () => {
    const projects = Array.from({ length: 30 }, (_, i) => ({ projectId: `P${i}`, name: `project-${i}`, applications: [] }))
    const { client } = server(projects)
    const message = await lookupError(locate(client, 'application', { project: 'missing', name: 'web' }, noWarn))
    expect(message).toContain('"project-19"')
    expect(message).not.toContain('"project-20"')
    expect(message).toContain('and 10 more')
  })

  it('refuses a project name that matches several projects, listing their ids', async () => {
    const projects = [
      { projectId: 'P1', name: 'Shop', applications: [] },
      { projectId: 'P2', name: 'shop ', applications: [] },
      { projectId: 'P3', name: 'SHOP', applications: [] }
    ]
    const { client } = server(projects)
    const message = await lookupError(locate(client, 'application', { project: 'shop', name: 'web' }, noWarn))
    expect(message).toMatch(/Several projects are named "shop" \(P1, P3\)/)
    expect(message).toMatch(/use the id input/)
  })

  it('prefers the exact project name over case-insensitive ones', async () => {
    const projects = [
      { projectId: 'P1', name: 'Shop', applications: [{ applicationId: 'A1', name: 'web' }] },
      { projectId: 'P3', name: 'SHOP', applications: [{ applicationId: 'A3', name: 'web' }] }
    ]
    const { client } = server(projects)
    await expect(locate(client, 'application', { project: 'SHOP', name: 'web' }, noWarn)).resolves.toMatchObject({ id: 'A3', projectId: 'P3' })
  })
})

/** ≥ v0.29 with several database kinds in staging. */
const V029_KINDS = [
  {
    projectId: 'P1',
    name: 'shop',
    environments: [
      { name: 'production', environmentId: 'E1', isDefault: true, applications: [{ applicationId: 'A1', name: 'web' }, { applicationId: 'A2', name: 'api' }], postgres: [{ postgresId: 'D1' }] },
      { name: 'staging', environmentId: 'E2', isDefault: false, applications: [], postgres: [{ postgresId: 'D2' }], redis: [{ redisId: 'R2' }], libsql: [{ libsqlId: 'L2' }] }
    ]
  }
]
const V029_KINDS_ENVIRONMENTS = {
  P1: [
    { environmentId: 'E1', name: 'production', postgres: [{ postgresId: 'D1', name: 'db', appName: 'db-1' }] },
    {
      environmentId: 'E2',
      name: 'staging',
      postgres: [{ postgresId: 'D2', name: 'db', appName: 'db-2' }],
      redis: [{ redisId: 'R2', name: 'cache', appName: 'cache-2' }],
      libsql: [{ libsqlId: 'L2', name: 'edge', appName: 'edge-2' }]
    }
  ]
}

describe('locateAll: several names, or every service, in one lookup', () => {
  it('several names, in the order given, for one project.all', async () => {
    const { client, calls } = server(V029_KINDS)
    const found = await locateAll(client, 'application', { project: 'shop', environment: 'production', names: ['api', 'web'] }, noWarn)
    expect(found.map((t) => t.id)).toEqual(['A2', 'A1'])
    expect(calls).toEqual(['project.all'])
  })

  it('* with resource database: every database kind in the environment, names from environment.byProjectId', async () => {
    const { client, calls } = server(V029_KINDS, V029_KINDS_ENVIRONMENTS)
    const found = await locateAll(client, 'database', { project: 'shop', environment: 'staging', names: '*' }, noWarn)
    expect(found.map((t) => [t.resource, t.id, t.name, t.appName, t.environmentName])).toEqual([
      ['postgres', 'D2', 'db', 'db-2', 'staging'],
      ['redis', 'R2', 'cache', 'cache-2', 'staging'],
      ['libsql', 'L2', 'edge', 'edge-2', 'staging']
    ])
    expect(calls).toEqual(['project.all', 'environment.byProjectId'])
  })

  it('* without environment: every environment of the project', async () => {
    const { client } = server(V029_KINDS, V029_KINDS_ENVIRONMENTS)
    const found = await locateAll(client, 'postgres', { project: 'shop', names: '*' }, noWarn)
    expect(found.map((t) => `${t.id}@${t.environmentName}`)).toEqual(['D1@production', 'D2@staging'])
  })

  it('* over nothing is an error', async () => {
    const { client } = server(V029_KINDS)
    const message = await lookupError(locateAll(client, 'compose', { project: 'shop', environment: 'staging', names: '*' }, noWarn))
    expect(message).toBe('name is "*", but there is no compose in environment "staging" of project "shop"; nothing was sent.')
  })

  it('one unknown name fails the whole lookup', async () => {
    const { client } = server(V029_KINDS)
    const message = await lookupError(locateAll(client, 'application', { project: 'shop', environment: 'production', names: ['web', 'nope'] }, noWarn))
    expect(message).toMatch(/^No application named "nope"/)
  })

  it('two names of one service are refused', async () => {
    const { client } = server(V029_KINDS)
    const message = await lookupError(locateAll(client, 'application', { project: 'shop', environment: 'production', names: ['web', 'WEB'] }, noWarn))
    expect(message).toBe('"web" and "web" name the same application (A1): give it once.')
  })

  it('an unknown database name lists each with its kind', async () => {
    const { client } = server(V029_KINDS, V029_KINDS_ENVIRONMENTS)
    const message = await lookupError(locateAll(client, 'database', { project: 'shop', environment: 'staging', names: ['pg'] }, noWarn))
    expect(message).toContain('Database services there: "db (postgres, staging)", "cache (redis, staging)", "edge (libsql, staging)".')
  })
})

describe('placeTargets: where services given by id live', () => {
  it('fills project, environment and name from one project.all, and leaves unknown ids alone', async () => {
    const { client, calls } = server(V029_KINDS)
    const targets: Target[] = [
      { resource: 'application', id: 'A2' },
      { resource: 'libsql', id: 'L2' },
      { resource: 'application', id: 'A9' }
    ]
    await placeTargets(client, targets)
    expect(targets).toEqual([
      { resource: 'application', id: 'A2', name: 'api', projectId: 'P1', environmentId: 'E1', environmentName: 'production' },
      { resource: 'libsql', id: 'L2', name: undefined, projectId: 'P1', environmentId: 'E2', environmentName: 'staging' },
      { resource: 'application', id: 'A9' }
    ])
    expect(calls).toEqual(['project.all'])
  })

  it('on servers without environments: the project only', async () => {
    const { client } = server(V024)
    const targets: Target[] = [{ resource: 'postgres', id: 'D1' }]
    await placeTargets(client, targets)
    expect(targets[0]).toMatchObject({ projectId: 'P1', environmentId: undefined, name: 'db' })
  })
})

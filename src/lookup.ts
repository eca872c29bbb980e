import type { DokployClient } from './dokploy/client.js'
import { array, object, text, type Json } from './dokploy/shape.js'
import { SPECS, kindsOf, type Resource, type ResourceInput } from './operations.js'
import type { Target } from './target.js'

/**
 * project / environment / name → id (API.md §5). One project.all per run, however many names;
 * environment.byProjectId only when project.all leaves database names out (v0.29+). Only ids and
 * names are read from these replies, which also carry every project's env.
 */
interface ServiceRef {
  resource: Resource
  id: string
  name?: string
  appName?: string
  /** Where it runs, when the entry says (null: Dokploy's own host); undefined when the entry has no such field. */
  serverId?: string | null
}

interface EnvironmentView {
  environmentId?: string
  name: string
  isDefault: boolean
  services: ServiceRef[]
}

interface ProjectView {
  projectId: string
  name: string
  /** undefined on servers without environments (v0.24 and older): services sit on the project. */
  environments?: EnvironmentView[]
  services: ServiceRef[]
}

/** What a lookup is asked: one or several names, or `*` for every service of the kinds. */
export interface NameQuery {
  project: string
  environment?: string
  names: string[] | '*'
}

export class LookupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LookupError'
  }
}

const LIST_CAP = 20

function listed(names: string[]): string {
  if (names.length === 0) return 'none'
  const shown = names.slice(0, LIST_CAP).map((n) => `"${n}"`).join(', ')
  return names.length > LIST_CAP ? `${shown} and ${names.length - LIST_CAP} more` : shown
}

/** Exact, case-sensitive matches first; a case-insensitive match only counts when it is the only one. */
export function matchByName<T>(items: T[], wanted: string, nameOf: (item: T) => string | undefined): T[] {
  const exact = items.filter((item) => nameOf(item) === wanted)
  if (exact.length) return exact
  const folded = items.filter((item) => nameOf(item)?.toLowerCase() === wanted.toLowerCase())
  // several case-insensitive matches are returned so the caller reports the ambiguity
  return folded
}

function services(holder: Json, kinds: readonly Resource[]): ServiceRef[] {
  return kinds.flatMap((resource) => {
    const spec = SPECS[resource]
    const list = holder[spec.listKey]
    if (!Array.isArray(list)) return []
    return list.map((entry) => {
      const row = object(entry, `a ${resource} entry`)
      const serverId = 'serverId' in row ? (text(row, 'serverId') ?? null) : undefined
      return { resource, id: text(row, spec.idKey) ?? '', name: text(row, 'name'), appName: text(row, 'appName'), serverId }
    })
  })
}

function environments(value: unknown, kinds: readonly Resource[]): EnvironmentView[] {
  return array(value, 'environments').map((entry) => {
    const env = object(entry, 'an environment')
    return {
      environmentId: text(env, 'environmentId'),
      name: text(env, 'name') ?? '',
      isDefault: env.isDefault === true,
      services: services(env, kinds)
    }
  })
}

export function readProjects(client: DokployClient, kinds: readonly Resource[]): Promise<ProjectView[]> {
  return client.query('project.all', undefined, (value) =>
    array(value, 'projects').map((entry) => {
      const project = object(entry, 'a project')
      return {
        projectId: text(project, 'projectId') ?? '',
        name: text(project, 'name') ?? '',
        environments: 'environments' in project ? environments(project.environments, kinds) : undefined,
        services: services(project, kinds)
      }
    })
  )
}

/** One name, one kind: the lookup of a single service. */
export async function locate(
  client: DokployClient,
  resource: Resource,
  target: { project: string; environment?: string; name: string },
  warn: (message: string) => void
): Promise<Target> {
  const [found] = await locateAll(client, resource, { ...target, names: [target.name] }, warn)
  return found
}

/**
 * Every name of the query, in the order given (or every service for `*`), resolved before anything is
 * sent: a name that leads to no single service fails the whole lookup.
 */
export async function locateAll(
  client: DokployClient,
  resource: ResourceInput,
  query: NameQuery,
  warn: (message: string) => void
): Promise<Target[]> {
  const kinds = kindsOf(resource)
  const projects = await readProjects(client, kinds)
  const projectMatches = matchByName(projects, query.project, (p) => p.name)
  if (projectMatches.length === 0) {
    throw new LookupError(`No project named "${query.project}" is visible to this key. Projects: ${listed(projects.map((p) => p.name))}.`)
  }
  if (projectMatches.length > 1) {
    throw new LookupError(`Several projects are named "${query.project}" (${projectMatches.map((p) => p.projectId).join(', ')}): use the id input instead.`)
  }
  const project = projectMatches[0]

  let scope: EnvironmentView[]
  let environment = query.environment
  if (!project.environments) {
    if (environment) warn(`This Dokploy has no environments; ignoring environment "${environment}".`)
    environment = undefined
    scope = [{ name: '', isDefault: true, services: project.services }]
  } else {
    scope = project.environments
    if (environment) {
      scope = matchByName(project.environments, environment, (e) => e.name)
      if (scope.length !== 1) {
        throw new LookupError(
          `Project "${project.name}" has no single environment named "${environment}". Environments: ${listed(project.environments.map((e) => e.name))}.`
        )
      }
    }
    // v0.29+ lists databases by id only: their names (and every appName) come from environment.byProjectId.
    if (scope.some((env) => env.services.some((s) => s.name === undefined))) {
      const detailed = await client.query('environment.byProjectId', { projectId: project.projectId }, (value) => environments(value, kinds))
      const wanted = new Set(scope.map((e) => e.environmentId))
      scope = detailed.filter((e) => wanted.has(e.environmentId))
    }
  }
  const where = environment ? `environment "${scope[0]?.name}" of project "${project.name}"` : `project "${project.name}"`
  const candidates = scope.flatMap((env) => env.services.map((service) => ({ env, service })))
  const found =
    query.names === '*'
      ? every(candidates, resource, where)
      : query.names.map((name) => pick(candidates, scope.length > 1, resource, name, where, project.name))
  const seen = new Map<string, string>()
  for (const { service } of found) {
    const before = seen.get(service.id)
    if (before !== undefined) throw new LookupError(`"${before}" and "${service.name}" name the same ${service.resource} (${service.id}): give it once.`)
    seen.set(service.id, service.name ?? service.id)
  }
  return found.map(({ env, service }) => ({
    resource: service.resource,
    id: service.id,
    name: service.name,
    appName: service.appName,
    serverId: service.serverId,
    projectId: project.projectId,
    environmentId: env.environmentId,
    environmentName: env.name || undefined
  }))
}

type Candidate = { env: EnvironmentView; service: ServiceRef }

function every(candidates: Candidate[], resource: ResourceInput, where: string): Candidate[] {
  if (candidates.length === 0) throw new LookupError(`name is "*", but there is no ${resource} in ${where}; nothing was sent.`)
  return candidates
}

function pick(candidates: Candidate[], severalEnvironments: boolean, resource: ResourceInput, name: string, where: string, project: string): Candidate {
  const found = matchByName(candidates, name, (c) => c.service.name)
  // with several kinds (resource: database) each service says which it is
  const kind = (c: Candidate): string => (resource === 'database' ? `${c.service.resource}, ` : '')
  if (found.length === 0) {
    const names = candidates.map((c) => (severalEnvironments || kind(c) ? `${c.service.name} (${kind(c)}${c.env.name})`.replace(/, \)$/, ')') : `${c.service.name}`))
    throw new LookupError(`No ${resource} named "${name}" in ${where}. ${capitalise(resource)} services there: ${listed(names)}.`)
  }
  if (found.length > 1) {
    const environments = new Set(found.map((c) => c.env.name))
    throw new LookupError(
      environments.size > 1
        ? `${capitalise(resource)} "${name}" exists in several environments of project "${project}": ${listed([...environments])}. Set the environment input; nothing was deployed.`
        : `Several ${resource} services in ${where} match "${name}": ${listed(found.map((c) => `${c.service.name} (${kind(c)}${c.service.id})`))}. Use the exact name or the id input; nothing was deployed.`
    )
  }
  return found[0]
}

/**
 * Where services given by id live, for the dashboard link and the environment's name: one project.all,
 * read for ids and names only. Ids it does not list are left as they are.
 */
export async function placeTargets(client: DokployClient, targets: Target[]): Promise<void> {
  const kinds = [...new Set(targets.map((t) => t.resource))]
  const projects = await readProjects(client, kinds)
  for (const project of projects) {
    const places = project.environments?.map((env) => ({ env, services: env.services })) ?? [{ env: undefined, services: project.services }]
    for (const { env, services } of places) {
      for (const service of services) {
        for (const target of targets) {
          if (target.id !== service.id || target.resource !== service.resource) continue
          target.projectId ??= project.projectId
          target.environmentId ??= env?.environmentId
          target.environmentName ??= env?.name || undefined
          target.name ??= service.name
        }
      }
    }
  }
}

const capitalise = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1)

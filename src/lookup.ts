import type { DokployClient } from './dokploy/client.js'
import { array, object, text, type Json } from './dokploy/shape.js'
import { SPECS, type Resource } from './operations.js'

/**
 * project / environment / name → id (API.md §5). One project.all per run; environment.byProjectId
 * only when project.all leaves database names out (v0.29+). Only ids and names are read from
 * these replies, which also carry every project's env.
 */
export interface ServiceRef {
  id: string
  name?: string
  appName?: string
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

export interface Located {
  id: string
  name: string
  appName?: string
  projectId: string
  environmentId?: string
  environmentName?: string
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

function services(holder: Json, resource: Resource): ServiceRef[] {
  const spec = SPECS[resource]
  const list = holder[spec.listKey]
  if (!Array.isArray(list)) return []
  return list.map((entry) => {
    const row = object(entry, `a ${resource} entry`)
    return { id: text(row, spec.idKey) ?? '', name: text(row, 'name'), appName: text(row, 'appName') }
  })
}

function environments(value: unknown, resource: Resource): EnvironmentView[] {
  return array(value, 'environments').map((entry) => {
    const env = object(entry, 'an environment')
    return {
      environmentId: text(env, 'environmentId'),
      name: text(env, 'name') ?? '',
      isDefault: env.isDefault === true,
      services: services(env, resource)
    }
  })
}

export function readProjects(client: DokployClient, resource: Resource): Promise<ProjectView[]> {
  return client.query('project.all', undefined, (value) =>
    array(value, 'projects').map((entry) => {
      const project = object(entry, 'a project')
      return {
        projectId: text(project, 'projectId') ?? '',
        name: text(project, 'name') ?? '',
        environments: 'environments' in project ? environments(project.environments, resource) : undefined,
        services: services(project, resource)
      }
    })
  )
}

export async function locate(
  client: DokployClient,
  resource: Resource,
  target: { project: string; environment?: string; name: string },
  warn: (message: string) => void
): Promise<Located> {
  const projects = await readProjects(client, resource)
  const projectMatches = matchByName(projects, target.project, (p) => p.name)
  if (projectMatches.length === 0) {
    throw new LookupError(`No project named "${target.project}" is visible to this key. Projects: ${listed(projects.map((p) => p.name))}.`)
  }
  if (projectMatches.length > 1) {
    throw new LookupError(`Several projects are named "${target.project}" (${projectMatches.map((p) => p.projectId).join(', ')}): use the id input instead.`)
  }
  const project = projectMatches[0]

  if (!project.environments) {
    if (target.environment) warn(`This Dokploy has no environments; ignoring environment "${target.environment}".`)
    return pick(project, [{ name: '', isDefault: true, services: project.services }], resource, target)
  }

  let scope = project.environments
  if (target.environment) {
    scope = matchByName(project.environments, target.environment, (e) => e.name)
    if (scope.length !== 1) {
      throw new LookupError(
        `Project "${project.name}" has no single environment named "${target.environment}". Environments: ${listed(project.environments.map((e) => e.name))}.`
      )
    }
  }
  // v0.29+ lists databases by id only: their names (and every appName) come from environment.byProjectId.
  if (scope.some((env) => env.services.some((s) => s.name === undefined))) {
    const detailed = await client.query('environment.byProjectId', { projectId: project.projectId }, (value) => environments(value, resource))
    const wanted = new Set(scope.map((e) => e.environmentId))
    scope = detailed.filter((e) => wanted.has(e.environmentId))
  }
  return pick(project, scope, resource, target)
}

function pick(project: ProjectView, scope: EnvironmentView[], resource: Resource, target: { environment?: string; name: string }): Located {
  const candidates = scope.flatMap((env) => env.services.map((service) => ({ env, service })))
  const found = matchByName(candidates, target.name, (c) => c.service.name)
  const where = target.environment ? `environment "${scope[0]?.name}" of project "${project.name}"` : `project "${project.name}"`
  if (found.length === 0) {
    const names = candidates.map((c) => (scope.length > 1 ? `${c.service.name} (${c.env.name})` : `${c.service.name}`))
    throw new LookupError(`No ${resource} named "${target.name}" in ${where}. ${capitalise(resource)} services there: ${listed(names)}.`)
  }
  if (found.length > 1) {
    const environments = new Set(found.map((c) => c.env.name))
    throw new LookupError(
      environments.size > 1
        ? `${capitalise(resource)} "${target.name}" exists in several environments of project "${project.name}": ${listed([...environments])}. Set the environment input; nothing was deployed.`
        : `Several ${resource} services in ${where} match "${target.name}": ${listed(found.map((c) => `${c.service.name} (${c.service.id})`))}. Use the exact name or the id input; nothing was deployed.`
    )
  }
  const { env, service } = found[0]
  return {
    id: service.id,
    name: service.name ?? target.name,
    appName: service.appName,
    projectId: project.projectId,
    environmentId: env.environmentId,
    environmentName: env.name || undefined
  }
}

const capitalise = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1)

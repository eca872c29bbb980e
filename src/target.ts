import type { Resource } from './operations.js'

/** One service the step acts on: given by id, or found by name (then with where it lives). */
export interface Target {
  resource: Resource
  id: string
  name?: string
  /** The stored appName, when the lookup brought it (reload needs it). */
  appName?: string
  /** Where it runs, when the lookup said (null: Dokploy's own host); undefined when unknown. */
  serverId?: string | null
  projectId?: string
  environmentId?: string
  environmentName?: string
}

/** How the log and the summary name a service: its name, or its id when the name is unknown. */
export const serviceLabel = (name: string | undefined, id: string | undefined): string => name || id || ''

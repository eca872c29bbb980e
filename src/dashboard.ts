import { SPECS } from './operations.js'
import type { Outcome } from './outcome.js'

/** The service in the Dokploy dashboard, its deployments tab after a followed deployment; the projects page when where it lives is unknown. */
export function dashboardUrl(baseUrl: string, outcome: Outcome): string {
  const { projectId, environmentId, resourceId } = outcome
  if (!projectId || !resourceId) return `${baseUrl}/dashboard/projects`
  const service = `services/${SPECS[outcome.resource].dashboardType}/${encodeURIComponent(resourceId)}`
  const env = environmentId ? `environment/${encodeURIComponent(environmentId)}/` : ''
  const tab = outcome.deploymentId ? '?tab=deployments' : ''
  return `${baseUrl}/dashboard/project/${encodeURIComponent(projectId)}/${env}${service}${tab}`
}

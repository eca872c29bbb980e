import type { DokployClient } from './client.js'
import { array, nullableText, object, requiredText, text, type Json } from './shape.js'
import { DokployError } from './errors.js'
import { SPECS, type Mode, type Operation, type Resource, type ResourceSpec } from '../operations.js'
import { learnSecretsOf, redact } from '../secrets.js'

/** Typed Dokploy calls. Each extractor keeps only the fields named here; secrets it keeps are masked first. */

export type DeploymentStatus = 'running' | 'done' | 'error' | 'cancelled'

export interface DeploymentRow {
  deploymentId: string
  title: string | null
  description: string | null
  status: DeploymentStatus | string
  errorMessage: string | null
  createdAt: string | null
  startedAt: string | null
  finishedAt: string | null
  /** The build log's file on the server that builds it: what the live log streams. */
  logPath: string | null
  /**
   * The build server the application built on, or null. Dokploy never fills a row's `serverId` for an
   * application or a compose stack (services/deployment.ts): where the rest ran is the service's `serverId`.
   */
  buildServerId: string | null
}

export interface QueueJob {
  id: string
  state: string
  serviceId: string | undefined
  title: string | undefined
  description: string | undefined
  /** Enqueue time, by the server's clock. */
  timestamp: number
  /** When the job turned active, by the server's clock. */
  processedOn?: number
  /** The server whose queue holds it: its service's `serverId` (undefined: Dokploy's own host). */
  serverId?: string
  /** Where its service lives, from the job's dashboard link (servicePath.href, v0.28.3+). */
  projectId?: string
  environmentId?: string
}

/** `/dashboard/project/<projectId>/environment/<environmentId>/services/<type>/<id>`: the two ids, nothing else. */
const SERVICE_PATH = /^\/dashboard\/project\/([\w.-]{1,128})\/environment\/([\w.-]{1,128})\/services\//

function placeOf(job: Json): { projectId?: string; environmentId?: string } {
  const path = job.servicePath && typeof job.servicePath === 'object' ? text(job.servicePath as Json, 'href') : undefined
  const match = path ? SERVICE_PATH.exec(path) : null
  return match ? { projectId: match[1], environmentId: match[2] } : {}
}

function toRow(value: unknown): DeploymentRow {
  const row = object(value, 'a deployment row')
  return {
    deploymentId: requiredText(row, 'deploymentId', 'a deployment row'),
    title: nullableText(row, 'title'),
    description: nullableText(row, 'description'),
    status: requiredText(row, 'status', 'a deployment row'),
    errorMessage: nullableText(row, 'errorMessage'),
    createdAt: nullableText(row, 'createdAt'),
    startedAt: nullableText(row, 'startedAt'),
    finishedAt: nullableText(row, 'finishedAt'),
    logPath: nullableText(row, 'logPath'),
    buildServerId: nullableText(row, 'buildServerId')
  }
}

/** The service's deployment rows, newest first (Dokploy keeps the last 10). */
export function listDeployments(client: DokployClient, spec: ResourceSpec, id: string): Promise<DeploymentRow[]> {
  if (!spec.deploymentList) throw new Error(`${spec.router} has no deployment rows`)
  return client.query(spec.deploymentList, { [spec.idKey]: id }, (value) => array(value, 'deployments').map(toRow))
}

/** A pull request's preview deployment of an application: its id, its number and its domain. */
export interface PreviewDeployment {
  previewDeploymentId: string
  pullRequestNumber: number
  domain?: DomainRow
}

/** The application's previews (`previewDeployment.all`): ids, numbers and domains only; their rows are read on their own. */
export function listPreviews(client: DokployClient, applicationId: string): Promise<PreviewDeployment[]> {
  return client.query('previewDeployment.all', { applicationId }, (value) =>
    array(value, 'preview deployments').map((entry) => {
      const row = object(entry, 'a preview deployment')
      const domain = row.domain && typeof row.domain === 'object' ? domainsOrNone([row.domain])?.[0] : undefined
      return {
        previewDeploymentId: requiredText(row, 'previewDeploymentId', 'a preview deployment'),
        pullRequestNumber: Number(text(row, 'pullRequestNumber') ?? NaN),
        domain
      }
    })
  )
}

/** A preview's deployment rows, newest first (`deployment.allByType`). */
export function previewRows(client: DokployClient, previewDeploymentId: string): Promise<DeploymentRow[]> {
  return client.query('deployment.allByType', { id: previewDeploymentId, type: 'previewDeployment' }, (value) => array(value, 'deployments').map(toRow))
}

/** The build queues of every server (v0.28.3+): one per server, told apart by each job's `serverId`. */
export function queueList(client: DokployClient): Promise<QueueJob[]> {
  return client.query('deployment.queueList', undefined, (value) =>
    array(value, 'queue jobs').map((entry) => {
      const job = object(entry, 'a queue job')
      const data = job.data && typeof job.data === 'object' ? (job.data as Json) : {}
      return {
        id: String(job.id ?? ''),
        state: text(job, 'state') ?? 'waiting',
        serviceId: text(data, 'applicationId') ?? text(data, 'composeId'),
        title: text(data, 'titleLog'),
        description: text(data, 'descriptionLog'),
        timestamp: typeof job.timestamp === 'number' ? job.timestamp : 0,
        processedOn: typeof job.processedOn === 'number' ? job.processedOn : undefined,
        serverId: text(data, 'serverId'),
        ...placeOf(job)
      }
    })
  )
}

/**
 * Removes every waiting job of the service from Dokploy's queue (its previews' too), leaving active ones
 * (`<router>.cleanQueues`): there is no way to remove one job by its id.
 */
export async function cleanQueues(client: DokployClient, spec: ResourceSpec, id: string): Promise<void> {
  await client.mutate(`${spec.router}.cleanQueues`, { [spec.idKey]: id }, () => undefined)
}

/** The last lines of a deployment's build log (v0.29.6+). */
export function readLogs(client: DokployClient, deploymentId: string, tail: number, graceMs?: number): Promise<string> {
  return client.query('deployment.readLogs', { deploymentId, tail }, (value) => (typeof value === 'string' ? value : ''), { graceMs })
}

export interface ServiceDetails {
  name?: string
  appName?: string
  /** The remote server the service runs on (and queues on), or undefined on Dokploy's own host. */
  serverId?: string
  /** compose only: docker-compose (containers) or stack (Swarm tasks). */
  composeType?: string
  status?: string
  projectId?: string
  environmentId?: string
  environmentName?: string
  sourceType?: string
  /** Whether Dokploy deploys the service on a push by itself. */
  autoDeploy?: boolean
  dockerImage?: string | null
  /** The build server an application builds on, or null when it builds where it runs. */
  buildServerId?: string | null
  /** Host, scheme and path of each domain (applications and compose); undefined when `.one` had none readable. */
  domains?: DomainRow[]
  env?: string | null
  buildArgs?: string | null
  buildSecrets?: string | null
  createEnvFile?: boolean
  registryUrl?: string | null
  username?: string | null
  password?: string | null
}

/** Which secret-bearing parts of `.one` a caller needs kept (every secret in it is masked either way). */
export interface DetailsWanted {
  env?: boolean
  registry?: boolean
}

/**
 * The one reader of `<router>.one`, which carries every secret of the service: every secret in the reply
 * is masked before anything else can print it, and only the fields named here are kept, the secret ones
 * only when asked for.
 */
export function readService(client: DokployClient, spec: ResourceSpec, id: string, wanted: DetailsWanted = {}): Promise<ServiceDetails> {
  return client.query(`${spec.router}.one`, { [spec.idKey]: id }, (value) => {
    learnSecretsOf(value)
    const row = object(value, `a ${spec.router}`)
    const environment = row.environment && typeof row.environment === 'object' ? (row.environment as Json) : {}
    const details: ServiceDetails = {
      name: text(row, 'name'),
      appName: text(row, 'appName'),
      serverId: text(row, 'serverId') || undefined,
      composeType: text(row, 'composeType'),
      status: text(row, spec.statusKey),
      projectId: text(row, 'projectId') ?? text(environment, 'projectId'),
      environmentId: text(row, 'environmentId'),
      environmentName: text(environment, 'name'),
      sourceType: text(row, 'sourceType'),
      autoDeploy: typeof row.autoDeploy === 'boolean' ? row.autoDeploy : undefined,
      dockerImage: nullableText(row, 'dockerImage'),
      buildServerId: spec.router === 'application' ? nullableText(row, 'buildServerId') : null,
      domains: spec.domainList && Array.isArray(row.domains) ? domainsOrNone(row.domains) : undefined
    }
    if (wanted.env) {
      details.env = nullableText(row, 'env')
      details.createEnvFile = typeof row.createEnvFile === 'boolean' ? row.createEnvFile : undefined
      if (spec.router === 'application') {
        details.buildArgs = nullableText(row, 'buildArgs')
        details.buildSecrets = nullableText(row, 'buildSecrets')
      }
    }
    if (wanted.registry && spec.router === 'application') {
      details.registryUrl = nullableText(row, 'registryUrl')
      details.username = nullableText(row, 'username')
      details.password = nullableText(row, 'password')
    }
    return details
  })
}

export interface DomainRow {
  host: string
  https: boolean
  path?: string
  enabled: boolean
}

/** Host, scheme and path of each domain: nothing else of a domain row is kept. */
const domainRows = (value: unknown): DomainRow[] =>
  array(value, 'domains').map((entry) => {
    const row = object(entry, 'a domain')
    return { host: requiredText(row, 'host', 'a domain'), https: row.https === true, path: text(row, 'path'), enabled: row.enabled !== false }
  })

/** The service's domains (application and compose): host, scheme and path only. */
export function readDomains(client: DokployClient, spec: ResourceSpec, id: string, graceMs?: number): Promise<DomainRow[]> {
  if (!spec.domainList) throw new Error(`${spec.router} has no domains`)
  return client.query(spec.domainList, { [spec.idKey]: id }, domainRows, { graceMs })
}

/** Malformed domains in `.one` are left to the domain list's own read, which says what is wrong. */
function domainsOrNone(value: unknown): DomainRow[] | undefined {
  try {
    return domainRows(value)
  } catch {
    return undefined
  }
}

/** The service status, from a fresh read of `.one` (the same reader, so its secrets are masked too). */
export async function readStatus(client: DokployClient, spec: ResourceSpec, id: string): Promise<string | undefined> {
  return (await readService(client, spec, id)).status
}

export interface OperationCall {
  resource: Resource
  operation: Operation
  id: string
  mode: Mode
  title?: string
  description?: string
  appName?: string
  /** Bound for a sync-long call (a database deploy). */
  timeoutMs?: number
}

/** Sends the operation. Replies vary by version (void, true, a row, {success, message}) and are not kept. */
export async function runOperation(client: DokployClient, call: OperationCall): Promise<void> {
  const spec = SPECS[call.resource]
  const input: Record<string, unknown> = { [spec.idKey]: call.id }
  if (call.mode === 'queued') {
    if (call.title) input.title = call.title
    if (call.description) input.description = call.description
  }
  if (call.operation === 'reload') input.appName = call.appName
  await client.mutate(`${spec.router}.${call.operation}`, input, (value) => {
    // compose deploy answers {success:false} on some versions when it refused the job
    if (value && typeof value === 'object' && (value as Json).success === false) {
      const reason = redact(String((value as Json).message ?? 'no reason given')).slice(0, 300)
      throw new DokployError('server-error', `Dokploy refused ${spec.router}.${call.operation}: ${reason}.`, 'processed')
    }
  }, { timeoutMs: call.timeoutMs })
}

/** One Swarm task of a service (`docker service ps`), the fields the rollout check reads. Server text: redact before showing. */
export interface SwarmTask {
  id: string
  /** `<appName>.<slot>`: a slot's tasks come newest first. */
  name: string
  image: string
  desired: string
  /** e.g. "Running 12 seconds ago", "Starting 2 seconds ago", "Failed 3 seconds ago". */
  current: string
  error: string
}

/**
 * The service's Swarm tasks, history included (`swarm.getAppInfos`, docker:read). Dokploy answers null when
 * Docker wrote to stderr, and [] on any other failure: both are "could not see", returned as undefined and [].
 */
export function readTasks(client: DokployClient, appName: string, serverId: string | undefined, graceMs: number): Promise<SwarmTask[] | undefined> {
  const input = { appName: [appName], ...(serverId ? { serverId } : {}) }
  return client.query('swarm.getAppInfos', input, (value) => {
    if (value === null || value === undefined) return undefined
    return array(value, 'tasks').map((entry) => {
      const task = object(entry, 'a task')
      return {
        id: text(task, 'ID') ?? '',
        name: (text(task, 'Name') ?? '').replace(/^\s*\\_\s*/, ''),
        image: text(task, 'Image') ?? '',
        desired: (text(task, 'DesiredState') ?? '').toLowerCase(),
        current: text(task, 'CurrentState') ?? '',
        error: text(task, 'Error') ?? ''
      }
    })
  }, { graceMs })
}

/** A container (`docker ps -a`) or, for a stack, a task with desired state running: server text, redact before showing. */
export interface ContainerRow {
  id: string
  name: string
  /** running, exited, restarting… (a stack task: its current state's first word) */
  state: string
  /** e.g. "Up 12 seconds (healthy)", "Exited (1) 3 seconds ago"; a stack task: "Running 5 seconds ago". */
  status: string
}

/** A compose project's containers, or a stack's running tasks (`docker.getContainersByAppNameMatch`, service:read). */
export function readContainers(client: DokployClient, appName: string, appType: 'docker-compose' | 'stack', serverId: string | undefined, graceMs: number): Promise<ContainerRow[]> {
  const input = { appName, appType, ...(serverId ? { serverId } : {}) }
  return client.query('docker.getContainersByAppNameMatch', input, (value) =>
    array(value ?? [], 'containers').map((entry) => {
      const row = object(entry, 'a container')
      return { id: text(row, 'containerId') ?? '', name: text(row, 'name') ?? '', state: (text(row, 'state') ?? '').toLowerCase(), status: text(row, 'status') ?? '' }
    })
  , { graceMs })
}

/** A deployment row with what its rollback record says: its id and image. Nothing else of the record (its fullContext holds every secret of the application) is read. */
export interface RollbackRow {
  deploymentId: string
  status: string
  createdAt: string | null
  rollbackId?: string
  image?: string
}

/** An application's deployment rows with their rollback records, newest first (`deployment.allByType`, v0.22+). */
export function listRollbackRows(client: DokployClient, applicationId: string): Promise<RollbackRow[]> {
  return client.query('deployment.allByType', { id: applicationId, type: 'application' }, (value) =>
    array(value, 'deployments').map((entry) => {
      const row = object(entry, 'a deployment row')
      const rollback = row.rollback && typeof row.rollback === 'object' ? (row.rollback as Json) : undefined
      return {
        deploymentId: requiredText(row, 'deploymentId', 'a deployment row'),
        status: requiredText(row, 'status', 'a deployment row'),
        createdAt: nullableText(row, 'createdAt'),
        rollbackId: rollback ? text(rollback, 'rollbackId') : undefined,
        image: rollback ? text(rollback, 'image') : undefined
      }
    })
  )
}

/** Dokploy's rollback: the application runs that deployment's image and settings again (synchronous; no deployment row). */
export async function runRollback(client: DokployClient, rollbackId: string): Promise<void> {
  await client.mutate('rollback.rollback', { rollbackId }, () => undefined)
}

/** The log of the application's newest running container (`application.readLogs`): server text, masked before it is shown. */
export function readRuntimeLog(client: DokployClient, applicationId: string, tail: number, graceMs?: number): Promise<string> {
  return client.query('application.readLogs', { applicationId, tail, since: '10m' }, (value) => (typeof value === 'string' ? value : ''), { graceMs })
}

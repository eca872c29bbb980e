import type { DokployClient } from './dokploy/client.js'
import type { ServiceDetails } from './dokploy/api.js'
import { SPECS, type Resource } from './operations.js'
import { envChanges, planEnv } from './env.js'
import type { Settings } from './inputs.js'
import { inline, type Log } from './logger.js'

/**
 * Changes made before the operation, so a deploy builds with them. Each is sent only when it
 * changes something, and resends what Dokploy would otherwise overwrite.
 */

const yes = (): true => true

/** saveEnvironment replaces every field it takes: the application's build args, build secrets and env-file flag go back as they were. */
export async function applyEnv(
  client: DokployClient,
  resource: Resource,
  id: string,
  current: ServiceDetails,
  wanted: NonNullable<Settings['env']>,
  log: Log
): Promise<void> {
  const spec = SPECS[resource]
  const plan = planEnv(current.env ?? '', wanted.entries, wanted.strategy)
  if (envChanges(plan) === 0) {
    log.info('Environment: no change, not saved.')
    return
  }
  const input: Record<string, unknown> = { [spec.idKey]: id, env: plan.env }
  if (resource === 'application') {
    Object.assign(input, {
      buildArgs: current.buildArgs ?? null,
      buildSecrets: current.buildSecrets ?? null,
      createEnvFile: current.createEnvFile ?? true
    })
  } else if (resource === 'compose' && current.createEnvFile !== undefined) {
    input.createEnvFile = current.createEnvFile
  }
  await client.mutate(`${spec.router}.saveEnvironment`, input, yes)
  const keys = (label: string, list: string[]): string => (list.length ? ` ${label} ${list.join(', ')};` : '')
  log.info(`Environment (${wanted.strategy}) saved:${keys('added', plan.added)}${keys('changed', plan.changed)}${keys('removed', plan.removed)}`.replace(/;$/, '.'))
}

/** saveDockerProvider wants all five keys: the registry login the application has is kept unless inputs replace it. */
export async function applyImage(
  client: DokployClient,
  id: string,
  current: ServiceDetails,
  image: NonNullable<Settings['image']>,
  log: Log
): Promise<void> {
  // the stored login is never handed to a different registry
  const sameRegistry = image.registryUrl === undefined || image.registryUrl === (current.registryUrl ?? '')
  const newLogin = image.username !== undefined || image.password !== undefined
  if (!sameRegistry && !newLogin && (current.username || current.password)) {
    log.warning(`registry-url changes the registry: its stored login is not sent to ${image.registryUrl}. Pass registry-username and registry-password if it needs one.`)
  }
  const next = {
    applicationId: id,
    dockerImage: image.dockerImage,
    registryUrl: image.registryUrl ?? current.registryUrl ?? null,
    username: image.username ?? (sameRegistry ? current.username : null) ?? null,
    password: image.password ?? (sameRegistry ? current.password : null) ?? null
  }
  const unchanged =
    current.sourceType === 'docker' &&
    current.dockerImage === next.dockerImage &&
    (current.registryUrl ?? null) === next.registryUrl &&
    (current.username ?? null) === next.username &&
    (current.password ?? null) === next.password
  if (unchanged) {
    log.info(`Image: already ${image.dockerImage}, not saved.`)
    return
  }
  await client.mutate('application.saveDockerProvider', next, yes)
  const login = image.username || image.password || image.registryUrl ? 'new registry login' : next.username ? 'registry login kept' : 'no registry login'
  log.info(`Image: ${inline(current.dockerImage ?? '(none)')} → ${image.dockerImage} (${login}).`)
}

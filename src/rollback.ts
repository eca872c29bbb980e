import type { DokployClient } from './dokploy/client.js'
import { listRollbackRows, runRollback, type RollbackRow } from './dokploy/api.js'
import { inline, type Log } from './logger.js'

/**
 * Dokploy's rollbacks (applications only): a deployment made while the application has rollbacks on
 * (rollbackActive, with a rollback registry) keeps a record with its image; `rollback.rollback` runs that
 * image and the settings stored with it again. Dokploy keeps rows, and so records, for the last 10
 * deployments. The records' fullContext holds every secret of the application: only ids and images are read.
 */

export const HOW_TO_ENABLE =
  "In Dokploy, open the application's Advanced tab, turn Rollbacks on and choose a rollback registry: deployments made from then on keep a rollback (Dokploy keeps them for the last 10 deployments)."

export class NoRollback extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NoRollback'
  }
}

/**
 * The deployment to go back to: the newest `done` one that has a rollback and is older than `current` (the
 * deployment that runs now, or failed to); without `current`, older than the newest `done` one.
 */
export function chooseRollback(rows: RollbackRow[], current?: string): RollbackRow | undefined {
  const at = current === undefined ? rows.findIndex((row) => row.status === 'done') : rows.findIndex((row) => row.deploymentId === current)
  if (at === -1) return undefined
  return rows.slice(at + 1).find((row) => row.status === 'done' && row.rollbackId)
}

export interface RolledBack {
  deploymentId: string
  image?: string
}

/** Rolls the application back to its previous good deployment; throws NoRollback when there is none. */
export async function rollBack(client: DokployClient, applicationId: string, log: Log, current?: string): Promise<RolledBack> {
  const rows = await listRollbackRows(client, applicationId)
  const chosen = chooseRollback(rows, current)
  if (!chosen?.rollbackId) {
    const withRollback = rows.filter((row) => row.rollbackId).length
    const why =
      withRollback === 0
        ? `none of its ${rows.length} deployment(s) Dokploy lists has a rollback`
        : `no deployment before ${current ? `deployment ${inline(current)}` : 'the one that runs now'} ended done with a rollback`
    throw new NoRollback(`There is no deployment to roll back to: ${why}. ${HOW_TO_ENABLE}`)
  }
  log.info(`Rolling back to deployment ${inline(chosen.deploymentId)}${chosen.image ? ` (image ${inline(chosen.image)})` : ''}.`)
  await runRollback(client, chosen.rollbackId)
  return { deploymentId: chosen.deploymentId, image: chosen.image }
}

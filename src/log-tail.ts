import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { readLogs, type DeploymentRow } from './dokploy/api.js'
import { liveLogUrl, socketRuledOut, type LiveLogSetup } from './dokploy/log-socket.js'
import { SERVER_ERROR } from './log-stream.js'
import type { Log } from './logger.js'
import type { WaitContext } from './poller.js'

/** The last lines of the build log, or undefined where the server cannot give them (before v0.29.6). */
export async function logTail(client: DokployClient, deploymentId: string, lines: number, log: Log, graceMs: number): Promise<string | undefined> {
  if (lines <= 0) return undefined
  try {
    // after a timeout the deadline has passed: the tail may still take a few seconds
    const tail = await readLogs(client, deploymentId, lines, graceMs)
    return tail.trimEnd() || undefined
  } catch (error) {
    if (error instanceof DokployError && error.failure === 'cancelled') throw error
    log.info(
      error instanceof DokployError && error.failure === 'no-procedure'
        ? 'This Dokploy cannot return build logs (deployment.readLogs needs v0.29.6): see the dashboard.'
        : `Could not read the build log: ${error instanceof Error ? error.message : String(error)}`
    )
    return undefined
  }
}

/**
 * The tail of a deployment that ended badly, from the host that holds its log. Dokploy's readLogs reads on
 * the row's or the service's `serverId` and never on a build server (routers/deployment.ts): for a build
 * that ran on one it would read a file that is not there and answer an empty tail. That log is read
 * through the log socket instead, which names the build server and sends the whole file on connect.
 */
export async function failureTail(ctx: WaitContext, row: DeploymentRow, lines: number): Promise<string | undefined> {
  const { client, log, timings } = ctx
  if (lines <= 0) return undefined
  if (!row.buildServerId) return logTail(client, row.deploymentId, lines, log, timings.reportGraceMs)
  const where = `deployment ${row.deploymentId} was built on build server ${row.buildServerId}, and Dokploy's readLogs reads only where the service runs`
  const ruledOut = !ctx.liveLog ? 'no log socket' : !row.logPath ? "Dokploy did not give its log path" : socketRuledOut(ctx.liveLog)
  if (ruledOut || !ctx.liveLog || !row.logPath) {
    log.info(`No build log tail: ${where}, and the log socket cannot read it either (${ruledOut}). Its log is on the dashboard.`)
    return undefined
  }
  const text = await socketRead(ctx, ctx.liveLog, row.logPath, row.buildServerId)
  if (text === undefined) {
    log.info(`No build log tail: ${where}, and the log socket did not send it. Its log is on the dashboard.`)
    return undefined
  }
  const all = text.replace(/\r\n?/g, '\n').trimEnd().split('\n')
  return all.slice(-lines).join('\n') || undefined
}

/**
 * The whole log file as the socket sends it on connect: read until it has been quiet for a moment after its
 * first data, until it closes, or until the report's grace runs out. Undefined when it sent nothing but
 * Dokploy's own error, or nothing at all.
 */
async function socketRead(ctx: WaitContext, setup: LiveLogSetup, logPath: string, host: string): Promise<string | undefined> {
  const { clock, timings } = ctx
  let text = ''
  let ended = false
  let refused = false
  let lastDataAt: number | undefined
  const startedAt = clock.now()
  let connection: { close: () => void } | undefined
  try {
    connection = setup.sockets.open(liveLogUrl(setup.baseUrl, logPath, host), setup.apiKey, {
      open: () => undefined,
      message: (chunk) => {
        if (!text && SERVER_ERROR.test(chunk)) refused = true
        if (refused) return
        text += chunk
        lastDataAt = clock.now()
      },
      close: () => (ended = true)
    }, setup.headers)
  } catch {
    return undefined
  }
  try {
    for (;;) {
      const now = clock.now()
      if (ended || refused) break
      if (lastDataAt !== undefined && now - lastDataAt >= timings.socketTailQuietMs) break
      const left = startedAt + timings.reportGraceMs - now
      if (left <= 0) break
      await clock.sleep(Math.min(timings.socketTailQuietMs / 2, left), ctx.signal)
    }
  } finally {
    connection.close()
  }
  return refused || !text ? undefined : text
}

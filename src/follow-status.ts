import { readStatus } from './dokploy/api.js'
import { Poller, type WaitContext } from './poller.js'

/**
 * A database deploy whose answer was cut while Dokploy went on with it (a proxy's 524, a timeout):
 * the service status tells the end. Followed while it is `running`; only the status is read.
 */
export async function followStatus(ctx: WaitContext, expected: string): Promise<{ ok: boolean; status: string; detail: string }> {
  const poller = new Poller(ctx, (ctx.now ?? Date.now)())
  for (;;) {
    let status: string | undefined
    try {
      status = (await readStatus(ctx.client, ctx.spec, ctx.serviceId)) ?? 'unknown'
      poller.answered()
    } catch (error) {
      poller.failed(error)
    }
    if (status !== undefined && status !== 'running') {
      const ok = status === expected
      return { ok, status, detail: ok ? `Dokploy reports ${ctx.spec.router} status ${status}.` : `Dokploy reports ${ctx.spec.router} status ${status}, expected ${expected}.` }
    }
    if (status) poller.say('running', `Dokploy is still working on the ${ctx.spec.router} (status running).`, 'Still running')
    await poller.pause()
    if (poller.expired()) return { ok: false, status: 'timeout', detail: `The ${ctx.spec.router} was still deploying when the step stopped waiting after ${poller.elapsed()} (wait-timeout).` }
  }
}

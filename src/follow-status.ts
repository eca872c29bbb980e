import { readStatus } from './dokploy/api.js'
import { Poller, type WaitContext } from './poller.js'

/**
 * A database deploy whose answer was cut while Dokploy went on with it (a proxy's 524, a timeout):
 * the service status tells the end. Followed while it is `running`.
 */
export function followStatus(ctx: WaitContext, expected: string): Promise<{ ok: boolean; status: string; detail: string }> {
  const poller = new Poller(ctx)
  const what = ctx.spec.router
  return poller.until(
    async () => {
      const status = (await readStatus(ctx.client, ctx.spec, ctx.serviceId)) ?? 'unknown'
      if (status === 'running') {
        poller.say('running', `Dokploy is still working on the ${what} (status running).`, 'Still running')
        return undefined
      }
      const ok = status === expected
      return { ok, status, detail: ok ? `Dokploy reports ${what} status ${status}.` : `Dokploy reports ${what} status ${status}, expected ${expected}.` }
    },
    { expired: () => ({ ok: false, status: 'timeout', detail: `The ${what} was still deploying when the step stopped waiting after ${poller.elapsed()} (wait-timeout).` }) }
  )
}

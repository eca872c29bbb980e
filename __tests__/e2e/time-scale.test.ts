import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { emulators, runAction, TIME_SCALE } from './harness.js'

/**
 * The test-only time scale: the harness runs the action with DOKPLOY_ACTION_TIME_SCALE and every emulator
 * at the same scale. Without a valid value, as on every runner, the action keeps its real pauses: here the
 * first poll, which comes 1 s after the step saw its build start. Each test has an emulator of its own, so
 * that they run at once.
 */
const { start: startEmulator, closeAll } = emulators()
afterAll(closeAll)

/** Runs a deploy until its first poll has been answered, then cancels it; returns the pause before that poll. */
async function firstPollPause(env: Record<string, string> = {}): Promise<number> {
  const emu = await startEmulator()
  emu.setBuild(emu.ids.web, { hang: true })
  let polls = 0
  await runAction(
    // log: tail, so that the poller follows the build whatever the live log would do
    { url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, log: 'tail' },
    {
      env,
      killAfterMs: 20_000,
      onStdout: (chunk, child) => {
        // snapshot, the look right after the deploy, then the first poll
        polls += chunk.split('\n').filter((line) => line.startsWith('::debug::GET deployment.all →')).length
        if (polls >= 3) child.kill()
      }
    }
  )
  const lists = emu.requests.flatMap((r, i) => (r.procedure === 'deployment.all' ? [i] : []))
  expect(lists.length).toBeGreaterThanOrEqual(3)
  // the look right after the deploy ends with a read of the rows; the next request is the first poll
  const looked = lists[1]
  return emu.requests[looked + 1].at - emu.requests[looked].at
}

heading('DOKPLOY_ACTION_TIME_SCALE', () => {
  concurrent('the harness shortens the action’s first poll by its scale', async () => {
    const pause = await firstPollPause()
    expect(pause).toBeGreaterThanOrEqual(1000 * TIME_SCALE - 5)
    if (TIME_SCALE < 1) expect(pause).toBeLessThan(1000)
  })

  concurrent.each(['', '0', '2', 'fast'])('"%s" (as good as unset): the real 1 s pause', async (value) => {
    expect(await firstPollPause({ DOKPLOY_ACTION_TIME_SCALE: value })).toBeGreaterThanOrEqual(995)
  })
})

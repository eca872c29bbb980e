import { afterAll, expect } from '@jest/globals'
import { SECRET_MARKERS } from '../emulator/server.js'
import { concurrent, heading } from './at-once.js'
import { annotations, emulators, errorLine, leakedSecrets, runAction, visibleLog, type ActionRun } from './harness.js'

/**
 * Issue 21, "No secrets, no server text": when the service's settings (`.one`, where its secrets are)
 * cannot be read, the step prints no server text of that service: no build log line, no tail, not
 * Dokploy's error text. It says why and where to read the log; the status and the outcome still come.
 * Each test has an emulator of its own, so that they run at once.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 1500 })
afterAll(closeAll)

/** The fixture's marker for one secret field. */
const marker = (word: string): string => SECRET_MARKERS.find((m) => m.startsWith(`S3CR3T-${word}-`)) as string
const BUILD_FAILURE = 'npm ERR! the build of api failed'

/** An emulator of the test's own where api's build fails after echoing its database password, and its `.one` answers 500, with that password in the message. */
async function stage() {
  const emu = await startEmulator()
  const secret = marker('apienv')
  expect(secret).toBeDefined()
  emu.setBuild(emu.ids.api, { durationMs: 1500, fail: BUILD_FAILURE, echo: [`connecting to postgres://app:${secret}@db:5432/app`] })
  const body = JSON.stringify({ error: { json: { message: `cannot decrypt env DATABASE_URL=${secret}`, code: -32603, data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, path: 'application.one' } } } })
  emu.inject({ procedure: 'application.one', kind: 'status', status: 500, body, times: Infinity })
  return emu
}

function noServerText(run: ActionRun): void {
  expect(leakedSecrets(run)).toEqual([])
  const shown = [visibleLog(run), run.summary].join('\n')
  expect(shown).not.toContain(BUILD_FAILURE)
  expect(shown).not.toContain('connecting to')
  expect(shown).not.toContain('cannot decrypt')
  expect(shown).not.toContain('Last lines of the build log')
  expect(run.stdout).not.toContain('::group::Build log of')
}

heading('a service whose settings cannot be read', () => {
  concurrent.each(['live', 'tail'])('log: %s — the build fails: error, no log line and no tail, and the message says why and where to look', async (log: string) => {
    const emu = await stage()
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.api, log })

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(run.outputs['deployment-id']).toMatch(/\S/)
    noServerText(run)
    expect(errorLine(run)).toContain("The build log is not shown: the service's secrets could not be read first (server-error, HTTP 500)")
    expect(errorLine(run)).toContain("Read it in Dokploy's dashboard.")
    // the live log never opened: one notice, in the action's words
    expect(emu.requests.filter((r) => r.api === 'websocket')).toHaveLength(0)
    const notices = annotations(run, 'notice').map((n) => n.message)
    expect(notices).toEqual(log === 'live' ? ["No live build log: the service's secrets could not be read first (server-error, HTTP 500), and a build log may print them. Following the deployment by polling instead."] : [])
  })

  concurrent('a good build still passes, with nothing of the server printed', async () => {
    const emu = await stage()
    emu.setBuild(emu.ids.api, { durationMs: 1500 })
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.api })

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    noServerText(run)
  })
})

import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { SECRET_MARKERS, startEmulator } from '../emulator/server.js'

/**
 * run() in-process, as the template action's main.test.ts does: the toolkit is replaced by a recorder and
 * the inputs come from a function, while the server is the emulator, a real HTTP server on 127.0.0.1.
 * The end-to-end tests run the bundle (dist/index.js) as a runner does; these run the source.
 */
const lines: string[] = []
const outputs = new Map<string, string>()
const secrets = new Set<string>()
/** When a printed line matches, the test's runner cancels the job (SIGINT), as GitHub does. */
let cancelWhen: RegExp | undefined
const record = (kind: string) => (message: unknown) => {
  lines.push(`${kind}${String(message)}`)
  if (cancelWhen?.test(String(message))) {
    cancelWhen = undefined
    setImmediate(() => process.emit('SIGINT', 'SIGINT'))
  }
}
jest.unstable_mockModule('@actions/core', () => ({
  ExitCode: { Success: 0, Failure: 1 },
  getInput: () => '',
  setSecret: (value: string) => void secrets.add(value),
  setOutput: (name: string, value: string) => void outputs.set(name, value),
  info: record(''),
  debug: record('::debug::'),
  notice: record('::notice::'),
  warning: record('::warning::'),
  error: record('::error::'),
  startGroup: record('::group::'),
  endGroup: () => void lines.push('::endgroup::'),
  summary: { addRaw: () => ({ write: async () => undefined }) }
}))

const { run } = await import('../../src/main.js')
const { scaledTimings } = await import('../../src/timings.js')
const { webSockets } = await import('../../src/dokploy/log-socket.js')

const SCALE = 0.1
let emu: Awaited<ReturnType<typeof startEmulator>>

beforeAll(async () => {
  emu = await startEmulator({ timeScale: SCALE })
})
afterAll(async () => {
  await emu.close()
})
afterEach(() => {
  lines.length = 0
  outputs.clear()
  process.exitCode = undefined
  emu.requests.length = 0
})

/** Runs the action with these inputs (the rest empty, as the runner gives unset inputs), its pauses shortened like the emulator's. */
function runWith(inputs: Record<string, string>) {
  const all: Record<string, string> = { url: emu.url, 'api-key': emu.apiKey, log: 'tail', ...inputs }
  return run((name) => all[name] ?? '', { timings: scaledTimings(SCALE), sockets: webSockets(undefined) })
}

const procedures = () => emu.requests.map((r) => r.procedure)

describe('run()', () => {
  it('a deploy by id: sent once, its own row followed to done, the outputs written', async () => {
    emu.setBuild(emu.ids.web, { durationMs: 1500 })
    await runWith({ id: emu.ids.web })

    expect(process.exitCode).toBeUndefined()
    expect(outputs.get('status')).toBe('done')
    const row = emu.deployments.find((d) => d.deploymentId === outputs.get('deployment-id'))
    expect(row?.status).toBe('done')
    expect(outputs.get('resource-id')).toBe(emu.ids.web)
    expect(JSON.parse(outputs.get('results') ?? '[]')).toMatchObject([{ id: emu.ids.web, status: 'done', 'deployment-id': row?.deploymentId }])
    expect(procedures().filter((p) => p === 'application.deploy')).toHaveLength(1)
    // a run by id never reads every project
    expect(procedures()).not.toContain('project.all')
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^Deployment ${row?.deploymentId} ended done after \\d+s of build\\.$`)))
  })

  it('a bad input: a clear error before any request, and the step fails', async () => {
    await runWith({ id: emu.ids.web, 'wait-timeout': 'soon' })

    expect(process.exitCode).toBe(1)
    expect(emu.requests).toHaveLength(0)
    expect(outputs.get('status')).toBe('failed')
    expect(outputs.get('results')).toBe('[]')
    expect(lines.filter((line) => line.startsWith('::error::'))).toEqual(['::error::Input "wait-timeout" is "soon": expected a number of seconds from 1 to 21600.'])
  })

  it('a failed build: status error, and its log tail printed with the service’s secrets masked', async () => {
    const secret = SECRET_MARKERS.find((m) => m.startsWith('S3CR3T-apienv-')) as string
    expect(secret).toBeDefined()
    emu.setBuild(emu.ids.api, { durationMs: 500, fail: 'npm ERR! build failed', echo: [`connecting to postgres://app:${secret}@db:5432/app`] })
    await runWith({ id: emu.ids.api })

    expect(process.exitCode).toBe(1)
    expect(outputs.get('status')).toBe('error')
    const printed = lines.join('\n')
    expect(printed).toContain('npm ERR! build failed')
    expect(printed).toMatch(/│ connecting to \S*\*\*\*/)
    // the secrets were learned (.one) before the tail was printed, and none of them shows
    expect(procedures()).toContain('application.one')
    for (const marker of SECRET_MARKERS) expect(printed).not.toContain(marker)
  })

  it('the runner cancels while the build runs: cancelled-by-runner, with the deployment it was following', async () => {
    emu.setBuild(emu.ids.web, { hang: true })
    cancelWhen = /^Build started: deployment /
    await runWith({ id: emu.ids.web })

    expect(process.exitCode).toBe(1)
    expect(outputs.get('status')).toBe('cancelled-by-runner')
    expect(outputs.get('deployment-id')).toMatch(/\S/)
    expect(procedures().filter((p) => p === 'application.deploy')).toHaveLength(1)
    await emu.restart()
  })
})

import { afterEach, describe, expect, test } from '@jest/globals'
import { SECRET_MARKERS, WORKFLOW_COMMAND_LINES, startEmulator, type EmulatorOptions } from '../emulator/server.js'
import { annotations, runAction, type ActionRun } from './harness.js'

/**
 * Issue 10: the build log streamed live into the step over Dokploy's WebSocket (the emulator speaks a real
 * RFC 6455 upgrade), run through dist/index.js on Node 24 and its own global WebSocket.
 */
let emu: Awaited<ReturnType<typeof startEmulator>>
const start = async (options: EmulatorOptions = {}): Promise<void> => {
  emu = await startEmulator({ buildMs: 1500, ...options })
}
afterEach(() => emu.close())

const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra })
const lines = (run: ActionRun): string[] => run.stdout.split('\n')
/** The notices, as `::notice::message` whatever their title; each must carry the action's title. */
const notices = (run: ActionRun): string[] =>
  annotations(run, 'notice').map(({ title, message }) => {
    expect(title).toBe('Dokploy')
    return `::notice::${message}`
  })
/** The lines between the build log's group and its end, as the runner shows them (debug lines are off). */
function group(run: ActionRun): { title: string; body: string[] } {
  const all = lines(run)
  const at = all.findIndex((line) => line.startsWith('::group::Build log of '))
  if (at < 0) return { title: '', body: [] }
  const end = all.indexOf('::endgroup::', at)
  return { title: all[at].slice('::group::'.length), body: all.slice(at + 1, end).filter((line) => !line.startsWith('::debug::')) }
}
const upgrades = () => emu.requests.filter((r) => r.api === 'websocket')
const calls = (procedure: string) => emu.requests.filter((r) => r.procedure === procedure)
const rowOf = (run: ActionRun) => emu.deployments.find((d) => d.deploymentId === run.outputs['deployment-id'])
/** The fixture's marker for one secret field. */
const marker = (word: string): string => SECRET_MARKERS.find((m) => m.startsWith(`S3CR3T-${word}-`)) as string

describe('the live build log', () => {
  test('lines arrive in order while the build runs, inside one group named after the service and deployment', async () => {
    await start()
    emu.setBuild(emu.ids.web, { durationMs: 3000, doneLagMs: 2000, echo: ['\u001b[32m✔ compiled in 2.1s\u001b[0m'], echoAfterMs: 1000 })
    const seen = new Map<string, number>()
    const run = await runAction(inputs(), {
      onStdout: (chunk) => {
        for (const line of chunk.split('\n')) if (!seen.has(line)) seen.set(line, Date.now())
      }
    })
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const row = rowOf(run)
    const { title, body } = group(run)
    expect(title).toBe(`Build log of web · deployment ${row?.deploymentId}`)
    expect(body).toEqual([
      'Initializing deployment',
      expect.stringMatching(/^Cloning github\.com\/acme\/web\.git \(branch main\) to \/etc\/dokploy\/applications\/web-\w+\/code: ✅$/),
      expect.stringMatching(/^Building web-\w+ \(dockerfile\)$/),
      '#5 [build 1/4] RUN step-1 ... done (0.6s)',
      // ANSI colours pass through
      '\u001b[32m✔ compiled in 2.1s\u001b[0m',
      '#6 [build 2/4] RUN step-2 ... done (1.2s)',
      '#7 [build 3/4] RUN step-3 ... done (1.8s)',
      '#8 [build 4/4] RUN step-4 ... done (2.4s)',
      'Docker Deployed: ✅'
    ])
    // the group closes before the step's own verdict
    const all = lines(run)
    expect(all.indexOf('::endgroup::')).toBeLessThan(all.findIndex((line) => line.startsWith(`Deployment ${row?.deploymentId} ended done`)))
    // printed as the build wrote them: the first step's line a good second before the row turned done, the
    // last one a second before (in simulated time: the emulator runs at emu.timeScale)
    const settled = emu.settledAt(row?.deploymentId as string) as number
    expect(settled - (seen.get('#5 [build 1/4] RUN step-1 ... done (0.6s)') as number)).toBeGreaterThan(1500 * emu.timeScale)
    expect(settled - (seen.get('Docker Deployed: ✅') as number)).toBeGreaterThan(1000 * emu.timeScale)
    // one socket, opened once the step's own row was known, with the key and the row's logPath
    expect(upgrades()).toHaveLength(1)
    expect(upgrades()[0].input).toEqual({ logPath: row?.logPath })
    expect(upgrades()[0].headers['x-api-key']).toBe(emu.apiKey)
    expect(notices(run)).toEqual([])
  })

  test('a secret a build echoes is masked in every streamed line; the service’s secrets are read before the first line', async () => {
    await start()
    const echoed = [
      `NPM_TOKEN=${marker('webbuildargs')}`,
      `connecting to postgres://app:${marker('webenv')}@db:5432/app`,
      `git credential ${marker('webrefreshtoken')}`
    ]
    emu.setBuild(emu.ids.web, { durationMs: 2500, echo: echoed, echoAfterMs: 1500 })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    const { body } = group(run)
    expect(body).toEqual(expect.arrayContaining(['NPM_TOKEN=***', 'connecting to postgres://app:***@db:5432/app', 'git credential ***']))
    // .one before the upgrade, and only once
    const order = emu.requests.map((r) => (r.api === 'websocket' ? 'socket' : r.procedure))
    expect(order.indexOf('application.one')).toBeLessThan(order.indexOf('socket'))
    expect(calls('application.one')).toHaveLength(1)
  })

  test('server lines cannot start a workflow command, not even after a carriage return', async () => {
    await start({ hostile: true })
    emu.setBuild(emu.ids.web, { durationMs: 2500, echo: ['progress 50%\r::set-output name=status::hacked', '\t::add-mask::Docker', '%0A::error::forged'], echoAfterMs: 1500 })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const { body } = group(run)
    for (const line of WORKFLOW_COMMAND_LINES) expect(body).toContain(`│ ${line}`)
    expect(body).toEqual(expect.arrayContaining(['progress 50%', '│ ::set-output name=status::hacked', '\t│ ::add-mask::Docker', '%0A::error::forged']))
    // every command in the step's output is the action's own
    const commands = lines(run).filter((line) => /^\s*(::|##\[)/.test(line))
    expect(commands.every((line) => /^::(group|endgroup|add-mask|debug|stop-commands|dokploy-[0-9a-f]{32})::/.test(line))).toBe(true)
    expect(commands.filter((line) => line.startsWith('::add-mask::Docker'))).toEqual([])
  })

  test('a failed build: its tail comes from the stream (no readLogs), and the summary shows it', async () => {
    await start()
    emu.setBuild(emu.ids.web, { durationMs: 2500, fail: 'npm ERR! build script exited with code 1' })
    const run = await runAction(inputs({ 'log-lines': '3' }))
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(group(run).body.slice(-2)).toEqual(['❌ Error: npm ERR! build script exited with code 1', 'Error occurred ❌, check the logs for details.'])
    expect(calls('deployment.readLogs')).toHaveLength(0)
    expect(run.summary).toContain('Last 3 lines of the build log')
    expect(run.summary).toContain('build script exited with code 1')
  })

  test('a chatty build costs no polls while it writes: the status is read after Dokploy’s last line', async () => {
    await start()
    emu.setBuild(emu.ids.web, { durationMs: 6000, doneLagMs: 1000 })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    const socketAt = upgrades()[0].at
    const reads = calls('deployment.all').filter((r) => r.at > socketAt)
    // Dokploy's last line is written doneLagMs before the row turns done: no read before it
    const lastLineAt = (emu.settledAt(rowOf(run)?.deploymentId as string) as number) - 1000 * emu.timeScale
    expect(reads.length).toBeGreaterThanOrEqual(1)
    expect(reads.length).toBeLessThanOrEqual(3)
    expect(reads.every((r) => r.at >= lastLineAt)).toBe(true)
  })

  test('compose streams the same way', async () => {
    await start()
    const run = await runAction(inputs({ resource: 'compose', id: emu.ids.stack }))
    expect(run.code).toBe(0)
    const { title, body } = group(run)
    expect(title).toMatch(/^Build log of .+ · deployment dep-/)
    expect(body[0]).toBe('Initializing deployment')
    expect(body).toContain('Docker Deployed: ✅')
  })

  test('long lines and chatty logs are capped, and the step says what it cut', async () => {
    await start()
    const many = Array.from({ length: 10_050 }, (_, i) => `npm http fetch GET 200 https://registry.npmjs.org/pkg-${i}`)
    emu.setBuild(emu.ids.web, { durationMs: 2500, echo: ['y'.repeat(4500), ...many], echoAfterMs: 1500 })
    const run = await runAction(inputs({ 'log-lines': '2' }))
    expect(run.code).toBe(0)
    const { body } = group(run)
    expect(body).toContain(`${'y'.repeat(4000)} … [500 more characters cut]`)
    expect(body.filter((line) => line.startsWith('npm http fetch')).length).toBeLessThan(10_000)
    expect(body).toContainEqual(expect.stringMatching(/^\[The live log stops here, after 10000 lines: the build goes on, and Dokploy's dashboard has its whole log\.\]$/))
    expect(body.at(-1)).toMatch(/^\[\d+ more line\(s\) of the build log not shown\.\]$/)
  })

  test('a build that ended before its row was proven is not streamed: its tail comes from readLogs', async () => {
    await start()
    // the row appears only after the step's first look, and is final and overwritten before its first poll
    emu.setBuild(emu.ids.web, { durationMs: 20, rowLagMs: 500, doneLagMs: 50, overwriteLagMs: 50, fail: 'exit code 2' })
    const run = await runAction(inputs())
    expect(run.outputs.status).toBe('error')
    expect(upgrades()).toHaveLength(0)
    expect(group(run).body).toEqual([])
    expect(calls('deployment.readLogs')).toHaveLength(1)
    expect(run.summary).toContain('exit code 2')
  })

  test('a server that never answers the socket’s close does not hold the step', async () => {
    await start()
    emu.ignoreLogCloses(true)
    emu.setBuild(emu.ids.web, { durationMs: 2500 })
    const run = await runAction(inputs(), { killAfterMs: 20_000 })
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const settled = emu.settledAt(rowOf(run)?.deploymentId as string) as number
    // ended after the 2 s grace for the close, not at the kill
    expect(Date.now() - settled).toBeLessThan(6000)
  })

  test('log: tail follows by polling as before, with no socket; log: none shows no log at all', async () => {
    await start()
    emu.setBuild(emu.ids.web, { durationMs: 2500, fail: 'npm ERR! boom' })
    const tail = await runAction(inputs({ log: 'tail' }))
    expect(tail.code).toBe(1)
    expect(upgrades()).toHaveLength(0)
    expect(group(tail).body).toEqual([])
    expect(calls('deployment.readLogs')).toHaveLength(1)
    expect(tail.summary).toContain('Last 9 lines of the build log')

    const none = await runAction(inputs({ log: 'none' }))
    expect(none.code).toBe(1)
    expect(none.outputs.status).toBe('error')
    expect(upgrades()).toHaveLength(0)
    expect(calls('deployment.readLogs')).toHaveLength(1)
    expect(none.summary).not.toContain('build log')
  })

  test('a bad log input is refused before any request', async () => {
    await start()
    const run = await runAction(inputs({ log: 'stream' }))
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('Input "log" is "stream": expected one of live, tail, none.')
    expect(emu.requests).toHaveLength(0)
  })

  test('a cancel while the log streams ends the group and the step at once', async () => {
    await start()
    emu.setBuild(emu.ids.web, { durationMs: 20_000 })
    let cancelledAt = 0
    const run = await runAction(inputs(), {
      onStdout: (chunk, child) => {
        if (!cancelledAt && chunk.includes('#5 [build 1/4]')) {
          cancelledAt = Date.now()
          child.kill('SIGINT')
        }
      },
      killAfterMs: 15_000
    })
    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(Date.now() - cancelledAt).toBeLessThan(3000)
    const all = lines(run)
    expect(all.indexOf('::endgroup::')).toBeGreaterThan(all.findIndex((line) => line.startsWith('::group::Build log of')))
  })
})

describe('falling back to polling, with one notice', () => {
  test.each([
    ['forbidden', 'the WebSocket upgrade was refused'],
    ['redirect', 'the WebSocket upgrade was refused'],
    ['not-found', 'the WebSocket upgrade was refused'],
    ['unauthorized', 'it did not accept the API key there']
  ] as const)('upgrades refused (%s)', async (refusal, why) => {
    await start()
    emu.refuseUpgrades(refusal)
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(notices(run)).toHaveLength(1)
    expect(notices(run)[0]).toContain(why)
    expect(notices(run)[0]).toMatch(/^::notice::No live build log: /)
    expect(notices(run)[0]).toContain('Following the deployment by polling instead.')
    expect(group(run).body).toEqual([])
    expect(upgrades()).toHaveLength(1)
    // polled as without the live log
    expect(calls('deployment.all').length).toBeGreaterThanOrEqual(3)
  })

  test('a socket that drops mid-build is reopened once; no line is printed twice', async () => {
    await start()
    emu.setBuild(emu.ids.web, { durationMs: 2500 })
    let dropped = 0
    const run = await runAction(inputs(), {
      onStdout: (chunk) => {
        if (!dropped && chunk.includes('#5 [build 1/4]')) dropped = emu.dropLogSockets()
      }
    })
    expect(dropped).toBe(1)
    expect(run.code).toBe(0)
    expect(notices(run)).toEqual([])
    expect(upgrades()).toHaveLength(2)
    const { body } = group(run)
    expect(body.filter((line) => line === 'Initializing deployment')).toHaveLength(1)
    expect(body).toContain('[The live log dropped: reopening it once; lines already shown are not repeated.]')
    expect(body.filter((line) => line.startsWith('#'))).toEqual([
      '#5 [build 1/4] RUN step-1 ... done (0.5s)',
      '#6 [build 2/4] RUN step-2 ... done (1s)',
      '#7 [build 3/4] RUN step-3 ... done (1.5s)',
      '#8 [build 4/4] RUN step-4 ... done (2s)'
    ])
  })

  test('a socket that drops twice: polling from then on, said once', async () => {
    await start()
    emu.setBuild(emu.ids.web, { durationMs: 3000 })
    let drops = 0
    const run = await runAction(inputs(), {
      onStdout: (chunk) => {
        if ((drops === 0 && chunk.includes('#5 [build 1/4]')) || (drops === 1 && chunk.includes('#6 [build 2/4]'))) drops += emu.dropLogSockets()
      }
    })
    expect(drops).toBe(2)
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(notices(run)).toEqual(['::notice::No live build log: the log socket dropped a second time (code 1006). Following the deployment by polling instead.'])
    expect(upgrades()).toHaveLength(2)
  })

  test('a Dokploy that restarts mid-build: the socket drops, the reopen is refused, and the step rides out the outage by polling', async () => {
    await start()
    emu.setBuild(emu.ids.web, { durationMs: 20_000 })
    let restarted = false
    const run = await runAction(inputs(), {
      onStdout: (chunk) => {
        if (!restarted && chunk.includes('#5 [build 1/4]')) {
          restarted = true
          void emu.restart({ downMs: 3000 })
        }
      }
    })
    // the drop makes the step read the status at once; whether that read outlasts the outage (and the
    // status is final) or the reopen comes first and is refused (and the step polls), the end is the same
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('cancelled')
    expect(notices(run).length).toBeLessThanOrEqual(1)
    for (const notice of notices(run)) {
      expect(notice).toContain('the log socket dropped and could not be reopened')
      expect(notice).not.toContain('proxy or firewall')
    }
    expect(lines(run).filter((line) => line === '::endgroup::').length).toBeGreaterThanOrEqual(1)
    const all = lines(run)
    expect(all.indexOf('::endgroup::')).toBeGreaterThan(all.findIndex((line) => line.startsWith('::group::Build log of')))
  })

  test('an upgrade with no answer: request-timeout bounds it', async () => {
    await start()
    emu.refuseUpgrades('hang')
    const run = await runAction(inputs({ 'request-timeout': '2' }))
    expect(run.code).toBe(0)
    expect(notices(run)).toEqual(['::notice::No live build log: Dokploy did not answer the WebSocket upgrade within 2 s. Following the deployment by polling instead.'])
  })
})

import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { SECRET_MARKERS, WORKFLOW_COMMAND_LINES, type EmulatorOptions } from '../emulator/server.js'
import { StdoutWatch, annotations, emulators, logSocketOpened, runAction, type ActionRun, type Emulator } from './harness.js'

/**
 * Issue 10: the build log streamed live into the step over Dokploy's WebSocket (the emulator speaks a real
 * RFC 6455 upgrade), run through dist/index.js on Node 24 and its own global WebSocket.
 * Each test has an emulator of its own and runs beside the others. Where a build could end before the step
 * opened its socket on a busy machine, the build holds its end until then (holdBefore), as a slow build would.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 1500 })
afterAll(closeAll)

/** An emulator for one test, and the test's views of it. */
const start = async (options: EmulatorOptions = {}) => {
  const emu = await startEmulator(options)
  return {
    emu,
    inputs: (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra }),
    upgrades: () => emu.requests.filter((r) => r.api === 'websocket'),
    calls: (procedure: string) => emu.requests.filter((r) => r.procedure === procedure),
    rowOf: (run: ActionRun) => emu.deployments.find((d) => d.deploymentId === run.outputs['deployment-id'])
  }
}
/** A build's end held until the step opened its log socket: the build cannot end before the step streams it. */
const endOnceStreamed = (emu: Emulator) => {
  const opened = logSocketOpened(emu)
  return (event: string) => (event === 'end' ? opened : undefined)
}
/** A build's end held until the step tried to open its log socket (and was refused). */
const endOnceTried = (emu: Emulator) => (event: string) =>
  event === 'end' ? emu.until(() => emu.requests.some((r) => r.api === 'websocket')) : undefined
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
/** The fixture's marker for one secret field. */
const marker = (word: string): string => SECRET_MARKERS.find((m) => m.startsWith(`S3CR3T-${word}-`)) as string

heading('the live build log', () => {
  concurrent('lines arrive in order while the build runs, inside one group named after the service and deployment', async () => {
    const { emu, inputs, upgrades, rowOf } = await start()
    const compiled = '\u001b[32m✔ compiled in 2.1s\u001b[0m'
    // the build writes each next line (and turns done after its last) only once the step has printed the one
    // before: the order of events, not the clock, shows that lines are printed while the build runs
    const watch = new StdoutWatch()
    const before: Record<string, string> = {
      'step-1': 'Building web-',
      echo: '#5 [build 1/4]',
      'step-2': compiled,
      'step-3': '#6 [build 2/4]',
      'step-4': '#7 [build 3/4]',
      end: '#8 [build 4/4]',
      settle: 'Docker Deployed: ✅'
    }
    const held: string[] = []
    emu.setBuild(emu.ids.web, {
      durationMs: 3000,
      doneLagMs: 2000,
      echo: [compiled],
      echoAfterMs: 1000,
      holdBefore: (event) => {
        if (!(event in before)) return undefined
        held.push(event)
        return watch.printed(before[event])
      }
    })
    const run = await runAction(inputs(), { onStdout: watch.onStdout, killAfterMs: 25_000 })
    expect(run.code).toBe(0)
    expect(held).toEqual(['step-1', 'echo', 'step-2', 'step-3', 'step-4', 'end', 'settle'])
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
    // printed as the build wrote them: the first step's line and the last line were on the step's output before
    // the row turned done (the build held at each event until the step had printed the line before it)
    const settled = emu.settledAt(row?.deploymentId as string) as number
    expect(watch.lineAt('#5 [build 1/4] RUN step-1 ... done (0.6s)')).toBeLessThan(settled)
    expect(watch.lineAt('Docker Deployed: ✅')).toBeLessThan(settled)
    // and each line was printed after the build wrote it, never before (the emulator's own record)
    const written = emu.loggedAt(row?.deploymentId as string)
    for (const { line, at } of written.filter(({ line }) => line.startsWith('#'))) expect(watch.lineAt(line)).toBeGreaterThanOrEqual(at)
    // one socket, opened once the step's own row was known, with the key and the row's logPath
    expect(upgrades()).toHaveLength(1)
    expect(upgrades()[0].input).toEqual({ logPath: row?.logPath })
    expect(upgrades()[0].headers['x-api-key']).toBe(emu.apiKey)
    expect(notices(run)).toEqual([])
  })

  concurrent('a secret a build echoes is masked in every streamed line; the service’s secrets are read before the first line', async () => {
    const { emu, inputs, calls } = await start()
    const echoed = [
      `NPM_TOKEN=${marker('webbuildargs')}`,
      `connecting to postgres://app:${marker('webenv')}@db:5432/app`,
      `git credential ${marker('webrefreshtoken')}`
    ]
    emu.setBuild(emu.ids.web, { durationMs: 2500, echo: echoed, echoAfterMs: 1500, holdBefore: endOnceStreamed(emu) })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    const { body } = group(run)
    expect(body).toEqual(expect.arrayContaining(['NPM_TOKEN=***', 'connecting to postgres://app:***@db:5432/app', 'git credential ***']))
    // .one before the upgrade, and only once
    const order = emu.requests.map((r) => (r.api === 'websocket' ? 'socket' : r.procedure))
    expect(order.indexOf('application.one')).toBeLessThan(order.indexOf('socket'))
    expect(calls('application.one')).toHaveLength(1)
  })

  concurrent('server lines cannot start a workflow command, not even after a carriage return', async () => {
    const { emu, inputs } = await start({ hostile: true })
    emu.setBuild(emu.ids.web, {
      durationMs: 2500,
      echo: ['progress 50%\r::set-output name=status::hacked', '\t::add-mask::Docker', '%0A::error::forged'],
      echoAfterMs: 1500,
      holdBefore: endOnceStreamed(emu)
    })
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

  concurrent('a failed build: its tail comes from the stream (no readLogs), and the summary shows it', async () => {
    const { emu, inputs, calls } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 2500, fail: 'npm ERR! build script exited with code 1', holdBefore: endOnceStreamed(emu) })
    const run = await runAction(inputs({ 'log-lines': '3' }))
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(group(run).body.slice(-2)).toEqual(['❌ Error: npm ERR! build script exited with code 1', 'Error occurred ❌, check the logs for details.'])
    expect(calls('deployment.readLogs')).toHaveLength(0)
    expect(run.summary).toContain('Last 3 lines of the build log')
    expect(run.summary).toContain('build script exited with code 1')
  })

  concurrent('a chatty build costs no polls while it writes: the status is read after Dokploy’s last line', async () => {
    const { emu, inputs, upgrades, calls, rowOf } = await start()
    // the row turns done when the step first reads it after the last line (at its first look, a simulated
    // second after that line, about when a real Dokploy marks it): however slowly the machine runs, its
    // status is final by the step's first read after the end, and the step never reads it during the build
    let ended = false
    let release!: () => void
    const settle = new Promise<void>((resolve) => (release = resolve))
    const opened = logSocketOpened(emu)
    emu.setBuild(emu.ids.web, {
      durationMs: 6000,
      doneLagMs: 1000,
      holdBefore: (event) => {
        if (event === 'end') return opened
        if (event === 'settle') return settle
        return undefined
      }
    })
    emu.hook({
      procedure: 'deployment.all',
      when: 'before',
      times: Infinity,
      run: () => {
        ended = ended || emu.deployments.some((row) => emu.loggedAt(row.deploymentId).some(({ line }) => line === 'Docker Deployed: ✅'))
        if (!ended) return undefined
        release()
        return emu.until(() => emu.deployments.every((row) => row.status !== 'running'))
      }
    })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    const socketAt = upgrades()[0].at
    const reads = calls('deployment.all').filter((r) => r.at > socketAt)
    // Dokploy's last line is written before the row turns done: no read before it
    const lastLineAt = emu.loggedAt(rowOf(run)?.deploymentId as string).at(-1)?.at as number
    expect(emu.loggedAt(rowOf(run)?.deploymentId as string).at(-1)?.line).toBe('Docker Deployed: ✅')
    expect(reads.length).toBeGreaterThanOrEqual(1)
    expect(reads.length).toBeLessThanOrEqual(3)
    expect(reads.every((r) => r.at >= lastLineAt)).toBe(true)
  })

  concurrent('compose streams the same way', async () => {
    const { emu, inputs } = await start()
    emu.setBuild(emu.ids.stack, { durationMs: 1500, holdBefore: endOnceStreamed(emu) })
    const run = await runAction(inputs({ resource: 'compose', id: emu.ids.stack }))
    expect(run.code).toBe(0)
    const { title, body } = group(run)
    expect(title).toMatch(/^Build log of .+ · deployment dep-/)
    expect(body[0]).toBe('Initializing deployment')
    expect(body).toContain('Docker Deployed: ✅')
  })

  concurrent('long lines and chatty logs are capped, and the step says what it cut', async () => {
    const { emu, inputs } = await start()
    const many = Array.from({ length: 10_050 }, (_, i) => `npm http fetch GET 200 https://registry.npmjs.org/pkg-${i}`)
    emu.setBuild(emu.ids.web, { durationMs: 2500, echo: ['y'.repeat(4500), ...many], echoAfterMs: 1500, holdBefore: endOnceStreamed(emu) })
    const run = await runAction(inputs({ 'log-lines': '2' }))
    expect(run.code).toBe(0)
    const { body } = group(run)
    expect(body).toContain(`${'y'.repeat(4000)} … [500 more characters cut]`)
    expect(body.filter((line) => line.startsWith('npm http fetch')).length).toBeLessThan(10_000)
    expect(body).toContainEqual(expect.stringMatching(/^\[The live log stops here, after 10000 lines: the build goes on, and Dokploy's dashboard has its whole log\.\]$/))
    expect(body.at(-1)).toMatch(/^\[\d+ more line\(s\) of the build log not shown\.\]$/)
  })

  concurrent('a build that ended before its row was proven is not streamed: its tail comes from readLogs', async () => {
    const { emu, inputs, upgrades, calls } = await start()
    // the row appears only after the step's first look (its job active, no row yet), and is final and
    // overwritten before its first poll: the row waits for that look to be answered, and the poll is held
    // until the job has left the queue
    let looked!: () => void
    const firstLook = new Promise<void>((resolve) => (looked = resolve))
    emu.setBuild(emu.ids.web, {
      durationMs: 20,
      rowLagMs: 500,
      doneLagMs: 50,
      overwriteLagMs: 50,
      fail: 'exit code 2',
      holdBefore: (event) => (event === 'row' ? firstLook : undefined)
    })
    // the snapshot is the first deployment.all; the step's first look the second
    emu.hook({ procedure: 'deployment.all', when: 'after', skip: 1, run: () => looked() })
    emu.hook({ procedure: 'deployment.queueList', when: 'before', skip: 1, run: () => emu.until(() => emu.queueList().length === 0) })
    const run = await runAction(inputs())
    expect(run.outputs.status).toBe('error')
    expect(upgrades()).toHaveLength(0)
    expect(group(run).body).toEqual([])
    expect(calls('deployment.readLogs')).toHaveLength(1)
    expect(run.summary).toContain('exit code 2')
  })

  concurrent('a server that never answers the socket’s close does not hold the step', async () => {
    const { emu, inputs, rowOf } = await start()
    emu.ignoreLogCloses(true)
    emu.setBuild(emu.ids.web, { durationMs: 2500, holdBefore: endOnceStreamed(emu) })
    const run = await runAction(inputs(), { killAfterMs: 20_000 })
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const settled = emu.settledAt(rowOf(run)?.deploymentId as string) as number
    // ended after the 2 s grace for the close, not at the kill
    expect(Date.now() - settled).toBeLessThan(6000)
  })

  concurrent('log: tail follows by polling as before, with no socket; log: none shows no log at all', async () => {
    const { emu, inputs, upgrades, calls } = await start()
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

  concurrent('a bad log input is refused before any request', async () => {
    const { emu, inputs } = await start()
    const run = await runAction(inputs({ log: 'stream' }))
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('Input "log" is "stream": expected one of live, tail, none.')
    expect(emu.requests).toHaveLength(0)
  })

  concurrent('a cancel while the log streams ends the group and the step at once', async () => {
    const { emu, inputs } = await start()
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

heading('falling back to polling, with one notice', () => {
  concurrent.each([
    ['forbidden', 'the WebSocket upgrade was refused'],
    ['redirect', 'the WebSocket upgrade was refused'],
    ['not-found', 'the WebSocket upgrade was refused'],
    ['unauthorized', 'it did not accept the API key there']
  ] as const)('upgrades refused (%s)', async (refusal, why) => {
    const { emu, inputs, upgrades, calls } = await start()
    emu.refuseUpgrades(refusal)
    emu.setBuild(emu.ids.web, { durationMs: 1500, holdBefore: endOnceTried(emu) })
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

  concurrent('a socket that drops mid-build is reopened once; no line is printed twice', async () => {
    const { emu, inputs, upgrades } = await start()
    // the first progress line is written once the socket is open, and the rest of the build once it is open again
    const watch = new StdoutWatch()
    const first = logSocketOpened(emu)
    const again = new Promise<void>((resolve) => emu.hook({ procedure: 'listen-deployment', when: 'after', skip: 1, run: () => resolve() }))
    let dropped = 0
    void watch.printed('#5 [build 1/4]').then(() => (dropped = emu.dropLogSockets()))
    emu.setBuild(emu.ids.web, { durationMs: 2500, holdBefore: (event) => (event === 'step-1' ? first : event === 'step-2' ? again : undefined) })
    const run = await runAction(inputs(), { onStdout: watch.onStdout, killAfterMs: 25_000 })
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

  concurrent('a socket that drops twice: polling from then on, said once', async () => {
    const { emu, inputs, upgrades } = await start()
    // the first progress line is written once the socket is open, the second once it is open again (each is
    // then dropped as soon as the step printed its line), the rest once the step said it polls from then on
    const watch = new StdoutWatch()
    const first = logSocketOpened(emu)
    const again = new Promise<void>((resolve) => emu.hook({ procedure: 'listen-deployment', when: 'after', skip: 1, run: () => resolve() }))
    let drops = 0
    void watch.printed('#5 [build 1/4]').then(() => (drops += emu.dropLogSockets()))
    const polling = watch.printed('Following the deployment by polling instead.')
    emu.setBuild(emu.ids.web, {
      durationMs: 3000,
      holdBefore: (event) => (event === 'step-1' ? first : event === 'step-2' ? again : event === 'step-3' ? polling : undefined)
    })
    void again.then(() => watch.printed('#6 [build 2/4]')).then(() => (drops += emu.dropLogSockets()))
    const run = await runAction(inputs(), { onStdout: watch.onStdout, killAfterMs: 25_000 })
    expect(drops).toBe(2)
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(notices(run)).toEqual(['::notice::No live build log: the log socket dropped a second time (code 1006). Following the deployment by polling instead.'])
    expect(upgrades()).toHaveLength(2)
  })

  concurrent('a Dokploy that restarts mid-build: the socket drops, the reopen is refused, and the step rides out the outage by polling', async () => {
    const { emu, inputs } = await start()
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

  concurrent('an upgrade with no answer: request-timeout bounds it', async () => {
    const { emu, inputs } = await start()
    emu.refuseUpgrades('hang')
    emu.setBuild(emu.ids.web, { durationMs: 1500, holdBefore: endOnceTried(emu) })
    const run = await runAction(inputs({ 'request-timeout': '2' }))
    expect(run.code).toBe(0)
    expect(notices(run)).toEqual(['::notice::No live build log: Dokploy did not answer the WebSocket upgrade within 2 s. Following the deployment by polling instead.'])
  })
})

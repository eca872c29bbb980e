import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import type { EmulatorOptions } from '../emulator/server.js'
import { startFakeGitHub, type FakeGitHub } from './fake-github.js'
import { annotations, emulators, endOnceShown, errorLine, runAction, TIME_SCALE, visibleLog, type ActionRun } from './harness.js'

/**
 * github-deployment: true records each deploy as a GitHub deployment of the commit, through a local fake
 * of GitHub's REST API reached by GITHUB_API_URL (as on GHES): in_progress while it builds, then
 * success, failure or error, each status with the service's URL and the Dokploy link. A GitHub failure
 * is one warning and never the deploy's. Each test has an emulator and a fake GitHub of its own, and runs
 * beside the others.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 5000 })
const fakes = new Set<FakeGitHub>()
afterAll(async () => {
  await closeAll()
  await Promise.all([...fakes].map((github) => github.close()))
})

const TOKEN = 'ghs_fakeToken0123456789abcdefABCDEF'
const SHA = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d'

const start = async (options: EmulatorOptions = {}) => {
  const emu = await startEmulator(options)
  // the step loads GitHub's client just after Dokploy accepts the deploy, which takes a while on a busy
  // machine: every build holds its end until the step has seen it running, so the step still sees its own job
  emu.setBuildDefaults({ holdBefore: endOnceShown(emu) })
  const github = await startFakeGitHub()
  fakes.add(github)
  const inputs = (extra: Record<string, string>): Record<string, string> => ({
    url: emu.url,
    'api-key': emu.apiKey,
    'github-deployment': 'true',
    'github-token': TOKEN,
    ...extra
  })
  return {
    emu,
    github,
    inputs,
    run: (extra: Record<string, string>): Promise<ActionRun> => runAction(inputs(extra), { env: { GITHUB_API_URL: github.url } }),
    states: (index = 0): string[] => github.deployments[index].statuses.map((s) => s.state)
  }
}

/** The token goes to GitHub and nowhere else: not in the log, the outputs or the summary. */
function expectTokenKept(result: ActionRun): void {
  expect(result.stdout.split('\n').filter((line) => line.includes(TOKEN))).toEqual([`::add-mask::${TOKEN}`])
  expect(result.stderr).not.toContain(TOKEN)
  expect(JSON.stringify(result.outputs)).not.toContain(TOKEN)
  expect(result.summary).not.toContain(TOKEN)
}

heading('a deploy recorded as a GitHub deployment', () => {
  concurrent('by name: one deployment of the commit in the Dokploy environment, in_progress then success, each with the URL and the Dokploy link', async () => {
    const { github, run, states } = await start()
    const result = await run({ project: 'shop', environment: 'production', name: 'web' })

    expect(result.code).toBe(0)
    expect(github.deployments).toHaveLength(1)
    const [deployment] = github.deployments
    expect(deployment).toMatchObject({ ref: SHA, environment: 'production', task: 'deploy', auto_merge: false, required_contexts: [] })
    expect(deployment.description).toBe('web: 1a2b3c4 · Deploy #42')
    expect(deployment.payload).toEqual({ 'dokploy-action': { service: 'web', resource: 'application' } })
    expect(states()).toEqual(['in_progress', 'success'])
    for (const status of deployment.statuses) {
      expect(status.environment_url).toBe('https://shop.example.com')
      expect(status.log_url).toBe(result.outputs['log-url'])
    }
    expect(result.outputs['log-url']).toMatch(/\/services\/application\/app-web\?tab=deployments$/)
    expect(deployment.statuses.map((s) => s.auto_inactive)).toEqual([false, true])
    // the token is sent as GitHub expects, on every request, and shown nowhere
    expect(github.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true)
    expectTokenKept(result)
  })

  concurrent('a failed build: failure', async () => {
    const { emu, github, run, states } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 5000, fail: 'npm ERR! boom' })
    const result = await run({ id: emu.ids.web })

    expect(result.code).toBe(1)
    expect(states()).toEqual(['in_progress', 'failure'])
    expect(github.deployments[0].statuses[1].description).toBe('Dokploy deploy ended error')
  })

  concurrent('a build still running at wait-timeout: error, said as such', async () => {
    const { emu, github, run, states } = await start()
    emu.setBuild(emu.ids.web, { hang: true })
    const result = await run({ id: emu.ids.web, 'wait-timeout': '3' })

    expect(result.code).toBe(1)
    expect(result.outputs.status).toBe('timeout')
    expect(states()).toEqual(['in_progress', 'error'])
    expect(github.deployments[0].statuses[1].description).toBe('Still running when the step stopped waiting')
  })

  concurrent('the job cancelled while the build runs: error, posted before the step exits', async () => {
    // at real speed (emulator and action alike): once cancelled, the step gives GitHub at most 2 s, which
    // the test time scale would shrink to a few hundred ms, too short a bound for a busy machine
    const { emu, github, inputs, states } = await start({ timeScale: 1 })
    emu.setBuild(emu.ids.web, { durationMs: 20_000 })
    let cancelled = false
    const result = await runAction(inputs({ id: emu.ids.web }), {
      env: { GITHUB_API_URL: github.url, DOKPLOY_ACTION_TIME_SCALE: '1' },
      onStdout: (chunk, child) => {
        if (!cancelled && /Deployment \S+: matched|Build started: deployment/.test(chunk)) {
          cancelled = true
          // the in_progress status first, as a runner's cancellation would come later
          void emu.until(() => github.deployments[0]?.statuses.some((status) => status.state === 'in_progress') ?? false, 20_000).then(() => child.kill('SIGINT'))
        }
      }
    })

    expect(cancelled).toBe(true)
    expect(result.outputs.status).toBe('cancelled-by-runner')
    expect(states()).toEqual(['in_progress', 'error'])
    expect(github.deployments[0].statuses[1].description).toBe('Dokploy deploy ended cancelled-by-runner')
    expect(result.ms).toBeLessThan(15_000)
  }, 30_000)

  concurrent('a deploy Dokploy refused creates no GitHub deployment', async () => {
    const { github, run } = await start()
    const result = await run({ id: 'app-nope' })

    expect(result.code).toBe(1)
    expect(github.deployments).toEqual([])
  })

  concurrent('by id, a database: the environment comes from the service\'s own .one (never project.all), the status link is the service page', async () => {
    const { emu, github, run, states } = await start()
    const result = await run({ resource: 'postgres', id: emu.ids.postgresStaging })

    expect(result.code).toBe(0)
    expect(github.deployments.map((d) => d.environment)).toEqual(['staging'])
    expect(states()).toEqual(['in_progress', 'success'])
    const final = github.deployments[0].statuses[1]
    expect(final.environment_url).toBe('')
    expect(final.log_url).toBe(`${emu.url}/dashboard/project/${emu.ids.shop}/environment/${emu.ids.staging}/services/postgres/${emu.ids.postgresStaging}`)
    expect(emu.requests.filter((r) => r.procedure === 'project.all')).toHaveLength(0)
    expect(emu.requests.filter((r) => r.procedure === 'postgres.one')).toHaveLength(1)
  })

  concurrent('a Dokploy without environments (v0.24): the GitHub environment is production', async () => {
    const { emu, github, run } = await start()
    emu.setVersion('v0.24.0')
    const result = await run({ resource: 'postgres', id: emu.ids.postgres })
    expect(result.code).toBe(0)
    expect(github.deployments.map((d) => d.environment)).toEqual(['production'])
  })

  concurrent('github-environment names the GitHub environment', async () => {
    const { emu, github, run } = await start()
    const result = await run({ id: emu.ids.web, 'github-environment': 'shop-prod' })
    expect(result.code).toBe(0)
    expect(github.deployments.map((d) => d.environment)).toEqual(['shop-prod'])
  })

  concurrent('several targets: one deployment each; the first success makes earlier deployments inactive, its siblings stay active', async () => {
    const { github, run } = await start()
    const result = await run({ project: 'shop', environment: 'production', name: 'api, web' })

    expect(result.code).toBe(0)
    // both deploys are sent at once: their GitHub deployments are created in the order Dokploy answers them
    const service = (d: (typeof github.deployments)[number]): string => (d.payload as { 'dokploy-action': { service: string } })['dokploy-action'].service
    const deployments = [...github.deployments].sort((a, b) => service(a).localeCompare(service(b)))
    expect(deployments.map(service)).toEqual(['api', 'web'])
    expect(deployments.map((d) => d.statuses.map((s) => s.state))).toEqual([
      ['in_progress', 'success'],
      ['in_progress', 'success']
    ])
    const finals = deployments.map((d) => d.statuses[1])
    expect(finals.filter((s) => s.auto_inactive)).toHaveLength(1)
    expect(finals.map((s) => s.environment_url)).toEqual(['', 'https://shop.example.com'])
  })
})

heading('never at the deploy\'s expense', () => {
  concurrent('GitHub answers 403: one warning, the deploy passes', async () => {
    const { emu, github, run } = await start()
    github.setMode('forbidden')
    const result = await run({ id: emu.ids.web })

    expect(result.code).toBe(0)
    expect(result.outputs.status).toBe('done')
    const warnings = annotations(result, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0].title).toBe('GitHub deployment')
    expect(warnings[0].message).toMatch(/^The GitHub deployment could not be recorded: GitHub refused it \(403: .*Resource not accessible by integration.*\): give the token deployments: write/)
    expect(warnings[0].message).toContain('The Dokploy deploy is not affected.')
    // after the first refusal nothing more is asked of GitHub
    expect(github.requests).toHaveLength(1)
    expectTokenKept(result)
  })

  concurrent('GitHub never answers: the deploy is sent and followed as usual, the step ends within the bound', async () => {
    const { emu, github, run } = await start()
    github.setMode('hang')
    const result = await run({ id: emu.ids.web })
    const ended = Date.now()

    expect(result.code).toBe(0)
    expect(result.outputs.status).toBe('done')
    expect(emu.stats().deployCalls[emu.ids.web]).toBe(1)
    expect(annotations(result, 'warning').map((w) => w.title)).toEqual(['GitHub deployment'])
    // the bound (15 s, under the test time scale) after the deploy ended, and some slack (counted from the
    // row's end by the emulator's clock: Node's start-up, slow on a busy machine, is left out)
    expect(ended - (emu.settledAt(result.outputs['deployment-id']) as number)).toBeLessThan(15_000 * TIME_SCALE + 5_000)
  }, 30_000)

  concurrent('GitHub answers, but slowly: the step waits for it at most 15 s after the deploy ended, then says so', async () => {
    // Two margins decide this test: each of GitHub's answers must come within the action's 10 s request
    // timeout, and the four of them (look for the job's deployment, create, in_progress, success: 22 s) must
    // outlast a 1 s build and the 15 s bound after it. Answers of 5.5 s leave 4.5 s and 6 s; at this test's
    // own time scale that is 1.8 s and 2.4 s of real time, which a busy machine does not eat (at the suite's
    // 0.2, with a 5 s build and 7 s answers, the first was 0.6 s, and a busy machine did)
    const scale = 0.4
    const { emu, github, inputs } = await start({ timeScale: scale, buildMs: 1000 })
    github.setMode('slow', 5_500 * scale)
    const result = await runAction(inputs({ id: emu.ids.web }), { env: { GITHUB_API_URL: github.url, DOKPLOY_ACTION_TIME_SCALE: String(scale) } })
    const ended = Date.now()

    expect(result.code).toBe(0)
    expect(result.outputs.status).toBe('done')
    const warnings = annotations(result, 'warning')
    const bound = Math.round(15 * scale)
    expect(warnings).toEqual([{ title: 'GitHub deployment', message: expect.stringMatching(new RegExp(`^GitHub did not answer within ${bound} s at the end of the step`)) }])
    // after the deploy ended (by the emulator's clock, Node's start-up left out)
    expect(ended - (emu.settledAt(result.outputs['deployment-id']) as number)).toBeLessThan(15_000 * scale + 10_000)
    expect(github.deployments).toHaveLength(1)
  }, 40_000)
})

heading('no duplicate of a job-level environment', () => {
  /** A deployment of this commit in production, as Actions records a job's `environment:`, linking a run. */
  const seedJobDeployment = (github: FakeGitHub, state: string, logUrl: string): void => {
    github.seed({
      sha: SHA,
      ref: 'main',
      environment: 'production',
      description: null,
      task: 'deploy',
      payload: {},
      statuses: [{ state, log_url: logUrl, at: Date.now() }]
    })
  }

  concurrent('the job\'s own deployment of this run is found: none is created beside it', async () => {
    const { emu, github, run } = await start()
    seedJobDeployment(github, 'in_progress', 'https://github.com/acme/shop/actions/runs/9000001/job/77')
    const result = await run({ id: emu.ids.web })

    expect(result.code).toBe(0)
    expect(github.deployments).toHaveLength(1)
    expect(github.requests.filter((r) => r.method === 'POST')).toEqual([])
    expect(visibleLog(result)).toContain('The job\'s environment "production" already records this run as a GitHub deployment: not creating another (github-deployment).')
  })

  concurrent('a deployment of another run, or of this action, is no reason to skip', async () => {
    const { emu, github, run, states } = await start()
    seedJobDeployment(github, 'success', 'https://github.com/acme/shop/actions/runs/8000000/job/5')
    const result = await run({ id: emu.ids.web })

    expect(result.code).toBe(0)
    expect(github.deployments).toHaveLength(2)
    expect(states(1)).toEqual(['in_progress', 'success'])
  })
})

heading('inputs', () => {
  concurrent.each([
    [{ operation: 'stop' }, 'needs operation deploy, redeploy or follow, not stop'],
    [{ wait: 'false' }, 'needs wait: true'],
    [{ 'github-token': '' }, 'Input "github-token" is empty'],
    [{ 'github-deployment': 'false', 'github-environment': 'prod' }, '"github-environment" is "prod": only used with github-deployment: true']
  ])('%j is refused before any request', async (extra, message) => {
    const { emu, github, run } = await start()
    const result = await run({ id: emu.ids.web, ...extra })

    expect(result.code).toBe(1)
    expect(errorLine(result)).toContain(message)
    expect(emu.requests).toEqual([])
    expect(github.requests).toEqual([])
  })

  concurrent('without github-deployment, GitHub is never called (and @actions/github never loaded)', async () => {
    const { emu, github } = await start()
    const result = await runAction({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, 'github-token': TOKEN }, { env: { GITHUB_API_URL: github.url } })
    expect(result.code).toBe(0)
    expect(github.requests).toEqual([])
  })
})

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import type { EmulatorOptions } from '../emulator/server.js'
import { startFakeGitHub, type FakeGitHub } from './fake-github.js'
import { annotations, emulators, errorLine, runAction, visibleLog, type ActionRun } from './harness.js'

/**
 * Issue 20: operation follow sends nothing. Dokploy deploys on a push by itself (the emulator's
 * webhookDeploy: a job titled with the commit message and described `Hash: <sha>`, whose git build ends by
 * writing `Commit: <sha of the branch head>`); the step finds the deployment of its commit by whole SHAs and
 * follows it like its own. commit-status posts the outcome as a commit status (a local fake of GitHub's API).
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 3000 })
const fakes: FakeGitHub[] = []
afterAll(async () => {
  await closeAll()
  await Promise.all(fakes.map((fake) => fake.close()))
})

/** The run's commit in the harness (GITHUB_SHA). */
const SHA = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d'
const OTHER = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432'
const TOKEN = 'ghs_fakeToken0123456789abcdefABCDEF'

/** An emulator and a fake GitHub of the test's own, so that the tests run at once. */
async function start(options: EmulatorOptions = {}) {
  const emu = await startEmulator(options)
  const github = await startFakeGitHub()
  fakes.push(github)
  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, operation: 'follow', ...extra })
  return {
    emu,
    github,
    inputs,
    follow: (extra: Record<string, string> = {}): Promise<ActionRun> => runAction(inputs(extra), { env: { GITHUB_API_URL: github.url } }),
    rowOf: (run: ActionRun) => emu.deployments.find((d) => d.deploymentId === run.outputs['deployment-id']),
    /** A push of `sha` lands once the step has looked for its deployment twice: it appears while the step waits. */
    pushWhileWaiting: (sha: string, serviceId = emu.ids.web): void =>
      void emu.hook({ procedure: 'deployment.all', when: 'after', skip: 1, run: () => void emu.webhookDeploy(serviceId, { sha }) })
  }
}

heading('operation follow', () => {
  concurrent('a push deploy followed to done, with the live log; nothing is sent to Dokploy', async () => {
    const { emu, follow, rowOf, pushWhileWaiting } = await start()
    pushWhileWaiting(SHA)
    const run = await follow()

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const row = rowOf(run)
    expect(row?.status).toBe('done')
    expect(row?.description).toBe(`Commit: ${SHA}`)
    expect(emu.stats().deployCalls[emu.ids.web]).toBeUndefined()
    expect(emu.requests.filter((r) => r.method === 'POST')).toEqual([])
    expect(visibleLog(run)).toContain(`No deployment of commit ${SHA.slice(0, 7)} in Dokploy yet: waiting for it to appear.`)
    expect(run.stdout).toMatch(/^::group::Build log of web · deployment /m)
    expect(run.stdout).toContain('Docker Deployed: ✅')
  })

  concurrent('a push deploy followed to error: the step fails, with the log', async () => {
    const { emu, follow, rowOf, pushWhileWaiting } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 3000, fail: 'npm ERR! the tests failed' })
    pushWhileWaiting(SHA)
    const run = await follow()

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(rowOf(run)?.status).toBe('error')
    expect(run.stdout).toContain('npm ERR! the tests failed')
  })

  concurrent('a deploy that never appears: not-found, saying the service deploys on a push', async () => {
    const { follow } = await start()
    const run = await follow({ 'wait-timeout': '3' })
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('not-found')
    expect(errorLine(run)).toMatch(new RegExp(`^No deployment of commit ${SHA} appeared in Dokploy within \\d+s \\(wait-timeout\\)\\. The service has auto-deploy on:`))
  })

  concurrent('a service with auto-deploy off: not-found says so', async () => {
    const { emu, follow } = await start()
    const run = await follow({ id: emu.ids.api, 'wait-timeout': '2' })
    expect(run.outputs.status).toBe('not-found')
    expect(errorLine(run)).toContain('The service has auto-deploy off, so Dokploy deploys it only when asked')
  })

  concurrent('two pushes in a row, followed by two steps: each gets its own commit’s deployment, never its neighbour’s', async () => {
    const { emu, follow, rowOf } = await start()
    emu.webhookDeploy(emu.ids.web, { sha: OTHER })
    emu.webhookDeploy(emu.ids.web, { sha: SHA })
    const [first, second] = await Promise.all([follow({ commit: OTHER }), follow()])

    expect(first.outputs.status).toBe('done')
    expect(second.outputs.status).toBe('done')
    expect(first.outputs['deployment-id']).not.toBe(second.outputs['deployment-id'])
    const jobsRows = emu.deployments.filter((d) => d.applicationId === emu.ids.web)
    expect(jobsRows).toHaveLength(2)
    // the older push's job built the branch head, the newer commit: the step says so
    expect(visibleLog(first)).toContain(`The deploy queued for commit ${OTHER.slice(0, 7)} built commit ${SHA.slice(0, 7)}`)
    expect(rowOf(second)?.description).toBe(`Commit: ${SHA}`)
  })

  concurrent('a push already finished and overwritten when the step started: its row is found by the commit', async () => {
    const { emu, follow, rowOf } = await start({ seenBuilds: false })
    // this build must end before anyone looks at it
    emu.setBuild(emu.ids.web, { durationMs: 200 })
    emu.webhookDeploy(emu.ids.web, { sha: SHA })
    await waitUntil(() => emu.queueList().length === 0 && emu.deployments.some((d) => d.description === `Commit: ${SHA}`))
    const run = await follow()

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(rowOf(run)?.description).toBe(`Commit: ${SHA}`)
  })

  concurrent('a prefix is refused before any request', async () => {
    const { emu, follow } = await start()
    const run = await follow({ commit: SHA.slice(0, 12) })
    expect(run.code).toBe(1)
    expect(emu.requests).toHaveLength(0)
    expect(errorLine(run)).toBe(`Input "commit" is "${SHA.slice(0, 12)}": expected a whole commit SHA (40 hex digits), never a prefix.`)
  })
})

heading('commit-status', () => {
  const withStatus = (follow: (extra: Record<string, string>) => Promise<ActionRun>, extra: Record<string, string> = {}) =>
    follow({ 'commit-status': 'true', 'github-token': TOKEN, ...extra })

  concurrent('pending while following, then success, linking the Dokploy deployment', async () => {
    const { github, pushWhileWaiting, follow } = await start()
    pushWhileWaiting(SHA)
    const run = await withStatus(follow)

    expect(run.outputs.status).toBe('done')
    expect(github.commitStatuses.map((s) => [s.sha, s.context, s.state])).toEqual([
      [SHA, 'dokploy/app-web', 'pending'],
      [SHA, 'dokploy/app-web', 'success']
    ])
    expect(github.commitStatuses[1].target_url).toBe(run.outputs['log-url'])
    expect(JSON.stringify(github.commitStatuses)).not.toContain(TOKEN)
  })

  concurrent('pending, then failure for a build that failed', async () => {
    const { emu, github, pushWhileWaiting, follow } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 3000, fail: 'npm ERR! the tests failed' })
    pushWhileWaiting(SHA)
    const run = await withStatus(follow)
    expect(run.outputs.status).toBe('error')
    expect(github.commitStatuses.map((s) => s.state)).toEqual(['pending', 'failure'])
  })

  concurrent('GitHub answering 403: one warning, and the Dokploy outcome stands', async () => {
    const { github, pushWhileWaiting, follow } = await start()
    github.setMode('forbidden')
    pushWhileWaiting(SHA)
    const run = await withStatus(follow)
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const warnings = annotations(run, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0].message).toContain('statuses: write')
  })

  concurrent('several targets: one status per service, each with its own context', async () => {
    const { emu, github, pushWhileWaiting } = await start()
    pushWhileWaiting(SHA)
    pushWhileWaiting(SHA, emu.ids.api)
    const run = await runAction(
      { url: emu.url, 'api-key': emu.apiKey, project: 'shop', environment: 'production', name: 'web, api', operation: 'follow', 'commit-status': 'true', 'github-token': TOKEN },
      { env: { GITHUB_API_URL: github.url } }
    )
    expect(run.outputs.status).toBe('done')
    const byContext = (context: string) => github.commitStatuses.filter((s) => s.context === context).map((s) => s.state)
    expect(byContext('dokploy/web')).toEqual(['pending', 'success'])
    expect(byContext('dokploy/api')).toEqual(['pending', 'success'])
    expect(github.commitStatuses).toHaveLength(4)
  })
})

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25))
  expect(condition()).toBe(true)
}

heading('previews of pull requests', () => {
  const HEAD = 'c0ffee0123456789abcdef0123456789abcdef01'

  concurrent('followed by pull-request number: the preview’s own row, and its URL', async () => {
    const { emu, follow, rowOf } = await start()
    emu.hook({ procedure: 'previewDeployment.all', when: 'after', skip: 1, run: () => void emu.previewDeploy(emu.ids.web, { pr: 7, sha: HEAD }) })
    const run = await follow({ 'pull-request': '7', commit: HEAD })

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.outputs.url).toBe('https://preview-7.shop.example.com')
    const row = rowOf(run)
    expect(row?.previewDeploymentId).toMatch(/^prev-/)
    expect(row?.description).toBe(`Hash: ${HEAD}`)
    expect(visibleLog(run)).toContain('No preview deployment of pull request #7 in Dokploy yet: waiting for it to appear.')
    expect(emu.requests.filter((r) => r.method === 'POST')).toEqual([])
  })

  concurrent('in a pull_request run: the run’s pull request at its head commit, not the merge commit', async () => {
    const { emu, inputs, rowOf } = await start()
    const dir = mkdtempSync(join(tmpdir(), 'event-'))
    const eventPath = join(dir, 'event.json')
    writeFileSync(eventPath, JSON.stringify({ pull_request: { number: 12, head: { sha: HEAD } } }))
    emu.previewDeploy(emu.ids.web, { pr: 12, sha: HEAD })
    const run = await runAction(inputs(), { env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventPath } })

    expect(run.outputs.status).toBe('done')
    expect(run.outputs.url).toBe('https://preview-12.shop.example.com')
    expect(rowOf(run)?.description).toBe(`Hash: ${HEAD}`)
  })

  concurrent('a pull request without a preview: not-found, saying what creates one', async () => {
    const { follow } = await start()
    const run = await follow({ 'pull-request': '99', commit: HEAD, 'wait-timeout': '2' })
    expect(run.outputs.status).toBe('not-found')
    expect(errorLine(run)).toContain('No preview deployment of pull request #99 appeared in Dokploy')
  })
})

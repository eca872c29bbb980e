import { describe, expect, it, jest } from '@jest/globals'
import type { Outcome } from '../../src/outcome.js'

const setSecret = jest.fn<(secret: string) => void>()
const setOutput = jest.fn<(name: string, value: unknown) => void>()
jest.unstable_mockModule('@actions/core', () => ({
  setSecret,
  setOutput,
  info: jest.fn(),
  warning: jest.fn(),
  debug: jest.fn(),
  startGroup: jest.fn(),
  endGroup: jest.fn(),
  summary: { addRaw: jest.fn(), write: jest.fn() }
}))

const { dashboardUrl, escape, printFailureDetails, summaryHtml, writeOutputs } = await import('../../src/report.js')
const { registerSecret } = await import('../../src/secrets.js')

const BASE = 'https://dokploy.example.com'

const outcome = (over: Partial<Outcome> = {}): Outcome => ({
  resource: 'application',
  operation: 'deploy',
  status: 'done',
  ok: true,
  startedAt: 1_000_000,
  endedAt: 1_095_000,
  ...over
})

/** Everything a hostile server could put in its strings. */
const HOSTILE = '<script>alert(1)</script> [x](http://evil) | a | b | ![img](http://evil/i.png) **bold** `code` <img src=x onerror=alert(1)>'

describe('escape', () => {
  it('neutralises HTML tags', () => {
    const out = escape('<script>alert("x")</script>')
    expect(out).not.toMatch(/[<>"]/)
    expect(out).toBe('&#60;script&#62;alert&#40;&#34;x&#34;&#41;&#60;/script&#62;')
  })

  it('neutralises a Markdown link and image', () => {
    const out = escape('[x](http://evil) ![i](http://evil/i.png)')
    expect(out).not.toMatch(/[[\]()!]/)
    expect(out).toContain('&#91;x&#93;&#40;http://evil&#41;')
  })

  it('neutralises table pipes, emphasis, code and escapes', () => {
    const out = escape('a | b *c* _d_ `e` \\f #g ~h~ &amp;')
    expect(out.replace(/&#\d+;/g, '')).not.toMatch(/[|*_`\\#~]/)
    expect(out).toContain('&#124;')
    expect(out).toContain('&#38;amp;')
  })

  it('leaves ordinary text readable', () => {
    expect(escape('Build failed: exit code 1.')).toBe('Build failed: exit code 1.')
  })

  it('leaves identifiers alone: a masked env value must not blank an environment name', () => {
    registerSecret('production')
    expect(escape('production')).toBe('production')
  })
})

describe('summaryHtml redaction', () => {
  it('redacts registered secrets in the server\'s free text (message, errorMessage, log tail) before escaping', () => {
    registerSecret('hunter2-registry-token')
    const html = summaryHtml(
      outcome({
        ok: false,
        status: 'error',
        message: 'login with hunter2-registry-token failed',
        errorMessage: 'pull hunter2-registry-token denied',
        logTail: 'step 1\ntoken=hunter2-registry-token'
      })
    )
    expect(html).not.toContain('hunter2-registry-token')
    expect(html).toContain('login with &#42;&#42;&#42; failed')
    expect(html).toContain('token=&#42;&#42;&#42;')
  })
})

describe('summaryHtml', () => {
  it('contains server strings only in escaped form', () => {
    const html = summaryHtml(
      outcome({
        ok: false,
        status: 'error',
        name: HOSTILE,
        resourceId: '<b>id</b>',
        environmentName: '[prod](http://evil)',
        deploymentId: 'D|1',
        matchedBy: 'title',
        message: `Build failed ${HOSTILE}`,
        errorMessage: HOSTILE,
        logTail: `step 1\n${HOSTILE}\n::set-output name=x::y`
      })
    )
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('<b>id</b>')
    expect(html).not.toContain('](http://evil')
    expect(html).not.toContain('[x]')
    expect(html).not.toContain('| a |')
    expect(html).toContain('&#60;script&#62;')
    expect(html).toContain('D&#124;1')
  })

  it('shows the facts of a successful deploy in a table', () => {
    const html = summaryHtml(
      outcome({
        name: 'web',
        resourceId: 'A1',
        environmentName: 'production',
        deploymentId: 'D1',
        matchedBy: 'title',
        buildMs: 60_000,
        dashboardUrl: `${BASE}/dashboard/project/P1/environment/E1/services/application/A1?tab=deployments`
      })
    )
    expect(html).toContain('<h2>✅ Dokploy deploy: done</h2>')
    expect(html).toContain('<code>web</code>')
    expect(html).toContain('<code>A1</code>')
    expect(html).toContain('<td>production</td>')
    expect(html).toContain('<code>D1</code> (matched by title)')
    expect(html).toContain('<th align="left">Queued</th><td>35s</td>')
    expect(html).toContain('<th align="left">Build</th><td>1m 00s</td>')
    expect(html).toContain('<th align="left">Duration</th><td>1m 35s</td>')
    expect(html).toContain(`<a href="${BASE}/dashboard/project/P1/environment/E1/services/application/A1?tab=deployments">open in Dokploy</a>`)
    expect(html).not.toContain('<details>')
  })

  it('shows the reason and the log tail of a failure, the log inside <details>', () => {
    const html = summaryHtml(outcome({ ok: false, status: 'error', message: 'The build failed.', errorMessage: 'exit 1', logTail: 'a\nb\nc' }))
    expect(html).toContain('<h2>❌ Dokploy deploy: error</h2>')
    expect(html).toContain('<p>The build failed.</p>')
    expect(html).toContain('<p><b>Dokploy says:</b> exit 1</p>')
    expect(html).toMatch(/<details><summary>Last 3 lines of the build log<\/summary><pre>a\nb\nc<\/pre><\/details>/)
  })

  it('counts the lines of a log tail that ends with a newline correctly', () => {
    const html = summaryHtml(outcome({ ok: false, status: 'error', logTail: 'step 1\nstep 2\n' }))
    expect(html).toContain('Last 2 lines of the build log')
  })

  it('omits our message for a success, and the rows it has no data for', () => {
    const html = summaryHtml(outcome({ message: 'should not show' }))
    expect(html).not.toContain('should not show')
    expect(html).not.toContain('Environment')
    expect(html).not.toContain('Deployment')
    expect(html).not.toContain('Dashboard')
    expect(html).toContain('<th align="left">Resource ID</th><td>—</td>')
  })

  it('never shows a registered secret', () => {
    registerSecret('pg-password-998877')
    const html = summaryHtml(outcome({ ok: false, status: 'error', errorMessage: 'auth failed for pg-password-998877', logTail: 'DB_PASS=pg-password-998877' }))
    expect(html).not.toContain('pg-password-998877')
    expect(html).toContain('auth failed for &#42;&#42;&#42;')
    expect(html).toContain('DB&#95;PASS=&#42;&#42;&#42;')
  })
})

describe('dashboardUrl', () => {
  it('links the service page inside its environment, on the deployments tab', () => {
    expect(dashboardUrl(BASE, outcome({ projectId: 'P1', environmentId: 'E1', resourceId: 'A1', deploymentId: 'D1' }))).toBe(
      `${BASE}/dashboard/project/P1/environment/E1/services/application/A1?tab=deployments`
    )
  })

  it('links without the tab when there is no deployment', () => {
    expect(dashboardUrl(BASE, outcome({ resource: 'compose', operation: 'stop', projectId: 'P1', environmentId: 'E1', resourceId: 'C1' }))).toBe(
      `${BASE}/dashboard/project/P1/environment/E1/services/compose/C1`
    )
  })

  it('uses the router name for databases', () => {
    expect(dashboardUrl(BASE, outcome({ resource: 'postgres', projectId: 'P1', environmentId: 'E1', resourceId: 'D1' }))).toBe(
      `${BASE}/dashboard/project/P1/environment/E1/services/postgres/D1`
    )
  })

  it('leaves the environment out on servers without environments', () => {
    expect(dashboardUrl(BASE, outcome({ projectId: 'P1', resourceId: 'A1' }))).toBe(`${BASE}/dashboard/project/P1/services/application/A1`)
  })

  it('falls back to the project list without a project or resource id', () => {
    expect(dashboardUrl(BASE, outcome({ resourceId: 'A1' }))).toBe(`${BASE}/dashboard/projects`)
    expect(dashboardUrl(BASE, outcome({ projectId: 'P1' }))).toBe(`${BASE}/dashboard/projects`)
  })

  it('encodes the ids', () => {
    expect(dashboardUrl(BASE, outcome({ projectId: 'P/1', environmentId: 'E?1', resourceId: 'A#1' }))).toBe(
      `${BASE}/dashboard/project/P%2F1/environment/E%3F1/services/application/A%231`
    )
  })
})

describe('writeOutputs', () => {
  it('sets every output, empty when unknown, with the duration in seconds', () => {
    setOutput.mockClear()
    writeOutputs(outcome({ deploymentId: 'D1', resourceId: 'A1', dashboardUrl: `${BASE}/x` }))
    expect(Object.fromEntries(setOutput.mock.calls)).toEqual({
      status: 'done',
      'deployment-id': 'D1',
      'resource-id': 'A1',
      duration: '95',
      'log-url': `${BASE}/x`
    })
    setOutput.mockClear()
    writeOutputs(outcome({ status: 'failed' }))
    expect(Object.fromEntries(setOutput.mock.calls)).toMatchObject({ status: 'failed', 'deployment-id': '', 'resource-id': '', 'log-url': '' })
  })
})

describe('printFailureDetails', () => {
  it('prints the error message and the log tail behind a gutter, in a group', () => {
    const groups: [string, string][] = []
    const log = { info: jest.fn(), warning: jest.fn(), debug: jest.fn(), group: (title: string, body: string) => groups.push([title, body]) }
    printFailureDetails(outcome({ ok: false, status: 'error', deploymentId: 'D1', errorMessage: 'exit 1', logTail: 'ok\n::set-output name=status::done' }), log)
    expect(groups).toHaveLength(1)
    const [title, body] = groups[0]
    expect(title).toBe('Why deployment D1 failed')
    expect(body).toContain('│ exit 1')
    expect(body).toContain('│ ::set-output name=status::done')
    expect(body.split('\n').some((line) => line.startsWith('::'))).toBe(false)
  })

  it('prints nothing when there is nothing to show', () => {
    const group = jest.fn()
    printFailureDetails(outcome({ ok: false, status: 'lost' }), { info: jest.fn(), warning: jest.fn(), debug: jest.fn(), group })
    expect(group).not.toHaveBeenCalled()
  })
})

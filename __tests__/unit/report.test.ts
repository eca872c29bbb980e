import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Outcome } from '../../src/outcome.js'
import type { StepReport } from '../../src/report.js'

const setSecret = jest.fn<(secret: string) => void>()
const setOutput = jest.fn<(name: string, value: unknown) => void>()
jest.unstable_mockModule('@actions/core', () => ({
  setSecret,
  setOutput,
  info: jest.fn(),
  warning: jest.fn(),
  debug: jest.fn(),
  startGroup: jest.fn(),
  endGroup: jest.fn()
}))

const {
  dashboardUrl,
  escape,
  failureAnnotations,
  plainText,
  printFailureDetails,
  stepStatus,
  summaryHtml,
  writeOutputs,
  writeRunnerFiles,
  writeSummary,
  RunnerFileError
} = await import('../../src/report.js')
const { registerSecret } = await import('../../src/secrets.js')
const { commonMarkBlocks, decode, HOSTILE_SHOWN, HOSTILE_TAIL } = await import('../commonmark.js')

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

/** A step of one target. */
const one = (o: Outcome): StepReport => ({ outcomes: [o], resource: o.resource, operation: o.operation, startedAt: o.startedAt, endedAt: o.endedAt })

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

  it('leaves identifiers alone: escaping redacts nothing', () => {
    registerSecret('identifier-like-9f2c')
    expect(escape('identifier-like-9f2c')).toBe('identifier-like-9f2c')
  })
})

describe('summaryHtml redaction', () => {
  it('redacts registered secrets in the server\'s free text (message, errorMessage, log tail) before escaping', () => {
    registerSecret('hunter2-registry-token')
    const html = summaryHtml(
      one(outcome({
        ok: false,
        status: 'error',
        message: 'login with hunter2-registry-token failed',
        errorMessage: 'pull hunter2-registry-token denied',
        logTail: 'step 1\ntoken=hunter2-registry-token'
      }))
    )
    expect(html).not.toContain('hunter2-registry-token')
    expect(html).toContain('login with &#42;&#42;&#42; failed')
    expect(html).toContain('token=&#42;&#42;&#42;')
  })
})

describe('summaryHtml', () => {
  it('contains server strings only in escaped form', () => {
    const html = summaryHtml(
      one(outcome({
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
      }))
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
      one(outcome({
        name: 'web',
        resourceId: 'A1',
        environmentName: 'production',
        deploymentId: 'D1',
        matchedBy: 'title',
        queuedMs: 35_000,
        buildMs: 60_000,
        dashboardUrl: `${BASE}/dashboard/project/P1/environment/E1/services/application/A1?tab=deployments`
      }))
    )
    // the heading names the service
    expect(html).toContain('<h2>✅ Dokploy deploy of web: done</h2>')
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
    const html = summaryHtml(one(outcome({ ok: false, status: 'error', message: 'The build failed.', errorMessage: 'exit 1', logTail: 'a\nb\nc' })))
    expect(html).toContain('<h2>❌ Dokploy deploy: error</h2>')
    expect(html).toContain('<p>The build failed.</p>')
    expect(html).toContain('<p><b>Dokploy says:</b> exit 1</p>')
    expect(html).toContain('<details><summary>Last 3 lines of the build log</summary>\n\n<pre>\na\nb\nc\n</pre>\n\n</details>')
  })

  it('counts the lines of a log tail that ends with a newline correctly', () => {
    const html = summaryHtml(one(outcome({ ok: false, status: 'error', logTail: 'step 1\nstep 2\n' })))
    expect(html).toContain('Last 2 lines of the build log')
  })

  it('omits our message for a success, and the rows it has no data for', () => {
    const html = summaryHtml(one(outcome({ message: 'should not show' })))
    expect(html).not.toContain('should not show')
    expect(html).not.toContain('Environment')
    expect(html).not.toContain('Deployment')
    expect(html).not.toContain('Dashboard')
    expect(html).toContain('<th align="left">Resource ID</th><td>—</td>')
  })

  it('never shows a registered secret', () => {
    registerSecret('pg-password-998877')
    const html = summaryHtml(one(outcome({ ok: false, status: 'error', errorMessage: 'auth failed for pg-password-998877', logTail: 'DB_PASS=pg-password-998877' })))
    expect(html).not.toContain('pg-password-998877')
    expect(html).toContain('auth failed for &#42;&#42;&#42;')
    expect(html).toContain('DB&#95;PASS=&#42;&#42;&#42;')
  })
})

describe('summaryHtml: the log tail survives any content', () => {
  const failed = (logTail: string): string =>
    summaryHtml(one(outcome({ ok: false, status: 'error', message: 'The build failed.', errorMessage: 'exit 1', deploymentId: 'D1', logTail })))

  it('renders every line of a hostile tail verbatim inside one <pre>, nothing as Markdown', () => {
    const blocks = commonMarkBlocks(failed(HOSTILE_TAIL))
    expect(blocks.map((block) => block.kind)).toEqual(['html', 'pre', 'html'])
    const [head, pre, end] = blocks
    expect(head.lines.at(-1)).toBe(`<details><summary>Last ${HOSTILE_SHOWN.length} lines of the build log</summary>`)
    expect(pre.lines[0]).toBe('<pre>')
    expect(pre.lines.at(-1)).toBe('</pre>')
    expect(pre.lines.slice(1, -1).map(decode)).toEqual(HOSTILE_SHOWN)
    expect(end.lines).toEqual(['</details>'])
  })

  it('holds no raw markup, no terminal escape and no control character', () => {
    const html = failed(HOSTILE_TAIL)
    expect(html).not.toMatch(/<script|<!--|<\/pre> |\[link\]/i)
    // eslint-disable-next-line no-control-regex -- control characters are what is looked for
    expect(html).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/)
  })

  it('a tail of blank lines and colours only is left out', () => {
    expect(failed('\u001b[0m\r\n   \n\u001b[32m\u001b[0m\n')).not.toContain('<details>')
  })

  it('redacts secrets inside the block', () => {
    registerSecret('tail-secret-556677')
    const html = failed('\u001b[31mtoken=tail-secret-556677\u001b[0m')
    expect(html).not.toContain('tail-secret-556677')
    expect(html).toContain('token=&#42;&#42;&#42;')
  })

  it('redacts a secret that a colour code splits', () => {
    registerSecret('split-secret-7788')
    expect(failed('key=split-\u001b[1msecret-7788')).not.toContain('split-secret-7788')
  })

  it('plainText strips colours, OSC sequences and control characters, and turns CR into line breaks', () => {
    expect(plainText('\u001b[38;5;196mred\u001b[0m \u001b]2;t\u001b\\x\r\ny\rz\u0000\u0007')).toBe('red x\ny\nz')
    expect(plainText('tab\tkept\nnewline kept')).toBe('tab\tkept\nnewline kept')
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
    writeOutputs(one(outcome({ deploymentId: 'D1', resourceId: 'A1', dashboardUrl: `${BASE}/x` })))
    expect(Object.fromEntries(setOutput.mock.calls)).toEqual({
      status: 'done',
      'deployment-id': 'D1',
      'resource-id': 'A1',
      duration: '95',
      'log-url': `${BASE}/x`,
      url: '',
      'rolled-back-to': '',
      results: JSON.stringify([
        { resource: 'application', id: 'A1', name: '', environment: '', status: 'done', 'deployment-id': 'D1', url: '', 'rolled-back-to': '', duration: 95 }
      ])
    })
    setOutput.mockClear()
    writeOutputs(one(outcome({ status: 'failed' })))
    expect(Object.fromEntries(setOutput.mock.calls)).toMatchObject({ status: 'failed', 'deployment-id': '', 'resource-id': '', 'log-url': '' })
  })

  it('never holds a value the runner masks (it would drop that output): the value is replaced, the output kept', () => {
    registerSecret('masked-env-name-4d1f')
    setOutput.mockClear()
    writeOutputs(one(outcome({ deploymentId: 'D1', resourceId: 'A1', name: 'web', environmentName: 'masked-env-name-4d1f', url: 'https://masked-env-name-4d1f.example.com' })))
    const outputs = Object.fromEntries(setOutput.mock.calls) as Record<string, string>
    expect(JSON.stringify(outputs)).not.toContain('masked-env-name-4d1f')
    expect(JSON.parse(outputs.results)).toMatchObject([{ name: 'web', environment: '***', url: 'https://***.example.com' }])
    expect(outputs.url).toBe('https://***.example.com')
  })
})

describe('printFailureDetails', () => {
  it('prints the error message and the log tail behind a gutter, in a group', () => {
    const groups: [string, string][] = []
    const log = { info: jest.fn(), warning: jest.fn(), debug: jest.fn(), group: (title: string, body: string) => groups.push([title, body]) }
    printFailureDetails(one(outcome({ ok: false, status: 'error', deploymentId: 'D1', errorMessage: 'exit 1', logTail: 'ok\n::set-output name=status::done' })), log)
    expect(groups).toHaveLength(1)
    const [title, body] = groups[0]
    expect(title).toBe('Why deployment D1 failed')
    expect(body).toContain('│ exit 1')
    expect(body).toContain('│ ::set-output name=status::done')
    expect(body.split('\n').some((line) => line.startsWith('::'))).toBe(false)
  })

  it('prints nothing when there is nothing to show', () => {
    const group = jest.fn()
    printFailureDetails(one(outcome({ ok: false, status: 'lost' })), { info: jest.fn(), warning: jest.fn(), debug: jest.fn(), group })
    expect(group).not.toHaveBeenCalled()
  })
})

describe('printFailureDetails titles the group by what happened', () => {
  it.each([
    ['error', 'Why deployment D1 failed'],
    ['timeout', 'Deployment D1: still running when the step stopped waiting'],
    ['cancelled', 'Deployment D1 was cancelled']
  ])('%s → %s', (status, title) => {
    const group = jest.fn()
    printFailureDetails(one(outcome({ ok: false, status, deploymentId: 'D1', logTail: 'step 1' })), { info: jest.fn(), warning: jest.fn(), debug: jest.fn(), group })
    expect(group).toHaveBeenCalledWith(title, expect.any(String))
  })

  it('without a deployment id', () => {
    const group = jest.fn()
    printFailureDetails(one(outcome({ ok: false, status: 'timeout', logTail: 'step 1' })), { info: jest.fn(), warning: jest.fn(), debug: jest.fn(), group })
    expect(group).toHaveBeenCalledWith('The deployment: still running when the step stopped waiting', expect.any(String))
  })
})

describe('runner files that cannot be written', () => {
  const saved = process.env.GITHUB_STEP_SUMMARY
  afterEach(() => {
    setOutput.mockReset()
    process.env.GITHUB_STEP_SUMMARY = saved
  })

  it('writeOutputs names GITHUB_OUTPUT when @actions/core cannot append to it', () => {
    setOutput.mockImplementation(() => {
      throw new Error('Missing file at path: /nonexistent-dir/out')
    })
    expect(() => writeOutputs(one(outcome()))).toThrow(RunnerFileError)
    expect(() => writeOutputs(one(outcome()))).toThrow("Could not write the step's outputs to the file GITHUB_OUTPUT names: Missing file at path: /nonexistent-dir/out.")
  })

  it('writeSummary names GITHUB_STEP_SUMMARY instead of swallowing the failure', () => {
    process.env.GITHUB_STEP_SUMMARY = '/nonexistent-dir/summary'
    expect(() => writeSummary(one(outcome()))).toThrow(
      "Could not write the job summary to the file GITHUB_STEP_SUMMARY names: ENOENT: no such file or directory, open '/nonexistent-dir/summary'."
    )
  })

  it('writeRunnerFiles tries both and returns one message per file, with how the operation itself ended', async () => {
    process.env.GITHUB_STEP_SUMMARY = '/nonexistent-dir/summary'
    setOutput.mockImplementation(() => {
      throw new Error('Missing file at path: /nonexistent-dir/out')
    })
    const problems = await writeRunnerFiles(one(outcome()))
    expect(problems).toEqual([
      'Could not write the step\'s outputs to the file GITHUB_OUTPUT names: Missing file at path: /nonexistent-dir/out. Dokploy deploy itself ended "done".',
      'Could not write the job summary to the file GITHUB_STEP_SUMMARY names: ENOENT: no such file or directory, open \'/nonexistent-dir/summary\'. Dokploy deploy itself ended "done".'
    ])
  })

  it('writeRunnerFiles returns nothing when both are written, and appends the summary to what the file held', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-test-'))
    process.env.GITHUB_STEP_SUMMARY = join(dir, 'summary')
    writeFileSync(process.env.GITHUB_STEP_SUMMARY, 'an earlier step\n')
    try {
      expect(await writeRunnerFiles(one(outcome({ resourceId: 'A1' })))).toEqual([])
      const written = readFileSync(process.env.GITHUB_STEP_SUMMARY, 'utf8')
      expect(written.startsWith('an earlier step\n<h2>✅ Dokploy deploy of A1: done</h2>')).toBe(true)
      expect(written.endsWith('\n')).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('the summary of one target names the service and says how it ended', () => {
  it('names the service by its id when it has no name', () => {
    expect(summaryHtml(one(outcome({ resourceId: 'A1' })))).toContain('<h2>✅ Dokploy deploy of A1: done</h2>')
  })

  it('shows the deployment title (commit and run) when the operation sent one', () => {
    const html = summaryHtml({ ...one(outcome({ name: 'web' })), title: '1a2b3c4 · Deploy #42 <b>' })
    expect(html).toContain('<tr><th align="left">Title</th><td>1a2b3c4 · Deploy &#35;42 &#60;b&#62;</td></tr>')
  })

  it('reads a timeout as a build still running, not a failed one', () => {
    const html = summaryHtml(one(outcome({ name: 'web', ok: false, status: 'timeout', message: 'Still running when the step stopped waiting after 10s.' })))
    expect(html).toContain('<h2>⏳ Dokploy deploy of web: still running when the step stopped waiting</h2>')
    expect(html).toContain('<b>timeout</b> (still running when the step stopped waiting)')
    expect(html).not.toMatch(/failed/i)
  })

  it('shows the operation and resource of an input error as the user wrote them', () => {
    const html = summaryHtml(one(outcome({ ok: false, status: 'failed', asWritten: { resource: 'lambda', operation: 'destroy' }, message: 'Input "resource" is "lambda".' })))
    expect(html).toContain('<h2>❌ Dokploy destroy: failed</h2>')
    expect(html).toContain('<th align="left">Resource</th><td>lambda</td>')
    expect(html).toContain('<th align="left">Operation</th><td>destroy</td>')
  })

  it('links the service\'s URL', () => {
    expect(summaryHtml(one(outcome({ name: 'web', url: 'https://shop.example.com' })))).toContain(
      '<tr><th align="left">URL</th><td><a href="https://shop.example.com">https://shop.example.com</a></td></tr>'
    )
  })
})

/** A step of several targets, in order. */
const many = (...outcomes: Outcome[]): StepReport => ({ outcomes, resource: 'application', operation: 'deploy', startedAt: 1_000_000, endedAt: 1_200_000 })

describe('several targets', () => {
  const api = outcome({ name: 'api', resourceId: 'A1', deploymentId: 'D1', environmentName: 'production', dashboardUrl: `${BASE}/a`, url: 'https://api.example.com' })
  const web = outcome({ name: 'web', resourceId: 'A2', ok: false, status: 'error', deploymentId: 'D2', message: 'Deployment D2 ended error.', logTail: 'npm ERR! boom' })
  const worker = outcome({ resourceId: 'A3', ok: false, status: 'timeout', message: 'Still running when the step stopped waiting.' })

  it('status: done when every target succeeded, else the status of the first that did not', () => {
    expect(stepStatus(many(api, { ...api, name: 'x' }))).toBe('done')
    expect(stepStatus(many(api, worker, web))).toBe('timeout')
    expect(stepStatus(many(api, web, worker))).toBe('error')
    // several stops that all succeeded: done, each target's own idle stays in results
    expect(stepStatus(many(outcome({ status: 'idle', operation: 'stop' }), outcome({ status: 'idle', operation: 'stop' })))).toBe('done')
  })

  it('outputs one line per target for the ids and links, and a results array in target order', () => {
    setOutput.mockClear()
    writeOutputs(many(api, web, worker))
    const outputs = Object.fromEntries(setOutput.mock.calls) as Record<string, string>
    expect(outputs.status).toBe('error')
    expect(outputs['resource-id']).toBe('A1\nA2\nA3')
    expect(outputs['deployment-id']).toBe('D1\nD2\n')
    expect(outputs['log-url']).toBe(`${BASE}/a\n\n`)
    expect(outputs.url).toBe('https://api.example.com\n\n')
    expect(outputs.duration).toBe('200')
    expect(JSON.parse(outputs.results)).toEqual([
      { resource: 'application', id: 'A1', name: 'api', environment: 'production', status: 'done', 'deployment-id': 'D1', url: 'https://api.example.com', 'rolled-back-to': '', duration: 95 },
      { resource: 'application', id: 'A2', name: 'web', environment: '', status: 'error', 'deployment-id': 'D2', url: '', 'rolled-back-to': '', duration: 95 },
      { resource: 'application', id: 'A3', name: '', environment: '', status: 'timeout', 'deployment-id': '', url: '', 'rolled-back-to': '', duration: 95 }
    ])
  })

  it('an input error has no target: results is an empty array', () => {
    setOutput.mockClear()
    writeOutputs(one(outcome({ ok: false, status: 'failed', asWritten: { resource: 'database', operation: 'deploy' } })))
    expect(Object.fromEntries(setOutput.mock.calls)).toMatchObject({ status: 'failed', results: '[]' })
  })

  it('the summary has one row per target with status, duration and links, and the log tail of each failed one', () => {
    const html = summaryHtml({ ...many(api, web, worker), title: '1a2b3c4 · Deploy #42' })
    expect(html).toContain('<h2>❌ Dokploy deploy of api, web, A3: error</h2>')
    expect(html.match(/<tr><td>/g)).toHaveLength(3)
    expect(html).toContain(`<tr><td>✅ <code>api</code></td><td>application</td><td>production</td><td><b>done</b></td><td><code>D1</code></td><td>1m 35s</td><td><a href="${BASE}/a">Dokploy</a> · <a href="https://api.example.com">https://api.example.com</a></td></tr>`)
    expect(html).toContain('<tr><td>⏳ <code>A3</code></td>')
    expect(html).toContain('<p>Title: 1a2b3c4 · Deploy &#35;42 · Duration: 3m 20s</p>')
    expect(html).toContain('<h3>❌ web: error</h3>')
    expect(html).toContain('<h3>⏳ A3: still running when the step stopped waiting</h3>')
    expect(html).toContain('npm ERR&#33; boom')
    expect(html).not.toContain('<h3>✅')
  })

  it('prints each failed target\'s details under its name', () => {
    const groups: string[] = []
    printFailureDetails(many(api, web), { info: jest.fn(), warning: jest.fn(), debug: jest.fn(), group: (title: string) => groups.push(title) })
    expect(groups).toEqual(['[web] Why deployment D2 failed'])
  })
})

describe('failure annotations carry a title', () => {
  it('one per target that did not end as expected, named after the service and the outcome', () => {
    const annotations = failureAnnotations(
      many(
        outcome({ name: 'api' }),
        outcome({ name: 'web', ok: false, status: 'error', message: 'Deployment D2 ended error.', errorMessage: 'exit 1\n::error::x' }),
        outcome({ name: 'worker', ok: false, status: 'timeout', message: 'Still running when the step stopped waiting after 10s.' })
      )
    )
    expect(annotations).toEqual([
      { title: 'Dokploy deploy of web: error', message: 'web: Deployment D2 ended error. Dokploy says: exit 1 ⏎ ::error::x' },
      { title: 'Dokploy deploy of worker: still running when the step stopped waiting', message: 'worker: Still running when the step stopped waiting after 10s.' }
    ])
  })

  it('a single target: the message as before, the title names it', () => {
    expect(failureAnnotations(one(outcome({ name: 'web', ok: false, status: 'lost' })))).toEqual([
      { title: 'Dokploy deploy of web: lost', message: 'Dokploy deploy ended lost.' }
    ])
  })

  it('an input error: the operation as written', () => {
    expect(failureAnnotations(one(outcome({ ok: false, status: 'failed', asWritten: { resource: 'app', operation: 'destroy' }, message: 'Input "operation" is "destroy".' })))).toEqual([
      { title: 'Dokploy destroy: failed', message: 'Input "operation" is "destroy".' }
    ])
  })

  it('no annotation when every target succeeded', () => {
    expect(failureAnnotations(many(outcome(), outcome()))).toEqual([])
  })
})

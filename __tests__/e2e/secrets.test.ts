import { afterAll, expect } from '@jest/globals'
import { HOSTILE_TEXT, SECRET_MARKERS, WORKFLOW_COMMAND_LINES } from '../emulator/server.js'
import { concurrent, heading } from './at-once.js'
import { annotations, emulators, errorLine, leakedSecrets, runAction, type ActionRun, type Emulator } from './harness.js'

/**
 * A hostile Dokploy: every secret field of the fixture holds a marker (SECRET_MARKERS), and names,
 * commit titles, build logs and error messages carry HTML, Markdown and workflow commands. Across the
 * operations, versions and failures the action meets, with debug logging on, nothing it writes
 * (log, outputs, job summary) may show a secret, render server HTML/Markdown, or let a server line
 * act as a workflow command. Each scenario has an emulator of its own, so that they run at once.
 */
const { start: startEmulator, closeAll } = emulators({ hostile: true, buildMs: 100, dbMs: 50 })
afterAll(closeAll)

/** The fixture's marker for one secret field, e.g. marker('webbuildsecrets'). */
const marker = (word: string): string => {
  const found = SECRET_MARKERS.find((m) => m.startsWith(`S3CR3T-${word}-`))
  if (!found) throw new Error(`no secret marker for ${word}`)
  return found
}

/** Secrets passed as inputs: each must appear in the step's output only as the value of an ::add-mask:: line. */
const ENV_INPUT_SECRET = 'ff-input-secret-91c2'
const REGISTRY_PASSWORD = 'reg-pass-input-5b7e2f'
const WRONG_KEY = 'dk-wrong-key-0c4e7a19b2'

/**
 * PEM keys over several lines between quotes: one in the env input, one in the service's env on
 * Dokploy. Body lines end in `=`, so a line-by-line reader would take them for keys.
 */
const INPUT_PEM = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCinput7d1', 'aW5wdXQtcGVtLWxpbmUtdHdvLXNlY3JldA==', '-----END PRIVATE KEY-----']
const STORED_PEM = ['-----BEGIN EC PRIVATE KEY-----', 'MHcCAQEEIStoredPemLineOne4b9e', 'c3RvcmVkLXBlbS1saW5lLXR3by1zZWNyZXQ=', '-----END EC PRIVATE KEY-----']

/** A value may reach stdout only in the ::add-mask:: line that hides it, and never outputs, stderr or the summary. */
function expectOnlyMasked(run: ActionRun, value: string): void {
  expect(run.stdout.split('\n').filter((line) => line.includes(value) && !line.startsWith('::add-mask::'))).toEqual([])
  expect(run.stderr).not.toContain(value)
  expect(JSON.stringify(run.outputs)).not.toContain(value)
  expect(run.summary).not.toContain(value)
}

/** A tRPC error envelope as Dokploy sends it. */
const trpcError = (status: number, code: string, message: string, path: string, zodError: unknown = null): string =>
  JSON.stringify({ error: { json: { message, code: -32600, data: { code, httpStatus: status, path, zodError } } } })

interface Scenario {
  name: string
  inputs: (emu: Emulator) => Record<string, string>
  setup?: (emu: Emulator) => void
  code: 0 | 1
  /** Server text (a name, Dokploy's error message, the log tail) reaches the job summary, escaped. */
  serverTextInSummary: boolean
  check?: (run: ActionRun, emu: Emulator) => void
}

const base = (emu: Emulator, extra: Record<string, string>): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, ...extra })
const sentTo = (emu: Emulator, procedure: string): Record<string, unknown> | undefined =>
  emu.requests.find((r) => r.procedure === procedure && !r.fault)?.input as Record<string, unknown> | undefined

const SCENARIOS: Scenario[] = [
  {
    name: 'application deploy that succeeds',
    inputs: (emu) => base(emu, { id: emu.ids.web }),
    code: 0,
    serverTextInSummary: false,
    check: (run) => expect(run.outputs.status).toBe('done')
  },
  {
    name: 'application deploy whose build fails, with workflow commands in the error and the log tail',
    inputs: (emu) => base(emu, { id: emu.ids.web, 'log-lines': '20' }),
    setup: (emu) => emu.setBuild(emu.ids.web, { durationMs: 100, fail: 'npm ERR! build script exited with code 1' }),
    code: 1,
    serverTextInSummary: true,
    check: (run) => {
      expect(run.outputs.status).toBe('error')
      // the server's lines were printed, each behind the gutter
      for (const line of WORKFLOW_COMMAND_LINES) expect(run.stdout.split('\n')).toContain(`│ ${line}`)
      expect(run.stdout.split("\n")).toContain(`│ Service ${HOSTILE_TEXT}`)
      expect(run.summary).toContain('build script exited with code 1')
    }
  },
  {
    name: 'a deployment Dokploy could not create: workflow commands and markup in its errorMessage',
    inputs: (emu) => base(emu, { id: emu.ids.web }),
    setup: (emu) => emu.setBuild(emu.ids.web, { durationMs: 100, createError: 'ENOSPC: no space left on device' }),
    code: 1,
    serverTextInSummary: true,
    check: (run) => {
      expect(run.outputs.status).toBe('error')
      expect(run.summary).toContain('ENOSPC: no space left on device')
      expect(errorLine(run)).toContain('ENOSPC')
    }
  },
  {
    name: 'application start (the reply is the full row)',
    inputs: (emu) => base(emu, { id: emu.ids.web, operation: 'start' }),
    code: 0,
    serverTextInSummary: false
  },
  {
    name: 'application stop (the reply is the full row)',
    inputs: (emu) => base(emu, { id: emu.ids.web, operation: 'stop' }),
    code: 0,
    serverTextInSummary: false,
    check: (run) => expect(run.outputs.status).toBe('idle')
  },
  {
    name: 'application reload (reads .one for the appName)',
    inputs: (emu) => base(emu, { id: emu.ids.web, operation: 'reload' }),
    code: 0,
    serverTextInSummary: true,
    check: (_run, emu) => expect(emu.requests.some((r) => r.procedure === 'application.one')).toBe(true)
  },
  {
    name: 'postgres deploy (the reply is the row with its passwords)',
    inputs: (emu) => base(emu, { resource: 'postgres', id: emu.ids.postgres }),
    code: 0,
    serverTextInSummary: false
  },
  {
    name: 'postgres start',
    inputs: (emu) => base(emu, { resource: 'postgres', id: emu.ids.postgres, operation: 'start' }),
    code: 0,
    serverTextInSummary: false
  },
  {
    name: 'postgres stop',
    inputs: (emu) => base(emu, { resource: 'postgres', id: emu.ids.postgres, operation: 'stop' }),
    code: 0,
    serverTextInSummary: false
  },
  {
    name: 'postgres deploy that fails (500) with HTML and workflow commands in the message',
    inputs: (emu) => base(emu, { resource: 'postgres', id: emu.ids.postgres }),
    setup: (emu) => emu.dbDeploy(emu.ids.postgres, { durationMs: 50, fail: `initdb failed ${HOSTILE_TEXT}\n${WORKFLOW_COMMAND_LINES.join('\n')}` }),
    code: 1,
    serverTextInSummary: true,
    check: (run) => {
      expect(run.outputs.status).toBe('error')
      expect(errorLine(run)).toContain('initdb failed')
    }
  },
  {
    name: 'env merge on an application, then deploy',
    inputs: (emu) => base(emu, { id: emu.ids.web, env: `FEATURE_TOKEN=${ENV_INPUT_SECRET}` }),
    code: 0,
    serverTextInSummary: true,
    check: (_run, emu) => {
      const sent = sentTo(emu, 'application.saveEnvironment')
      expect(sent?.env).toContain(marker('webenv'))
      expect(sent?.env).toContain(`FEATURE_TOKEN=${ENV_INPUT_SECRET}`)
      expect(sent?.buildSecrets).toBe(`SENTRY_AUTH_TOKEN=${marker('webbuildsecrets')}`)
    }
  },
  {
    name: 'env merge on a compose, then deploy',
    inputs: (emu) => base(emu, { resource: 'compose', id: emu.ids.stack, env: `FEATURE_TOKEN=${ENV_INPUT_SECRET}` }),
    code: 0,
    serverTextInSummary: true,
    check: (_run, emu) => expect(sentTo(emu, 'compose.saveEnvironment')?.env).toContain(marker('stackenv'))
  },
  {
    name: 'env merge on a postgres, then deploy',
    inputs: (emu) => base(emu, { resource: 'postgres', id: emu.ids.postgres, env: `FEATURE_TOKEN=${ENV_INPUT_SECRET}` }),
    code: 0,
    serverTextInSummary: true,
    check: (_run, emu) => expect(sentTo(emu, 'postgres.saveEnvironment')?.env).toContain(marker('pgdbenv'))
  },
  {
    name: 'env replace with a multi-line PEM in the input and in the stored env',
    inputs: (emu) => base(emu, { id: emu.ids.web, env: `TLS_KEY="${INPUT_PEM.join('\n')}"\nOTHER=1`, 'env-strategy': 'replace' }),
    setup: (emu) => {
      const web = emu.state.find('application', emu.ids.web)
      if (!web) throw new Error('no web application in the fixture')
      web.env = `${web.env}\nSERVER_KEY="${STORED_PEM.join('\n')}"`
    },
    code: 0,
    serverTextInSummary: true,
    check: (run, emu) => {
      expect(sentTo(emu, 'application.saveEnvironment')?.env).toBe(`TLS_KEY="${INPUT_PEM.join('\n')}"\nOTHER=1`)
      // every line of both keys is masked, and none is ever printed
      for (const line of [...INPUT_PEM, ...STORED_PEM]) {
        expect(run.stdout.split('\n')).toContain(`::add-mask::${line}`)
        expectOnlyMasked(run, line)
      }
      expect(leakedSecrets(run, [...INPUT_PEM, ...STORED_PEM])).toEqual([])
      expect(run.stdout).toContain('Environment (replace) saved: added TLS_KEY, OTHER; removed NODE_ENV, DATABASE_URL, LOG_LEVEL, SERVER_KEY.')
    }
  },
  {
    name: 'docker-image roll-out that keeps the stored registry password',
    inputs: (emu) => base(emu, { id: emu.ids.api, 'docker-image': 'ghcr.io/acme/api:2.0' }),
    code: 0,
    serverTextInSummary: true,
    check: (_run, emu) => expect(sentTo(emu, 'application.saveDockerProvider')).toMatchObject({ dockerImage: 'ghcr.io/acme/api:2.0', password: marker('apiregistrypassword') })
  },
  {
    name: 'docker-image roll-out with a new registry password input',
    inputs: (emu) => base(emu, { id: emu.ids.api, 'docker-image': 'ghcr.io/acme/api:2.1', 'registry-username': 'ci-bot', 'registry-password': REGISTRY_PASSWORD }),
    code: 0,
    serverTextInSummary: true,
    check: (_run, emu) => expect(sentTo(emu, 'application.saveDockerProvider')).toMatchObject({ username: 'ci-bot', password: REGISTRY_PASSWORD })
  },
  {
    name: 'lookup by name on v0.27 (project.all sends full rows with their secrets)',
    inputs: (emu) => base(emu, { project: emu.names.shop, environment: 'production', name: emu.names.web }),
    // Before v0.28.3 the queue cannot be listed: the build must outlast the first poll for its row to be proven
    // by its reference before the title is overwritten (a 100 ms build would honestly end `unknown`).
    setup: (emu) => {
      emu.setVersion('v0.27.0')
      emu.setBuild(emu.ids.web, { durationMs: 5000 })
    },
    code: 0,
    serverTextInSummary: true,
    check: (run, emu) => {
      expect(run.outputs['resource-id']).toBe(emu.ids.web)
      expect(run.outputs.status).toBe('done')
    }
  },
  {
    name: 'lookup of an application by name on v0.30',
    inputs: (emu) => base(emu, { project: emu.names.shop, environment: 'production', name: emu.names.web }),
    code: 0,
    serverTextInSummary: true,
    check: (run, emu) => expect(run.outputs['resource-id']).toBe(emu.ids.web)
  },
  {
    name: 'lookup of a postgres by name on v0.30 (environment.byProjectId sends full rows)',
    inputs: (emu) => base(emu, { resource: 'postgres', project: emu.names.shop, environment: 'production', name: emu.names.postgres }),
    code: 0,
    serverTextInSummary: true,
    check: (run, emu) => {
      expect(run.outputs['resource-id']).toBe(emu.ids.postgres)
      expect(emu.requests.some((r) => r.procedure === 'environment.byProjectId')).toBe(true)
    }
  },
  {
    name: 'a rejected key (401)',
    inputs: (emu) => ({ url: emu.url, 'api-key': WRONG_KEY, id: emu.ids.web }),
    code: 1,
    serverTextInSummary: false,
    check: (run) => expect(errorLine(run)).toContain('rejected the API key (401)')
  },
  {
    name: 'an unknown id (404)',
    inputs: (emu) => base(emu, { id: 'app-gone', operation: 'start' }),
    code: 1,
    serverTextInSummary: false,
    check: (run) => expect(errorLine(run)).toContain('(404)')
  },
  {
    name: 'a 500 whose message echoes the env block the action sent',
    inputs: (emu) => base(emu, { resource: 'postgres', id: emu.ids.postgres, env: `FEATURE_TOKEN=${ENV_INPUT_SECRET}` }),
    setup: (emu) =>
      emu.inject({
        procedure: 'postgres.saveEnvironment',
        kind: 'status',
        status: 500,
        body: trpcError(
          500,
          'INTERNAL_SERVER_ERROR',
          `Failed to write env TZ=UTC BACKUP_TOKEN=${marker('pgdbenv')} FEATURE_TOKEN=${ENV_INPUT_SECRET} ${HOSTILE_TEXT}\n${WORKFLOW_COMMAND_LINES.join('\n')}`,
          'postgres.saveEnvironment'
        )
      }),
    code: 1,
    serverTextInSummary: true,
    check: (run) => expect(errorLine(run)).toContain('Failed to write env')
  },
  {
    name: 'an HTML 502 from a proxy whose page holds a secret',
    inputs: (emu) => base(emu, { id: emu.ids.web, retries: '0' }),
    setup: (emu) =>
      emu.inject({
        // the first request, whichever it is
        kind: 'status',
        status: 502,
        contentType: 'text/html',
        body: `<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><pre>upstream: DATABASE_URL=postgres://app:${marker('webenv')}@db:5432/app</pre><hr><center>nginx</center></body></html>`
      }),
    code: 1,
    serverTextInSummary: false,
    check: (run) => expect(errorLine(run)).toContain('502 Bad Gateway')
  },
  {
    name: 'an HTML 502 without a title, whose page holds a secret the action never saw',
    inputs: (emu) => base(emu, { id: emu.ids.web, retries: '0' }),
    setup: (emu) =>
      emu.inject({
        // the first request, whichever it is
        kind: 'status',
        status: 502,
        contentType: 'text/html',
        body: `<html><body><h1>502</h1><pre>upstream env: SHARED_TOKEN=${marker('shopprojectenv')}</pre></body></html>`
      }),
    code: 1,
    serverTextInSummary: false,
    check: (run) => expect(errorLine(run)).toContain('with 502')
  },
  {
    name: 'an HTML 502 without a title, opening with a secret the action holds',
    // the env merge reads .one first: the build secrets are known by the time the 502 comes
    inputs: (emu) => base(emu, { id: emu.ids.web, env: `FEATURE_TOKEN=${ENV_INPUT_SECRET}` }),
    setup: (emu) =>
      emu.inject({
        procedure: 'application.saveEnvironment',
        kind: 'status',
        status: 502,
        contentType: 'text/html',
        body: `<pre>SENTRY_AUTH_TOKEN=${marker('webbuildsecrets')} ${HOSTILE_TEXT}</pre>`
      }),
    code: 1,
    serverTextInSummary: true,
    check: (run) => expect(errorLine(run)).toContain('with 502')
  },
  {
    name: 'a 400 whose zod field errors quote a secret the action sent',
    inputs: (emu) => base(emu, { id: emu.ids.web, env: `FEATURE_TOKEN=${ENV_INPUT_SECRET}` }),
    setup: (emu) => {
      const sent = `SENTRY_AUTH_TOKEN=${marker('webbuildsecrets')}`
      emu.inject({
        procedure: 'application.saveEnvironment',
        kind: 'status',
        status: 400,
        body: trpcError(
          400,
          'BAD_REQUEST',
          JSON.stringify([{ code: 'custom', path: ['buildSecrets'], message: `Invalid line "${sent}"` }], null, 2),
          'application.saveEnvironment',
          { formErrors: [], fieldErrors: { buildSecrets: [`Invalid line "${sent}"\n${WORKFLOW_COMMAND_LINES.join('\n')}`] } }
        )
      })
    },
    code: 1,
    serverTextInSummary: true,
    check: (run) => expect(errorLine(run)).toContain('buildSecrets: Invalid line')
  },
  {
    name: 'a 400 without field errors, whose message quotes a secret the action sent',
    inputs: (emu) => base(emu, { id: emu.ids.web, env: `FEATURE_TOKEN=${ENV_INPUT_SECRET}` }),
    setup: (emu) =>
      emu.inject({
        procedure: 'application.saveEnvironment',
        kind: 'status',
        status: 400,
        body: trpcError(400, 'BAD_REQUEST', `env: invalid value "${ENV_INPUT_SECRET}"; buildArgs: invalid value "NPM_TOKEN=${marker('webbuildargs')}"`, 'application.saveEnvironment')
      }),
    code: 1,
    serverTextInSummary: true,
    check: (run) => expect(errorLine(run)).toContain('invalid value')
  }
]

/** Lines of `text` that contain `value`. */
const linesWith = (text: string, value: string): string[] => text.split('\n').filter((line) => line.includes(value))

heading('a hostile server: no secret, no markup, no forged command gets through', () => {
  concurrent.each(SCENARIOS)('$name', async (scenario: Scenario) => {
    const emu = await startEmulator()
    scenario.setup?.(emu)
    const inputs = scenario.inputs(emu)
    const run = await runAction(inputs)
    expect(run.code).toBe(scenario.code)

    // 1. no fixture secret anywhere the user can see (the harness checks this as well)
    expect(leakedSecrets(run)).toEqual([])

    // 2. secrets given as inputs appear only as the value of an ::add-mask:: line
    const inputSecrets = [inputs['api-key'], inputs['registry-password'], inputs.env?.includes(ENV_INPUT_SECRET) ? ENV_INPUT_SECRET : undefined]
    for (const secret of inputSecrets.filter((s): s is string => !!s)) {
      expect(linesWith(run.stdout, secret)).toEqual([`::add-mask::${secret}`])
      expect(run.stderr).not.toContain(secret)
      expect(JSON.stringify(run.outputs)).not.toContain(secret)
      expect(run.summary).not.toContain(secret)
    }

    // 3. server text in the summary is escaped: no live HTML, no Markdown link
    expect(run.summary).not.toContain('<img src=x onerror=alert(1)>')
    expect(run.summary).not.toContain('[x](http://evil)')
    expect(run.summary).not.toMatch(/<img/i)
    if (scenario.serverTextInSummary) expect(run.summary).toMatch(/&(#60|lt);img src=x onerror=alert/)

    // 4. no server line can act as a workflow command; the only ::error:: is the action's own
    const lines = run.stdout.split('\n')
    expect(lines.filter((line) => line.startsWith('::set-output'))).toEqual([])
    expect(lines.filter((line) => line.trimEnd() === '::add-mask::x')).toEqual([])
    expect(lines.filter((line) => line.startsWith('::error::forged'))).toEqual([])
    const errors = annotations(run, 'error')
    expect(errors).toHaveLength(scenario.code === 0 ? 0 : 1)
    expect(run.outputs.status).not.toBe(scenario.code === 0 ? 'error' : 'done')

    scenario.check?.(run, emu)
  })
})

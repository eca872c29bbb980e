import { afterAll, expect } from '@jest/globals'
import { HOSTILE_LINES, runnerCommands, type Command } from '../runner-commands.js'
import { concurrent, heading } from './at-once.js'
import { emulators, leakedSecrets, runAction, type ActionRun, type Emulator } from './harness.js'

/**
 * Issues 21 and 18 through dist/index.js: a build log that tries every form of workflow command, and a
 * service env that mixes a user's first-day settings with secrets. Live log and failure tail alike, the
 * runner (modelled by __tests__/runner-commands.ts) finds no command of the server's, no secret shows in
 * the log, the outputs or the summary, and harmless values stay as they are, unmasked.
 * Each test has an emulator of its own, so that they run at once.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 600 })
afterAll(closeAll)

/** The values of a user's first day: none of them may be masked or hidden. */
const HARMLESS = { NODE_ENV: 'production', LOG_LEVEL: 'info', PORT: '3000', HOST: '0.0.0.0', APP_URL: 'https://shop.example.com' }

const PEM = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASChostile9', 'aG9zdGlsZS1wZW0tbGluZS10d28tc2VjcmV0', '-----END PRIVATE KEY-----']
const SECRETS = {
  dbPassword: 'db-pass-hostile-8c41f2',
  urlPassword: 'url-pass-hostile-5e9a07',
  stripe: 'sk_live_51HostileStripeKey0a9b8c7d',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJob3N0aWxlLWUyZSIsImlhdCI6MTcwMDAwMDAwMH0.Zk3mQ9pL2xV7rT1yW8nB4cJ6hD0sF5gA',
  random: 'q7Xk2Lm9Pz4Rt8Vb3Nc6Wd1F',
  commented: 'tok-commented-hostile-3b7d',
  colon: 'colon-pass-hostile-61fa'
}
/** Each line of the PEM, each secret: never shown but in the ::add-mask:: line that hides it. */
const HIDDEN = [...Object.values(SECRETS), ...PEM.slice(1, 3)]

/** The service's env as a user writes it in Dokploy: dotenv forms included. */
const SERVICE_ENV = [
  ...Object.entries(HARMLESS).map(([key, value]) => `${key}=${value}`),
  `DB_PASSWORD=${SECRETS.dbPassword}`,
  `DATABASE_URL=postgres://app:${SECRETS.urlPassword}@db:5432/app`,
  `PAYMENTS=${SECRETS.stripe}`,
  `UPSTREAM_SESSION=${SECRETS.jwt}`,
  `TLS_KEY="${PEM.join('\\n')}"`,
  `BUILD_REF=${SECRETS.random}`,
  `API_TOKEN=${SECRETS.commented} # rotated monthly`,
  `DB_PASS: ${SECRETS.colon}`
].join('\n')

/** What a build prints: its env (as `printenv` would), the key, and every trick of HOSTILE_LINES. */
const BUILD_ECHO = [
  ...Object.entries(HARMLESS).map(([key, value]) => `${key}=${value}`),
  `DB_PASSWORD=${SECRETS.dbPassword}`,
  `DATABASE_URL=postgres://app:${SECRETS.urlPassword}@db:5432/app`,
  `stripe key ${SECRETS.stripe}, session ${SECRETS.jwt}`,
  ...PEM,
  `BUILD_REF=${SECRETS.random} API_TOKEN=${SECRETS.commented} DB_PASS=${SECRETS.colon}`,
  ...HOSTILE_LINES
]

/** An emulator of the test's own whose web has SERVICE_ENV and `name`, and the inputs that deploy web on it. */
async function start(name = 'web ##[error]pwned') {
  const emu = await startEmulator()
  const web = emu.state.find('application', emu.ids.web)
  if (!web) throw new Error('no web application in the fixture')
  web.env = SERVICE_ENV
  web.name = name
  return { emu, inputs: (extra: Record<string, string>): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra }) }
}

/** A command the runner would run that is not the step's own: in a server line, or carrying the payload. */
const isForged = (command: Command): boolean => command.form === 'legacy' || !command.line.startsWith('::') || command.data.startsWith('pwned')

function expectNoForgedCommand(run: ActionRun): void {
  for (const lenient of [false, true]) {
    const { ran, ignored, stopped } = runnerCommands(run.stdout, { lenient })
    expect(stopped).toBe(false)
    expect([...ran, ...ignored].filter(isForged).map((c) => c.line)).toEqual([])
    // the second wall stopped nothing of the step's own: masks, group ends, annotations all ran
    expect(ignored).toEqual([])
  }
  // and it stood while the server's lines were printed
  expect(run.stdout).toMatch(/^::stop-commands::dokploy-[0-9a-f]{32}$/m)
  // the text is still there for a reader: every hostile line shows its payload
  expect(run.stdout.split('\n').filter((line) => line.includes('pwned')).length).toBeGreaterThanOrEqual(HOSTILE_LINES.length)
}

function expectSecretsHidden(run: ActionRun): void {
  expect(leakedSecrets(run, HIDDEN)).toEqual([])
  for (const secret of HIDDEN) {
    expect(run.stdout.split('\n').filter((line) => line.includes(secret) && !line.startsWith('::add-mask::'))).toEqual([])
    // each is told to the runner, so other steps' lines hide it too
    expect(run.stdout.split('\n')).toContain(`::add-mask::${secret}`)
  }
}

function expectHarmlessReadable(run: ActionRun, emu: Emulator): void {
  const masks = run.stdout.split('\n').filter((line) => line.startsWith('::add-mask::'))
  for (const value of Object.values(HARMLESS)) expect(masks).not.toContain(`::add-mask::${value}`)
  expect(run.outputs.results).not.toContain('***')
  expect(JSON.parse(run.outputs.results)).toMatchObject([{ resource: 'application', id: emu.ids.web }])
  for (const value of Object.values(run.outputs)) expect(value).not.toContain('***')
}

heading('a hostile build log and a first-day env', () => {
  concurrent('log: live, a build that succeeds: no forged command, no secret, NODE_ENV=production shown as it is', async () => {
    const { emu, inputs } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 3000, echo: BUILD_ECHO, echoAfterMs: 1000 })
    const run = await runAction(inputs({ log: 'live' }))
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expectNoForgedCommand(run)
    expectSecretsHidden(run)
    expectHarmlessReadable(run, emu)
    const shown = run.stdout.split('\n')
    for (const [key, value] of Object.entries(HARMLESS)) expect(shown).toContain(`${key}=${value}`)
    expect(shown).toContain('DATABASE_URL=postgres://app:***@db:5432/app')
    // the step's own commands after the streamed block still work: the group ends, the outputs are written
    expect(runnerCommands(run.stdout).ran.filter((c) => c.name === 'endgroup').length).toBeGreaterThanOrEqual(1)
  })

  concurrent('log: tail, a build that fails: the tail in the log and the summary holds no command and no secret', async () => {
    const { emu, inputs } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 600, echo: BUILD_ECHO, fail: 'npm ERR! ##[error]pwned' })
    const run = await runAction(inputs({ log: 'tail', 'log-lines': '200' }))
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expectNoForgedCommand(run)
    expectSecretsHidden(run)
    expectHarmlessReadable(run, emu)
    expect(run.stdout.split('\n')).toContain('│ NODE_ENV=production')
    expect(run.summary).toContain('NODE&#95;ENV=production')
    for (const secret of HIDDEN) expect(run.summary).not.toContain(secret)
    // one ::error:: of the step's own, which the runner runs
    expect(runnerCommands(run.stdout).ran.filter((c) => c.name === 'error')).toHaveLength(1)
  })

  concurrent('log: live, a build that fails: the streamed lines and the tail both defused', async () => {
    const { emu, inputs } = await start('web \u0085::error::pwned')
    emu.setBuild(emu.ids.web, { durationMs: 3000, echo: BUILD_ECHO, echoAfterMs: 1000, fail: '\u0085::add-mask::pwned' })
    const run = await runAction(inputs({ log: 'live', 'log-lines': '200' }))
    expect(run.code).toBe(1)
    expectNoForgedCommand(run)
    expectSecretsHidden(run)
    expectHarmlessReadable(run, emu)
  })

  concurrent('Dokploy’s error message with both forms, a deployment it could not create', async () => {
    const { emu, inputs } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 600, createError: `ENOSPC ${SECRETS.dbPassword}\n${HOSTILE_LINES.join('\n')}` })
    const run = await runAction(inputs({ log: 'tail' }))
    expect(run.code).toBe(1)
    expectNoForgedCommand(run)
    expectSecretsHidden(run)
  })

  concurrent('the env input: its harmless values are not masked, its secrets are, as dotenv reads them (comment and quotes off)', async () => {
    const { emu, inputs } = await start('web')
    const env = `NODE_ENV=production\nFEATURE_FLAG=true\nINPUT_TOKEN=input-tok-hostile-2c9e # comment\nINPUT_PASS="input-pass-hostile-7d10"`
    const run = await runAction(inputs({ env, log: 'live' }))
    expect([run.code, run.stdout.split('\n').filter((line) => line.startsWith('::error'))]).toEqual([0, []])
    const masks = run.stdout.split('\n').filter((line) => line.startsWith('::add-mask::'))
    expect(masks).toEqual(expect.arrayContaining(['::add-mask::input-tok-hostile-2c9e', '::add-mask::input-pass-hostile-7d10']))
    expect(masks).not.toContain('::add-mask::production')
    expect(masks).not.toContain('::add-mask::true')
    expect(masks.filter((line) => line.includes('# comment'))).toEqual([])
    expectHarmlessReadable(run, emu)
  })
})

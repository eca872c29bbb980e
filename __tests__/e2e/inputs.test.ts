import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { annotations, emulators, errorLine, runAction, visibleLog, type ActionRun, type Emulator } from './harness.js'

/**
 * Bad input fails the step before any request, naming the input, the value and what is accepted. Each test
 * has an emulator of its own, so that the requests it counts are its own while the others run beside it.
 */
const { start: startEmulator, closeAll } = emulators()
afterAll(closeAll)

const valid = (emu: Emulator): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web })

const CASES: [string, Record<string, string>, RegExp][] = [
  ['unknown resource', { resource: 'lambda' }, /Input "resource" is "lambda": expected one of application, compose, postgres/],
  ['unknown operation', { operation: 'rebuild' }, /Input "operation" is "rebuild": expected one of deploy, redeploy, start, stop, reload/],
  ['compose has no reload', { resource: 'compose', operation: 'reload' }, /Input "operation" is "reload": compose supports deploy, redeploy, start, stop/],
  ['databases have no redeploy', { resource: 'postgres', operation: 'redeploy' }, /Input "operation" is "redeploy": postgres supports deploy, start, stop, reload/],
  ['missing id and name', { id: '' }, /Input "id" is empty and so is "name"/],
  ['malformed url', { url: 'dokploy.example.com' }, /Input "url" is "dokploy.example.com": expected the Dokploy base URL/],
  ['ftp url', { url: 'ftp://dokploy.example.com' }, /Input "url" is "ftp:\/\/dokploy.example.com": expected an http:\/\/ or https:\/\/ URL/],
  ['empty key', { 'api-key': '' }, /Input "api-key" is empty/],
  ['non-numeric wait-timeout', { 'wait-timeout': '10m' }, /Input "wait-timeout" is "10m": expected a number of seconds/],
  ['zero request-timeout', { 'request-timeout': '0' }, /Input "request-timeout" is "0": expected a number of seconds/],
  ['bad wait', { wait: 'maybe' }, /Input "wait" is "maybe": expected true or false/],
  ['bad retries', { retries: '-1' }, /Input "retries" is "-1": expected a whole number/],
  ['image on a database', { resource: 'redis', id: 'rd-cache', 'docker-image': 'redis:7' }, /Input "docker-image" is "redis:7": only applications have an image/],
  ['registry login without image', { 'registry-username': 'bot' }, /Input "registry-username" is "bot": only used together with docker-image/],
  ['bad env line', { env: 'GOOD=1\nnot a pair' }, /Input "env": line 2 has no KEY=value/],
  ['bad env strategy', { env: 'A=1', 'env-strategy': 'append' }, /Input "env-strategy" is "append": expected one of merge, replace/],
  ['env-strategy without env', { 'env-strategy': 'replace' }, /Input "env-strategy" is "replace": only used together with env\.$/],
  ['environment with id', { environment: 'production' }, /Input "environment" is "production": only used with project and name, not with id\.$/],
  [
    'env of only comments with replace',
    { env: '# NODE_ENV=production\n\n# LOG_LEVEL=info', 'env-strategy': 'replace' },
    /Input "env" holds only comments and blank lines: with env-strategy replace that would delete every variable/
  ],
  ['a key twice in env', { env: 'A=1\nB=2\nA=3' }, /Input "env": A is set more than once \(lines 1, 3\)\. Expected lines KEY=value, each key once/],
  [
    'an env quote never closed',
    { env: 'A=1\nTLS_KEY="-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nB=2' },
    /Input "env": line 2: the value of TLS_KEY opens a quote that is never closed\. Expected/
  ],
  ['a tab in api-key', { 'api-key': 'dk-key-with\ttab-0123' }, /Input "api-key" contains a control character \(such as a tab or a line break\): paste the key alone, on one line\.$/],
  ['the tRPC endpoint as url', { url: 'https://dokploy.example.com/api/trpc/' }, /Input "url" is "https:\/\/dokploy.example.com\/api\/trpc\/": expected the Dokploy base URL without \/api\/trpc, here https:\/\/dokploy.example.com\.$/]
]

heading('bad inputs', () => {
  concurrent.each(CASES)('%s', async (_label, change, message) => {
    const emu = await startEmulator()
    const sent = emu.requests.length
    const run = await runAction({ ...valid(emu), ...change })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toMatch(message)
    expect(run.outputs.status).toBe('failed')
    expect(emu.requests.length).toBe(sent)
  })

  concurrent('the message never shows the api-key it refuses', async () => {
    const emu = await startEmulator()
    const run = await runAction({ ...valid(emu), 'api-key': 'dk-key-with\ttab-0123' })
    expect(visibleLog(run)).not.toMatch(/dk-key-with|tab-0123/)
  })
})

/** Inputs that are accepted, with a warning. */
heading('warnings', () => {
  const warnings = (run: ActionRun): string[] => annotations(run, 'warning').map(({ title, message }) => `${title}: ${message}`)
  const sentSince = (emu: Emulator, from: number) => emu.requests.slice(from).map((r) => r.procedure)

  concurrent('env with start is saved, with a warning that only the next deploy applies it', async () => {
    const emu = await startEmulator()
    const from = emu.requests.length
    const run = await runAction({ ...valid(emu), operation: 'start', env: 'FEATURE_FLAG=on' })
    expect(run.code).toBe(0)
    expect(warnings(run)).toEqual(['Dokploy: env is saved, but the service only picks it up at its next deploy: start does not apply it.'])
    expect(sentSince(emu, from)).toEqual(['application.one', 'application.saveEnvironment', 'application.start'])
  })

  concurrent('env of only comments with merge sets nothing and reads nothing, with a warning', async () => {
    const emu = await startEmulator()
    const from = emu.requests.length
    const run = await runAction({ ...valid(emu), operation: 'stop', env: '# FEATURE_FLAG=on\n', 'env-strategy': 'merge' })
    expect(run.code).toBe(0)
    expect(warnings(run)).toEqual(['Dokploy: env holds only comments and blank lines: no variable is set.'])
    // the stop alone: a run by id never reads every project for a link
    expect(sentSince(emu, from)).toEqual(['application.stop'])
  })
})

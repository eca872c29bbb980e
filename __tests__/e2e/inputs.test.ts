import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { startEmulator } from '../emulator/server.js'
import { errorLine, runAction } from './harness.js'

/** Bad input fails the step before any request, naming the input, the value and what is accepted. */
let emu: Awaited<ReturnType<typeof startEmulator>>
beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(() => emu.close())

const valid = (): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web })

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
  ['bad env strategy', { env: 'A=1', 'env-strategy': 'append' }, /Input "env-strategy" is "append": expected one of merge, replace/]
]

describe('bad inputs', () => {
  test.each(CASES)('%s', async (_label, change, message) => {
    const sent = emu.requests.length
    const run = await runAction({ ...valid(), ...change })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toMatch(message)
    expect(run.outputs.status).toBe('failed')
    expect(emu.requests.length).toBe(sent)
  })
})

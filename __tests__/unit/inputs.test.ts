import { describe, expect, it } from '@jest/globals'
import { InputError, headerInputValues, normalizeUrl, readHeaders, readSettings, type GetInput } from '../../src/inputs.js'

const BASE = { url: 'https://dokploy.example.com', 'api-key': 'key-123', id: 'app-1' }

/** `core.getInput` over a plain object: a missing input reads as ''. */
const inputs =
  (values: Record<string, string>): GetInput =>
  (name) =>
    values[name] ?? ''

const ACTIONS_ENV = {
  GITHUB_SHA: 'abcdef0123456789',
  GITHUB_WORKFLOW: 'CD',
  GITHUB_RUN_NUMBER: '7',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '555'
}

const read = (values: Record<string, string>, env: NodeJS.ProcessEnv = ACTIONS_ENV) => readSettings(inputs({ ...BASE, ...values }), env)

/** Runs `fn`, expects an InputError, and returns its message. */
function inputError(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return (error as Error).message
  }
  throw new Error('expected an InputError, nothing was thrown')
}

describe('readSettings defaults', () => {
  it('applies every default when the optional inputs are empty', () => {
    const settings = read({})
    expect(settings).toMatchObject({
      baseUrl: 'https://dokploy.example.com',
      apiKey: 'key-123',
      resource: 'application',
      operation: 'deploy',
      target: { ids: ['app-1'] },
      wait: true,
      waitTimeoutMs: 600_000,
      requestTimeoutMs: 30_000,
      pollIntervalMs: 10_000,
      logLines: 50,
      log: 'live',
      retries: 3,
      verify: 'running',
      verifyTimeoutMs: 120_000,
      warnings: []
    })
    expect(settings.image).toBeUndefined()
    expect(settings.env).toBeUndefined()
  })

  it('treats white space as empty', () => {
    const settings = read({ resource: '  ', operation: ' ', wait: ' ', 'wait-timeout': '  ', retries: ' ' })
    expect(settings).toMatchObject({ resource: 'application', operation: 'deploy', wait: true, waitTimeoutMs: 600_000, retries: 3 })
  })

  it('defaults env-strategy to merge', () => {
    expect(read({ env: 'A=1' }).env).toEqual({ entries: [{ key: 'A', value: '1' }], strategy: 'merge' })
  })

  it('reads explicit values', () => {
    const settings = read({
      resource: 'compose',
      operation: 'stop',
      wait: 'false',
      'wait-timeout': '90',
      'request-timeout': '2.5',
      'poll-interval': '3',
      'log-lines': '0',
      log: 'none',
      retries: '10',
      env: 'A=1',
      'env-strategy': 'replace'
    })
    expect(settings).toMatchObject({
      resource: 'compose',
      operation: 'stop',
      wait: false,
      waitTimeoutMs: 90_000,
      requestTimeoutMs: 2500,
      pollIntervalMs: 3000,
      logLines: 0,
      log: 'none',
      retries: 10,
      env: { strategy: 'replace' }
    })
  })

  it.each([
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    ['on', true],
    ['1', true],
    ['false', false],
    ['No', false],
    ['off', false],
    ['0', false]
  ])('reads wait: %s as %s', (value, expected) => {
    expect(read({ wait: value }).wait).toBe(expected)
  })

  it('takes the default title and description from the GITHUB_* variables', () => {
    const settings = read({})
    expect(settings.title).toBe('abcdef0 · CD #7')
    expect(settings.description).toBe('https://github.com/acme/shop/actions/runs/555')
  })

  it('prefers the title and description inputs, trimmed and clipped', () => {
    const settings = read({ title: '  Release 1.2  ', description: 'd'.repeat(900) })
    expect(settings.title).toBe('Release 1.2')
    expect(settings.description).toHaveLength(500)
  })

  it('reads a project / environment / name target', () => {
    expect(read({ id: '', project: 'shop', environment: 'staging', name: 'web' }).target).toEqual({
      project: 'shop',
      environment: 'staging',
      names: ['web']
    })
    expect(read({ id: '', project: 'shop', name: 'web' }).target).toEqual({ project: 'shop', environment: undefined, names: ['web'] })
  })
})

describe('url normalisation', () => {
  it.each([
    ['https://dokploy.example.com', 'https://dokploy.example.com'],
    ['https://dokploy.example.com/', 'https://dokploy.example.com'],
    ['https://dokploy.example.com/api', 'https://dokploy.example.com'],
    ['https://dokploy.example.com/api/', 'https://dokploy.example.com'],
    ['  https://dokploy.example.com:3000/api//  ', 'https://dokploy.example.com:3000'],
    ['https://example.com/dokploy/api', 'https://example.com/dokploy'],
    ['https://example.com/apis', 'https://example.com/apis']
  ])('%s → %s', (raw, expected) => {
    expect(read({ url: raw }).baseUrl).toBe(expected)
  })

  it('warns about plain http on a remote host', () => {
    const settings = read({ url: 'http://dokploy.example.com' })
    expect(settings.baseUrl).toBe('http://dokploy.example.com')
    expect(settings.warnings).toHaveLength(1)
    expect(settings.warnings[0]).toMatch(/http:\/\/dokploy\.example\.com is plain http/)
  })

  it.each(['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000'])('does not warn for loopback %s', (url) => {
    expect(read({ url }).warnings).toEqual([])
  })

  it('does not warn for https', () => {
    expect(normalizeUrl('https://dokploy.example.com')).toBe('https://dokploy.example.com')
    const warnings: string[] = []
    normalizeUrl('https://dokploy.example.com', warnings)
    expect(warnings).toEqual([])
  })

  it('refuses a scheme other than http(s)', () => {
    const message = inputError(() => read({ url: 'ftp://dokploy.example.com' }))
    expect(message).toContain('"url"')
    expect(message).toContain('ftp://dokploy.example.com')
    expect(message).toMatch(/http:\/\/ or https:\/\//)
  })

  it('refuses credentials in the URL without echoing them', () => {
    const message = inputError(() => read({ url: 'https://admin:hunter2pw@dokploy.example.com' }))
    expect(message).toContain('"url"')
    expect(message).toContain('dokploy.example.com')
    expect(message).toMatch(/credentials/)
    expect(message).not.toContain('hunter2pw')
  })

  it('never echoes URL credentials, whatever else is wrong with the URL', () => {
    const message = inputError(() => read({ url: 'ftp://admin:hunter2pw@dokploy.example.com' }))
    expect(message).toContain('"url"')
    expect(message).not.toContain('hunter2pw')
  })

  it.each([
    ['an @ in the password', 'https://admin:hunter@2pw@dokploy.example.com', ['hunter', '2pw']],
    ['an @ in the password and a wrong scheme', 'ftp://admin:p4ss@w0rd9@dokploy.example.com', ['p4ss', 'w0rd9']],
    ['a / in the password (not a parseable URL)', 'https://admin:pa/ss9word@dokploy.example.com', ['pa/ss', 'ss9word']]
  ])('never echoes any part of URL credentials with %s', (_label, url, parts) => {
    const message = inputError(() => read({ url }))
    expect(message).toContain('"url"')
    for (const part of parts) expect(message).not.toContain(part)
  })

  it.each(['https://dokploy.example.com/?x=1', 'https://dokploy.example.com/api#top'])('refuses a query or fragment: %s', (url) => {
    const message = inputError(() => read({ url }))
    expect(message).toContain('"url"')
    expect(message).toContain(url)
    expect(message).toMatch(/without \?query or #fragment/)
  })

  it.each([
    ['https://dokploy.example.com/api/trpc', 'https://dokploy.example.com'],
    ['https://dokploy.example.com/api/trpc/', 'https://dokploy.example.com'],
    ['https://example.com/dokploy/API/tRPC', 'https://example.com/dokploy']
  ])('refuses the tRPC endpoint %s, naming the base URL to give', (url, base) => {
    const message = inputError(() => read({ url }))
    expect(message).toContain(`Input "url" is "${url}"`)
    expect(message).toContain(`expected the Dokploy base URL without /api/trpc, here ${base}`)
  })

  it('refuses something that is not a URL, and an empty url', () => {
    expect(inputError(() => read({ url: 'dokploy.example.com' }))).toMatch(/Input "url" is "dokploy\.example\.com": expected the Dokploy base URL/)
    expect(inputError(() => read({ url: ' ' }))).toMatch(/Input "url" is empty/)
  })
})

describe('api-key', () => {
  it('is required', () => {
    expect(inputError(() => read({ 'api-key': '' }))).toMatch(/Input "api-key" is empty/)
  })

  it.each([
    ['a tab', 'abc\tdef'],
    ['a line break', 'abc\ndef'],
    ['a carriage return', 'abc\rdef'],
    ['a NUL', 'abc\u0000def'],
    ['an escape', 'abc\u001bdef'],
    ['a DEL', 'abc\u007fdef']
  ])('must not contain a control character (%s), and the message does not echo it', (_label, key) => {
    const message = inputError(() => read({ 'api-key': `  ${key}\n` }))
    expect(message).toBe('Input "api-key" contains a control character (such as a tab or a line break): paste the key alone, on one line.')
    expect(message).not.toContain('abc')
  })

  it('must not contain white space, and the message does not echo it', () => {
    const message = inputError(() => read({ 'api-key': 'abc def' }))
    expect(message).toMatch(/"api-key" contains white space/)
    expect(message).not.toContain('abc def')
  })
})

describe('bad inputs name the input, the value and what is accepted', () => {
  it('unknown resource', () => {
    const message = inputError(() => read({ resource: 'lambda' }))
    expect(message).toContain('"resource"')
    expect(message).toContain('"lambda"')
    expect(message).toContain('application, compose, postgres, mysql, mariadb, mongo, redis')
  })

  it('unknown operation', () => {
    const message = inputError(() => read({ operation: 'rebuild' }))
    expect(message).toContain('"operation"')
    expect(message).toContain('"rebuild"')
    expect(message).toContain('deploy, redeploy, start, stop, reload')
  })

  it('compose has no reload', () => {
    const message = inputError(() => read({ resource: 'compose', operation: 'reload' }))
    expect(message).toContain('"operation"')
    expect(message).toContain('"reload"')
    expect(message).toContain('compose supports deploy, redeploy, start, stop')
  })

  it('databases have no redeploy', () => {
    const message = inputError(() => read({ resource: 'postgres', operation: 'redeploy' }))
    expect(message).toContain('"operation"')
    expect(message).toContain('"redeploy"')
    expect(message).toContain('postgres supports deploy, start, stop, reload')
  })

  it('neither id nor name', () => {
    const message = inputError(() => read({ id: '' }))
    expect(message).toContain('"id"')
    expect(message).toContain('"name"')
    expect(message).toMatch(/give the resource's id, or its project and name/)
  })

  it('id together with name (or project)', () => {
    const message = inputError(() => read({ id: 'app-1', project: 'shop', name: 'web' }))
    expect(message).toContain('"id"')
    expect(message).toContain('"app-1"')
    expect(message).toMatch(/either id, or project and name, not both/)
    expect(message).toContain('"web"')
    expect(() => read({ id: 'app-1', project: 'shop' })).toThrow(InputError)
  })

  it('an id with characters no Dokploy id has', () => {
    const message = inputError(() => read({ id: 'app 1/../x' }))
    expect(message).toContain('"id"')
    expect(message).toContain('"app 1/../x"')
    expect(message).toMatch(/expected a Dokploy ID/)
  })

  it('name without project', () => {
    const message = inputError(() => read({ id: '', name: 'web' }))
    expect(message).toContain('"project"')
    expect(message).toMatch(/is empty/)
    expect(message).toContain('the project that holds "web"')
  })

  it.each([
    ['wait-timeout', 'ten'],
    ['wait-timeout', '0'],
    ['wait-timeout', '-5'],
    ['wait-timeout', '0.4'],
    ['wait-timeout', '1e3'],
    ['wait-timeout', '99999'],
    ['request-timeout', 'abc'],
    ['request-timeout', '0'],
    ['request-timeout', '-1'],
    ['poll-interval', '0'],
    ['poll-interval', '-10'],
    ['poll-interval', '301']
  ])('%s: %s', (name, value) => {
    const message = inputError(() => read({ [name]: value }))
    expect(message).toContain(`"${name}"`)
    expect(message).toContain(`"${value}"`)
    expect(message).toMatch(/expected a number of seconds from 1 to \d+/)
  })

  it.each([
    ['log-lines', '-1', /whole number from 0 to 10000/],
    ['log-lines', '2.5', /whole number from 0 to 10000/],
    ['log-lines', '10001', /whole number from 0 to 10000/],
    ['retries', 'many', /whole number from 0 to 10/],
    ['retries', '11', /whole number from 0 to 10/],
    ['log', 'stream', /expected one of live, tail, none/],
    ['log', 'Live', /expected one of live, tail, none/]
  ])('%s: %s', (name, value, accepted) => {
    const message = inputError(() => read({ [name]: value }))
    expect(message).toContain(`"${name}"`)
    expect(message).toContain(`"${value}"`)
    expect(message).toMatch(accepted)
  })

  it('bad verify and verify-timeout values name the input, the value and what is accepted', () => {
    expect(inputError(() => read({ verify: 'healthy' }))).toBe('Input "verify" is "healthy": expected one of running, none.')
    expect(inputError(() => read({ 'verify-timeout': '0' }))).toBe('Input "verify-timeout" is "0": expected a number of seconds from 1 to 3600.')
    expect(read({ verify: 'none', 'verify-timeout': '30' })).toMatchObject({ verify: 'none', verifyTimeoutMs: 30_000 })
  })

  it('verify-url: an http(s) URL or a path; verify-text only with it; credentials never echoed', () => {
    expect(read({ 'verify-url': 'https://web.example.com/version', 'verify-text': 'abc123' })).toMatchObject({ verifyUrl: 'https://web.example.com/version', verifyText: 'abc123' })
    expect(read({ 'verify-url': '/health' })).toMatchObject({ verifyUrl: '/health', verifyText: undefined })
    expect(inputError(() => read({ 'verify-text': 'abc' }))).toBe('Input "verify-text" is "abc": only used together with verify-url.')
    expect(inputError(() => read({ 'verify-url': 'ftp://x.example.com' }))).toBe('Input "verify-url" is "ftp://x.example.com": expected an http:// or https:// URL.')
    expect(inputError(() => read({ 'verify-url': 'https://user:pw@x.example.com' }))).toBe('Input "verify-url" is "https://***@x.example.com": credentials in the URL are not accepted.')
    expect(inputError(() => read({ resource: 'postgres', 'verify-url': '/health' }))).toMatch(/^Input "verify-url" is "\/health": a path is joined to the service's public URL, and postgres has none/)
    expect(inputError(() => read({ 'verify-url': 'health' }))).toMatch(/expected an absolute http:\/\/ or https:\/\/ URL, or a path such as \/health/)
  })

  it('on-failure rollback: an application deploy only; rollback takes no env', () => {
    expect(read({ 'on-failure': 'rollback' })).toMatchObject({ onFailure: 'rollback' })
    expect(read({})).toMatchObject({ onFailure: 'none' })
    expect(inputError(() => read({ resource: 'compose', 'on-failure': 'rollback' }))).toBe('Input "on-failure" is "rollback": rolls back a failed deploy of an application (Dokploy has rollbacks for applications only), not a deploy of compose.')
    expect(inputError(() => read({ operation: 'rollback', env: 'A=1' }))).toMatch(/^Input "env" is not used with operation rollback/)
    expect(inputError(() => read({ resource: 'compose', operation: 'rollback' }))).toMatch(/^Input "operation" is "rollback": compose supports deploy, redeploy, start, stop, follow\.$/)
  })

  it('bad wait value', () => {
    const message = inputError(() => read({ wait: 'maybe' }))
    expect(message).toContain('"wait"')
    expect(message).toContain('"maybe"')
    expect(message).toMatch(/expected true or false/)
  })

  it('bad env-strategy, with and without env', () => {
    for (const env of ['', 'A=1']) {
      const message = inputError(() => read({ env, 'env-strategy': 'overwrite' }))
      expect(message).toContain('"env-strategy"')
      expect(message).toContain('"overwrite"')
      expect(message).toContain('merge, replace')
    }
  })

  it('environment together with id', () => {
    const message = inputError(() => read({ id: 'app-1', environment: 'staging' }))
    expect(message).toBe('Input "environment" is "staging": only used with project and name, not with id.')
  })

  it.each(['merge', 'replace'])('env-strategy %s without env', (strategy) => {
    for (const env of ['', ' \n ']) {
      const message = inputError(() => read({ env, 'env-strategy': strategy }))
      expect(message).toBe(`Input "env-strategy" is "${strategy}": only used together with env.`)
    }
  })

  it('env of only comments and blank lines with replace, which would delete every variable', () => {
    const message = inputError(() => read({ env: '# OLD_TOKEN=commented-secret\n\n  # another', 'env-strategy': 'replace' }))
    expect(message).toBe('Input "env" holds only comments and blank lines: with env-strategy replace that would delete every variable. Give the KEY=value lines to keep.')
  })

  it('a key set twice in env, named with its lines', () => {
    const message = inputError(() => read({ env: 'A=first-secret\nB=2\nA=second-secret' }))
    expect(message).toContain('Input "env": A is set more than once (lines 1, 3).')
    expect(message).toMatch(/each key once/)
    expect(message).not.toMatch(/first-secret|second-secret/)
  })

  it('a quote in env that is never closed, named by line and key only', () => {
    const message = inputError(() => read({ env: 'A=1\nTLS_KEY="-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nB=2' }))
    expect(message).toContain('Input "env": line 2: the value of TLS_KEY opens a quote that is never closed.')
    expect(message).not.toMatch(/BEGIN|MIIE|B=2/)
  })

  it('bad env lines are reported by number, never by content', () => {
    const message = inputError(() => read({ env: 'GOOD=1\nBAD KEY=hunter2-value\njust-a-secret-token\n=orphan-secret' }))
    expect(message).toContain('"env"')
    expect(message).toMatch(/line 2/)
    expect(message).toMatch(/line 2 does not start with a valid variable name/)
    expect(message).not.toContain('BAD KEY')
    expect(message).toMatch(/line 3 has no KEY=value/)
    expect(message).toMatch(/line 4 has no KEY=value/)
    expect(message).toMatch(/Expected lines KEY=value/)
    expect(message).not.toContain('hunter2-value')
    expect(message).not.toContain('just-a-secret-token')
    expect(message).not.toContain('orphan-secret')
  })

  it('docker-image on a resource other than an application', () => {
    const message = inputError(() => read({ resource: 'compose', 'docker-image': 'ghcr.io/acme/web:1' }))
    expect(message).toContain('"docker-image"')
    expect(message).toContain('"ghcr.io/acme/web:1"')
    expect(message).toMatch(/only applications have an image, not compose/)
  })

  it('docker-image with white space', () => {
    const message = inputError(() => read({ 'docker-image': 'ghcr.io/acme/web 1' }))
    expect(message).toContain('"docker-image"')
    expect(message).toMatch(/expected an image reference/)
  })

  it.each([
    ['registry-url', 'ghcr.io', '"ghcr.io"'],
    ['registry-username', 'bot', '"bot"']
  ])('%s without docker-image', (name, value, shown) => {
    const message = inputError(() => read({ [name]: value }))
    expect(message).toContain(`"${name}"`)
    expect(message).toContain(shown)
    expect(message).toMatch(/only used together with docker-image/)
  })

  it('registry-password without docker-image, without echoing the password', () => {
    const message = inputError(() => read({ 'registry-password': 'ghp_secretpassword' }))
    expect(message).toContain('"registry-password"')
    expect(message).toMatch(/only used together with docker-image/)
    expect(message).not.toContain('ghp_secretpassword')
  })

  it('docker-image with stop', () => {
    const message = inputError(() => read({ operation: 'stop', 'docker-image': 'ghcr.io/acme/web:1' }))
    expect(message).toContain('"docker-image"')
    expect(message).toContain('"ghcr.io/acme/web:1"')
    expect(message).toMatch(/only used with operation deploy, not stop/)
  })

  it('clips a very long value in the message', () => {
    const message = inputError(() => read({ resource: 'x'.repeat(500) }))
    expect(message.length).toBeLessThan(300)
    expect(message).toContain('…')
  })
})

describe('env', () => {
  const PEM = '"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"'

  it('takes a quoted value over several lines as one entry', () => {
    expect(read({ env: `TLS_KEY=${PEM}\nOTHER=1`, 'env-strategy': 'replace' }).env).toEqual({
      entries: [
        { key: 'TLS_KEY', value: PEM },
        { key: 'OTHER', value: '1' }
      ],
      strategy: 'replace'
    })
  })

  it('with merge, an env of only comments sets nothing, with a warning', () => {
    for (const strategy of ['', 'merge']) {
      const settings = read({ env: '# A=1\n\n# B=2', 'env-strategy': strategy })
      expect(settings.env).toBeUndefined()
      expect(settings.warnings).toEqual(['env holds only comments and blank lines: no variable is set.'])
    }
  })

  it.each(['start', 'stop', 'reload'])('is saved with %s, with a warning that only a deploy applies it', (operation) => {
    const settings = read({ operation, env: 'A=1' })
    expect(settings.env).toEqual({ entries: [{ key: 'A', value: '1' }], strategy: 'merge' })
    expect(settings.warnings).toEqual([`env is saved, but the service only picks it up at its next deploy: ${operation} does not apply it.`])
  })

  it.each(['deploy', 'redeploy'])('is applied by %s without a warning', (operation) => {
    expect(read({ operation, env: 'A=1' }).warnings).toEqual([])
  })

  it('warns nothing about start when there is no env', () => {
    expect(read({ operation: 'start' }).warnings).toEqual([])
  })
})

describe('docker-image', () => {
  it('is read with its registry settings', () => {
    const settings = read({
      'docker-image': 'ghcr.io/acme/web:1.2.3',
      'registry-url': 'ghcr.io',
      'registry-username': 'bot',
      'registry-password': 'pw'
    })
    expect(settings.image).toEqual({ dockerImage: 'ghcr.io/acme/web:1.2.3', registryUrl: 'ghcr.io', username: 'bot', password: 'pw' })
    expect(settings.operation).toBe('deploy')
  })

  it('leaves unset registry settings undefined', () => {
    expect(read({ 'docker-image': 'nginx:1.27' }).image).toEqual({
      dockerImage: 'nginx:1.27',
      registryUrl: undefined,
      username: undefined,
      password: undefined
    })
  })

  it('turns redeploy into deploy, with a warning, because redeploy pulls nothing', () => {
    const settings = read({ operation: 'redeploy', 'docker-image': 'ghcr.io/acme/web:2' })
    expect(settings.operation).toBe('deploy')
    expect(settings.warnings).toHaveLength(1)
    expect(settings.warnings[0]).toMatch(/redeploy does not pull images/)
  })
})

describe('several targets', () => {
  it('reads ids one per line or separated by commas, blanks dropped', () => {
    expect(read({ id: 'a1, b2\n\n c3 ,' }).target).toEqual({ ids: ['a1', 'b2', 'c3'] })
  })

  it('reads names the same way, and * alone', () => {
    expect(read({ id: '', project: 'shop', name: 'api, web\nworker' }).target).toEqual({ project: 'shop', environment: undefined, names: ['api', 'web', 'worker'] })
    expect(read({ id: '', project: 'shop', environment: 'staging', name: ' * ' }).target).toEqual({ project: 'shop', environment: 'staging', names: '*' })
  })

  it('refuses a service given twice', () => {
    expect(inputError(() => read({ id: 'a1,a1' }))).toContain('each service once')
    expect(inputError(() => read({ id: '', project: 'shop', name: 'web\nweb' }))).toContain('each service once')
  })

  it('resource database: with a lookup by name, for the operations every database kind has', () => {
    expect(read({ id: '', resource: 'database', project: 'shop', name: '*', operation: 'stop' })).toMatchObject({ resource: 'database', operation: 'stop' })
    expect(inputError(() => read({ resource: 'database' }))).toContain('database is for a lookup by name')
    expect(inputError(() => read({ id: '', resource: 'database', project: 'shop', name: 'db', operation: 'redeploy' }))).toContain('database supports deploy, start, stop, reload')
  })

  it('libsql is a resource with the database operations', () => {
    expect(read({ resource: 'libsql', operation: 'reload' })).toMatchObject({ resource: 'libsql', operation: 'reload' })
    expect(inputError(() => read({ resource: 'libsql', operation: 'redeploy' }))).toContain('libsql supports deploy, start, stop, reload')
  })
})

describe('github-deployment', () => {
  it('is off by default, whatever github-token holds (its default is the runner\'s token)', () => {
    expect(read({ 'github-token': 'ghs_x' }).github).toBeUndefined()
  })

  it('on: the token, and the environment when given', () => {
    expect(read({ 'github-deployment': 'true', 'github-token': ' ghs_x ' }).github).toEqual({ token: 'ghs_x', environment: undefined, deployments: true, statuses: false })
    expect(read({ 'github-deployment': 'yes', 'github-token': 'ghs_x', 'github-environment': 'prod eu' }).github).toEqual({ token: 'ghs_x', environment: 'prod eu', deployments: true, statuses: false })
  })

  it('records a deploy followed to its end', () => {
    expect(inputError(() => read({ 'github-deployment': 'true', 'github-token': 't', operation: 'reload' }))).toContain('needs operation deploy, redeploy or follow, not reload')
    expect(inputError(() => read({ 'github-deployment': 'true', 'github-token': 't', wait: 'false' }))).toContain('needs wait: true')
  })

  it('commit-status alone: the token and the run\'s commit, for any operation', () => {
    const settings = readSettings((name) => ({ url: 'https://d.example.com', 'api-key': 'k', id: 'A1', operation: 'stop', 'commit-status': 'true', 'github-token': 'ghs_x' })[name] ?? '', { GITHUB_SHA: 'ABCDEF0123456789abcdef0123456789ABCDEF01' })
    expect(settings.github).toEqual({ token: 'ghs_x', environment: undefined, deployments: false, statuses: true })
    expect(settings.commit).toBe('abcdef0123456789abcdef0123456789abcdef01')
  })

  it('commit: a whole SHA, only where it is used', () => {
    expect(inputError(() => read({ operation: 'follow', commit: 'abc1234' }))).toContain('never a prefix')
    expect(inputError(() => read({ commit: 'abcdef0123456789abcdef0123456789abcdef01' }))).toContain('only used with operation follow or commit-status: true')
    expect(inputError(() => read({ operation: 'follow', wait: 'false', commit: 'abcdef0123456789abcdef0123456789abcdef01' }))).toContain('needs wait: true')
  })

  it('needs a token of one line, never echoed', () => {
    expect(inputError(() => read({ 'github-deployment': 'true' }))).toContain('"github-token" is empty')
    const message = inputError(() => read({ 'github-deployment': 'true', 'github-token': 'ghs_a b' }))
    expect(message).toContain('white space')
    expect(message).not.toContain('ghs_a')
  })

  it('github-environment only with github-deployment, one line', () => {
    expect(inputError(() => read({ 'github-environment': 'prod' }))).toContain('only used with github-deployment: true')
    expect(inputError(() => read({ 'github-deployment': 'true', 'github-token': 't', 'github-environment': 'a\nb' }))).toContain('"github-environment"')
  })
})

describe('headers', () => {
  it('one Name: value per line; blank lines skipped; values may hold colons; none by default', () => {
    expect(read({}).headers).toEqual({})
    expect(read({ headers: 'CF-Access-Client-Id: abc.access\n\n  CF-Access-Client-Secret:  s3:cr:et  \n' }).headers).toEqual({
      'CF-Access-Client-Id': 'abc.access',
      'CF-Access-Client-Secret': 's3:cr:et'
    })
  })

  it('every value is found for masking, a line without a colon whole', () => {
    expect(headerInputValues('A: one\nno colon here\n\nB:two:three')).toEqual(['one', 'no colon here', 'two:three'])
  })

  it.each([
    ['no colon', 'X-Token secret-value', 'line 1 has no colon'],
    ['a name with a space', 'X Token: secret-value', 'line 1: the part before the colon is not a header name'],
    ['a name with a non-ASCII letter', 'X-Tökén: secret-value', 'line 1: the part before the colon is not a header name'],
    ['the key header', 'A: 1\nX-API-Key: secret-value', 'line 2: X-API-Key is set by the action'],
    ['a WebSocket header', 'Sec-WebSocket-Key: secret-value', 'line 1: Sec-WebSocket-Key is set by the action'],
    ['an empty value', 'X-Token:   ', 'line 1: X-Token has no value'],
    ['a control character', 'X-Token: secret\u0007value', 'line 1: the value of X-Token contains a control character'],
    ['a name twice', 'X-Token: secret-value\nx-token: secret-value', 'line 2: x-token is given twice']
  ])('%s is refused, naming the input and the line, never the value', (_name, text, expected) => {
    const message = inputError(() => readHeaders(text))
    expect(message).toContain(`Input "headers", ${expected}`)
    expect(message).not.toContain('secret')
    expect(message).toContain('Name: value')
  })
})

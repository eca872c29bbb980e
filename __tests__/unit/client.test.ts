import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { RawRequest, RawResponse } from '../../src/dokploy/transport.js'
import type { DokployError } from '../../src/dokploy/errors.js'

const setSecret = jest.fn<(secret: string) => void>()
jest.unstable_mockModule('@actions/core', () => ({ setSecret, info: jest.fn(), warning: jest.fn(), debug: jest.fn() }))

const { DokployClient } = await import('../../src/dokploy/client.js')
const { DokployError: DokployErrorClass, ShapeError } = await import('../../src/dokploy/errors.js')
const { TransportError } = await import('../../src/dokploy/transport.js')
const { registerSecret, redact } = await import('../../src/secrets.js')

type Answer = RawResponse | Error | ((request: RawRequest) => RawResponse)

/** A response; an object body is JSON-encoded and gets a JSON content type unless headers say otherwise. */
function reply(status: number, body: unknown = '', headers: Record<string, string> = {}): RawResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const all: Record<string, string> = {
    ...(typeof body === 'string' ? {} : { 'content-type': 'application/json' }),
    ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  }
  return { status, header: (name) => all[name.toLowerCase()] ?? null, text, bytes: Buffer.byteLength(text) }
}

const ok = (json: unknown): RawResponse => reply(200, { result: { data: { json } } })
const VOID = reply(200, { result: { data: { json: null, meta: { values: ['undefined'], v: 1 } } } })

const trpcError = (status: number, code: string, message: string, extra: Record<string, unknown> = {}): RawResponse =>
  reply(status, { error: { json: { message, code: -32000, data: { code, httpStatus: status, path: 'x', zodError: null, ...extra } } } })

const html = (status: number, title: string, headers: Record<string, string> = {}): RawResponse =>
  reply(status, `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`, {
    'content-type': 'text/html; charset=UTF-8',
    ...headers
  })

/** A transport that answers from a script, one answer per request, and records the requests. */
function fake(...answers: Answer[]) {
  const requests: RawRequest[] = []
  const transport = async (request: RawRequest): Promise<RawResponse> => {
    requests.push(request)
    const answer = answers.length > 1 ? answers.shift() : answers[0]
    if (answer === undefined) throw new Error('no answer scripted')
    if (answer instanceof Error) throw answer
    return typeof answer === 'function' ? answer(request) : answer
  }
  return { transport, requests }
}

function client(transport: (request: RawRequest) => Promise<RawResponse>, retries = 0) {
  const delays: number[] = []
  const c = new DokployClient({
    baseUrl: 'https://dokploy.example.com',
    apiKey: 'test-key',
    requestTimeoutMs: 30_000,
    retries,
    transport,
    clock: { now: () => Date.now(), sleep: async (ms: number) => void delays.push(ms) },
    backoff: { baseMs: 1000, capMs: 10_000, random: () => 0 }
  })
  return { c, delays }
}

const anything = (value: unknown): unknown => value

async function failure(promise: Promise<unknown>): Promise<DokployError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DokployErrorClass)
    return error as DokployError
  }
  throw new Error('expected a DokployError, the call succeeded')
}

describe('requests', () => {
  it('sends a query as GET /api/trpc/<proc>?input= with the URL-encoded {"json": …}', async () => {
    const { transport, requests } = fake(ok([]))
    await client(transport).c.query('deployment.all', { applicationId: 'A 1&x' }, anything)
    expect(requests).toHaveLength(1)
    const [request] = requests
    expect(request.method).toBe('GET')
    expect(request.body).toBeUndefined()
    const url = new URL(request.url)
    expect(`${url.origin}${url.pathname}`).toBe('https://dokploy.example.com/api/trpc/deployment.all')
    expect(request.url).toContain(`?input=${encodeURIComponent('{"json":{"applicationId":"A 1&x"}}')}`)
    expect(JSON.parse(url.searchParams.get('input') ?? '')).toEqual({ json: { applicationId: 'A 1&x' } })
    expect(request.headers['x-api-key']).toBe('test-key')
    expect(request.headers['content-type']).toBeUndefined()
    expect(request.timeoutMs).toBe(30_000)
  })

  it('sends a query without input with no query string', async () => {
    const { transport, requests } = fake(ok([]))
    await client(transport).c.query('project.all', undefined, anything)
    expect(requests[0].url).toBe('https://dokploy.example.com/api/trpc/project.all')
  })

  it('sends a mutation as POST with body {"json": …}, a JSON content type and the x-api-key header', async () => {
    const { transport, requests } = fake(VOID)
    await client(transport).c.mutate('application.deploy', { applicationId: 'A1', title: 'CI run 42' }, anything)
    const [request] = requests
    expect(request.method).toBe('POST')
    expect(request.url).toBe('https://dokploy.example.com/api/trpc/application.deploy')
    expect(JSON.parse(request.body ?? '')).toEqual({ json: { applicationId: 'A1', title: 'CI run 42' } })
    expect(request.headers['x-api-key']).toBe('test-key')
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.headers.authorization).toBeUndefined()
  })

  it('gives a long call its own timeout', async () => {
    const { transport, requests } = fake(ok({}))
    await client(transport).c.mutate('postgres.deploy', { postgresId: 'D1' }, anything, { timeoutMs: 900_000 })
    expect(requests[0].timeoutMs).toBe(900_000)
  })

  it('counts requests and bytes', async () => {
    const { transport } = fake(ok(true))
    const { c } = client(transport)
    await c.mutate('application.reload', { applicationId: 'A1', appName: 'web-x' }, anything)
    expect(c.stats.requests).toBe(1)
    expect(c.stats.bytesSent).toBe(Buffer.byteLength('{"json":{"applicationId":"A1","appName":"web-x"}}'))
    expect(c.stats.bytesReceived).toBe(Buffer.byteLength('{"result":{"data":{"json":true}}}'))
  })
})

describe('replies', () => {
  it('unwraps the success envelope and hands the value to extract', async () => {
    const { transport } = fake(ok({ applicationId: 'A1', name: 'web', env: 'SECRET=1' }))
    const name = await client(transport).c.query('application.one', { applicationId: 'A1' }, (value) => (value as { name: string }).name)
    expect(name).toBe('web')
  })

  it('returns null for a void mutation', async () => {
    const { transport } = fake(VOID)
    const seen: unknown[] = []
    await client(transport).c.mutate('application.deploy', { applicationId: 'A1' }, (value) => seen.push(value))
    expect(seen).toEqual([null])
  })

  it('returns undefined for an empty 200 on a mutation', async () => {
    const { transport } = fake(reply(200, '', { 'content-type': 'application/json' }))
    const seen: unknown[] = []
    await client(transport).c.mutate('application.deploy', { applicationId: 'A1' }, (value) => seen.push(value))
    expect(seen).toEqual([undefined])
  })

  it('retries an empty 200 on a query (a query always has a value), then names it', async () => {
    const { transport, requests } = fake(reply(200, '', { 'content-type': 'application/json' }))
    const { c } = client(transport, 1)
    await expect(c.query('deployment.all', { applicationId: 'A1' }, (value) => value)).rejects.toThrow(
      'Dokploy answered deployment.all with an empty body (200, application/json).'
    )
    expect(requests).toHaveLength(2)
  })

  it('turns a ShapeError from extract into a bad-shape DokployError', async () => {
    const { transport } = fake(ok({ unexpected: true }))
    const error = await failure(
      client(transport).c.query('deployment.all', { applicationId: 'A1' }, () => {
        throw new ShapeError('a list of deployments')
      })
    )
    expect(error.failure).toBe('bad-shape')
    expect(error.message).toContain('a list of deployments')
    expect(error.message).toContain('deployment.all')
  })
})

describe('error mapping', () => {
  it('401 on the first request: the key is rejected', async () => {
    const { transport } = fake(trpcError(401, 'UNAUTHORIZED', 'Unauthorized'))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.failure).toBe('unauthorized')
    expect(error.status).toBe(401)
    expect(error.message).toMatch(/rejected the API key \(401\) on project\.all/)
    expect(error.message).toMatch(/valid, enabled, unexpired/)
    expect(error.message).not.toMatch(/accepted request/)
  })

  it('401 after a successful request: most likely the rate limit', async () => {
    const { transport } = fake(ok([]), trpcError(401, 'UNAUTHORIZED', 'Unauthorized'))
    const { c } = client(transport)
    await c.query('project.all', undefined, anything)
    const error = await failure(c.query('deployment.all', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('unauthorized')
    expect(error.message).toMatch(/after 1 accepted request\(s\)/)
    expect(error.message).toMatch(/rate limit/)
  })

  it('401 "Permission denied": quotes the message and names the id', async () => {
    const { transport } = fake(trpcError(401, 'UNAUTHORIZED', 'Permission denied'))
    const error = await failure(client(transport).c.mutate('application.deploy', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('unauthorized')
    expect(error.message).toContain('"Permission denied"')
    expect(error.message).toContain('applicationId "A1"')
    expect(error.message).toMatch(/lacks rights/)
  })

  it('REST-style 401 body {"message":"Unauthorized"} is an unauthorized error too', async () => {
    const { transport } = fake(reply(401, { message: 'Unauthorized' }))
    expect((await failure(client(transport).c.query('project.all', undefined, anything))).failure).toBe('unauthorized')
  })

  it('HTML 403 with cf-mitigated: Cloudflare bot protection', async () => {
    const { transport } = fake(html(403, 'Just a moment...', { 'cf-mitigated': 'challenge' }))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.failure).toBe('cloudflare')
    expect(error.status).toBe(403)
    expect(error.message).toMatch(/Cloudflare/)
    expect(error.message).toContain('challenge')
  })

  it('JSON 403 with cf-mitigated: Cloudflare as well', async () => {
    const { transport } = fake(reply(403, { message: 'blocked' }, { 'cf-mitigated': 'challenge' }))
    expect((await failure(client(transport).c.query('project.all', undefined, anything))).failure).toBe('cloudflare')
  })

  it('a redirect to a cloudflareaccess.com login page: Cloudflare Access, and the headers input to get through', async () => {
    const { transport } = fake({ status: 302, header: (name) => (name === 'location' ? 'https://acme.cloudflareaccess.com/cdn-cgi/access/login/dokploy.example.com?kid=1' : null), text: '', bytes: 0 })
    const error = await failure(client(transport, 3).c.query('project.all', undefined, anything))
    expect(error.failure).toBe('cloudflare')
    expect(error.message).toMatch(/^Cloudflare Access stands in front of Dokploy: it answered project\.all with a 302 redirect to its login page at acme\.cloudflareaccess\.com/)
    expect(error.message).toContain('headers input')
    expect(error.message).toContain('CF-Access-Client-Secret')
  })

  it('a redirect elsewhere is still a redirect', async () => {
    const { transport } = fake({ status: 301, header: (name) => (name === 'location' ? 'https://dokploy.example.com/api/trpc/project.all' : null), text: '', bytes: 0 })
    expect((await failure(client(transport).c.query('project.all', undefined, anything))).failure).toBe('redirect')
  })

  it('Cloudflare Access’s own 403 page: the token in headers is missing, wrong or not allowed', async () => {
    const { transport } = fake(html(403, 'Forbidden · Cloudflare Access'))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.failure).toBe('cloudflare')
    expect(error.message).toMatch(/^Cloudflare Access refused project\.all \(403, its own page, not Dokploy's\)/)
    expect(error.message).toContain('headers input')
  })

  it('the headers input goes on every request; the action’s own headers win', async () => {
    const { transport, requests } = fake(reply(200, { result: { data: { json: [] } } }))
    const c = new DokployClient({
      baseUrl: 'https://dokploy.example.com',
      apiKey: 'test-key',
      headers: { 'CF-Access-Client-Id': 'id-1', 'CF-Access-Client-Secret': 'secret-1' },
      requestTimeoutMs: 30_000,
      retries: 0,
      transport
    })
    await c.query('project.all', undefined, anything)
    await c.mutate('application.deploy', { applicationId: 'A1' }, anything)
    for (const request of requests) {
      expect(request.headers).toMatchObject({ 'CF-Access-Client-Id': 'id-1', 'CF-Access-Client-Secret': 'secret-1', 'x-api-key': 'test-key' })
    }
    expect(requests).toHaveLength(2)
  })

  it('403 FORBIDDEN from Dokploy: another organisation', async () => {
    const { transport } = fake(trpcError(403, 'FORBIDDEN', 'You are not allowed to access this environment'))
    const error = await failure(client(transport).c.query('environment.one', { environmentId: 'E9' }, anything))
    expect(error.failure).toBe('forbidden')
    expect(error.message).toMatch(/another organisation/)
  })

  it('404 NOT_FOUND on a mutation: says to check the id and names applicationId', async () => {
    const { transport } = fake(trpcError(404, 'NOT_FOUND', 'Application not found'))
    const error = await failure(client(transport).c.mutate('application.deploy', { applicationId: 'nope-1', title: 't' }, anything))
    expect(error.failure).toBe('not-found')
    expect(error.status).toBe(404)
    expect(error.message).toMatch(/check the id/)
    expect(error.message).toContain('applicationId "nope-1"')
    expect(error.message).toContain('"Application not found"')
    expect(error.message).not.toContain('title')
  })

  it('404 NOT_FOUND on a query (application.one with a wrong id): names applicationId', async () => {
    const { transport } = fake(trpcError(404, 'NOT_FOUND', 'Application not found'))
    const error = await failure(client(transport).c.query('application.one', { applicationId: 'nope-1' }, anything))
    expect(error.failure).toBe('not-found')
    expect(error.message).toMatch(/check the id/)
    expect(error.message).toContain('applicationId "nope-1"')
  })

  it('404 No procedure found: the server is too old', async () => {
    const { transport } = fake(trpcError(404, 'NOT_FOUND', 'No procedure found on path "deployment.queueList"'))
    const error = await failure(client(transport).c.query('deployment.queueList', undefined, anything))
    expect(error.failure).toBe('no-procedure')
    expect(error.message).toMatch(/no deployment\.queueList/)
    expect(error.message).toMatch(/upgrade Dokploy/)
  })

  it('400 with zodError lists the fieldErrors', async () => {
    const { transport } = fake(
      trpcError(400, 'BAD_REQUEST', '[{"code":"too_small"}]', {
        zodError: { formErrors: [], fieldErrors: { applicationId: ['Too small: expected string to have >=1 characters'], buildSecrets: ['Required'] } }
      })
    )
    const error = await failure(client(transport).c.mutate('application.saveEnvironment', { applicationId: '' }, anything))
    expect(error.failure).toBe('bad-request')
    expect(error.status).toBe(400)
    expect(error.message).toContain('applicationId: Too small: expected string to have >=1 characters')
    expect(error.message).toContain('buildSecrets: Required')
  })

  it('400 without zodError quotes the message', async () => {
    const { transport } = fake(trpcError(400, 'BAD_REQUEST', 'Deployment cancellation only available in cloud version'))
    const error = await failure(client(transport).c.mutate('application.cancelDeployment', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('bad-request')
    expect(error.message).toContain('"Deployment cancellation only available in cloud version"')
  })

  it('500 quotes Dokploy\'s message', async () => {
    const { transport } = fake(trpcError(500, 'INTERNAL_SERVER_ERROR', 'Error deploying postgres: port is already allocated'))
    const error = await failure(client(transport).c.mutate('postgres.deploy', { postgresId: 'D1' }, anything))
    expect(error.failure).toBe('server-error')
    expect(error.status).toBe(500)
    expect(error.delivery).toBe('processed')
    expect(error.message).toContain('"Error deploying postgres: port is already allocated"')
    expect(error.message).toContain('postgresId "D1"')
  })

  it('405: a proxy rewrote the method', async () => {
    const { transport } = fake(trpcError(405, 'METHOD_NOT_SUPPORTED', 'Unsupported GET-request to mutation procedure'))
    const error = await failure(client(transport).c.mutate('application.deploy', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('method')
    expect(error.message).toMatch(/https:\/\//)
  })

  it.each([301, 302, 307, 308])('%i redirect: names the status and the Location', async (status) => {
    const { transport } = fake(reply(status, '', { location: 'https://dokploy.example.com/api/trpc/application.deploy' }))
    const error = await failure(client(transport).c.mutate('application.deploy', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('redirect')
    expect(error.status).toBe(status)
    expect(error.message).toContain(`${status} redirect to https://dokploy.example.com/api/trpc/application.deploy`)
  })

  it('a redirect without a Location says so', async () => {
    const { transport } = fake(reply(301))
    expect((await failure(client(transport).c.query('project.all', undefined, anything))).message).toContain('(no Location header)')
  })

  it('HTML 502 from a proxy: names the status and the page title', async () => {
    const { transport } = fake(html(502, '502 Bad Gateway'))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.failure).toBe('gateway')
    expect(error.status).toBe(502)
    expect(error.message).toContain('502')
    expect(error.message).toContain('"502 Bad Gateway"')
    expect(error.message).not.toContain('<h1>')
  })

  it('HTML 200: something other than Dokploy answered', async () => {
    const { transport } = fake(html(200, 'Welcome to nginx!'))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.failure).toBe('not-json')
    expect(error.message).toContain('200 text/html')
    expect(error.message).toContain('"Welcome to nginx!"')
    expect(error.message).toMatch(/check the url input/)
  })

  it('truncated JSON in a 200: cut short', async () => {
    const { transport } = fake(reply(200, '{"result":{"data":{"json":[{"deploymentId":"D', { 'content-type': 'application/json' }))
    const error = await failure(client(transport).c.query('deployment.all', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('truncated')
    expect(error.message).toMatch(/cut short/)
  })

  it('a JSON object that is not a tRPC envelope: bad shape, with a hint about the url', async () => {
    const { transport } = fake(reply(200, { ok: true }))
    const error = await failure(client(transport).c.query('settings.health', undefined, anything))
    expect(error.failure).toBe('bad-shape')
    expect(error.message).toMatch(/not a tRPC reply/)
  })

  it('a JSON array that is not a tRPC envelope: bad shape', async () => {
    const { transport } = fake(reply(200, [1, 2]))
    expect((await failure(client(transport).c.query('project.all', undefined, anything))).failure).toBe('bad-shape')
  })

  it.each([
    ['timeout', 'timeout', /did not answer project\.all within the request timeout/],
    ['cancelled', 'cancelled', /cancelled by the runner/],
    ['refused', 'network', /Could not reach Dokploy at https:\/\/dokploy\.example\.com \(ECONNREFUSED\)/],
    ['lost', 'network', /connection to https:\/\/dokploy\.example\.com broke during project\.all \(ECONNRESET\)/]
  ] as const)('transport %s → %s', async (reason, failureKind, message) => {
    const code = reason === 'refused' ? 'ECONNREFUSED' : reason === 'lost' ? 'ECONNRESET' : undefined
    const { transport } = fake(new TransportError(reason, 'no answer within 30 s', code))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.failure).toBe(failureKind)
    expect(error.message).toMatch(message)
  })

  it('lets an unexpected (programming) error through unchanged', async () => {
    const boom = new TypeError('boom')
    const { transport } = fake(boom)
    await expect(client(transport).c.query('project.all', undefined, anything)).rejects.toBe(boom)
  })
})

describe('retries', () => {
  const timeout = () => new TransportError('timeout', 'no answer within 30 s')

  it.each([
    ['JSON 502', () => trpcError(502, 'INTERNAL_SERVER_ERROR', 'Bad Gateway')],
    ['JSON 503', () => trpcError(503, 'INTERNAL_SERVER_ERROR', 'Service Unavailable')],
    ['JSON 504', () => trpcError(504, 'INTERNAL_SERVER_ERROR', 'Gateway Timeout')],
    ['HTML 502', () => html(502, 'Bad Gateway')],
    ['HTML 503', () => html(503, 'Service Unavailable')],
    ['HTML 504', () => html(504, 'Gateway Time-out')],
    ['HTML 524', () => html(524, 'A timeout occurred')],
    ['HTML 500', () => html(500, 'Internal Server Error')],
    ['truncated JSON', () => reply(200, '{"result":', { 'content-type': 'application/json' })],
    ['timeout', timeout],
    ['lost connection', () => new TransportError('lost', 'socket hang up', 'ECONNRESET')],
    ['refused connection', () => new TransportError('refused', 'connect ECONNREFUSED', 'ECONNREFUSED')],
    ['429', () => reply(429, 'Too Many Requests')]
  ])('a query is retried after %s, then succeeds', async (_label, make) => {
    const { transport, requests } = fake(make(), make(), ok(['fine']))
    const { c, delays } = client(transport, 3)
    await expect(c.query('project.all', undefined, anything)).resolves.toEqual(['fine'])
    expect(requests).toHaveLength(3)
    expect(delays).toHaveLength(2)
    expect(c.stats.retries).toBe(2)
  })

  it('a query gives up after `retries` retries and throws the last error', async () => {
    const { transport, requests } = fake(html(502, 'Bad Gateway'))
    const { c, delays } = client(transport, 3)
    const error = await failure(c.query('project.all', undefined, anything))
    expect(error.failure).toBe('gateway')
    expect(requests).toHaveLength(4)
    expect(delays).toHaveLength(3)
  })

  it('retries 0 means a single attempt', async () => {
    const { transport, requests } = fake(html(503, 'down'))
    await failure(client(transport, 0).c.query('project.all', undefined, anything))
    expect(requests).toHaveLength(1)
  })

  it('honours Retry-After in seconds', async () => {
    const { transport } = fake(reply(503, 'busy', { 'retry-after': '7' }), ok(1))
    const { c, delays } = client(transport, 3)
    await c.query('project.all', undefined, anything)
    expect(delays).toEqual([7000])
  })

  it('honours Retry-After on a JSON 429 and 503', async () => {
    const { transport } = fake(
      reply(429, { message: 'slow down' }, { 'retry-after': '2' }),
      reply(503, { message: 'maintenance' }, { 'retry-after': '4' }),
      ok(1)
    )
    const { c, delays } = client(transport, 3)
    await c.query('project.all', undefined, anything)
    expect(delays).toEqual([2000, 4000])
  })

  it('uses the exponential backoff when it is longer than Retry-After', async () => {
    const { transport } = fake(html(502, 'x'), html(502, 'x'), html(502, 'x'), ok(1))
    const delays: number[] = []
    const c = new DokployClient({
      baseUrl: 'https://dokploy.example.com',
      apiKey: 'k',
      requestTimeoutMs: 1000,
      retries: 3,
      transport,
      clock: { now: () => Date.now(), sleep: async (ms: number) => void delays.push(ms) },
      backoff: { baseMs: 100, capMs: 1000, random: () => 1 }
    })
    await c.query('project.all', undefined, anything)
    expect(delays).toEqual([100, 200, 400])
  })

  it('does not retry when the deadline leaves no time to wait', async () => {
    const { transport, requests } = fake(reply(503, 'busy', { 'retry-after': '30' }), ok(1))
    const c = new DokployClient({
      baseUrl: 'https://dokploy.example.com',
      apiKey: 'k',
      requestTimeoutMs: 1000,
      retries: 3,
      transport,
      deadline: Date.now() + 5000,
      clock: { now: () => Date.now(), sleep: async () => undefined },
      backoff: { baseMs: 1, capMs: 1, random: () => 0 }
    })
    expect((await failure(c.query('project.all', undefined, anything))).failure).toBe('unavailable')
    expect(requests).toHaveLength(1)
  })

  it('does not send a request after the deadline', async () => {
    const { transport, requests } = fake(ok(1))
    const c = new DokployClient({
      baseUrl: 'https://dokploy.example.com',
      apiKey: 'k',
      requestTimeoutMs: 1000,
      retries: 3,
      transport,
      deadline: Date.now() - 1
    })
    expect((await failure(c.query('project.all', undefined, anything))).failure).toBe('timeout')
    expect(requests).toHaveLength(0)
  })

  it.each([
    ['503', () => html(503, 'Service Unavailable')],
    ['JSON 503', () => trpcError(503, 'INTERNAL_SERVER_ERROR', 'unavailable')],
    ['429', () => reply(429, 'Too Many Requests')],
    ['refused connection', () => new TransportError('refused', 'connect ECONNREFUSED', 'ECONNREFUSED')]
  ])('a mutation is retried after %s (it never reached Dokploy)', async (_label, make) => {
    const { transport, requests } = fake(make(), VOID)
    const { c } = client(transport, 3)
    await c.mutate('application.deploy', { applicationId: 'A1' }, anything)
    expect(requests).toHaveLength(2)
  })

  it.each([
    ['HTML 502', () => html(502, 'Bad Gateway')],
    ['JSON 502', () => trpcError(502, 'INTERNAL_SERVER_ERROR', 'Bad Gateway')],
    ['HTML 504', () => html(504, 'Gateway Timeout')],
    ['HTML 524', () => html(524, 'A timeout occurred')],
    ['truncated JSON', () => reply(200, '{"result":', { 'content-type': 'application/json' })],
    ['timeout', timeout],
    ['lost connection', () => new TransportError('lost', 'socket hang up', 'ECONNRESET')]
  ])('a mutation is NOT retried after %s (Dokploy may have acted on it)', async (_label, make) => {
    const { transport, requests } = fake(make(), VOID)
    const error = await failure(client(transport, 3).c.mutate('application.deploy', { applicationId: 'A1' }, anything))
    expect(error.delivery).toBe('maybe-processed')
    expect(requests).toHaveLength(1)
  })

  it.each([
    ['401', () => trpcError(401, 'UNAUTHORIZED', 'Unauthorized')],
    ['404', () => trpcError(404, 'NOT_FOUND', 'Application not found')],
    ['400', () => trpcError(400, 'BAD_REQUEST', 'bad')],
    ['500 with a message', () => trpcError(500, 'INTERNAL_SERVER_ERROR', 'failed')],
    ['redirect', () => reply(308, '', { location: 'https://x' })],
    ['HTML 200', () => html(200, 'nginx')],
    ['cancelled', () => new TransportError('cancelled', 'cancelled by the runner')]
  ])('%s is never retried, for a query or a mutation', async (_label, make) => {
    for (const call of ['query', 'mutate'] as const) {
      const { transport, requests } = fake(make(), ok(1))
      const { c } = client(transport, 3)
      await failure(call === 'query' ? c.query('application.one', { applicationId: 'A1' }, anything) : c.mutate('application.deploy', { applicationId: 'A1' }, anything))
      expect(requests).toHaveLength(1)
    }
  })
})

describe('secrets in error messages', () => {
  const SECRET = 'sup3r-s3cret-db-password'

  beforeEach(() => {
    registerSecret(SECRET)
  })

  it('registerSecret masks the value with the runner and redact removes it', () => {
    expect(setSecret).toHaveBeenCalledWith(SECRET)
    expect(redact(`password=${SECRET};`)).toBe('password=***;')
  })

  it('registers each line of a multi-line value, but not very short ones unless asked', () => {
    registerSecret('line-one-secret\nline-two-secret\nab')
    expect(setSecret).toHaveBeenCalledWith('line-one-secret')
    expect(setSecret).toHaveBeenCalledWith('line-two-secret')
    expect(setSecret).not.toHaveBeenCalledWith('ab')
    registerSecret('xy', true)
    expect(setSecret).toHaveBeenCalledWith('xy')
  })

  it('is not quoted from a tRPC error message', async () => {
    const { transport } = fake(trpcError(500, 'INTERNAL_SERVER_ERROR', `connection to postgres://app:${SECRET}@db failed`))
    const error = await failure(client(transport).c.mutate('postgres.deploy', { postgresId: 'D1' }, anything))
    expect(error.message).toContain('postgres://app:***@db failed')
    expect(error.message).not.toContain(SECRET)
  })

  it('is not quoted from zod fieldErrors', async () => {
    const { transport } = fake(trpcError(400, 'BAD_REQUEST', 'x', { zodError: { formErrors: [], fieldErrors: { env: [`bad value ${SECRET}`] } } }))
    const error = await failure(client(transport).c.mutate('application.saveEnvironment', { applicationId: 'A1' }, anything))
    expect(error.message).not.toContain(SECRET)
  })

  it('is not quoted from an HTML page title', async () => {
    const { transport } = fake(html(502, `upstream ${SECRET} failed`))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.message).toContain('upstream *** failed')
    expect(error.message).not.toContain(SECRET)
  })

  it('is not quoted from a plain-text body', async () => {
    const { transport } = fake(reply(500, `error: DATABASE_PASSWORD=${SECRET}`, { 'content-type': 'text/plain' }))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.message).not.toContain(SECRET)
  })

  it('no part of it is quoted when it straddles the preview cut-off of a plain-text body', async () => {
    // the preview shows the first 120 characters: the secret starts at 112, so a naive cut keeps its first 8
    const body = `${'x'.repeat(112)}${SECRET} trailing text`
    const { transport } = fake(reply(500, body, { 'content-type': 'text/plain' }))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.message).not.toContain(SECRET.slice(0, 8))
  })

  it('no part of it is quoted when it straddles the 300-character cut of a tRPC message', async () => {
    const { transport } = fake(trpcError(500, 'INTERNAL_SERVER_ERROR', `${'y'.repeat(290)}${SECRET}`))
    const error = await failure(client(transport).c.mutate('postgres.deploy', { postgresId: 'D1' }, anything))
    expect(error.message).not.toContain(SECRET.slice(0, 8))
  })
})

describe('long retry pauses are said at info level', () => {
  function withLogs(transport: (request: RawRequest) => Promise<RawResponse>) {
    const infos: string[] = []
    const debugs: string[] = []
    const c = new DokployClient({
      baseUrl: 'https://dokploy.example.com',
      apiKey: 'k',
      requestTimeoutMs: 30_000,
      retries: 3,
      transport,
      clock: { now: () => Date.now(), sleep: async () => undefined },
      backoff: { baseMs: 1000, capMs: 10_000, random: () => 0 },
      info: (line) => infos.push(line),
      debug: (line) => debugs.push(line)
    })
    return { c, infos, debugs }
  }

  it('a 60 s Retry-After on a 429 prints what failed and how long it waits', async () => {
    const { transport } = fake(reply(429, { message: 'slow down' }, { 'retry-after': '60' }), ok(1))
    const { c, infos } = withLogs(transport)
    await c.query('deployment.all', { applicationId: 'A1' }, anything)
    expect(infos).toEqual(['Dokploy is rate-limiting deployment.all (429); waiting 1m 00s as it asks (retry 1/3).'])
  })

  it('a 503 asking for 5 s names the status', async () => {
    const { transport } = fake(reply(503, 'busy', { 'retry-after': '5' }), ok(1))
    const { c, infos } = withLogs(transport)
    await c.query('project.all', undefined, anything)
    expect(infos).toEqual(['Dokploy is unavailable (503) on project.all; waiting 5s as it asks (retry 1/3).'])
  })

  it('a long backoff without Retry-After does not claim the server asked for it', async () => {
    const { transport } = fake(html(502, 'Bad Gateway'), ok(1))
    const infos: string[] = []
    const c = new DokployClient({
      baseUrl: 'https://dokploy.example.com',
      apiKey: 'k',
      requestTimeoutMs: 30_000,
      retries: 2,
      transport,
      clock: { now: () => Date.now(), sleep: async () => undefined },
      backoff: { baseMs: 4000, capMs: 10_000, random: () => 1 },
      info: (line) => infos.push(line)
    })
    await c.query('deployment.all', { applicationId: 'A1' }, anything)
    expect(infos).toEqual(['A proxy answered deployment.all with 502; waiting 4s (retry 1/2).'])
  })

  it('a pause under 3 s stays under debug', async () => {
    const { transport } = fake(reply(429, 'Too Many Requests', { 'retry-after': '2' }), new TransportError('lost', 'socket hang up', 'ECONNRESET'), ok(1))
    const { c, infos, debugs } = withLogs(transport)
    await c.query('deployment.all', { applicationId: 'A1' }, anything)
    expect(infos).toEqual([])
    expect(debugs.filter((line) => line.includes('retry'))).toEqual([
      'deployment.all: rate-limited, retry 1/3 in 2000 ms',
      'deployment.all: network, retry 2/3 in 0 ms'
    ])
  })
})

describe('TLS failures', () => {
  const tls = (code: string, message: string) => new TransportError('tls', message, code)

  it.each([
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate']
  ])('%s: not trusted; NODE_EXTRA_CA_CERTS is the fix', async (code, reason) => {
    const { transport, requests } = fake(tls(code, reason), ok(1))
    const error = await failure(client(transport, 3).c.mutate('application.deploy', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('tls')
    expect(error.delivery).toBe('not-processed')
    expect(requests).toHaveLength(1)
    expect(error.message).toBe(
      `The TLS certificate of https://dokploy.example.com is not trusted (${code}: ${reason}): it is self-signed or issued by a private CA. Set NODE_EXTRA_CA_CERTS in the step's env to the path of that CA's certificate (PEM) on the runner, or give Dokploy a publicly trusted certificate. Nothing was sent to Dokploy.`
    )
  })

  it('a certificate for another host: set the url to a name it holds', async () => {
    const reason = "Hostname/IP does not match certificate's altnames: Host: dokploy.example.com. is not in the cert's altnames: DNS:other.example.com"
    const { transport, requests } = fake(tls('ERR_TLS_CERT_ALTNAME_INVALID', reason))
    const error = await failure(client(transport, 3).c.query('project.all', undefined, anything))
    expect(requests).toHaveLength(1)
    expect(error.message).toContain(`is for another host name (ERR_TLS_CERT_ALTNAME_INVALID: ${reason}): set the url input to a host name the certificate names.`)
  })

  it.each([
    ['CERT_HAS_EXPIRED', 'has expired (CERT_HAS_EXPIRED): renew it on the server.'],
    ['CERT_NOT_YET_VALID', 'is not valid yet (CERT_NOT_YET_VALID): check the clocks of the server and the runner.'],
    ['CERT_REVOKED', 'was rejected (CERT_REVOKED: certificate revoked).']
  ])('%s is named, and not retried', async (code, says) => {
    const { transport, requests } = fake(tls(code, code === 'CERT_REVOKED' ? 'certificate revoked' : 'x'), ok(1))
    const error = await failure(client(transport, 3).c.query('project.all', undefined, anything))
    expect(requests).toHaveLength(1)
    expect(error.message).toBe(`The TLS certificate of https://dokploy.example.com ${says} Nothing was sent to Dokploy.`)
  })

  it('server text in the reason (names from the certificate) is redacted and kept on one line', async () => {
    registerSecret('cert-secret-name-123')
    const { transport } = fake(tls('ERR_TLS_CERT_ALTNAME_INVALID', 'not in the cert\'s altnames: DNS:cert-secret-name-123\n::error::x'))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.message).not.toContain('cert-secret-name-123')
    expect(error.message).not.toContain('\n')
  })
})

describe('answers over the size cap', () => {
  const tooLarge = () => new TransportError('too-large', 'larger than 32 MB')

  it('a query: too-large, named, not retried', async () => {
    const { transport, requests } = fake(tooLarge(), ok(1))
    const error = await failure(client(transport, 3).c.query('deployment.all', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('too-large')
    expect(requests).toHaveLength(1)
    expect(error.message).toBe(
      "Dokploy's answer to deployment.all was larger than 32 MB, so the action stopped reading it: no Dokploy reply is that big; check that the url input is the Dokploy base URL and what a proxy in front of it sends."
    )
  })

  it('a mutation: Dokploy answered, so it was processed', async () => {
    const { transport, requests } = fake(tooLarge(), VOID)
    const error = await failure(client(transport, 3).c.mutate('application.deploy', { applicationId: 'A1' }, anything))
    expect(error.delivery).toBe('processed')
    expect(requests).toHaveLength(1)
  })
})

describe('connection refused', () => {
  it('before any answer: check the url', async () => {
    const { transport } = fake(new TransportError('refused', 'connect ECONNREFUSED', 'ECONNREFUSED'))
    const error = await failure(client(transport).c.query('project.all', undefined, anything))
    expect(error.message).toContain('check the url input')
  })

  it('after Dokploy answered in this run: it stopped answering, no url hint', async () => {
    const { transport } = fake(ok([]), new TransportError('refused', 'connect ECONNREFUSED', 'ECONNREFUSED'))
    const { c } = client(transport)
    await c.query('project.all', undefined, anything)
    const error = await failure(c.query('deployment.all', { applicationId: 'A1' }, anything))
    expect(error.failure).toBe('network')
    expect(error.delivery).toBe('not-processed')
    expect(error.message).toBe(
      'Dokploy at https://dokploy.example.com stopped answering (ECONNREFUSED) on deployment.all after 1 answered request(s): it is probably restarting or was stopped.'
    )
    expect(error.message).not.toContain('url')
  })
})

describe('outages: silences long enough to hide a restart', () => {
  it('counts a silence between two answers only from RESTART_MIN_MS on, retried or not', async () => {
    const { TIMINGS } = await import('../../src/timings.js')
    const RESTART_MIN_MS = TIMINGS.restartMinMs
    let now = 1_000_000
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now)
    const later = (ms: number, answer: RawResponse) => (): RawResponse => {
      now += ms
      return answer
    }
    try {
      const refused = new TransportError('refused', 'connect ECONNREFUSED', 'ECONNREFUSED')
      const { transport } = fake(
        ok(1),
        html(502, 'Bad Gateway'),
        later(RESTART_MIN_MS - 100, ok(2)), // a proxy's blip, answered again quickly: no restart fits in it
        refused,
        later(RESTART_MIN_MS, ok(3)) // long enough for Dokploy to have restarted
      )
      const { c } = client(transport, 3)
      await c.query('deployment.all', undefined, anything)
      await c.query('deployment.all', undefined, anything)
      expect(c.stats.outages).toBe(0)
      expect(c.stats.retries).toBe(1)
      await c.query('deployment.all', undefined, anything)
      expect(c.stats.outages).toBe(1)
    } finally {
      clock.mockRestore()
    }
  })
})

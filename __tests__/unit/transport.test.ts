import { afterEach, describe, expect, it } from '@jest/globals'
import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { createTransport, classify, formatBytes, MAX_BODY_BYTES, TransportError } from '../../src/dokploy/transport.js'

/** The real transport against real local servers: what node-fetch reports, and what it becomes. */
const TLS = '__tests__/fixtures/tls'
const MB = 1024 * 1024
const closers: (() => void)[] = []
afterEach(() => closers.splice(0).forEach((close) => close()))

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  closers.push(() => {
    server.closeAllConnections()
    server.close()
  })
  return (server.address() as AddressInfo).port
}

const get = (url: string) => ({ method: 'GET' as const, url, headers: {}, timeoutMs: 10_000 })

async function transportError(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(TransportError)
    return error as TransportError
  }
  throw new Error('expected a TransportError')
}

describe('body size cap', () => {
  it('stops reading a streamed body once it passes the cap', async () => {
    let written = 0
    const port = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        const chunk = Buffer.alloc(64 * 1024, 'x')
        const pump = (): void => {
          while (written < 256 * MB && !res.destroyed) {
            written += chunk.length
            if (!res.write(chunk)) return void res.once('drain', pump)
          }
          res.end()
        }
        pump()
      })
    )
    const transport = createTransport({ maxBodyBytes: MB })
    closers.push(transport.close)
    const error = await transportError(transport.send(get(`http://127.0.0.1:${port}/api/trpc/x`)))
    expect(error.reason).toBe('too-large')
    expect(error.message).toBe('larger than 1 MB')
    expect(written).toBeLessThan(32 * MB)
  })

  it('counts decoded bytes: a small gzip body that inflates past the cap is stopped', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MB, 'x'))
    expect(bomb.length).toBeLessThan(MB)
    const port = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
        res.end(bomb)
      })
    )
    const transport = createTransport({ maxBodyBytes: MB })
    closers.push(transport.close)
    const error = await transportError(transport.send(get(`http://127.0.0.1:${port}/api/trpc/x`)))
    expect(error.reason).toBe('too-large')
  })

  it('lets a body under the cap through, decoded', async () => {
    const body = JSON.stringify({ result: { data: { json: 'y'.repeat(1000) } } })
    const port = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
        res.end(gzipSync(body))
      })
    )
    const transport = createTransport({ maxBodyBytes: 2000 })
    closers.push(transport.close)
    const response = await transport.send(get(`http://127.0.0.1:${port}/api/trpc/x`))
    expect(response.text).toBe(body)
  })

  it('is 32 MB unless a test sets DOKPLOY_ACTION_MAX_BODY_BYTES', () => {
    expect(MAX_BODY_BYTES).toBe(32 * MB)
    expect(formatBytes(MAX_BODY_BYTES)).toBe('32 MB')
    expect(formatBytes(512 * 1024)).toBe('512 KB')
    expect(formatBytes(900)).toBe('900 bytes')
  })
})

describe('TLS', () => {
  const serve = (name: string): Promise<number> =>
    listen(https.createServer({ cert: readFileSync(`${TLS}/${name}.pem`), key: readFileSync(`${TLS}/${name}.key`) }, (_req, res) => res.end('{}')))

  it.each([
    ['self-signed', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['valid', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'] // signed by the test CA, which this process does not trust
  ])('%s certificate: tls, %s, with Node\'s reason and without its --use-system-ca advice', async (name, code) => {
    const port = await serve(name)
    const transport = createTransport()
    closers.push(transport.close)
    const error = await transportError(transport.send(get(`https://127.0.0.1:${port}/api/trpc/x`)))
    expect(error.reason).toBe('tls')
    expect(error.code).toBe(code)
    expect(error.message).not.toMatch(/request to|use-system-ca/)
  })
})

describe('classify', () => {
  it.each([
    [{ type: 'system', code: 'CERT_HAS_EXPIRED', message: 'request to https://x/ failed, reason: certificate has expired' }, 'tls', 'certificate has expired'],
    [{ type: 'system', code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "request to https://x/ failed, reason: Hostname/IP does not match certificate's altnames" }, 'tls', "Hostname/IP does not match certificate's altnames"],
    [{ type: 'max-size', message: 'content size at https://x/ over limit: 1048576' }, 'too-large', 'larger than 1 MB'],
    [{ type: 'system', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'refused', 'connect ECONNREFUSED'],
    [{ type: 'system', code: 'ECONNRESET', message: 'socket hang up' }, 'lost', 'socket hang up']
  ])('%o → %s', (error, reason, message) => {
    const classified = classify(error, MB)
    expect(classified.reason).toBe(reason)
    expect(classified.message).toBe(message)
  })
})

import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import { connect, type AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { commonMarkBlocks, decode, HOSTILE_SHOWN, HOSTILE_TAIL } from '../commonmark.js'
import { annotations, emulators, endOnceShown, errorLine, runAction, visibleLog, type ActionRun, type Emulator } from './harness.js'

/**
 * The network and the runner's files: long retry pauses, TLS certificates, oversized answers,
 * outputs and summary that cannot be written, a hostile log tail in the summary, timeouts.
 */
// Each test has an emulator of its own and runs beside the others.
const { start: startEmulator, closeAll } = emulators({ buildMs: 150 })
afterAll(closeAll)

const start = async () => {
  const emu = await startEmulator()
  return {
    emu,
    deployInputs: (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra }),
    deploys: (): number => emu.stats().deployCalls[emu.ids.web] ?? 0
  }
}
const errorLines = (run: ActionRun): string[] => annotations(run, 'error').map(({ message }) => message)
/** No unhandled rejection, no stack trace: the failure is the action's own message. */
const failedCleanly = (run: ActionRun): void => {
  // with the step's output when it did not fail
  expect({ code: run.code, stdout: run.code === 1 ? '' : run.stdout }).toEqual({ code: 1, stdout: '' })
  expect(run.stderr).not.toMatch(/\n\s+at |Unhandled|node:internal/)
}

heading('a long retry pause is said at info level', () => {
  concurrent('a 429 asking for 3 s: one visible line names it and the wait', async () => {
    const { emu, deployInputs } = await start()
    emu.inject({ procedure: 'deployment.all', kind: 'status', status: 429, headers: { 'retry-after': '3' }, after: 1 })
    const run = await runAction(deployInputs(), { debug: false })
    expect(run.code).toBe(0)
    expect(visibleLog(run)).toContain('Dokploy is rate-limiting deployment.all (429); waiting 3s as it asks (retry 1/3).')
  })

  concurrent('a short pause stays under debug', async () => {
    const { emu, deployInputs } = await start()
    emu.inject({ procedure: 'deployment.all', kind: 'status', status: 503, headers: { 'retry-after': '0' }, after: 1 })
    const run = await runAction(deployInputs(), { debug: false })
    expect(run.code).toBe(0)
    expect(visibleLog(run)).not.toMatch(/waiting \d+s/)
  })
})

heading('the log tail in the job summary', () => {
  concurrent('a hostile tail (blank lines, Markdown, HTML, fences, colours, CR) stays verbatim in one <pre>', async () => {
    const { emu, deployInputs } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 100, fail: 'build script exited with code 1' })
    emu.inject({ procedure: 'deployment.readLogs', kind: 'status', status: 200, body: JSON.stringify({ result: { data: { json: HOSTILE_TAIL } } }) })
    // log: tail, the path whose tail comes from readLogs (the injected hostile answer)
    const run = await runAction(deployInputs({ 'log-lines': '50', log: 'tail' }))
    expect(run.code).toBe(1)
    const blocks = commonMarkBlocks(run.summary)
    expect(blocks.map((block) => block.kind)).toEqual(['html', 'pre', 'html'])
    expect(blocks[1].lines.slice(1, -1).map(decode)).toEqual(HOSTILE_SHOWN)
    // eslint-disable-next-line no-control-regex -- terminal escapes are what is looked for
    expect(run.summary).not.toMatch(/\u001b/)
  })
})

heading('TLS', () => {
  const TLS = resolve('__tests__/fixtures/tls')
  const CA = { NODE_EXTRA_CA_CERTS: `${TLS}/ca.pem` }

  /** An https front on 127.0.0.1 with a fixture certificate, passing requests and log sockets on to the emulator. */
  async function httpsFront(emu: Emulator, certificate: string) {
    const seen = { handshakesFailed: 0, requests: 0 }
    const server = https.createServer({ cert: readFileSync(`${TLS}/${certificate}.pem`), key: readFileSync(`${TLS}/${certificate}.key`) }, (req, res) => {
      seen.requests++
      const upstream = http.request(`${emu.url}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      req.pipe(upstream)
    })
    server.on('tlsClientError', () => seen.handshakesFailed++)
    // the live log's upgrade goes through as bytes, so the socket works behind the front as the API does
    server.on('upgrade', (req, client, head) => {
      seen.requests++
      const upstream = connect(Number(new URL(emu.url).port), '127.0.0.1', () => {
        const headers = Object.entries(req.headers).map(([name, value]) => `${name}: ${String(value)}\r\n`).join('')
        upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n`)
        upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      })
      const end = (): void => { upstream.destroy(); client.destroy() }
      upstream.on('error', end)
      client.on('error', end)
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const close = (): void => {
      server.closeAllConnections()
      server.close()
    }
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close }
  }

  concurrent.each([
    ['self-signed', {}, 'is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate)', 'Set NODE_EXTRA_CA_CERTS'],
    ['valid', {}, 'is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate)', 'Set NODE_EXTRA_CA_CERTS'],
    ['expired', CA, 'has expired (CERT_HAS_EXPIRED)', 'renew it on the server'],
    ['wrong-host', CA, 'is for another host name (ERR_TLS_CERT_ALTNAME_INVALID', 'set the url input to a host name the certificate names']
  ])('%s certificate: one handshake, no request, exit 1 with the problem and the fix', async (certificate, env, problem, fix) => {
    const { emu, deployInputs } = await start()
    const front = await httpsFront(emu, certificate)
    try {
      const run = await runAction(deployInputs({ url: front.url }), { env })
      failedCleanly(run)
      expect(errorLine(run)).toContain(`The TLS certificate of ${front.url} ${problem}`)
      expect(errorLine(run)).toContain(fix)
      expect(errorLine(run)).toContain('Nothing was sent to Dokploy.')
      expect(front.seen.requests).toBe(0)
      // not retried: a second attempt would be a second failed handshake
      expect(front.seen.handshakesFailed).toBe(1)
      expect(emu.requests).toHaveLength(0)
    } finally {
      front.close()
    }
  })

  concurrent('with NODE_EXTRA_CA_CERTS pointing to the CA, a certificate it signed is trusted and the deploy runs', async () => {
    const { emu, deployInputs, deploys } = await start()
    const front = await httpsFront(emu, 'valid')
    try {
      const run = await runAction(deployInputs({ url: front.url }), { env: CA })
      expect(run.code).toBe(0)
      expect(run.outputs.status).toBe('done')
      expect(front.seen.requests).toBe(emu.requests.length)
      expect(deploys()).toBe(1)
    } finally {
      front.close()
    }
  })
})

heading('answers over the size cap', () => {
  const MB = 1024 * 1024
  const capped = { env: { DOKPLOY_ACTION_MAX_BODY_BYTES: String(MB) } }

  concurrent.each(['huge', 'gzip-bomb'] as const)('%s answer to a query: stopped at the cap, named, not retried, quickly', async (kind) => {
    const { emu, deployInputs, deploys } = await start()
    emu.inject({ procedure: 'deployment.all', kind, bytes: 64 * MB })
    const run = await runAction(deployInputs(), capped)
    failedCleanly(run)
    expect(errorLine(run)).toContain("Dokploy's answer to deployment.all was larger than 1 MB, so the action stopped reading it")
    expect(emu.requests.filter((r) => r.procedure === 'deployment.all')).toHaveLength(1)
    expect(deploys()).toBe(0)
    expect(run.ms).toBeLessThan(10_000)
  })

  concurrent('the default cap (32 MB) stops a 64 MB gzip bomb as well', async () => {
    const { emu, deployInputs } = await start()
    emu.inject({ procedure: 'deployment.all', kind: 'gzip-bomb', bytes: 64 * MB })
    const run = await runAction(deployInputs())
    failedCleanly(run)
    expect(errorLine(run)).toContain('was larger than 32 MB')
  })
})

heading('runner files that cannot be written', () => {
  concurrent.each([
    ['GITHUB_OUTPUT', "Could not write the step's outputs to the file GITHUB_OUTPUT names"],
    ['GITHUB_STEP_SUMMARY', 'Could not write the job summary to the file GITHUB_STEP_SUMMARY names']
  ])('%s in a missing directory: one ::error:: naming it, exit 1, the deploy itself done', async (variable, message) => {
    const { emu, deployInputs, deploys } = await start()
    // the short build ends once the step has seen it running, so it is proven the step's own (on a busy machine
    // the step's first look could come after it ended, and its outcome would not be proven: a second error)
    emu.setBuild(emu.ids.web, { durationMs: 150, holdBefore: endOnceShown(emu) })
    const run = await runAction(deployInputs(), { env: { [variable]: '/nonexistent-dir/out' } })
    failedCleanly(run)
    expect(errorLines(run)).toHaveLength(1)
    expect(errorLine(run)).toContain(message)
    expect(errorLine(run)).toContain('/nonexistent-dir/out')
    expect(errorLine(run)).toContain('Dokploy deploy itself ended "done".')
    expect(deploys()).toBe(1)
  })
})

heading('a timeout is not under-stated, and its details are not titled as a failure', () => {
  concurrent('wait-timeout 3 on a build that never ends', async () => {
    const { emu, deployInputs } = await start()
    emu.setBuild(emu.ids.web, { hang: true })
    const run = await runAction(deployInputs({ 'wait-timeout': '3', 'log-lines': '3' }))
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('timeout')
    const shown = Number(/waiting after (\d+)s \(wait-timeout\)/.exec(errorLine(run))?.[1])
    expect(shown).toBeGreaterThanOrEqual(3)
    expect(run.stdout).toMatch(/::group::Deployment \S+: still running when the step stopped waiting/)
    expect(run.stdout).not.toContain('::group::Why deployment')
  }, 20_000)
})

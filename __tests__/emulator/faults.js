// Fault injection: what a proxy, a flaky network or an overloaded Dokploy can do to a request.

import { once } from 'node:events'
import zlib from 'node:zlib'

/**
 * Kinds that never reach Dokploy's handlers ("not processed") and kinds that run the request first.
 * reset-after, delay, cut-after and truncated process the request; the rest do not. huge and gzip-bomb
 * answer 200 with a body of `bytes` decoded bytes: streamed as is, or gzip-encoded in a few KB.
 */
export const FAULT_KINDS = /** @type {const} */ ([
  'status',
  'html',
  'cloudflare',
  'redirect',
  'reset-before',
  'reset-after',
  'hang',
  'delay',
  'cut-after',
  'truncated',
  'html-200',
  'empty',
  'unauthorized',
  'huge',
  'gzip-bomb'
])

/** @typedef {typeof FAULT_KINDS[number]} FaultKind */

/**
 * @typedef {object} FaultRule
 * @property {FaultKind} kind
 * @property {string|string[]} [procedure] e.g. 'application.deploy'; undefined = any request (health checks included)
 * @property {string} [method] 'GET' | 'POST'
 * @property {'trpc'|'rest'|'other'} [api]
 * @property {number} [times] how many requests it hits (default 1; Infinity allowed)
 * @property {number} [after] let this many matching requests through first (default 0)
 * @property {number} [status] for 'status' (default 503), 'html' (default 502), 'redirect' (default 301)
 * @property {string} [body] for 'status': raw body (default: a tRPC/REST error envelope for that status)
 * @property {Record<string, string>} [headers] for 'status'
 * @property {string} [contentType] for 'status' (default application/json)
 * @property {string} [location] for 'redirect' (default https://<host><same path>)
 * @property {number} [ms] for 'delay' and 'cut-after'
 * @property {boolean} [forward] for 'html': the proxy forwarded the request (Dokploy processed it) before answering its error page
 * @property {number} [bytes] for 'huge' and 'gzip-bomb': size of the decoded body (default 64 MB)
 * @property {number} [hits] filled in: how many requests it has answered
 * @property {number} [seen] filled in: matching requests seen (including the `after` ones)
 */

/**
 * @typedef {object} MatchTarget
 * @property {string[]} procedures
 * @property {string} method
 * @property {string} api
 */

export class FaultBook {
  constructor() {
    /** @type {FaultRule[]} */
    this.rules = []
  }

  /**
   * Add a rule; the same object is returned and its `hits` counts uses.
   * @param {FaultRule} rule
   * @returns {FaultRule}
   */
  inject(rule) {
    if (!FAULT_KINDS.includes(rule.kind)) throw new Error(`Unknown fault kind: ${rule.kind}`)
    if ((rule.kind === 'delay' || rule.kind === 'cut-after') && typeof rule.ms !== 'number') {
      throw new Error(`Fault '${rule.kind}' needs ms`)
    }
    rule.times ??= 1
    rule.after ??= 0
    rule.hits = 0
    rule.seen = 0
    this.rules.push(rule)
    return rule
  }

  clear() {
    this.rules = []
  }

  /**
   * First live rule that matches; counts it as a hit.
   * @param {MatchTarget} target
   * @returns {FaultRule | undefined}
   */
  match(target) {
    for (const rule of this.rules) {
      if ((rule.hits ?? 0) >= (rule.times ?? 1)) continue
      if (rule.procedure !== undefined) {
        const wanted = Array.isArray(rule.procedure) ? rule.procedure : [rule.procedure]
        if (!wanted.some((p) => target.procedures.includes(p))) continue
      }
      if (rule.method !== undefined && rule.method.toUpperCase() !== target.method) continue
      if (rule.api !== undefined && rule.api !== target.api) continue
      rule.seen = (rule.seen ?? 0) + 1
      if (rule.seen <= (rule.after ?? 0)) continue
      rule.hits = (rule.hits ?? 0) + 1
      return rule
    }
    return undefined
  }
}

const DEFAULT_BIG_BODY = 64 * 1024 * 1024
/** A tRPC success reply whose one string value fills the body to the size asked for. */
const BIG_HEAD = '{"result":{"data":{"json":"'
const BIG_TAIL = '"}}}'

/**
 * 'huge': a 200 JSON reply of `bytes` bytes, chunked and written as the client reads, so neither side
 * holds it; stops when the client hangs up.
 * @param {import('node:http').ServerResponse} res @param {number} [bytes]
 */
export function streamHugeReply(res, bytes = DEFAULT_BIG_BODY) {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.write(BIG_HEAD)
  const chunk = Buffer.alloc(64 * 1024, 'x')
  let left = Math.max(0, bytes - BIG_HEAD.length - BIG_TAIL.length)
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left)
      left -= part.length
      if (!res.write(part)) return void res.once('drain', pump)
    }
    if (!res.destroyed) res.end(BIG_TAIL)
  }
  pump()
}

/** @type {Map<number, Promise<Buffer>>} */
const bombs = new Map()

/**
 * 'gzip-bomb': the same reply gzip-compressed (64 MB become about 64 KB), made once per size.
 * @param {number} [bytes] @returns {Promise<Buffer>}
 */
export function gzipBomb(bytes = DEFAULT_BIG_BODY) {
  let bomb = bombs.get(bytes)
  if (!bomb) {
    bomb = compressFilled(bytes)
    bombs.set(bytes, bomb)
  }
  return bomb
}

/** @param {number} bytes @returns {Promise<Buffer>} */
async function compressFilled(bytes) {
  const gzip = zlib.createGzip({ level: 9 })
  /** @type {Buffer[]} */
  const out = []
  gzip.on('data', (/** @type {Buffer} */ part) => out.push(part))
  const ended = once(gzip, 'end')
  gzip.write(BIG_HEAD)
  const chunk = Buffer.alloc(1024 * 1024, 'x')
  for (let left = Math.max(0, bytes - BIG_HEAD.length - BIG_TAIL.length); left > 0; left -= chunk.length) {
    if (!gzip.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await once(gzip, 'drain')
  }
  gzip.end(BIG_TAIL)
  await ended
  return Buffer.concat(out)
}

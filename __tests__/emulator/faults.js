// Fault injection: what a proxy, a flaky network or an overloaded Dokploy can do to a request.

/**
 * Kinds that never reach Dokploy's handlers ("not processed") and kinds that run the request first.
 * reset-after, delay, cut-after and truncated process the request; the rest do not.
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
  'unauthorized'
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

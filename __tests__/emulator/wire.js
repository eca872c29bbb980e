// tRPC / REST envelopes and error codes exactly as Dokploy sends them (API.md §1).

/** tRPC error code -> [JSON-RPC code, HTTP status]. */
export const ERROR_CODES = {
  PARSE_ERROR: [-32700, 400],
  BAD_REQUEST: [-32600, 400],
  UNAUTHORIZED: [-32001, 401],
  FORBIDDEN: [-32003, 403],
  NOT_FOUND: [-32004, 404],
  METHOD_NOT_SUPPORTED: [-32005, 405],
  TIMEOUT: [-32008, 408],
  CONFLICT: [-32009, 409],
  PRECONDITION_FAILED: [-32012, 412],
  PAYLOAD_TOO_LARGE: [-32013, 413],
  UNSUPPORTED_MEDIA_TYPE: [-32015, 415],
  TOO_MANY_REQUESTS: [-32029, 429],
  INTERNAL_SERVER_ERROR: [-32603, 500],
  NOT_IMPLEMENTED: [-32603, 501],
  BAD_GATEWAY: [-32603, 502],
  SERVICE_UNAVAILABLE: [-32603, 503],
  GATEWAY_TIMEOUT: [-32603, 504]
}

/** @typedef {keyof typeof ERROR_CODES} ErrorCode */

/** Error thrown by procedure handlers; carries the tRPC code and, for validation, the Zod-like issues. */
export class TrpcError extends Error {
  /**
   * @param {ErrorCode} code
   * @param {string} [message] defaults to the code, as tRPC does
   * @param {{issues?: object[], zodError?: object|null}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message ?? code)
    this.code = code
    this.issues = extra.issues
    this.zodError = extra.zodError ?? null
  }

  get httpStatus() {
    return ERROR_CODES[this.code][1]
  }
}

/**
 * Best tRPC code for an arbitrary HTTP status (used by injected faults).
 * @param {number} status
 * @returns {ErrorCode}
 */
export function codeForStatus(status) {
  for (const [code, [, http]] of Object.entries(ERROR_CODES)) {
    if (http === status) return /** @type {ErrorCode} */ (code)
  }
  return status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST'
}

/**
 * The `{"error":{"json":…}}` item of a tRPC reply (also a batch element).
 * @param {TrpcError} err
 * @param {string|undefined} path
 */
export function trpcErrorItem(err, path) {
  const [rpc, httpStatus] = ERROR_CODES[err.code]
  return {
    error: {
      json: { message: err.message, code: rpc, data: { code: err.code, httpStatus, path, zodError: err.zodError } }
    }
  }
}

/**
 * The `{"result":…}` item of a tRPC reply. `undefined` is superjson's void marker.
 * @param {unknown} value
 */
export function trpcResultItem(value) {
  if (value === undefined) return { result: { data: { json: null, meta: { values: ['undefined'], v: 1 } } } }
  return { result: { data: { json: value } } }
}

/**
 * REST (trpc-to-openapi) error body.
 * @param {TrpcError} err
 * @param {string|undefined} path
 */
export function restErrorBody(err, path) {
  const httpStatus = ERROR_CODES[err.code][1]
  if (err.issues) {
    return {
      message: 'Input validation failed',
      code: err.code,
      data: { code: err.code, httpStatus, path, zodError: err.zodError },
      issues: err.issues
    }
  }
  return { message: err.message, code: err.code, data: { code: err.code, httpStatus, path, zodError: null } }
}

/** HTML bodies of the proxies that sit in front of Dokploy (Traefik, nginx, Cloudflare). */
export const HTML = {
  /** @param {number} status */
  gateway: (status) =>
    `<!DOCTYPE html><html><head><title>${status} Bad gateway</title></head><body><center><h1>${status} Bad gateway</h1></center><hr><center>nginx</center></body></html>\n`,
  cloudflareChallenge: () =>
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper" role="main"><h1>Checking if the site connection is secure</h1><noscript>Enable JavaScript and cookies to continue</noscript></div></body></html>\n',
  cloudflareTimeout: () =>
    '<!DOCTYPE html><html lang="en-US"><head><title>dokploy.example.com | 524: A timeout occurred</title></head><body><div id="cf-wrapper"><h1>A timeout occurred</h1><span>Error code 524</span><p>The origin web server timed out responding to this request.</p></div></body></html>\n',
  accessForbidden: () =>
    '<!DOCTYPE html><html lang="en"><head><title>Forbidden · Cloudflare Access</title></head><body><div class="access-error"><h1>Forbidden</h1><p>You don\'t have permission to view this application.</p><p>Cloudflare Access</p></div></body></html>\n',
  okPage: () =>
    '<!DOCTYPE html><html><head><title>Dokploy</title></head><body><div id="__next">Sign in to Dokploy</div></body></html>\n',
  notFound: () =>
    '<!DOCTYPE html><html><head><title>404: This page could not be found.</title></head><body><h1>404</h1><h2>This page could not be found.</h2></body></html>\n'
}

export const id = 973;
export const ids = [973];
export const modules = {

/***/ 8973:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  DokployClient: () => (/* reexport */ DokployClient),
  GitHubDeployments: () => (/* reexport */ GitHubDeployments),
  createTransport: () => (/* reexport */ createTransport),
  resolveTargets: () => (/* reexport */ resolveTargets),
  runTargets: () => (/* reexport */ runTargets)
});

// EXTERNAL MODULE: ./src/dokploy/errors.ts
var errors = __webpack_require__(8771);
// EXTERNAL MODULE: ./node_modules/@actions/http-client/lib/index.js + 1 modules
var lib = __webpack_require__(4942);
// EXTERNAL MODULE: ./src/constants.ts
var constants = __webpack_require__(7242);
;// CONCATENATED MODULE: ./src/dokploy/transport.ts


/**
 * Why a request got no usable HTTP answer. `refused` means it certainly never reached Dokploy
 * (connection refused, DNS failure, proxy tunnel not established), so even a deploy may be resent.
 * `tls`: the server's certificate was rejected during the handshake, so nothing was sent either.
 * `too-large`: an answer came, but its (decoded) body passed the size cap and was dropped.
 */
class TransportError extends Error {
    reason;
    code;
    constructor(reason, message, code) {
        super(message);
        this.reason = reason;
        this.code = code;
        this.name = 'TransportError';
    }
}
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Node's codes for a certificate the client refuses (node-fetch copies them to `code`), by what the user can do about it. */
const TLS_PROBLEMS = new Map([
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'untrusted'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'untrusted'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'untrusted'],
    ['UNABLE_TO_GET_ISSUER_CERT', 'untrusted'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'untrusted'],
    ['CERT_UNTRUSTED', 'untrusted'],
    ['INVALID_CA', 'untrusted'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'other-host'],
    ['CERT_HAS_EXPIRED', 'expired'],
    ['CERT_NOT_YET_VALID', 'not-yet-valid'],
    ['CERT_SIGNATURE_FAILURE', 'rejected'],
    ['CERT_REVOKED', 'rejected']
]);
/**
 * No Dokploy answer comes near this; a body past it is a misdirected URL or a hostile proxy, and
 * the cap counts decoded bytes, so a small gzip body cannot inflate past it either.
 */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** 32 MB, 512 KB, 900 bytes. */
function formatBytes(bytes) {
    if (bytes >= 1024 * 1024)
        return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
    if (bytes >= 1024)
        return `${Math.round((bytes / 1024) * 10) / 10} KB`;
    return `${bytes} bytes`;
}
/** node-fetch (with its Blob, FormData and streams) loads with the first request: a run that stops at its inputs never needs it. */
let loading;
let loaded;
const loadFetch = () => (loading ??= __webpack_require__.e(/* import() */ 287).then(__webpack_require__.bind(__webpack_require__, 9287)).then((module) => (loaded = module.default)));
/**
 * fetch through the proxy the runner is configured with: @actions/http-client reads
 * HTTPS_PROXY/HTTP_PROXY/NO_PROXY (either case) exactly as the rest of the toolkit does.
 * Redirects are never followed: a 301/302 silently turns a POST into a GET.
 */
function createTransport(options = {}) {
    const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    const http = new lib/* HttpClient */.Qq(constants/* USER_AGENT */._O, [], { keepAlive: true });
    const agents = new Map();
    const agentFor = (url) => {
        const origin = new URL(url).origin;
        let agent = agents.get(origin);
        if (!agent) {
            agent = http.getAgent(url);
            agents.set(origin, agent);
        }
        return agent;
    };
    const send = async (request) => {
        const timeout = AbortSignal.timeout(request.timeoutMs);
        const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
        try {
            const fetch = loaded ?? (await loadFetch());
            const response = await fetch(request.url, {
                method: request.method,
                headers: { 'user-agent': constants/* USER_AGENT */._O, ...request.headers },
                body: request.body,
                redirect: 'manual',
                compress: true,
                agent: agentFor(request.url),
                // node-fetch stops reading (and inflating) once the decoded body passes this
                size: maxBodyBytes,
                signal
            });
            const buffer = Buffer.from(await response.arrayBuffer());
            return {
                status: response.status,
                header: (name) => response.headers.get(name),
                text: buffer.toString('utf8'),
                bytes: buffer.length
            };
        }
        catch (error) {
            if (request.signal?.aborted)
                throw new TransportError('cancelled', 'cancelled by the runner');
            if (timeout.aborted)
                throw new TransportError('timeout', `no answer within ${Math.round(request.timeoutMs / 1000)} s`);
            throw classify(error, maxBodyBytes);
        }
    };
    const close = () => {
        // tunnel's proxy agents have no destroy(); their sockets close with the process
        for (const agent of agents.values())
            agent.destroy?.();
        agents.clear();
    };
    return { send, close };
}
/** What a fetch failure means for the request; the message is Node's, never a body. */
function classify(error, maxBodyBytes) {
    const err = error;
    if (err.type === 'max-size')
        return new TransportError('too-large', `larger than ${formatBytes(maxBodyBytes)}`);
    const code = err.code ?? err.errno;
    const message = String(err.message ?? error);
    if (code && TLS_PROBLEMS.has(code))
        return new TransportError('tls', tlsReason(message), code);
    // node-fetch wraps a proxy's refusal as "…reason: tunneling socket could not be established…"
    if ((code && NEVER_SENT.has(code)) || message.includes('tunneling socket could not be established')) {
        return new TransportError('refused', message, code);
    }
    return new TransportError('lost', message, code);
}
/** Node's own words after node-fetch's "request to <url> failed, reason: ", without its --use-system-ca hint. */
function tlsReason(message) {
    return message
        .replace(/^.*?reason: /, '')
        .replace(/; if the root CA is installed locally.*$/, '')
        .trim();
}

;// CONCATENATED MODULE: ./src/dokploy/envelope.ts
/**
 * Dokploy's tRPC envelopes: `{"result":{"data":{"json": …}}}` for a value, `{"error":{"json": …}}` for an
 * error (or a REST-style `{message, code}` from older routes and proxies). Parsing only: no wording here.
 */
function readEnvelope(text) {
    if (text.trim() === '')
        return { kind: 'not-json' };
    let envelope;
    try {
        envelope = JSON.parse(text);
    }
    catch {
        return { kind: 'not-json' };
    }
    const error = readError(envelope);
    if (error)
        return { kind: 'error', error };
    const result = envelope?.result;
    if (result && typeof result === 'object' && result.data && typeof result.data === 'object')
        return { kind: 'value', value: result.data.json };
    return { kind: 'other' };
}
function readError(envelope) {
    if (!envelope || typeof envelope !== 'object')
        return undefined;
    const record = envelope;
    const inner = record.error?.json ?? (record.result ? undefined : record);
    if (!inner || typeof inner !== 'object' || !('message' in inner))
        return undefined;
    const body = inner;
    const code = typeof body.data?.code === 'string' ? body.data.code : typeof body.code === 'string' ? body.code : undefined;
    const fieldErrors = body.data?.zodError?.fieldErrors;
    return {
        message: typeof body.message === 'string' ? body.message : undefined,
        code,
        fieldErrors: fieldErrors && typeof fieldErrors === 'object' ? fieldErrors : undefined
    };
}

// EXTERNAL MODULE: ./src/secrets.ts
var secrets = __webpack_require__(7194);
;// CONCATENATED MODULE: ./src/dokploy/wording.ts



/**
 * Every message a failed call gets: one wording per HTTP status and per transport failure, each saying
 * what to do. Server text in them is redacted and cut; a body is never quoted, only an HTML page's title
 * or a short glimpse of other text.
 */
/** How a failure reads inside a sentence: the same words in an error and in a retry's notice. */
function phrase(procedure, failure, status) {
    switch (failure) {
        case 'rate-limited':
            return `Dokploy is rate-limiting ${procedure} (429)`;
        case 'unavailable':
            return `Dokploy is unavailable (503) on ${procedure}`;
        case 'gateway':
            return `A proxy answered ${procedure} with ${status ?? 'an error'}`;
        case 'truncated':
            return `Dokploy's answer to ${procedure} was cut short`;
        case 'timeout':
            return `Dokploy did not answer ${procedure} in time`;
        case 'network':
            return `The connection to Dokploy failed on ${procedure}`;
        default:
            return `${procedure} failed (${failure})`;
    }
}
/** The DokployError for an answer that is not a value; undefined for a void mutation's empty 2xx, which is one. */
function answerFailure(answer) {
    const { procedure, status, envelope, header } = answer;
    const fail = (failure, message, delivery) => new errors/* DokployError */.RI(failure, message, delivery, status, answer.retryAfterMs);
    const access = accessFailure(answer);
    if (access)
        return fail('cloudflare', access, 'not-processed');
    if (status >= 300 && status < 400) {
        const location = header('location') ?? '(no Location header)';
        return fail('redirect', `${answer.baseUrl} answered ${procedure} with a ${status} redirect to ${location}. Redirects are not followed (they turn a POST into a GET): set the url input to the final address, usually https://.`, 'not-processed');
    }
    const error = envelope.kind === 'error' ? envelope.error : undefined;
    const quoted = error?.message ? `: "${(0,secrets/* redact */.E$)(error.message).slice(0, 300)}"` : '';
    if (status === 403 && header('cf-mitigated')) {
        return fail('cloudflare', `Cloudflare blocked the request to ${procedure} with a bot challenge (403, cf-mitigated: ${header('cf-mitigated')}): allow GitHub's runners past bot protection for /api/*, or use a DNS-only host name for Dokploy.`, 'not-processed');
    }
    if (status === 429)
        return fail('rate-limited', `${phrase(procedure, 'rate-limited')}${quoted}.`, 'not-processed');
    if (status === 503)
        return fail('unavailable', `${phrase(procedure, 'unavailable')}${quoted}.`, 'not-processed');
    if (envelope.kind === 'not-json')
        return notJson(answer, fail);
    if (envelope.kind === 'error' || status >= 400)
        return statusFailure(answer, error, quoted, fail);
    return fail('bad-shape', `Dokploy's answer to ${procedure} is JSON but not a tRPC reply: is the url the Dokploy base URL (not a path inside it)?`, 'processed');
}
/** A Cloudflare Access team's login host, where Access sends a request it has not let through. */
const ACCESS_LOGIN = /(^|\.)cloudflareaccess\.com$/i;
/**
 * Cloudflare Access in front of Dokploy: a redirect to the team's `*.cloudflareaccess.com` login page (no
 * credentials at all), or its 403 page (a service token it does not accept). The fix is the headers input.
 */
function accessFailure(answer) {
    const { procedure, status, header, text } = answer;
    const recipe = `give the action an Access service token through the headers input (two lines, CF-Access-Client-Id: <client id> and CF-Access-Client-Secret: <client secret>, from secrets), and allow that token in the Access application's policy (a Service Auth rule)`;
    if (status >= 300 && status < 400) {
        let host;
        try {
            host = new URL(header('location') ?? '', answer.baseUrl).hostname;
        }
        catch {
            host = undefined;
        }
        if (!host || !ACCESS_LOGIN.test(host))
            return undefined;
        return `Cloudflare Access stands in front of Dokploy: it answered ${procedure} with a ${status} redirect to its login page at ${host}, so the request carried no Access credentials it accepts. To get through, ${recipe}.`;
    }
    if (status === 403 && /cloudflare ?access|cloudflareaccess\.com/i.test(text.slice(0, 64 * 1024))) {
        return `Cloudflare Access refused ${procedure} (403, its own page, not Dokploy's): the service token in the headers input is missing, wrong or expired, or the Access policy does not allow it. To get through, ${recipe}.`;
    }
    return undefined;
}
/** A body that is not JSON: a proxy's page, nothing at all, or a reply cut short. */
function notJson(answer, fail) {
    const { procedure, method, status, text, bytes } = answer;
    const contentType = answer.header('content-type') ?? 'no content type';
    if (status >= 200 && status < 300 && text.trim() === '') {
        // some versions answer a void mutation with nothing at all; a query always has a value
        if (method === 'POST')
            return undefined;
        return fail('truncated', `Dokploy answered ${procedure} with an empty body (${status}, ${contentType}).`, 'maybe-processed');
    }
    if (status >= 500) {
        return fail('gateway', `${phrase(procedure, 'gateway', status)} (${contentType}, ${(0,errors/* preview */.VH)(text, secrets/* redact */.E$)}) instead of Dokploy: the server or its proxy failed or timed out.`, 'maybe-processed');
    }
    const looksJson = /json/i.test(contentType) || /^\s*[[{]/.test(text);
    if (looksJson && status >= 200 && status < 300)
        return fail('truncated', `${phrase(procedure, 'truncated')} (${bytes} bytes of invalid JSON).`, 'maybe-processed');
    return fail('not-json', `Expected JSON from Dokploy on ${procedure} but got ${status} ${contentType} (${(0,errors/* preview */.VH)(text, secrets/* redact */.E$)}): something other than Dokploy answered; check the url input.`, 'not-processed');
}
/** Dokploy's own error (or a JSON body with an error status). */
function statusFailure(answer, error, quoted, fail) {
    const { procedure, status, answeredBefore } = answer;
    const code = error?.code;
    const ids = describeIds(answer.input);
    if (status === 401 || code === 'UNAUTHORIZED') {
        if (error?.message && /permission|access/i.test(error.message)) {
            return fail('unauthorized', `Dokploy refused ${procedure}${ids} (401)${quoted}: the key's user lacks rights on this service.`, 'not-processed');
        }
        if (answeredBefore > 0) {
            return fail('unauthorized', `Dokploy rejected the API key (401) on ${procedure} after ${answeredBefore} accepted request(s): most likely the key's rate limit is spent (keys created through the API allow 10 requests a day by default). Use a key without a rate limit.`, 'not-processed');
        }
        return fail('unauthorized', `Dokploy rejected the API key (401) on ${procedure}: check that the api-key secret is a valid, enabled, unexpired key of this Dokploy, and that its rate limit is not spent.`, 'not-processed');
    }
    if (status === 403 || code === 'FORBIDDEN')
        return fail('forbidden', `Dokploy forbade ${procedure}${ids} (403)${quoted}: the key belongs to another organisation.`, 'not-processed');
    if (status === 404 || code === 'NOT_FOUND') {
        if (error?.message?.startsWith('No procedure found')) {
            return fail('no-procedure', `This Dokploy has no ${procedure} (404): the server is older than this call needs; upgrade Dokploy.`, 'not-processed');
        }
        return fail('not-found', `Dokploy found nothing for ${procedure}${ids} (404)${quoted}: check the id, and that this key's organisation can see it.`, 'not-processed');
    }
    if (status === 400 || code === 'BAD_REQUEST')
        return fail('bad-request', `Dokploy rejected ${procedure} (400): ${describeBadRequest(error)}.`, 'not-processed');
    if (status === 405) {
        return fail('method', `Dokploy refused the HTTP method of ${procedure} (405): a proxy may have rewritten the request; use the final https:// URL.`, 'not-processed');
    }
    if (status === 502 || status === 504 || status === 524)
        return fail('gateway', `${phrase(procedure, 'gateway', status)}${quoted}.`, 'maybe-processed');
    return fail('server-error', `Dokploy failed on ${procedure}${ids} (${status})${quoted || ' without a message'}.`, 'processed');
}
/** A reply that parsed but lacks the fields a caller needs: another Dokploy version. */
const shapeFailure = (procedure, expected, status) => new errors/* DokployError */.RI('bad-shape', `Dokploy's answer to ${procedure} did not have the expected shape (${expected}): is this a Dokploy version the action supports (v0.19 or later)?`, 'processed', status);
/** The DokployError for a request that got no HTTP answer. */
function transportFailure(procedure, error, context) {
    const origin = new URL(context.baseUrl).origin;
    switch (error.reason) {
        case 'cancelled':
            return new errors/* DokployError */.RI('cancelled', `${procedure} was cancelled by the runner.`, 'maybe-processed');
        case 'timeout':
            return new errors/* DokployError */.RI('timeout', context.cutByDeadline
                ? `wait-timeout was reached while waiting for Dokploy to answer ${procedure}.`
                : `Dokploy did not answer ${procedure} within the request timeout (${error.message}); raise request-timeout if the server is slow.`, 'maybe-processed');
        case 'refused':
            return new errors/* DokployError */.RI('network', context.answeredBefore > 0
                ? `Dokploy at ${origin} stopped answering (${error.code ?? error.message}) on ${procedure} after ${context.answeredBefore} answered request(s): it is probably restarting or was stopped.`
                : `Could not reach Dokploy at ${origin} (${error.code ?? error.message}): check the url input and that the runner can reach the server.`, 'not-processed');
        case 'tls':
            // the handshake failed, so no request left the runner: nothing was done
            return new errors/* DokployError */.RI('tls', `${certificateProblem(origin, error)} Nothing was sent to Dokploy.`, 'not-processed');
        case 'too-large':
            // an answer came: Dokploy did act on the request
            return new errors/* DokployError */.RI('too-large', `Dokploy's answer to ${procedure} was ${error.message}, so the action stopped reading it: no Dokploy reply is that big; check that the url input is the Dokploy base URL and what a proxy in front of it sends.`, 'processed');
        default:
            return new errors/* DokployError */.RI('network', `The connection to ${origin} broke during ${procedure} (${error.code ?? error.message}).`, 'maybe-processed');
    }
}
/** The certificate problem and its fix. The reason may quote names from the certificate: server text. */
function certificateProblem(origin, error) {
    const code = error.code ?? 'TLS';
    // eslint-disable-next-line no-control-regex -- control characters are what is being removed
    const reason = (0,secrets/* redact */.E$)(error.message).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/[\s:]+$/, '').slice(0, 200);
    const certificate = `The TLS certificate of ${origin}`;
    switch (TLS_PROBLEMS.get(code)) {
        case 'untrusted':
            return `${certificate} is not trusted (${code}: ${reason}): it is self-signed or issued by a private CA. Set NODE_EXTRA_CA_CERTS in the step's env to the path of that CA's certificate (PEM) on the runner, or give Dokploy a publicly trusted certificate.`;
        case 'other-host':
            return `${certificate} is for another host name (${code}: ${reason}): set the url input to a host name the certificate names.`;
        case 'expired':
            return `${certificate} has expired (${code}): renew it on the server.`;
        case 'not-yet-valid':
            return `${certificate} is not valid yet (${code}): check the clocks of the server and the runner.`;
        default:
            return `${certificate} was rejected (${code}: ${reason}).`;
    }
}
function describeBadRequest(error) {
    const fields = Object.entries(error?.fieldErrors ?? {})
        .map(([field, problems]) => `${field}: ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`)
        .join('; ');
    if (fields)
        return (0,secrets/* redact */.E$)(fields).slice(0, 400);
    return error?.message ? `"${(0,secrets/* redact */.E$)(error.message).slice(0, 300)}"` : 'no reason given';
}
/** ` for applicationId "abc"`: ids are not secret and tell the user which input to fix. */
function describeIds(input) {
    if (!input)
        return '';
    const ids = Object.entries(input).filter(([key, value]) => /Id$/.test(key) && typeof value === 'string');
    return ids.length ? ` for ${ids.map(([key, value]) => `${key} "${value}"`).join(', ')}` : '';
}

;// CONCATENATED MODULE: ./src/retry.ts
function backoffDelay(attempt, backoff) {
    const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** attempt);
    return Math.round((backoff.random ?? Math.random)() * ceiling);
}
/** Retry-After is seconds or an HTTP date; capped so a proxy cannot park the step. */
function parseRetryAfter(header, now, capMs = 60_000) {
    if (!header)
        return undefined;
    const seconds = Number(header);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
    return Number.isFinite(ms) ? Math.min(Math.max(0, ms), capMs) : undefined;
}

// EXTERNAL MODULE: ./src/logger.ts
var logger = __webpack_require__(6999);
;// CONCATENATED MODULE: ./src/dokploy/retries.ts




async function withRetries(procedure, kind, policy, remainingMs, attempt) {
    for (let n = 0;; n++) {
        try {
            return await attempt();
        }
        catch (error) {
            if (!(error instanceof errors/* DokployError */.RI) || !(0,errors/* isRetryable */.r3)(error, kind) || n >= policy.retries)
                throw error;
            const delay = Math.max(error.retryAfterMs ?? 0, backoffDelay(n, policy.backoff));
            if (remainingMs() <= delay)
                throw error;
            announce(procedure, error, delay, n + 1, policy);
            await policy.sleep(delay, policy.signal);
        }
    }
}
/** A pause of 60 s with nothing printed looks like a hang: a long one is said at info level. */
function announce(procedure, error, delayMs, retry, policy) {
    policy.debug?.(`${procedure}: ${error.failure}, retry ${retry}/${policy.retries} in ${delayMs} ms`);
    if (delayMs < policy.visiblePauseMs)
        return;
    const asked = error.retryAfterMs !== undefined && error.retryAfterMs >= delayMs;
    policy.info?.(`${phrase(procedure, error.failure, error.status)}; waiting ${(0,logger/* formatDuration */.a3)(delayMs)}${asked ? ' as it asks' : ''} (retry ${retry}/${policy.retries}).`);
}

// EXTERNAL MODULE: ./src/clock.ts + 1 modules
var clock = __webpack_require__(7249);
// EXTERNAL MODULE: ./src/timings.ts
var timings = __webpack_require__(1820);
;// CONCATENATED MODULE: ./src/dokploy/client.ts








/** Failures that are a silence of the server, not an answer. */
const OUTAGE = new Set(['network', 'gateway', 'unavailable', 'timeout']);
/**
 * Dokploy's tRPC API: queries are GET `?input=`, mutations POST `{"json": …}`. Response bodies never leave
 * this class: callers get what their extractor picked, or a DokployError whose message quotes no body.
 * Retries (retries.ts), envelopes (envelope.ts) and wording (wording.ts) are each their own module.
 */
class DokployClient {
    options;
    stats;
    answered = 0;
    /** When Dokploy last answered, and when the silence after it began (an outage failure), if it has. */
    lastAnswerAt;
    silentSince;
    /** The latest Date header and when it arrived, to bound the server's clock. */
    serverClock;
    clock;
    timings;
    policy;
    constructor(options, stats) {
        this.options = options;
        this.stats = stats ?? { requests: 0, outages: 0, retries: 0, bytesSent: 0, bytesReceived: 0 };
        this.clock = options.clock ?? clock/* systemClock */.m;
        this.timings = options.timings ?? timings/* TIMINGS */.s;
        this.policy = {
            retries: options.retries,
            backoff: options.backoff ?? { baseMs: this.timings.retryBaseMs, capMs: this.timings.retryCapMs },
            sleep: async (ms, signal) => {
                this.stats.retries++;
                await this.clock.sleep(ms, signal);
            },
            signal: options.signal,
            visiblePauseMs: this.timings.visiblePauseMs,
            debug: options.debug,
            info: options.info
        };
    }
    query(procedure, input, extract, options = {}) {
        const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
        return this.call('query', procedure, { method: 'GET', path: `${procedure}${query}` }, extract, options, input);
    }
    mutate(procedure, input, extract, options = {}) {
        return this.call('mutation', procedure, { method: 'POST', path: procedure, body: JSON.stringify({ json: input }) }, extract, options, input);
    }
    /**
     * The step's last requests after the runner cancelled it or wait-timeout passed (taking its queued deploy
     * back): not aborted by the runner's signal, bounded by their own deadline, counted in the same stats.
     */
    detached(deadline) {
        return new DokployClient({ ...this.options, signal: undefined, deadline, retries: 0 }, this.stats);
    }
    /**
     * A lower bound of the server's clock at our local time `localMs`, from the latest Date header (whole
     * seconds, so never ahead of the truth); undefined before any dated answer.
     */
    serverTimeAtLeast(localMs) {
        return this.serverClock && this.serverClock.serverMs - (this.serverClock.receivedAt - localMs);
    }
    call(kind, procedure, request, extract, options, input) {
        return withRetries(procedure, kind, this.policy, () => this.remainingMs(options), async () => {
            try {
                return await this.attempt(procedure, request, extract, options, input);
            }
            catch (error) {
                if (error instanceof errors/* DokployError */.RI && OUTAGE.has(error.failure))
                    this.silentSince ??= this.clock.now();
                throw error;
            }
        });
    }
    /** Dokploy answered: a silence before it long enough to hide a restart counts as an outage. */
    heard() {
        const now = this.clock.now();
        if (this.silentSince !== undefined && now - (this.lastAnswerAt ?? this.silentSince) >= this.timings.restartMinMs)
            this.stats.outages++;
        this.silentSince = undefined;
        this.lastAnswerAt = now;
    }
    remainingMs(options) {
        return this.options.deadline === undefined ? Infinity : this.options.deadline + (options.graceMs ?? 0) - this.clock.now();
    }
    async attempt(procedure, request, extract, options, input) {
        const { baseUrl, apiKey, transport, signal, debug } = this.options;
        const bound = options.timeoutMs ?? this.options.requestTimeoutMs;
        const budget = Math.min(bound, this.remainingMs(options));
        if (budget <= 0)
            throw new errors/* DokployError */.RI('timeout', `Gave up on ${procedure}: wait-timeout reached.`, 'not-processed');
        const headers = { ...this.options.headers, 'x-api-key': apiKey, accept: 'application/json' };
        if (request.body !== undefined)
            headers['content-type'] = 'application/json';
        const started = this.clock.now();
        this.stats.requests++;
        this.stats.bytesSent += Buffer.byteLength(request.body ?? '');
        let response;
        try {
            response = await transport({ method: request.method, url: `${baseUrl}/api/trpc/${request.path}`, headers, body: request.body, timeoutMs: budget, signal });
        }
        catch (error) {
            if (!(error instanceof TransportError))
                throw error;
            debug?.(`${request.method} ${procedure} → ${error.reason} after ${this.clock.now() - started} ms`);
            throw transportFailure(procedure, error, { baseUrl, answeredBefore: this.answered, cutByDeadline: budget < bound });
        }
        this.stats.bytesReceived += response.bytes;
        const date = Date.parse(response.header('date') ?? '');
        if (Number.isFinite(date))
            this.serverClock = { serverMs: date, receivedAt: this.clock.now() };
        debug?.(`${request.method} ${procedure} → ${response.status} in ${this.clock.now() - started} ms, ${response.bytes} B`);
        const value = this.valueOf(procedure, request.method, response, input);
        this.answered++;
        this.heard();
        try {
            return extract(value);
        }
        catch (error) {
            if (!(error instanceof errors/* ShapeError */.ym))
                throw error;
            throw shapeFailure(procedure, error.expected, response.status);
        }
    }
    /** The reply's `json` value, or the matching DokployError. */
    valueOf(procedure, method, response, input) {
        const envelope = readEnvelope(response.text);
        const ok = response.status >= 200 && response.status < 300;
        if (ok && envelope.kind === 'value')
            return envelope.value;
        const failure = answerFailure({
            procedure,
            method,
            status: response.status,
            header: response.header,
            text: response.text,
            bytes: response.bytes,
            envelope,
            input,
            answeredBefore: this.answered,
            baseUrl: this.options.baseUrl,
            retryAfterMs: parseRetryAfter(response.header('retry-after'), this.clock.now())
        });
        if (failure)
            throw failure;
        return undefined;
    }
}

// EXTERNAL MODULE: ./src/dokploy/shape.ts
var shape = __webpack_require__(7795);
// EXTERNAL MODULE: ./src/operations.ts
var operations = __webpack_require__(4237);
;// CONCATENATED MODULE: ./src/dokploy/api.ts




/** `/dashboard/project/<projectId>/environment/<environmentId>/services/<type>/<id>`: the two ids, nothing else. */
const SERVICE_PATH = /^\/dashboard\/project\/([\w.-]{1,128})\/environment\/([\w.-]{1,128})\/services\//;
function placeOf(job) {
    const path = job.servicePath && typeof job.servicePath === 'object' ? (0,shape/* text */.Qq)(job.servicePath, 'href') : undefined;
    const match = path ? SERVICE_PATH.exec(path) : null;
    return match ? { projectId: match[1], environmentId: match[2] } : {};
}
function toRow(value) {
    const row = (0,shape/* object */.Ik)(value, 'a deployment row');
    return {
        deploymentId: (0,shape/* requiredText */.$4)(row, 'deploymentId', 'a deployment row'),
        title: (0,shape/* nullableText */.DU)(row, 'title'),
        description: (0,shape/* nullableText */.DU)(row, 'description'),
        status: (0,shape/* requiredText */.$4)(row, 'status', 'a deployment row'),
        errorMessage: (0,shape/* nullableText */.DU)(row, 'errorMessage'),
        createdAt: (0,shape/* nullableText */.DU)(row, 'createdAt'),
        startedAt: (0,shape/* nullableText */.DU)(row, 'startedAt'),
        finishedAt: (0,shape/* nullableText */.DU)(row, 'finishedAt'),
        logPath: (0,shape/* nullableText */.DU)(row, 'logPath'),
        buildServerId: (0,shape/* nullableText */.DU)(row, 'buildServerId')
    };
}
/** The service's deployment rows, newest first (Dokploy keeps the last 10). */
function listDeployments(client, spec, id) {
    if (!spec.deploymentList)
        throw new Error(`${spec.router} has no deployment rows`);
    return client.query(spec.deploymentList, { [spec.idKey]: id }, (value) => (0,shape/* array */.YO)(value, 'deployments').map(toRow));
}
/** The application's previews (`previewDeployment.all`): ids, numbers and domains only; their rows are read on their own. */
function listPreviews(client, applicationId) {
    return client.query('previewDeployment.all', { applicationId }, (value) => (0,shape/* array */.YO)(value, 'preview deployments').map((entry) => {
        const row = (0,shape/* object */.Ik)(entry, 'a preview deployment');
        const domain = row.domain && typeof row.domain === 'object' ? domainsOrNone([row.domain])?.[0] : undefined;
        return {
            previewDeploymentId: (0,shape/* requiredText */.$4)(row, 'previewDeploymentId', 'a preview deployment'),
            pullRequestNumber: Number((0,shape/* text */.Qq)(row, 'pullRequestNumber') ?? NaN),
            domain
        };
    }));
}
/** A preview's deployment rows, newest first (`deployment.allByType`). */
function previewRows(client, previewDeploymentId) {
    return client.query('deployment.allByType', { id: previewDeploymentId, type: 'previewDeployment' }, (value) => (0,shape/* array */.YO)(value, 'deployments').map(toRow));
}
/** The build queues of every server (v0.28.3+): one per server, told apart by each job's `serverId`. */
function queueList(client) {
    return client.query('deployment.queueList', undefined, (value) => (0,shape/* array */.YO)(value, 'queue jobs').map((entry) => {
        const job = (0,shape/* object */.Ik)(entry, 'a queue job');
        const data = job.data && typeof job.data === 'object' ? job.data : {};
        return {
            id: String(job.id ?? ''),
            state: (0,shape/* text */.Qq)(job, 'state') ?? 'waiting',
            serviceId: (0,shape/* text */.Qq)(data, 'applicationId') ?? (0,shape/* text */.Qq)(data, 'composeId'),
            title: (0,shape/* text */.Qq)(data, 'titleLog'),
            description: (0,shape/* text */.Qq)(data, 'descriptionLog'),
            timestamp: typeof job.timestamp === 'number' ? job.timestamp : 0,
            processedOn: typeof job.processedOn === 'number' ? job.processedOn : undefined,
            serverId: (0,shape/* text */.Qq)(data, 'serverId'),
            ...placeOf(job)
        };
    }));
}
/**
 * Removes every waiting job of the service from Dokploy's queue (its previews' too), leaving active ones
 * (`<router>.cleanQueues`): there is no way to remove one job by its id.
 */
async function cleanQueues(client, spec, id) {
    await client.mutate(`${spec.router}.cleanQueues`, { [spec.idKey]: id }, () => undefined);
}
/** The last lines of a deployment's build log (v0.29.6+). */
function readLogs(client, deploymentId, tail, graceMs) {
    return client.query('deployment.readLogs', { deploymentId, tail }, (value) => (typeof value === 'string' ? value : ''), { graceMs });
}
/**
 * The one reader of `<router>.one`, which carries every secret of the service: every secret in the reply
 * is masked before anything else can print it, and only the fields named here are kept, the secret ones
 * only when asked for.
 */
function readService(client, spec, id, wanted = {}) {
    return client.query(`${spec.router}.one`, { [spec.idKey]: id }, (value) => {
        (0,secrets/* learnSecretsOf */.Fb)(value);
        const row = (0,shape/* object */.Ik)(value, `a ${spec.router}`);
        const environment = row.environment && typeof row.environment === 'object' ? row.environment : {};
        const details = {
            name: (0,shape/* text */.Qq)(row, 'name'),
            appName: (0,shape/* text */.Qq)(row, 'appName'),
            serverId: (0,shape/* text */.Qq)(row, 'serverId') || undefined,
            composeType: (0,shape/* text */.Qq)(row, 'composeType'),
            status: (0,shape/* text */.Qq)(row, spec.statusKey),
            projectId: (0,shape/* text */.Qq)(row, 'projectId') ?? (0,shape/* text */.Qq)(environment, 'projectId'),
            environmentId: (0,shape/* text */.Qq)(row, 'environmentId'),
            environmentName: (0,shape/* text */.Qq)(environment, 'name'),
            sourceType: (0,shape/* text */.Qq)(row, 'sourceType'),
            autoDeploy: typeof row.autoDeploy === 'boolean' ? row.autoDeploy : undefined,
            dockerImage: (0,shape/* nullableText */.DU)(row, 'dockerImage'),
            buildServerId: spec.router === 'application' ? (0,shape/* nullableText */.DU)(row, 'buildServerId') : null,
            domains: spec.domainList && Array.isArray(row.domains) ? domainsOrNone(row.domains) : undefined
        };
        if (wanted.env) {
            details.env = (0,shape/* nullableText */.DU)(row, 'env');
            details.createEnvFile = typeof row.createEnvFile === 'boolean' ? row.createEnvFile : undefined;
            if (spec.router === 'application') {
                details.buildArgs = (0,shape/* nullableText */.DU)(row, 'buildArgs');
                details.buildSecrets = (0,shape/* nullableText */.DU)(row, 'buildSecrets');
            }
        }
        if (wanted.registry && spec.router === 'application') {
            details.registryUrl = (0,shape/* nullableText */.DU)(row, 'registryUrl');
            details.username = (0,shape/* nullableText */.DU)(row, 'username');
            details.password = (0,shape/* nullableText */.DU)(row, 'password');
        }
        return details;
    });
}
/** Host, scheme and path of each domain: nothing else of a domain row is kept. */
const domainRows = (value) => (0,shape/* array */.YO)(value, 'domains').map((entry) => {
    const row = (0,shape/* object */.Ik)(entry, 'a domain');
    return { host: (0,shape/* requiredText */.$4)(row, 'host', 'a domain'), https: row.https === true, path: (0,shape/* text */.Qq)(row, 'path'), enabled: row.enabled !== false };
});
/** The service's domains (application and compose): host, scheme and path only. */
function readDomains(client, spec, id, graceMs) {
    if (!spec.domainList)
        throw new Error(`${spec.router} has no domains`);
    return client.query(spec.domainList, { [spec.idKey]: id }, domainRows, { graceMs });
}
/** Malformed domains in `.one` are left to the domain list's own read, which says what is wrong. */
function domainsOrNone(value) {
    try {
        return domainRows(value);
    }
    catch {
        return undefined;
    }
}
/** The service status, from a fresh read of `.one` (the same reader, so its secrets are masked too). */
async function readStatus(client, spec, id) {
    return (await readService(client, spec, id)).status;
}
/** Sends the operation. Replies vary by version (void, true, a row, {success, message}) and are not kept. */
async function runOperation(client, call) {
    const spec = operations/* SPECS */.ne[call.resource];
    const input = { [spec.idKey]: call.id };
    if (call.mode === 'queued') {
        if (call.title)
            input.title = call.title;
        if (call.description)
            input.description = call.description;
    }
    if (call.operation === 'reload')
        input.appName = call.appName;
    await client.mutate(`${spec.router}.${call.operation}`, input, (value) => {
        // compose deploy answers {success:false} on some versions when it refused the job
        if (value && typeof value === 'object' && value.success === false) {
            const reason = (0,secrets/* redact */.E$)(String(value.message ?? 'no reason given')).slice(0, 300);
            throw new errors/* DokployError */.RI('server-error', `Dokploy refused ${spec.router}.${call.operation}: ${reason}.`, 'processed');
        }
    }, { timeoutMs: call.timeoutMs });
}
/**
 * The service's Swarm tasks, history included (`swarm.getAppInfos`, docker:read). Dokploy answers null when
 * Docker wrote to stderr, and [] on any other failure: both are "could not see", returned as undefined and [].
 */
function readTasks(client, appName, serverId, graceMs) {
    const input = { appName: [appName], ...(serverId ? { serverId } : {}) };
    return client.query('swarm.getAppInfos', input, (value) => {
        if (value === null || value === undefined)
            return undefined;
        return (0,shape/* array */.YO)(value, 'tasks').map((entry) => {
            const task = (0,shape/* object */.Ik)(entry, 'a task');
            return {
                id: (0,shape/* text */.Qq)(task, 'ID') ?? '',
                name: ((0,shape/* text */.Qq)(task, 'Name') ?? '').replace(/^\s*\\_\s*/, ''),
                image: (0,shape/* text */.Qq)(task, 'Image') ?? '',
                desired: ((0,shape/* text */.Qq)(task, 'DesiredState') ?? '').toLowerCase(),
                current: (0,shape/* text */.Qq)(task, 'CurrentState') ?? '',
                error: (0,shape/* text */.Qq)(task, 'Error') ?? ''
            };
        });
    }, { graceMs });
}
/** A compose project's containers, or a stack's running tasks (`docker.getContainersByAppNameMatch`, service:read). */
function readContainers(client, appName, appType, serverId, graceMs) {
    const input = { appName, appType, ...(serverId ? { serverId } : {}) };
    return client.query('docker.getContainersByAppNameMatch', input, (value) => (0,shape/* array */.YO)(value ?? [], 'containers').map((entry) => {
        const row = (0,shape/* object */.Ik)(entry, 'a container');
        return { id: (0,shape/* text */.Qq)(row, 'containerId') ?? '', name: (0,shape/* text */.Qq)(row, 'name') ?? '', state: ((0,shape/* text */.Qq)(row, 'state') ?? '').toLowerCase(), status: (0,shape/* text */.Qq)(row, 'status') ?? '' };
    }), { graceMs });
}
/** An application's deployment rows with their rollback records, newest first (`deployment.allByType`, v0.22+). */
function listRollbackRows(client, applicationId) {
    return client.query('deployment.allByType', { id: applicationId, type: 'application' }, (value) => (0,shape/* array */.YO)(value, 'deployments').map((entry) => {
        const row = (0,shape/* object */.Ik)(entry, 'a deployment row');
        const rollback = row.rollback && typeof row.rollback === 'object' ? row.rollback : undefined;
        return {
            deploymentId: (0,shape/* requiredText */.$4)(row, 'deploymentId', 'a deployment row'),
            status: (0,shape/* requiredText */.$4)(row, 'status', 'a deployment row'),
            createdAt: (0,shape/* nullableText */.DU)(row, 'createdAt'),
            rollbackId: rollback ? (0,shape/* text */.Qq)(rollback, 'rollbackId') : undefined,
            image: rollback ? (0,shape/* text */.Qq)(rollback, 'image') : undefined
        };
    }));
}
/** Dokploy's rollback: the application runs that deployment's image and settings again (synchronous; no deployment row). */
async function runRollback(client, rollbackId) {
    await client.mutate('rollback.rollback', { rollbackId }, () => undefined);
}
/** The log of the application's newest running container (`application.readLogs`): server text, masked before it is shown. */
function readRuntimeLog(client, applicationId, tail, graceMs) {
    return client.query('application.readLogs', { applicationId, tail, since: '10m' }, (value) => (typeof value === 'string' ? value : ''), { graceMs });
}

// EXTERNAL MODULE: ./src/lookup.ts
var lookup = __webpack_require__(9493);
// EXTERNAL MODULE: ./src/outcome.ts
var src_outcome = __webpack_require__(4671);
// EXTERNAL MODULE: ./src/env.ts
var env = __webpack_require__(8204);
;// CONCATENATED MODULE: ./src/rollout.ts



/**
 * Changes made before the operation, so a deploy builds with them. Each is sent only when it
 * changes something, and resends what Dokploy would otherwise overwrite.
 */
const yes = () => true;
/** saveEnvironment replaces every field it takes: the application's build args, build secrets and env-file flag go back as they were. */
async function applyEnv(client, resource, id, current, wanted, log) {
    const spec = operations/* SPECS */.ne[resource];
    const plan = (0,env/* planEnv */.V4)(current.env ?? '', wanted.entries, wanted.strategy);
    if ((0,env/* envChanges */.HT)(plan) === 0) {
        log.info('Environment: no change, not saved.');
        return;
    }
    const input = { [spec.idKey]: id, env: plan.env };
    if (resource === 'application') {
        Object.assign(input, {
            buildArgs: current.buildArgs ?? null,
            buildSecrets: current.buildSecrets ?? null,
            createEnvFile: current.createEnvFile ?? true
        });
    }
    else if (resource === 'compose' && current.createEnvFile !== undefined) {
        input.createEnvFile = current.createEnvFile;
    }
    await client.mutate(`${spec.router}.saveEnvironment`, input, yes);
    const keys = (label, list) => (list.length ? ` ${label} ${list.join(', ')};` : '');
    log.info(`Environment (${wanted.strategy}) saved:${keys('added', plan.added)}${keys('changed', plan.changed)}${keys('removed', plan.removed)}`.replace(/;$/, '.'));
}
/** saveDockerProvider wants all five keys: the registry login the application has is kept unless inputs replace it. */
async function applyImage(client, id, current, image, log) {
    // the stored login is never handed to a different registry
    const sameRegistry = image.registryUrl === undefined || image.registryUrl === (current.registryUrl ?? '');
    const newLogin = image.username !== undefined || image.password !== undefined;
    if (!sameRegistry && !newLogin && (current.username || current.password)) {
        log.warning(`registry-url changes the registry: its stored login is not sent to ${image.registryUrl}. Pass registry-username and registry-password if it needs one.`);
    }
    const next = {
        applicationId: id,
        dockerImage: image.dockerImage,
        registryUrl: image.registryUrl ?? current.registryUrl ?? null,
        username: image.username ?? (sameRegistry ? current.username : null) ?? null,
        password: image.password ?? (sameRegistry ? current.password : null) ?? null
    };
    const unchanged = current.sourceType === 'docker' &&
        current.dockerImage === next.dockerImage &&
        (current.registryUrl ?? null) === next.registryUrl &&
        (current.username ?? null) === next.username &&
        (current.password ?? null) === next.password;
    if (unchanged) {
        log.info(`Image: already ${image.dockerImage}, not saved.`);
        return;
    }
    await client.mutate('application.saveDockerProvider', next, yes);
    const login = image.username || image.password || image.registryUrl ? 'new registry login' : next.username ? 'registry login kept' : 'no registry login';
    log.info(`Image: ${(0,logger/* inline */.mG)(current.dockerImage ?? '(none)')} → ${image.dockerImage} (${login}).`);
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./src/correlate.ts
const newTicket = (serviceId, marker, floor) => ({
    serviceId,
    marker,
    floor,
    ahead: new Map(),
    continuous: true
});
const seqOf = (id) => Number(/(\d+)$/.exec(id)?.[1] ?? NaN);
const keyOf = (job) => `${job.id}@${job.timestamp}`;
const before = (a, b) => a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
const seen = (job) => ({ id: job.id, serverId: job.serverId, seq: seqOf(job.id), timestamp: job.timestamp, state: job.state, processedOn: job.processedOn });
/** Active jobs first, then waiting ones oldest first: the order in which they will build. */
function buildOrder(jobs) {
    const rank = (job) => (job.state === 'active' ? 0 : 1);
    return [...jobs].sort((a, b) => rank(a) - rank(b) || a.timestamp - b.timestamp || seqOf(a.id) - seqOf(b.id));
}
/** The queue of the server a job waits on: the jobs whose service runs on the same server. */
const sameServer = (jobs, job) => jobs.filter((j) => (j.serverId ?? '') === (job.serverId ?? ''));
/** Builds ahead of ours on our server: every active one there, then those waiting there before ours. */
function jobsAhead(jobs, job) {
    return buildOrder(sameServer(jobs, job)).findIndex((j) => j.id === job.id && j.timestamp === job.timestamp);
}
/**
 * Reads a queue snapshot into the ticket. Our job is recognised by its marker, never by its id alone:
 * ids restart after a server restart. Returns our job as it stands now, or undefined when it is not there.
 */
function observeQueue(ticket, jobs) {
    const mine = jobs.filter((job) => job.serviceId === ticket.serviceId && job.description === ticket.marker);
    const job = mine.at(-1);
    // job ids are numbered per queue (per server on Dokploy Cloud): only our server's can tell of a restart
    if (ticket.job && sameServer(jobs, ticket.job).some((j) => restarted(ticket.job, j)))
        ticket.continuous = false;
    if (!job)
        return undefined;
    const now = seen(job);
    const queue = sameServer(jobs, job);
    ticket.job = now;
    if (job.projectId && job.environmentId)
        ticket.place = { projectId: job.projectId, environmentId: job.environmentId };
    ticket.floor = job.timestamp;
    if (job.state === 'active' && job.processedOn !== undefined)
        ticket.startedOn = job.processedOn;
    for (const other of queue) {
        if (other.serviceId !== ticket.serviceId || other === job)
            continue;
        const candidate = seen(other);
        if (before(candidate, now))
            ticket.ahead.set(keyOf(candidate), candidate);
    }
    return job;
}
/** A job numbered like ours or lower but enqueued later: the server restarted and reuses ids. */
const restarted = (ours, job) => seqOf(job.id) <= ours.seq && job.timestamp > ours.timestamp;
const startOf = (row) => Date.parse(row.startedAt ?? row.createdAt ?? '') || 0;
/** Rows that may be ours: new, started after the floor, and not a stranger's (running or cancelled rows keep the description they were queued with). */
function possibleRows(rows, baseline, ticket) {
    return rows.filter((row) => !baseline.rowIds?.has(row.deploymentId) &&
        (ticket.floor === undefined || startOf(row) >= ticket.floor) &&
        (row.description === ticket.marker || (row.status !== 'running' && row.status !== 'cancelled')));
}
/** Oldest first: the order the builds of one service started in. */
const byStart = (rows) => [...rows].sort((a, b) => startOf(a) - startOf(b));
/**
 * Our row, or undefined while it cannot be proven. `jobNow` is our job in the latest queue snapshot
 * (undefined when it is not there): order-based proofs are used only once it has left the queue, when
 * its row is final.
 */
function identify(rows, baseline, ticket, jobNow) {
    const marked = rows.filter((row) => row.description === ticket.marker);
    if (marked.length)
        return { row: byStart(marked)[0], by: 'reference' };
    if (!ticket.continuous || !ticket.job)
        return undefined;
    const possible = new Set(possibleRows(rows, baseline, ticket).map((row) => row.deploymentId));
    const fresh = byStart(rows.filter((row) => !baseline.rowIds?.has(row.deploymentId)));
    if (ticket.startedOn !== undefined) {
        // no other job of this service can start while ours runs: the first row after it turned active is ours
        const first = fresh.find((row) => startOf(row) >= ticket.startedOn);
        return first && possible.has(first.deploymentId) ? { row: first, by: 'start time' } : undefined;
    }
    if (jobNow)
        return undefined;
    const floor = ticket.job.timestamp;
    const after = fresh.filter((row) => startOf(row) >= floor);
    const candidate = after[rowsAheadAfter(rows, ticket, floor)];
    return candidate && possible.has(candidate.deploymentId) ? { row: candidate, by: 'queue order' } : undefined;
}
/**
 * Jobs seen ahead of ours whose rows start after our enqueue time: every one seen waiting, and an active
 * one unless its row (the first row started after it turned active) started before we enqueued.
 */
function rowsAheadAfter(rows, ticket, floor) {
    const all = byStart(rows);
    let count = 0;
    for (const job of ticket.ahead.values()) {
        if (job.state !== 'active' || job.processedOn === undefined) {
            count++;
            continue;
        }
        const its = all.find((row) => startOf(row) >= job.processedOn);
        if (!its || startOf(its) >= floor)
            count++;
    }
    return count;
}

;// CONCATENATED MODULE: ./src/poller.ts



/** The deployment rows the step follows: the service's, or a preview's. */
const rowsOf = (ctx) => ctx.rows?.() ?? listDeployments(ctx.client, ctx.spec, ctx.serviceId);
/** Failures a wait rides out until its deadline: the server restarting, a proxy's bad minute, a network blip. */
const PASSING = new Set(['network', 'gateway', 'unavailable', 'timeout', 'rate-limited', 'truncated']);
/**
 * The one poll loop of the action, and what it prints. Polls start fast and back off to the cap; a line is
 * printed on each change of state and a heartbeat while nothing changes.
 */
class Poller {
    ctx;
    delay;
    lastLine;
    lastState = '';
    failingSince;
    started;
    constructor(ctx) {
        this.ctx = ctx;
        this.started = this.lastLine = ctx.clock.now();
        this.delay = ctx.timings.firstPollMs;
    }
    now() {
        return this.ctx.clock.now();
    }
    elapsed() {
        return (0,logger/* formatDuration */.a3)(this.now() - this.started);
    }
    /**
     * Looks until a look decides (returns a value), the deadline passes (`expired`), or a failure is not one
     * to ride out (`refused` may turn it into a result; otherwise it is thrown). Between looks it waits for
     * the pace: its own timer, or the live log's.
     */
    async until(look, options) {
        for (;;) {
            try {
                const result = await look();
                this.answered();
                if (result !== undefined)
                    return result;
            }
            catch (error) {
                const result = options.refused?.(error);
                if (result !== undefined)
                    return result;
                this.failed(error);
            }
            // the pause ends at the deadline at the latest; no request is started past it
            if (!this.expired())
                await (options.pace ?? this).next();
            if (this.expired())
                return options.expired();
        }
    }
    /** Prints when the state changes, and otherwise at most a heartbeat every 30 s. */
    say(state, line, heartbeat) {
        const now = this.now();
        if (state !== this.lastState) {
            this.ctx.log.info(line);
            this.lastState = state;
            this.lastLine = now;
        }
        else if (now - this.lastLine >= this.ctx.timings.heartbeatMs) {
            this.ctx.log.info(`${heartbeat} (${this.elapsed()})`);
            this.lastLine = now;
        }
    }
    expired() {
        return this.now() >= this.ctx.deadline;
    }
    /** Sleeps for the next poll, never past the deadline. */
    async next() {
        await this.ctx.clock.sleep(Math.min(this.delay, Math.max(0, this.ctx.deadline - this.now())), this.ctx.signal);
        this.delay = Math.min(this.ctx.pollCapMs, Math.round(this.delay * this.ctx.timings.pollBackoff));
    }
    /**
     * A look failed after the client's own retries. A passing failure is ridden out until the deadline
     * (one line when it starts); anything else is rethrown.
     */
    failed(error) {
        if (!(error instanceof errors/* DokployError */.RI) || !PASSING.has(error.failure))
            throw error;
        if (this.failingSince === undefined) {
            this.failingSince = this.now();
            this.ctx.log.info(`Dokploy is not answering (${(0,logger/* inline */.mG)(error.message)}). Still following until wait-timeout.`);
        }
    }
    /** A look succeeded: say so if the previous ones had failed. */
    answered() {
        if (this.failingSince === undefined)
            return;
        this.ctx.log.info(`Dokploy answers again after ${(0,logger/* formatDuration */.a3)(this.now() - this.failingSince)}.`);
        this.failingSince = undefined;
    }
}

;// CONCATENATED MODULE: ./src/follow-row.ts




/** Polling: backs off to poll-interval, with a heartbeat line every 30 s. */
const polling = (poller) => ({
    running: (found) => poller.say('running', `Building: deployment ${found.row.deploymentId} is running.`, 'Still building'),
    next: () => poller.next()
});
/**
 * Phase 3: follows the row the step proved its own until it is final, vanishes, or the deadline passes.
 * Outages are ridden out until the deadline; a key that stops working leaves the outcome unknown.
 */
function followRow(ctx, poller, found, pace = polling(poller)) {
    let read = false;
    return poller.until(async () => {
        if (read) {
            const rows = await rowsOf(ctx);
            const row = rows.find((r) => r.deploymentId === found.row.deploymentId);
            if (!row)
                return { status: 'lost', identified: found, row: found.row, detail: `Deployment ${found.row.deploymentId} vanished from Dokploy's list (was it deleted?).` };
            found = { ...found, row };
        }
        read = true;
        if (found.row.status !== 'running')
            return ended(found);
        pace.running(found);
        return undefined;
    }, { pace, expired: () => timedOut(poller, found), refused: (error) => keyRanOut(error, found) });
}
function ended(found) {
    const row = found.row;
    const status = row.status === 'done' ? 'done' : row.status === 'cancelled' ? 'cancelled' : 'error';
    const took = (0,src_outcome/* buildMs */.j8)(row);
    const after = took === undefined ? '' : ` after ${(0,logger/* formatRounded */.vE)(took)} of build`;
    const restart = status === 'cancelled' ? ' (Dokploy cancels running deployments when it restarts)' : '';
    return { status, row, identified: found, detail: `Deployment ${row.deploymentId} ended ${row.status}${after}${restart}.` };
}
function timedOut(poller, found) {
    const where = found ? `deployment ${found.row.deploymentId} was still running` : 'the build had not started';
    return {
        status: 'timeout',
        row: found?.row,
        identified: found,
        detail: `Still running when the step stopped waiting after ${poller.elapsed()} (wait-timeout): ${where}. Dokploy may still finish it; the action does not kill builds (killBuild stops every build on the host).`
    };
}
/** The key stopped working after our deploy was queued (a rate limit runs out this way): the deploy stands, its end is unknown. */
function keyRanOut(error, found) {
    if (!(error instanceof errors/* DokployError */.RI) || error.failure !== 'unauthorized')
        return undefined;
    const which = found ? `deployment ${found.row.deploymentId}` : 'the deployment';
    return {
        status: 'unknown',
        row: found?.row,
        identified: found,
        detail: `Dokploy queued ${which}, then rejected the API key while the step followed it (most likely its rate limit ran out), so its outcome is unknown. Do not re-run this step to retry: that deploys again. Check the dashboard, and use a key without a rate limit.`
    };
}

;// CONCATENATED MODULE: ./src/identify.ts





/**
 * Phase 2: which deployment row is the step's own. Polls only what it needs: the queue while its job
 * waits, then this one service's rows until one is proven its own. Ends early when the server lost the
 * job, when a row that may be its own cannot be proven, or at the deadline.
 */
function identifyOwnRow(ctx, poller, search) {
    const { baseline, ticket, queueSupported } = search;
    let firstQueue = search.firstQueue;
    let missingSince;
    const look = async () => {
        // a silence long enough to hide a restart, even one the client's retries bridged, breaks the view of the
        // queue: a restart loses it and numbers jobs from job-1 again
        const outages = ctx.client.stats.outages;
        try {
            const jobs = queueSupported ? (firstQueue ?? (await queueList(ctx.client))) : undefined;
            firstQueue = undefined;
            const job = jobs && observeQueue(ticket, jobs);
            if (job)
                missingSince = undefined;
            if (job?.state === 'waiting') {
                const ahead = jobsAhead(jobs ?? [], job);
                poller.say(`queued:${ahead}`, `Queued: ${ahead <= 0 ? 'next to build' : `behind ${ahead} other build(s) on this server`}.`, 'Still queued');
                return undefined;
            }
            const rows = await rowsOf(ctx);
            if (ctx.client.stats.outages > outages)
                ticket.continuous = false;
            const found = identify(rows, baseline, ticket, job);
            if (found) {
                poller.say('running', describeMatch(found), 'Still building');
                return found;
            }
            if (job) {
                poller.say('starting', 'Build started; waiting for Dokploy to create its deployment row.', 'Still starting');
                return undefined;
            }
            missingSince ??= poller.now();
            const ended = unprovable(rows, baseline, ticket, queueSupported);
            if (poller.now() - missingSince >= ctx.timings.lostAfterMs && (queueSupported || ended))
                return ended ?? lost(poller.now() - missingSince);
            if (!queueSupported)
                poller.say('waiting', 'Waiting for the build to start (this Dokploy cannot list its queue).', 'Still waiting for the build to start');
            return undefined;
        }
        finally {
            if (ctx.client.stats.outages > outages)
                ticket.continuous = false;
        }
    };
    return poller.until(look, { expired: () => timedOut(poller, undefined), refused: (error) => keyRanOut(error, undefined) });
}
const lost = (ms) => ({
    status: 'lost',
    detail: `Dokploy accepted the deployment but it is neither in the build queue nor in the deployment list (for ${(0,logger/* formatDuration */.a3)(ms)}): the server probably restarted and lost its queue. Deploy again.`
});
/**
 * Our job left the queue (or cannot be seen) and a new row ended whose description was overwritten before
 * the step saw it: it may be ours or a neighbour's, and nothing proves which. Never reported as ours.
 */
function unprovable(rows, baseline, ticket, queueSupported) {
    const possible = possibleRows(rows, baseline, ticket);
    if (!possible.length || (!queueSupported && rows.some((row) => row.status === 'running')))
        return undefined;
    const ids = possible.map((row) => `${row.deploymentId} (${row.status})`).join(', ');
    const why = queueSupported
        ? ticket.continuous
            ? 'its queue job was not seen'
            : 'Dokploy was unreachable (or restarted) in between'
        : 'this Dokploy (before v0.28.3) cannot list its queue';
    return {
        status: 'unknown',
        detail: `The deploy was queued, but its outcome cannot be proven: new deployment(s) ${ids} ended with their title and description overwritten by the commit before the step saw them, and ${why}, so they may be someone else's. Check the dashboard; re-running this step deploys again.`
    };
}
function describeMatch(found) {
    const id = found.row.deploymentId;
    switch (found.by) {
        case 'reference':
            return `Build started: deployment ${id}, matched by the reference this step put in its description.`;
        case 'start time':
            return `Deployment ${id}: matched as the first deployment of this service started after this step's queue job.`;
        default:
            return `Deployment ${id}: matched by its place among this service's builds queued with this step's job.`;
    }
}

// EXTERNAL MODULE: ./src/dokploy/log-socket.ts
var log_socket = __webpack_require__(4936);
// EXTERNAL MODULE: ./src/report.ts + 1 modules
var report = __webpack_require__(7376);
;// CONCATENATED MODULE: ./src/log-lines.ts



/**
 * A build log as it streams in: chunks cut into lines, each line masked, defused and capped before it
 * is printed, with the last lines kept for the failure report.
 */
/** Longer lines are cut when printed (a minified bundle, a base64 blob a build echoes). */
const MAX_LINE_CHARS = 4000;
/** A line with no line break yet is held up to this size; the rest of it is dropped (never printed anyway). */
const MAX_PENDING_CHARS = 64 * 1024;
/** What one step prints of a build log at most; the rest is counted and the dashboard has it. */
const MAX_PRINTED_LINES = 10_000;
const MAX_PRINTED_CHARS = 2 * 1024 * 1024;
/**
 * Cuts a stream into lines. A carriage return ends a line as a line feed does: the runner reads its
 * output the same way, so a `\r::set-output` inside a progress line would otherwise start a command.
 */
class LineSplitter {
    pending = '';
    dropped = 0;
    /** The last chunk ended with CR: a LF at the start of the next one belongs to it. */
    afterCR = false;
    push(chunk) {
        let text = chunk;
        if (this.afterCR && text.startsWith('\n'))
            text = text.slice(1);
        this.afterCR = text.endsWith('\r');
        const parts = text.split(/\r\n|\r|\n/);
        const lines = [];
        for (let i = 0; i < parts.length; i++) {
            this.hold(parts[i]);
            if (i < parts.length - 1)
                lines.push(this.take());
        }
        return lines;
    }
    /** The line still open when the stream ends. */
    flush() {
        return this.pending || this.dropped ? [this.take()] : [];
    }
    hold(part) {
        const room = MAX_PENDING_CHARS - this.pending.length;
        if (part.length <= room)
            this.pending += part;
        else {
            this.pending += part.slice(0, Math.max(0, room));
            this.dropped += part.length - Math.max(0, room);
        }
    }
    take() {
        const line = { text: this.pending, dropped: this.dropped };
        this.pending = '';
        this.dropped = 0;
        return line;
    }
}
// eslint-disable-next-line no-control-regex -- an escape sequence is what is looked for
const ESCAPE = /[\u001b\u009b]/;
/**
 * Every secret the step knows, masked. ANSI colours pass through, unless a colour code splits a
 * secret: that line is printed without its colours, so the secret is found and masked.
 */
function maskLine(line) {
    const masked = (0,secrets/* redact */.E$)(line);
    if (!ESCAPE.test(masked))
        return masked;
    const plain = (0,report/* plainText */.wh)(masked);
    const plainMasked = (0,secrets/* redact */.E$)(plain);
    return plainMasked === plain ? masked : plainMasked;
}
/** Masked, then cut (cutting first could leave part of a secret). */
function capLine(line) {
    const masked = maskLine(line.text);
    const over = masked.length - MAX_LINE_CHARS + line.dropped;
    return over > 0 ? `${masked.slice(0, MAX_LINE_CHARS)} … [${over} more characters cut]` : masked;
}
/**
 * Dokploy's own last lines of a build (API.md §10): each builder's "✅ … build completed.", a pulled
 * image, a deployed stack, or the failure line. Dokploy marks the deployment a moment after them.
 */
const END_LINES = [
    /^✅ \w+ build completed\.$/,
    /^✅ Pulling image completed\.$/,
    /^Docker (Compose )?Deployed: ✅$/,
    /^Error occurred ❌, check the logs for details\.$/
];
const isEndLine = (line) => {
    const plain = (0,report/* plainText */.wh)(line).trim();
    return END_LINES.some((pattern) => pattern.test(plain));
};
/**
 * Prints lines into one collapsed group, opened at the first line. Past the caps it stops printing and
 * says so; the last `tailSize` lines are kept whatever was printed.
 */
class LogPrinter {
    sink;
    title;
    tailSize;
    caps;
    printed = 0;
    chars = 0;
    withheld = 0;
    open = false;
    last = [];
    constructor(sink, title, tailSize, caps = { lines: MAX_PRINTED_LINES, chars: MAX_PRINTED_CHARS }) {
        this.sink = sink;
        this.title = title;
        this.tailSize = tailSize;
        this.caps = caps;
    }
    print(line) {
        const shown = capLine(line);
        if (this.tailSize > 0) {
            this.last.push(shown);
            if (this.last.length > this.tailSize)
                this.last.shift();
        }
        if (this.printed >= this.caps.lines || this.chars >= this.caps.chars) {
            if (this.withheld++ === 0) {
                this.sink.line(`[The live log stops here, after ${this.printed} lines: the build goes on, and Dokploy's dashboard has its whole log.]`);
            }
            return;
        }
        if (!this.open) {
            this.sink.startGroup(this.title);
            this.open = true;
        }
        this.sink.line((0,logger/* defused */.t0)(shown));
        this.printed++;
        this.chars += shown.length;
    }
    /** Ends the group; says how many lines were not shown. */
    close() {
        if (!this.open)
            return;
        if (this.withheld)
            this.sink.line(`[${this.withheld} more line(s) of the build log not shown.]`);
        this.sink.endGroup();
        this.open = false;
    }
    /** The last lines seen, masked (what `log-lines` shows on failure), or undefined when there are none. */
    tail() {
        const text = this.last.join('\n').trimEnd();
        return text.trim() ? text : undefined;
    }
}

;// CONCATENATED MODULE: ./src/log-stream.ts




/**
 * The socket half of the live log: opens Dokploy's `/listen-deployment` for one deployment, reopens it once
 * after a drop (without repeating lines), cuts what it sends into lines and prints them masked. What the
 * lines mean for the follower (an end line, a drop, no stream at all) goes to its listener.
 */
/**
 * Dokploy's own errors sent in place of the log, then the socket closes (API.md §10, listen-deployment): a
 * local or remote `tail` that cannot open the file (the log is on another host), SSH failing, an unknown server.
 */
const SERVER_ERROR = /^(tail error: |SSH error: |tail: cannot open |Server not found)/;
class LogStream {
    setup;
    row;
    printer;
    listener;
    current = 'streaming';
    attempt;
    reopened = false;
    /** Lines taken from the stream so far. */
    seen = 0;
    completeAtClose = false;
    /** The server that holds the log file (null: Dokploy's own host). */
    host = null;
    constructor(setup, row, printer, listener) {
        this.setup = setup;
        this.row = row;
        this.printer = printer;
        this.listener = listener;
    }
    get state() {
        return this.current;
    }
    /** Whether the stream held the whole log up to the final status: its last lines can stand for readLogs. */
    get complete() {
        return this.completeAtClose;
    }
    /** The last `log-lines` lines of a complete stream, masked; undefined otherwise. */
    tail() {
        return this.completeAtClose ? this.printer.tail() : undefined;
    }
    /** Once the service's `.one` is read: the printer with its name for a heading, and the host of the log. */
    prepare(printer, host) {
        this.printer = printer;
        this.host = host;
    }
    connect(row = this.row) {
        this.row = row;
        const attempt = { opened: false, gotData: false, timedOut: false, splitter: new LineSplitter(), skip: this.seen };
        this.attempt = attempt;
        attempt.timer = setTimeout(() => {
            attempt.timedOut = true;
            attempt.connection?.close();
        }, this.setup.openTimeoutMs);
        try {
            attempt.connection = this.setup.sockets.open((0,log_socket/* liveLogUrl */.IH)(this.setup.baseUrl, row.logPath, this.host), this.setup.apiKey, {
                open: () => {
                    attempt.opened = true;
                    clearTimeout(attempt.timer);
                },
                message: (text) => this.receive(attempt, text),
                close: (code, reason, error) => this.closed(attempt, code, reason, error)
            }, this.setup.headers);
        }
        catch (error) {
            // the constructor refuses what it cannot open (a URL it rejects): the follower polls instead
            this.fallBack(`the WebSocket could not be created (${error instanceof Error ? error.message : String(error)})`);
        }
    }
    /** After a drop, while the build goes on: the one reopen. */
    reopen(row) {
        this.reopened = true;
        this.current = 'streaming';
        this.setup.sink.line('[The live log dropped: reopening it once; lines already shown are not repeated.]');
        this.connect(row);
    }
    /** Stops the stream (the deployment ended, the wait timed out or was cancelled) and ends the group. */
    close() {
        if (this.current === 'closed')
            return;
        const attempt = this.attempt;
        if (this.current === 'streaming' && attempt?.gotData) {
            for (const line of attempt.splitter.flush())
                this.take(attempt, line);
            this.completeAtClose = true;
        }
        this.current = 'closed';
        this.hangUp();
        this.printer.close();
    }
    /** No live log from here on, with one notice saying why. */
    fallBack(why) {
        if (this.current === 'polling' || this.current === 'closed')
            return;
        this.current = 'polling';
        this.hangUp();
        this.printer.close();
        this.setup.sink.notice(`No live build log: ${(0,secrets/* redact */.E$)(why)}. Following the deployment by polling instead.`);
        this.listener.gone();
    }
    hangUp() {
        const attempt = this.attempt;
        if (!attempt)
            return;
        clearTimeout(attempt.timer);
        this.attempt = undefined;
        attempt.connection?.close();
    }
    receive(attempt, text) {
        if (attempt !== this.attempt || this.current !== 'streaming')
            return;
        if (!attempt.gotData && SERVER_ERROR.test(text)) {
            attempt.refusal = "Dokploy could not read the deployment's log file";
            attempt.connection?.close();
            return;
        }
        attempt.gotData = true;
        this.listener.data();
        for (const line of attempt.splitter.push(text))
            this.take(attempt, line);
    }
    take(attempt, line) {
        if (attempt.skip > 0) {
            attempt.skip--;
            return;
        }
        this.seen++;
        this.printer.print(line);
        this.listener.line(isEndLine(line.text), line.text.trim() !== '');
    }
    closed(attempt, code, reason, error) {
        clearTimeout(attempt.timer);
        if (attempt !== this.attempt || this.current !== 'streaming')
            return;
        if (!attempt.gotData) {
            const why = this.refusal(attempt, code, reason, error);
            return this.fallBack(this.reopened ? `the log socket dropped and could not be reopened: ${why}` : why);
        }
        if (this.reopened)
            return this.fallBack(`the log socket dropped a second time (code ${code})`);
        this.current = 'dropped';
        this.listener.dropped();
    }
    /** Why a socket ended before it sent any of the log. */
    refusal(attempt, code, reason, error) {
        if (attempt.refusal)
            return attempt.refusal;
        if (attempt.timedOut)
            return `Dokploy did not answer the WebSocket upgrade within ${Math.round(this.setup.openTimeoutMs / 1000)} s`;
        // the socket worked a moment ago: what refuses it now is Dokploy going away, not a proxy
        if (!attempt.opened && this.reopened) {
            return `Dokploy stopped answering (${(0,logger/* inline */.mG)(error || `code ${code}`)}): it is probably restarting`;
        }
        if (!attempt.opened) {
            return `the WebSocket upgrade was refused (${(0,logger/* inline */.mG)(error || `code ${code}`)}): a proxy or firewall that blocks WebSockets, a redirect, or a Dokploy without /listen-deployment`;
        }
        if (code === 4000)
            return `Dokploy refused the log path (${code} ${(0,logger/* inline */.mG)((0,secrets/* redact */.E$)(reason)).slice(0, 100)})`;
        return `Dokploy closed the log socket without sending anything (code ${code}): it did not accept the API key there`;
    }
}

;// CONCATENATED MODULE: ./src/log-tail.ts




/** The last lines of the build log, or undefined where the server cannot give them (before v0.29.6). */
async function logTail(client, deploymentId, lines, log, graceMs) {
    if (lines <= 0)
        return undefined;
    try {
        // after a timeout the deadline has passed: the tail may still take a few seconds
        const tail = await readLogs(client, deploymentId, lines, graceMs);
        return tail.trimEnd() || undefined;
    }
    catch (error) {
        if (error instanceof errors/* DokployError */.RI && error.failure === 'cancelled')
            throw error;
        log.info(error instanceof errors/* DokployError */.RI && error.failure === 'no-procedure'
            ? 'This Dokploy cannot return build logs (deployment.readLogs needs v0.29.6): see the dashboard.'
            : `Could not read the build log: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
    }
}
/**
 * The tail of a deployment that ended badly, from the host that holds its log. Dokploy's readLogs reads on
 * the row's or the service's `serverId` and never on a build server (routers/deployment.ts): for a build
 * that ran on one it would read a file that is not there and answer an empty tail. That log is read
 * through the log socket instead, which names the build server and sends the whole file on connect.
 */
async function failureTail(ctx, row, lines) {
    const { client, log, timings } = ctx;
    if (lines <= 0)
        return undefined;
    if (!row.buildServerId)
        return logTail(client, row.deploymentId, lines, log, timings.reportGraceMs);
    const where = `deployment ${row.deploymentId} was built on build server ${row.buildServerId}, and Dokploy's readLogs reads only where the service runs`;
    const ruledOut = !ctx.liveLog ? 'no log socket' : !row.logPath ? "Dokploy did not give its log path" : (0,log_socket/* socketRuledOut */.yN)(ctx.liveLog);
    if (ruledOut || !ctx.liveLog || !row.logPath) {
        log.info(`No build log tail: ${where}, and the log socket cannot read it either (${ruledOut}). Its log is on the dashboard.`);
        return undefined;
    }
    const text = await socketRead(ctx, ctx.liveLog, row.logPath, row.buildServerId);
    if (text === undefined) {
        log.info(`No build log tail: ${where}, and the log socket did not send it. Its log is on the dashboard.`);
        return undefined;
    }
    const all = text.replace(/\r\n?/g, '\n').trimEnd().split('\n');
    return all.slice(-lines).join('\n') || undefined;
}
/**
 * The whole log file as the socket sends it on connect: read until it has been quiet for a moment after its
 * first data, until it closes, or until the report's grace runs out. Undefined when it sent nothing but
 * Dokploy's own error, or nothing at all.
 */
async function socketRead(ctx, setup, logPath, host) {
    const { clock, timings } = ctx;
    let text = '';
    let ended = false;
    let refused = false;
    let lastDataAt;
    const startedAt = clock.now();
    let connection;
    try {
        connection = setup.sockets.open((0,log_socket/* liveLogUrl */.IH)(setup.baseUrl, logPath, host), setup.apiKey, {
            open: () => undefined,
            message: (chunk) => {
                if (!text && SERVER_ERROR.test(chunk))
                    refused = true;
                if (refused)
                    return;
                text += chunk;
                lastDataAt = clock.now();
            },
            close: () => (ended = true)
        }, setup.headers);
    }
    catch {
        return undefined;
    }
    try {
        for (;;) {
            const now = clock.now();
            if (ended || refused)
                break;
            if (lastDataAt !== undefined && now - lastDataAt >= timings.socketTailQuietMs)
                break;
            const left = startedAt + timings.reportGraceMs - now;
            if (left <= 0)
                break;
            await clock.sleep(Math.min(timings.socketTailQuietMs / 2, left), ctx.signal);
        }
    }
    finally {
        connection.close();
    }
    return refused || !text ? undefined : text;
}

;// CONCATENATED MODULE: ./src/live-log.ts







/**
 * The schedule half of the live log: while the build log streams (log-stream.ts), the follower reads the
 * status when the log says the end may have come (one of Dokploy's last lines, or the socket closing),
 * and after a long quiet in case the socket stalled. When there is no stream, it polls.
 *
 * When Dokploy marks the deployment after its last line (docs/dokploy-timing.md): a failed build at once
 * (within about a millisecond on a real v0.30.2), a compose stack at once, an application once it has
 * updated its Swarm service (about a second, longer on a busy swarm). The status is read 150 ms after that
 * line, then a second after it, then every half second for a few seconds, then less and less often.
 */
/** When the k-th look (from 0) after an end line is due, in ms after that line. */
function endLookOffset(k, timings) {
    if (k === 0)
        return timings.firstEndLookMs;
    let offset = timings.settleEndLookMs;
    let step = timings.endLookMs;
    for (let i = 1; i < k; i++) {
        offset += step;
        if (i >= timings.quickEndLooks - 1)
            step *= timings.endLookBackoff;
    }
    return Math.round(offset);
}
class LiveLog {
    ctx;
    poller;
    found;
    tailLines;
    stream;
    lastDataAt;
    lastLookAt;
    /** When the latest line with text was one of Dokploy's last lines. */
    endAt;
    endLooks = 0;
    lookNow = false;
    wake;
    constructor(ctx, setup, poller, found, tailLines) {
        this.ctx = ctx;
        this.poller = poller;
        this.found = found;
        this.tailLines = tailLines;
        this.lastDataAt = this.lastLookAt = this.now();
        this.stream = new LogStream(setup, found.row, this.printer(setup, undefined), {
            data: () => (this.lastDataAt = this.now()),
            line: (end, text) => {
                if (end) {
                    this.endAt = this.now();
                    this.endLooks = 0;
                    this.kick();
                }
                else if (text) {
                    // the build went on past a line that looked like its last
                    this.endAt = undefined;
                }
            },
            dropped: () => {
                // the end of the build, a restart or a proxy: read the status now, then reopen if it still runs
                this.lookNow = true;
                this.kick();
            },
            gone: () => this.kick()
        });
    }
    /**
     * Streams the log of the deployment the step proved its own. The service's secrets are learned first
     * (its `.one`, through `service`), so that no line can print one. Anything that rules the socket out
     * makes it a polling pace, with one notice saying why.
     */
    static async start(ctx, setup, poller, found, tailLines, service) {
        const live = new LiveLog(ctx, setup, poller, found, tailLines);
        const ruledOut = (0,log_socket/* socketRuledOut */.yN)(setup) ?? (found.row.logPath ? undefined : `Dokploy did not give deployment ${found.row.deploymentId}'s log path`);
        if (ruledOut) {
            live.stream.fallBack(ruledOut);
            return live;
        }
        try {
            const details = await service.read();
            // the log is on the build server, else where the service runs (the row never names the latter)
            live.stream.prepare(live.printer(setup, details.name), (0,log_socket/* logHost */.J9)(found.row, details));
        }
        catch (error) {
            if (ctx.signal?.aborted)
                throw error;
            live.stream.fallBack(`the service's secrets could not be read first (${(0,errors/* failureKind */.zU)(error)}), and a build log may print them`);
            return live;
        }
        live.stream.connect();
        return live;
    }
    /** Whether the stream held the whole log up to the final status. */
    get complete() {
        return this.stream.complete;
    }
    /** The last `log-lines` lines of a complete stream, masked; undefined otherwise. */
    tail() {
        return this.stream.tail();
    }
    running(found) {
        this.found = found;
        this.lastLookAt = this.now();
        if (this.stream.state === 'polling')
            polling(this.poller).running(found);
    }
    async next() {
        const { timings } = this.ctx;
        for (;;) {
            if (this.stream.state === 'polling')
                return this.poller.next();
            if (this.lookNow) {
                this.lookNow = false;
                return;
            }
            // the status was read after the drop and the build goes on: the one reopen
            if (this.stream.state === 'dropped')
                this.stream.reopen(this.found.row);
            const now = this.now();
            const endDue = this.endAt === undefined ? Infinity : this.endAt + endLookOffset(this.endLooks, timings);
            const due = Math.min(endDue, Math.max(this.lastDataAt, this.lastLookAt) + timings.quietLookMs);
            if (now >= due) {
                if (now >= endDue)
                    this.endLooks++;
                return;
            }
            const left = this.ctx.deadline - now;
            if (left <= 0)
                return;
            await this.pause(Math.min(due - now, left));
        }
    }
    /** Stops the stream and ends the group. */
    close() {
        this.stream.close();
    }
    printer(setup, name) {
        const heading = `Build log of ${(0,logger/* inline */.mG)((0,secrets/* redact */.E$)(name ?? this.ctx.serviceId))} · deployment ${this.found.row.deploymentId}`;
        return new LogPrinter(setup.sink, heading, this.tailLines);
    }
    now() {
        return this.ctx.clock.now();
    }
    /** Sleeps until `ms` pass, the stream wakes it, or the runner cancels (which rejects). */
    async pause(ms) {
        const woken = new AbortController();
        this.wake = () => woken.abort();
        const signal = this.ctx.signal ? AbortSignal.any([this.ctx.signal, woken.signal]) : woken.signal;
        try {
            await this.ctx.clock.sleep(ms, signal);
        }
        catch (error) {
            if (this.ctx.signal?.aborted || !woken.signal.aborted)
                throw error;
        }
        finally {
            this.wake = undefined;
        }
    }
    kick() {
        this.wake?.();
    }
}

// EXTERNAL MODULE: ./src/title.ts
var title = __webpack_require__(3365);
;// CONCATENATED MODULE: ./src/take-back.ts





/**
 * The step was cancelled, or wait-timeout passed, while its own deploy still waited in Dokploy's queue: it
 * takes that deploy back, so a superseded run does not build and ship an older commit. Dokploy can only
 * remove every waiting job of a service at once (`cleanQueues`, previews included), so it is called only when
 * the queue shows that every waiting job of the service is the step's own (by its reference); a running build
 * cannot be stopped on a self-hosted server. One queue read, the clean, one read to check: all within
 * `takeBackMs`, on a client the runner's cancellation does not abort.
 */
async function takeBack(ctx, ticket) {
    const says = await attempt(ctx, ticket);
    return { removed: says === REMOVED, says };
}
/** A build already under way when the step stopped: nothing to take back. */
const ALREADY_STARTED = { removed: false, says: 'its build had already started; Dokploy cannot stop a running build' };
async function attempt(ctx, ticket) {
    const client = ctx.client.detached(ctx.clock.now() + ctx.timings.takeBackMs);
    try {
        const jobs = await queueList(client);
        const ours = mine(jobs, ticket);
        if (!ours)
            return ticket.startedOn !== undefined ? STARTED : "its deploy was no longer in Dokploy's queue: nothing to remove";
        if (ours.state !== 'waiting')
            return STARTED;
        const others = jobs.filter((job) => job.serviceId === ticket.serviceId && job.state === 'waiting' && job !== ours);
        if (others.length)
            return `the step left the queue: other deploys of this service were waiting (${others.map(describe).join(', ')}), and Dokploy can only remove them all at once`;
        await cleanQueues(client, ctx.spec, ticket.serviceId);
        const after = mine(await queueList(client), ticket);
        if (!after)
            return REMOVED;
        return after.state === 'waiting' ? 'its queued deploy could not be removed: Dokploy still lists it as waiting' : STARTED;
    }
    catch (error) {
        if (error instanceof errors/* DokployError */.RI && error.failure === 'no-procedure') {
            return 'its queued deploy could not be removed: this Dokploy cannot list its queue (before v0.28.3), so the step cannot prove which waiting deploy is its own';
        }
        // our words, and Dokploy's only after redaction on one line: a permission error names what is missing
        return `its queued deploy could not be removed: ${error instanceof errors/* DokployError */.RI ? (0,title/* clip */.$Q)((0,logger/* inline */.mG)((0,secrets/* redact */.E$)(error.message)), 300) : (0,errors/* failureKind */.zU)(error)}`;
    }
}
const STARTED = ALREADY_STARTED.says;
const REMOVED = "the step removed its queued deploy from Dokploy's queue";
const mine = (jobs, ticket) => jobs.find((job) => job.serviceId === ticket.serviceId && job.description === ticket.marker);
/** Another waiting deploy, by its title (server text: redacted, on one line, short). */
const describe = (job) => `"${(0,title/* clip */.$Q)((0,logger/* inline */.mG)((0,secrets/* redact */.E$)(job.title ?? job.id)), 80)}"`;

;// CONCATENATED MODULE: ./src/deploy.ts












/** The description sent: the user's, plus a reference no other deploy carries, so the queue job and the row can be told apart. */
const markDescription = (description, reference = (0,external_node_crypto_.randomBytes)(4).toString('hex')) => `${description} · ref ${reference}`;
/**
 * An application or compose deploy/redeploy: Dokploy queues it and answers at once. Its phases, each
 * returning its result to be recorded: snapshot the rows and send the deploy once; identify the row it
 * created; follow that row to its end (streaming its log with `log: live`).
 */
async function runQueued(ctx, settings, record, service) {
    const { client, log } = ctx;
    const baseline = {};
    if (settings.wait)
        baseline.rowIds = new Set((await listDeployments(client, ctx.spec, ctx.serviceId)).map((row) => row.deploymentId));
    const ticket = newTicket(ctx.serviceId, markDescription(settings.description));
    const sent = await send(ctx, settings, baseline, ticket);
    record.accepted();
    if (!settings.wait) {
        record.queued();
        log.info(`Dokploy queued the ${settings.operation}; not waiting for it (wait: false).`);
        return;
    }
    log.info(`Dokploy queued the ${settings.operation} (title "${settings.title}"). Following it until it ends.`);
    // the first look at the queue comes right after the deploy's answer: nothing else is awaited in between
    const jobs = sent.jobs ?? (sent.queueSupported === false ? undefined : await optionalQueue(client));
    if (jobs)
        observeQueue(ticket, jobs);
    record.place(ticket.place);
    const poller = new Poller(ctx);
    const cancelled = () => settings.cancelQueued && (ctx.signal?.aborted ?? false);
    let found;
    try {
        found = await identifyOwnRow(ctx, poller, { baseline, ticket, queueSupported: jobs !== undefined, firstQueue: jobs });
    }
    catch (error) {
        // the runner cancelled the step before its build started: take the deploy back out of the queue
        if (cancelled())
            record.tookBack('the runner cancelled the job', await takeBack(ctx, ticket));
        throw error;
    }
    record.place(ticket.place);
    if ('status' in found) {
        if (found.status === 'timeout' && settings.cancelQueued) {
            const taken = await takeBack(ctx, ticket);
            record.tookBack('wait-timeout ended', taken);
            if (taken.removed)
                found = { ...found, detail: `Still queued when the step stopped waiting after ${poller.elapsed()} (wait-timeout): the build had not started.` };
        }
        return record.followed(found);
    }
    record.identified(found, ticket.job?.timestamp);
    await followToEnd(ctx, settings, record, service, poller, found, { takesBack: settings.cancelQueued });
}
/**
 * Phase 3, for the step's own deployment and for one Dokploy started itself (operation follow): follows
 * the proven row to its end, streaming its log with `log: live`, and records the result with the tail of
 * its log when it did not succeed. `takesBack`: the step's own queued deploy, which it would have taken
 * back had it not started.
 */
async function followToEnd(ctx, settings, record, service, poller, found, options) {
    const { log } = ctx;
    let live;
    let result;
    try {
        if (found.row.status !== 'running')
            result = ended(found);
        else {
            if (settings.log === 'live' && ctx.liveLog)
                live = await LiveLog.start(ctx, ctx.liveLog, poller, found, settings.logLines, service);
            result = await followRow(ctx, poller, found, live);
        }
    }
    catch (error) {
        if (options.takesBack && ctx.signal?.aborted)
            record.tookBack('the runner cancelled the job', ALREADY_STARTED);
        throw error;
    }
    finally {
        // ends the log's group before anything else is printed, whatever ended the wait
        live?.close();
    }
    if (result.status === 'timeout' && options.takesBack)
        record.tookBack('wait-timeout ended', ALREADY_STARTED);
    if (result.status === 'done') {
        record.followed(result);
        log.info(result.detail);
        return result;
    }
    // a stream that held the whole log already has its tail: no readLogs
    const tail = result.row && settings.log !== 'none' ? (live?.tail() ?? (await failureTail(ctx, result.row, settings.logLines))) : undefined;
    record.followed(result, tail);
    return result;
}
async function optionalQueue(client) {
    try {
        return await queueList(client);
    }
    catch (error) {
        if (error instanceof errors/* DokployError */.RI && error.failure === 'no-procedure')
            return undefined;
        throw error;
    }
}
/**
 * Sends the deploy. If its answer is lost after it left (reset, timeout, a proxy's 502), look for it
 * before anything else: follow it when its reference shows up, resend only when the queue and the rows
 * prove it never arrived, and otherwise stop with `unknown` rather than risk a second deployment.
 */
async function send(ctx, settings, baseline, ticket) {
    const { client, log, timings } = ctx;
    const now = ctx.clock.now;
    const call = {
        resource: ctx.spec.router,
        operation: settings.operation,
        id: ctx.serviceId,
        mode: 'queued',
        title: settings.title,
        description: ticket.marker
    };
    const sentAt = now();
    try {
        await runOperation(client, call);
        return {};
    }
    catch (error) {
        if (!(error instanceof errors/* DokployError */.RI) || error.delivery !== 'maybe-processed' || error.failure === 'cancelled')
            throw error;
        log.warning(`${(0,logger/* inline */.mG)(error.message)} Checking whether Dokploy queued it before sending anything again.`);
    }
    await ctx.clock.sleep(Math.min(timings.lostAnswerSettleMs, Math.max(0, ctx.deadline - now())), ctx.signal);
    const jobs = await optionalQueue(client);
    const rows = await listDeployments(client, ctx.spec, ctx.serviceId);
    // no row of ours can have started before the deploy left: bound that moment by the server's own clock
    const sentBy = client.serverTimeAtLeast(sentAt);
    ticket.floor = sentBy === undefined ? undefined : sentBy - timings.clockSlackMs;
    const job = jobs && observeQueue(ticket, jobs);
    if (job || rows.some((row) => row.description === ticket.marker)) {
        log.info('Dokploy did receive it: following that deployment, not sending it again.');
        return { jobs, queueSupported: jobs !== undefined };
    }
    const op = `${ctx.spec.router}.${settings.operation}`;
    const possible = possibleRows(rows, baseline, ticket);
    if (possible.length) {
        throw new src_outcome/* UnknownOutcome */.Bt(`The answer to ${op} was lost, and deployment(s) ${possible.map((row) => row.deploymentId).join(', ')} ended since, with title and description overwritten by the commit: one may be this step's or someone else's. Not resending, which could deploy twice: check the dashboard.`);
    }
    if (jobs === undefined) {
        throw new src_outcome/* UnknownOutcome */.Bt(`The answer to ${op} was lost and this Dokploy cannot list its queue, so whether it was queued cannot be known. Not resending, which could deploy twice: check the dashboard.`);
    }
    log.info('Dokploy has no trace of it in its queue or its deployments: it never arrived. Sending it once more.');
    await runOperation(client, call);
    return { queueSupported: true };
}

;// CONCATENATED MODULE: ./src/service-url.ts
/** A host name as a URL carries it: no scheme, path, credentials, query or white space. */
const HOST = /^[^\s/\\?#@]+$/;
/**
 * The public URL of an application or compose service (the `url` output): its first https domain, else
 * its first domain, as `scheme://host` plus its path. Disabled domains are not served and are skipped;
 * a host that is not a host name (server text) gives no URL rather than a wrong one.
 */
function serviceUrl(domains) {
    const served = domains.filter((domain) => domain.enabled);
    const chosen = served.find((domain) => domain.https) ?? served[0];
    if (!chosen || !HOST.test(chosen.host))
        return undefined;
    let origin;
    try {
        origin = new URL(`${chosen.https ? 'https' : 'http'}://${chosen.host}`);
    }
    catch {
        return undefined;
    }
    if (origin.pathname !== '/' || origin.search || origin.hash)
        return undefined;
    const raw = chosen.path?.trim() ?? '';
    // the URL parser encodes what a path may not hold; a query or fragment in it is not part of the path
    const path = raw === '' || raw === '/' ? '' : new URL(raw.startsWith('/') ? raw : `/${raw}`, origin).pathname;
    return `${origin.origin}${path}`;
}

;// CONCATENATED MODULE: ./src/follow-commit.ts






/**
 * operation follow: nothing is sent. Dokploy deploys on a push by itself (its GitHub App or a webhook): it
 * queues a job described `Hash: <sha>`, whose row keeps that description while it builds, and a git build
 * ends by replacing it with `Commit: <sha of what it built>` (the branch head when the build cloned it).
 * The step finds the deployment of its commit by those whole SHAs, never by a prefix, waits for it to
 * appear up to wait-timeout, and follows it exactly as it follows its own.
 */
async function followCommit(context, settings, record, service) {
    const sha = settings.commit;
    const queued = `Hash: ${sha}`;
    const built = `Commit: ${sha}`;
    // a pull request's preview has rows of its own, once Dokploy's GitHub App has created it
    const pr = settings.pullRequest;
    let preview;
    const ctx = { ...context };
    const poller = new Poller(ctx);
    const ticket = newTicket(ctx.serviceId, queued);
    ctx.log.info(`Following the deployment Dokploy starts for ${pr === undefined ? '' : `the preview of pull request #${pr}, `}commit ${sha}; nothing is sent to Dokploy.`);
    // read first (it is read for the live log anyway): its secrets are learned before anything of it is printed,
    // and whether it deploys on a push at all explains a deployment that never appears
    const details = await service.read().catch(() => undefined);
    let queueSupported = true;
    const appeared = await poller.until(async () => {
        if (pr !== undefined && !preview) {
            preview = (await listPreviews(ctx.client, ctx.serviceId)).find((p) => p.pullRequestNumber === pr);
            if (!preview) {
                poller.say('no-preview', `No preview deployment of pull request #${pr} in Dokploy yet: waiting for it to appear.`, 'Still waiting for it');
                return undefined;
            }
            const id = preview.previewDeploymentId;
            ctx.rows = () => previewRows(ctx.client, id);
            if (preview.domain)
                record.served(serviceUrl([preview.domain]));
        }
        const jobs = queueSupported ? await optionalQueue(ctx.client) : undefined;
        queueSupported = jobs !== undefined;
        const job = jobs && observeQueue(ticket, jobs);
        const rows = await rowsOf(ctx);
        // the job queued for this commit first: an older push's build may have cloned this commit as the branch
        // head, and its row then says `Commit: <this sha>` too
        const own = newest(rows.filter((r) => r.description === queued));
        if (own)
            return { row: own, by: 'reference' };
        if (job && jobs)
            return jobs;
        const builtIt = newest(rows.filter((r) => r.description === built));
        if (builtIt)
            return { row: builtIt, by: 'reference' };
        poller.say('absent', `No deployment of commit ${sha.slice(0, 7)} in Dokploy yet: waiting for it to appear.`, 'Still waiting for it');
        return undefined;
    }, { expired: () => 'not-found' });
    if (appeared === 'not-found')
        return record.followed({ status: 'not-found', detail: notFound(poller, sha, details, pr, preview) });
    record.place(ticket.place);
    record.accepted();
    let found;
    if ('row' in appeared) {
        ctx.log.info(`Deployment ${appeared.row.deploymentId} is Dokploy's deployment of commit ${sha.slice(0, 7)} (${appeared.row.status}).`);
        found = appeared;
    }
    else {
        const identified = await identifyOwnRow(ctx, poller, { baseline: {}, ticket, queueSupported: true, firstQueue: appeared });
        record.place(ticket.place);
        if ('status' in identified)
            return record.followed(identified);
        found = identified;
    }
    record.identified(found, ticket.job?.timestamp);
    const result = await followToEnd(ctx, settings, record, service, poller, found, { takesBack: false });
    // a git build says what it built (a preview's row and a docker image's keep their description)
    const overwritten = pr === undefined && details?.sourceType !== 'docker';
    const head = /^Commit: ([0-9a-f]{40})$/.exec((overwritten ? await builtDescription(ctx, result.row, queued) : result.row?.description) ?? '')?.[1];
    if (head && head !== sha) {
        ctx.log.info(`The deploy queued for commit ${sha.slice(0, 7)} built commit ${head.slice(0, 7)}: a git build clones the branch head when it starts, and a newer push had landed. Its outcome is what commit ${sha.slice(0, 7)} got.`);
    }
}
/**
 * What a finished git build says it built: Dokploy writes `Commit: <sha>` on the row a moment after its final
 * status, so a row still described as queued is read again, a few times at the end-look pace.
 */
async function builtDescription(ctx, row, queued) {
    if (!row || row.status === 'running' || row.description !== queued)
        return row?.description ?? undefined;
    for (let look = 0; look < 3; look++) {
        await ctx.clock.sleep(ctx.timings.firstEndLookMs, ctx.signal);
        const now = (await rowsOf(ctx).catch(() => [])).find((r) => r.deploymentId === row.deploymentId);
        if (now && now.description !== queued)
            return now.description ?? undefined;
    }
    return undefined;
}
/** The newest of some rows (by start). */
const newest = (rows) => [...rows].sort((a, b) => Date.parse(b.startedAt ?? b.createdAt ?? '') - Date.parse(a.startedAt ?? a.createdAt ?? ''))[0];
/** Why no deployment appeared: most often the service does not deploy on a push at all. */
function notFound(poller, sha, details, pr, preview) {
    if (pr !== undefined && !preview) {
        return `No preview deployment of pull request #${pr} appeared in Dokploy within ${poller.elapsed()} (wait-timeout): Dokploy's GitHub App creates one when a pull request opens, if the application has preview deployments on.`;
    }
    const base = `No deployment of commit ${sha} appeared in Dokploy within ${poller.elapsed()} (wait-timeout).`;
    if (details?.autoDeploy === false)
        return `${base} The service has auto-deploy off, so Dokploy deploys it only when asked: turn auto-deploy on in its settings, or deploy it from the workflow (operation deploy).`;
    if (details?.autoDeploy === true)
        return `${base} The service has auto-deploy on: check that Dokploy's GitHub App or webhook is set up for this repository and branch, and that the push touched the service's watch paths.`;
    return `${base} Whether the service deploys on a push (auto-deploy) could not be read.`;
}

;// CONCATENATED MODULE: ./src/follow-status.ts


/**
 * A database deploy whose answer was cut while Dokploy went on with it (a proxy's 524, a timeout):
 * the service status tells the end. Followed while it is `running`.
 */
function followStatus(ctx, expected) {
    const poller = new Poller(ctx);
    const what = ctx.spec.router;
    return poller.until(async () => {
        const status = (await readStatus(ctx.client, ctx.spec, ctx.serviceId)) ?? 'unknown';
        if (status === 'running') {
            poller.say('running', `Dokploy is still working on the ${what} (status running).`, 'Still running');
            return undefined;
        }
        const ok = status === expected;
        return { ok, status, detail: ok ? `Dokploy reports ${what} status ${status}.` : `Dokploy reports ${what} status ${status}, expected ${expected}.` };
    }, { expired: () => ({ ok: false, status: 'timeout', detail: `The ${what} was still deploying when the step stopped waiting after ${poller.elapsed()} (wait-timeout).` }) });
}

;// CONCATENATED MODULE: ./src/rollback.ts


/**
 * Dokploy's rollbacks (applications only): a deployment made while the application has rollbacks on
 * (rollbackActive, with a rollback registry) keeps a record with its image; `rollback.rollback` runs that
 * image and the settings stored with it again. Dokploy keeps rows, and so records, for the last 10
 * deployments. The records' fullContext holds every secret of the application: only ids and images are read.
 */
const HOW_TO_ENABLE = "In Dokploy, open the application's Advanced tab, turn Rollbacks on and choose a rollback registry: deployments made from then on keep a rollback (Dokploy keeps them for the last 10 deployments).";
class NoRollback extends Error {
    constructor(message) {
        super(message);
        this.name = 'NoRollback';
    }
}
/**
 * The deployment to go back to: the newest `done` one that has a rollback and is older than `current` (the
 * deployment that runs now, or failed to); without `current`, older than the newest `done` one.
 */
function chooseRollback(rows, current) {
    const at = current === undefined ? rows.findIndex((row) => row.status === 'done') : rows.findIndex((row) => row.deploymentId === current);
    if (at === -1)
        return undefined;
    return rows.slice(at + 1).find((row) => row.status === 'done' && row.rollbackId);
}
/** Rolls the application back to its previous good deployment; throws NoRollback when there is none. */
async function rollBack(client, applicationId, log, current) {
    const rows = await listRollbackRows(client, applicationId);
    const chosen = chooseRollback(rows, current);
    if (!chosen?.rollbackId) {
        const withRollback = rows.filter((row) => row.rollbackId).length;
        const why = withRollback === 0
            ? `none of its ${rows.length} deployment(s) Dokploy lists has a rollback`
            : `no deployment before ${current ? `deployment ${(0,logger/* inline */.mG)(current)}` : 'the one that runs now'} ended done with a rollback`;
        throw new NoRollback(`There is no deployment to roll back to: ${why}. ${HOW_TO_ENABLE}`);
    }
    log.info(`Rolling back to deployment ${(0,logger/* inline */.mG)(chosen.deploymentId)}${chosen.image ? ` (image ${(0,logger/* inline */.mG)(chosen.image)})` : ''}.`);
    await runRollback(client, chosen.rollbackId);
    return { deploymentId: chosen.deploymentId, image: chosen.image };
}

;// CONCATENATED MODULE: ./src/rollout-judge.ts
const UNITS = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 2_592_000_000, year: 31_536_000_000 };
/**
 * Docker's human durations ("Less than a second", "12 seconds", "About a minute", "3 hours"…) as a lower
 * bound in ms (Docker rounds down); undefined when the text holds none.
 */
function durationMs(text) {
    if (/less than a second/i.test(text))
        return 0;
    const about = /about an? (minute|hour)/i.exec(text);
    if (about)
        return UNITS[about[1].toLowerCase()];
    const match = /(\d+) (second|minute|hour|day|week|month|year)s?/i.exec(text);
    return match ? Number(match[1]) * UNITS[match[2].toLowerCase()] : undefined;
}
/** An image as Swarm may show it: no digest, no docker.io/ or library/, a tag (latest when none). */
function normalizeImage(image) {
    let name = image.trim().replace(/@sha256:[0-9a-f]+$/i, '');
    name = name.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
    const last = name.slice(name.lastIndexOf('/') + 1);
    return last.includes(':') ? name : `${name}:latest`;
}
const state = (current) => current.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
const FAILED = new Set(['failed', 'rejected', 'orphaned']);
const RETIRED = new Set(['shutdown', 'complete', 'remove']);
/**
 * Swarm tasks (`docker service ps`, history included). Each slot's tasks come newest first: the first is
 * what the slot runs now. A slot whose newest task is shut down was removed (scaled down) and is skipped.
 */
function judgeTasks(tasks, expect) {
    if (tasks.length === 0)
        return { kind: 'blind' };
    const slots = new Map();
    for (const task of tasks)
        slots.set(task.name, [...(slots.get(task.name) ?? []), task]);
    const wanted = expect.image === undefined ? undefined : normalizeImage(expect.image);
    const failed = (task) => FAILED.has(state(task.current));
    const recent = (task) => (durationMs(task.current) ?? 0) <= (expect.sinceDoneMs ?? expect.sinceStepMs);
    /** The slot's tasks newer than its newest shut-down one: those the update started. */
    const sinceUpdate = (list) => {
        const retired = list.findIndex((task) => state(task.current) === 'shutdown' && task.desired !== 'running');
        return retired === -1 ? list : list.slice(0, retired);
    };
    let youngest = Infinity;
    let running = 0;
    let pending;
    let behind;
    let replaced;
    for (const [, list] of slots) {
        const [head, ...older] = list;
        const now = state(head.current);
        if (head.desired !== 'running' && RETIRED.has(now))
            continue;
        const failure = sinceUpdate(list).find((task) => failed(task) && recent(task));
        const error = failure && (failure.error || failure.current);
        if (now !== 'running' || head.desired !== 'running') {
            const why = failed(head) ? 'its new task failed; Swarm is replacing it' : now === 'starting' ? 'the new task is starting (its health check, if it has one, has not passed yet)' : `the new task is ${now || 'not started'}`;
            pending ??= { why, error };
            continue;
        }
        if (expect.newTasks && (durationMs(head.current) ?? 0) > expect.sinceStepMs) {
            pending ??= { why: 'Swarm still runs the task from before this deploy', error };
            continue;
        }
        if (wanted && normalizeImage(head.image) !== wanted) {
            const tried = older.find((task) => failed(task) && normalizeImage(task.image) === wanted);
            behind ??= { image: head.image, error: tried && (tried.error || tried.current) };
            continue;
        }
        if (error !== undefined) {
            replaced ??= error;
            continue;
        }
        running++;
        youngest = Math.min(youngest, durationMs(head.current) ?? 0);
    }
    if (pending)
        return { kind: 'pending', ...pending };
    // every slot runs another image after the new one failed: Swarm went back
    if (behind?.error !== undefined)
        return { kind: 'rolled-back', running: behind.image, error: behind.error };
    if (behind)
        return { kind: 'pending', why: `Swarm still runs ${behind.image}` };
    if (replaced !== undefined)
        return { kind: 'replaced', error: replaced };
    if (running === 0)
        return { kind: 'pending', why: 'no task is running' };
    return { kind: 'running', ageMs: youngest, units: running };
}
/**
 * A compose project's containers (`docker ps -a`, by the project's label). Each must run, and be healthy
 * where it has a health check; one that exited 0 is a one-off job and is skipped.
 */
function judgeContainers(containers) {
    if (containers.length === 0)
        return { kind: 'blind' };
    let youngest = Infinity;
    let running = 0;
    for (const container of containers) {
        const { status } = container;
        if (container.state === 'exited' && /^exited \(0\)/i.test(status))
            continue;
        if (container.state !== 'running') {
            return { kind: 'pending', why: `a container is ${container.state || 'not running'}`, error: /^(exited|restarting|dead)/i.test(status) ? status : undefined };
        }
        if (/\(health: starting\)/i.test(status))
            return { kind: 'pending', why: 'a container is waiting for its health check' };
        if (/\(unhealthy\)/i.test(status))
            return { kind: 'pending', why: 'a container is unhealthy', error: status };
        running++;
        youngest = Math.min(youngest, durationMs(status) ?? 0);
    }
    if (running === 0)
        return { kind: 'pending', why: 'no container is running' };
    return { kind: 'running', ageMs: youngest, units: running };
}
/** A stack's tasks with desired state running (Dokploy lists no others): each must run. */
function judgeStackTasks(tasks) {
    if (tasks.length === 0)
        return { kind: 'blind' };
    let youngest = Infinity;
    for (const task of tasks) {
        if (task.state !== 'running') {
            const failed = FAILED.has(task.state);
            return { kind: 'pending', why: failed ? 'a task failed; Swarm is replacing it' : `a task is ${task.state || 'not started'}`, error: failed ? task.status : undefined };
        }
        youngest = Math.min(youngest, durationMs(task.status) ?? 0);
    }
    return { kind: 'running', ageMs: youngest, units: tasks.length };
}

;// CONCATENATED MODULE: ./src/rollout-check.ts






/** Failures that say this key or server cannot be asked (not a silence to ride out). */
const CANNOT_ASK = new Set(['unauthorized', 'forbidden', 'cloudflare', 'no-procedure', 'bad-request', 'not-found', 'method', 'bad-shape', 'not-json', 'server-error']);
/** Server text in one of our lines: masked, on one line, short. */
const quoted = (text) => {
    const one = (0,logger/* inline */.mG)((0,secrets/* redact */.E$)(text));
    return one.length > 200 ? `${one.slice(0, 200)}…` : one;
};
async function checkRollout(ctx, check) {
    const { clock, timings, log } = ctx;
    let details;
    const { target } = check;
    const known = check.service.known();
    if (known)
        details = known;
    else if (target.appName && target.serverId !== undefined)
        details = { appName: target.appName, serverId: target.serverId ?? undefined };
    else {
        try {
            details = await check.service.read();
        }
        catch (error) {
            return { status: 'unchecked', why: `the service's settings could not be read (${(0,errors/* failureKind */.zU)(error)})` };
        }
    }
    const { appName, serverId } = details;
    if (!appName)
        return { status: 'unchecked', why: "Dokploy's answer for the service has no appName" };
    const startedAt = clock.now();
    const deadline = startedAt + check.verifyTimeoutMs;
    const doneAt = doneMoment(ctx, check.finishedAt, startedAt);
    // the check has its own bound, after done: its requests may run past wait-timeout, up to verify-timeout
    const graceMs = Math.max(0, deadline - ctx.deadline);
    const poller = new Poller({ ...ctx, deadline });
    const compose = check.resource === 'compose';
    const stack = compose && details.composeType === 'stack';
    const where = serverId ? ` on server ${quoted(serverId)}` : '';
    const what = compose ? (stack ? 'tasks of the stack' : 'containers of the compose project') : 'Swarm tasks';
    const procedure = compose ? 'docker.getContainersByAppNameMatch' : 'swarm.getAppInfos';
    const permission = compose ? 'service:read' : 'docker:read (owners and admins have it)';
    let looked = false;
    let last;
    let settleWaitMs;
    const pace = {
        next: async () => {
            if (settleWaitMs === undefined)
                return poller.next();
            await clock.sleep(Math.min(settleWaitMs, Math.max(0, deadline - clock.now())), ctx.signal);
        }
    };
    const look = async () => {
        settleWaitMs = undefined;
        const verdict = await judge();
        looked = true;
        last = verdict;
        switch (verdict.kind) {
            case 'blind':
                return { status: 'unchecked', why: `Dokploy listed no ${what} for ${quoted(appName)}${where} (it answers an empty list whenever it cannot reach Docker)` };
            case 'rolled-back':
                return {
                    status: 'rolled-back',
                    message: `The new version failed and Swarm rolled the service back: it runs ${quoted(verdict.running)} again. The new task's error: ${quoted(verdict.error)}.`
                };
            case 'replaced':
                return {
                    status: 'unhealthy',
                    message: `A task of the new version failed during the rollout (${quoted(verdict.error)}), and Swarm replaced it with the same image: it went back to the previous settings or restarted the new ones, which Dokploy's task list cannot tell apart.`
                };
            case 'pending':
                poller.say(`pending ${verdict.why}`, `Rollout: ${quoted(verdict.why)}${verdict.error ? ` (${quoted(verdict.error)})` : ''}.`, 'Rollout: still waiting');
                return undefined;
            case 'running': {
                const settle = timings.rolloutSettleMs;
                if (verdict.ageMs >= settle) {
                    const units = `${verdict.units} ${compose && !stack ? 'container' : 'task'}${verdict.units === 1 ? '' : 's'}`;
                    return { status: 'done', detail: `Rollout checked: ${units} running${compose ? '' : ' the new version'}, healthy where there is a health check, for ${(0,logger/* formatDuration */.a3)(verdict.ageMs)} or more.` };
                }
                poller.say('settling', `Rollout: the new version runs; checking it is still up after ${(0,logger/* formatDuration */.a3)(settle)}.`, 'Rollout: settling');
                settleWaitMs = settle - verdict.ageMs;
                return undefined;
            }
        }
    };
    const judge = async () => {
        if (compose) {
            const rows = await readContainers(ctx.client, appName, stack ? 'stack' : 'docker-compose', serverId, graceMs);
            return stack ? judgeStackTasks(rows) : judgeContainers(rows);
        }
        const tasks = await readTasks(ctx.client, appName, serverId, graceMs);
        if (tasks === undefined)
            return { kind: 'blind' };
        // slack: the server's clock, and Docker's whole-second ages; a task from a previous deploy is minutes old or more
        const sinceStepMs = clock.now() - check.stepStartedAt + timings.clockSlackMs + timings.rolloutSettleMs;
        const sinceDoneMs = clock.now() - doneAt + timings.clockSlackMs;
        const application = check.resource === 'application';
        // a git build is always <appName>:latest, the previous version's name too: only a docker image tells them apart
        const stored = details.dockerImage ?? undefined;
        const image = check.image ?? (application ? (details.sourceType === 'docker' ? stored : undefined) : stored);
        return judgeTasks(tasks, { image, sinceStepMs, sinceDoneMs, newTasks: application && check.operation !== 'start' && check.operation !== 'reload' });
    };
    log.info(`Checking the rollout: reading the ${what} of ${quoted(appName)}${where} until they run (verify-timeout ${(0,logger/* formatDuration */.a3)(check.verifyTimeoutMs)}).`);
    return poller.until(look, {
        pace,
        refused: (error) => {
            if (!(error instanceof errors/* DokployError */.RI) || !CANNOT_ASK.has(error.failure))
                return undefined;
            const because = error.failure === 'no-procedure' ? `this Dokploy has no ${procedure}` : `this key may not read them (${(0,errors/* failureKind */.zU)(error)}; ${procedure} needs ${permission})`;
            return { status: 'unchecked', why: because };
        },
        expired: () => {
            if (!looked)
                return { status: 'unchecked', why: `Dokploy did not answer ${procedure} before verify-timeout` };
            const state = last?.kind === 'pending' ? `${quoted(last.why)}${last.error ? ` (last error: ${quoted(last.error)})` : ''}` : last?.kind === 'running' ? 'it had not yet run for the settle period' : 'it was not running';
            return { status: 'unhealthy', message: `The new version was not running and healthy when verify-timeout (${(0,logger/* formatDuration */.a3)(check.verifyTimeoutMs)}) ended: ${state}.` };
        }
    });
}
/**
 * When the deployment turned done, by the run's clock: its row's finishedAt, moved onto the run's clock by
 * the server's Date header; without either, a poll interval before the check began (no later than that).
 */
function doneMoment(ctx, finishedAt, now) {
    if (finishedAt === undefined)
        return now;
    const finished = Date.parse(finishedAt ?? '');
    const serverNow = ctx.client.serverTimeAtLeast(now);
    if (!Number.isFinite(finished) || serverNow === undefined)
        return now - ctx.pollCapMs;
    return now - Math.min(Math.max(0, serverNow - finished), ctx.pollCapMs);
}

;// CONCATENATED MODULE: ./src/verify-url.ts






/**
 * The user's own HTTP check after `done` (verify-url, verify-text): GET the URL until it answers 2xx with
 * the text in its body, or verify-timeout passes. Through the runner's proxy settings, like every request
 * of the action; redirects are not followed (a 3xx is reported with where it points). Nothing of the body
 * is shown but a short masked excerpt when the check fails.
 */
/** A page this large is not a health check; the excerpt needs far less. */
const verify_url_MAX_BODY_BYTES = 1024 * 1024;
async function checkUrl(ctx, check) {
    const transport = createTransport({ maxBodyBytes: verify_url_MAX_BODY_BYTES });
    const started = ctx.clock.now();
    const poller = new Poller({ ...ctx, deadline: started + check.timeoutMs });
    const shown = (0,logger/* inline */.mG)((0,secrets/* redact */.E$)(check.url));
    let last = 'no answer yet';
    let attempts = 0;
    const look = async () => {
        attempts++;
        let response;
        try {
            const timeoutMs = Math.max(1, Math.min(check.requestTimeoutMs, started + check.timeoutMs - ctx.clock.now()));
            response = await transport.send({ method: 'GET', url: check.url, headers: { accept: 'text/html,application/json,text/plain,*/*' }, timeoutMs, signal: ctx.signal });
        }
        catch (error) {
            if (error instanceof TransportError && error.reason === 'cancelled')
                throw error;
            last = error instanceof TransportError ? `no answer (${error.reason}: ${(0,logger/* inline */.mG)((0,secrets/* redact */.E$)(error.message)).slice(0, 160)})` : 'no answer';
            poller.say(`url ${last}`, `verify-url: ${shown} gives ${last}; trying again until verify-timeout.`, 'verify-url: still trying');
            return undefined;
        }
        const status = response.status;
        if (status >= 300 && status < 400) {
            last = `HTTP ${status}, a redirect to ${(0,logger/* inline */.mG)((0,secrets/* redact */.E$)(response.header('location') ?? '(no Location)')).slice(0, 200)} (not followed: give the final URL)`;
        }
        else if (status < 200 || status >= 300) {
            last = `HTTP ${status}, body ${(0,errors/* preview */.VH)(response.text, secrets/* redact */.E$)}`;
        }
        else if (check.text !== undefined && !response.text.includes(check.text)) {
            last = `HTTP ${status}, but the body does not contain verify-text; it begins ${(0,errors/* preview */.VH)(response.text, secrets/* redact */.E$)}`;
        }
        else {
            const found = check.text === undefined ? '' : ', with verify-text in its body';
            return { ok: true, detail: `verify-url: ${shown} answered HTTP ${status}${found} after ${(0,logger/* formatDuration */.a3)(ctx.clock.now() - started)} (${attempts} attempt${attempts === 1 ? '' : 's'}).` };
        }
        poller.say(`url ${status}`, `verify-url: ${shown} gives ${last}; trying again until verify-timeout.`, 'verify-url: still trying');
        return undefined;
    };
    try {
        return await poller.until(look, {
            expired: () => ({ ok: false, message: `verify-url: ${shown} did not pass within verify-timeout (${(0,logger/* formatDuration */.a3)(check.timeoutMs)}, ${attempts} attempt${attempts === 1 ? '' : 's'}): ${last}.` })
        });
    }
    finally {
        transport.close();
    }
}
/** An absolute URL, or a path joined to the service's public URL (the `url` output). */
function joinUrl(verifyUrl, serviceUrl) {
    if (/^https?:\/\//i.test(verifyUrl))
        return verifyUrl;
    if (!serviceUrl)
        return undefined;
    return `${serviceUrl.replace(/\/+$/, '')}/${verifyUrl.replace(/^\/+/, '')}`;
}

;// CONCATENATED MODULE: ./src/verify.ts









/**
 * After Dokploy's `done`: the rollout check (verify: running), the user's HTTP check (verify-url), and,
 * when either fails, the roll back to the previous good deployment (on-failure: rollback).
 */
/** What a rollout check follows: a followed deploy of an application or compose stack, a database's deploy, start or reload. */
const ROLLED_OUT = { queued: ['deploy', 'redeploy', 'follow'], database: ['deploy', 'start', 'reload'] };
/** After Dokploy's `done`, with verify: running, the new version must be seen running (rollout-check.ts). */
async function verifyRollout(ctx, settings, target, record, service, rollbackImage) {
    await verifyAfterDone(ctx, settings, target, record, service, rollbackImage);
    const { outcome } = record;
    if (settings.onFailure !== 'rollback' || (outcome.status !== 'unhealthy' && outcome.status !== 'rolled-back'))
        return;
    // on-failure: rollback: back to the previous good deployment, whose rollout is checked in turn; the status stays the failure's
    let restored;
    try {
        restored = await rollBack(ctx.client, target.id, ctx.log, outcome.deploymentId);
    }
    catch (error) {
        if (!(error instanceof NoRollback)) {
            record.noRollback(`on-failure: rollback failed (${(0,errors/* failureKind */.zU)(error)}).`);
            return;
        }
        record.noRollback(`on-failure: rollback: ${error.message}`);
        return;
    }
    const back = new src_outcome/* Recorder */.vk({ ...(0,src_outcome/* newOutcome */.fq)(outcome.resource, 'rollback', ctx.clock.now()), status: 'done', ok: true });
    await verifyAfterDone(ctx, { ...settings, operation: 'rollback', verifyUrl: undefined }, target, back, service, restored.image);
    const how = back.outcome.ok ? (back.outcome.rollout?.checked ? 'it runs (checked)' : 'Dokploy accepted it; its rollout was not checked') : `but that failed too: ${(back.outcome.message ?? back.outcome.status).replace(/\.$/, '')}`;
    record.rolledBack(restored.deploymentId, `on-failure: rollback: rolled back to deployment ${(0,logger/* inline */.mG)(restored.deploymentId)}: ${how}.`);
}
async function verifyAfterDone(ctx, settings, target, record, service, rollbackImage) {
    const { outcome } = record;
    if (outcome.status !== 'done')
        return;
    // a pull request's preview runs as a service of its own (preview-<appName>-…): its tasks are not the application's
    if (settings.pullRequest !== undefined)
        return;
    const queued = (0,operations/* followsRow */.Zl)(ctx.spec.operations[settings.operation]);
    const eligible = settings.operation === 'rollback' ? ['rollback'] : queued ? ROLLED_OUT.queued : ctx.spec.deploymentList ? [] : ROLLED_OUT.database;
    if (!eligible.includes(settings.operation))
        return;
    const startedAt = ctx.clock.now();
    if (settings.verify === 'running')
        await verifyTasks(ctx, settings, target, record, service, queued, rollbackImage);
    if (settings.verifyUrl && record.outcome.ok) {
        const url = joinUrl(settings.verifyUrl, await publicUrl(ctx, target, service, settings.verifyUrl));
        if (!url) {
            record.rollout({ status: 'unhealthy', message: `verify-url ${(0,logger/* inline */.mG)(settings.verifyUrl)} is a path, but the service has no domain to join it to: give an absolute URL.` });
            return;
        }
        const left = Math.max(1000, startedAt + settings.verifyTimeoutMs - ctx.clock.now());
        const checked = await checkUrl(ctx, { url, text: settings.verifyText, timeoutMs: left, requestTimeoutMs: settings.requestTimeoutMs });
        if (checked.ok)
            ctx.log.info(checked.detail);
        else
            record.rollout({ status: 'unhealthy', message: checked.message });
    }
}
/** The service's public URL, for a verify-url path: from the .one already read, else from its domain list. */
async function publicUrl(ctx, target, service, verifyUrl) {
    if (/^https?:\/\//i.test(verifyUrl) || !ctx.spec.domainList)
        return undefined;
    try {
        return serviceUrl(service.known()?.domains ?? (await readDomains(ctx.client, ctx.spec, target.id, ctx.timings.reportGraceMs)));
    }
    catch (error) {
        ctx.log.info(`The service's domains could not be read (${(0,errors/* failureKind */.zU)(error)}).`);
        return undefined;
    }
}
async function verifyTasks(ctx, settings, target, record, service, queued, rollbackImage) {
    const { outcome } = record;
    const result = await checkRollout(ctx, {
        resource: outcome.resource,
        target,
        operation: settings.operation,
        service,
        stepStartedAt: outcome.startedAt,
        verifyTimeoutMs: settings.verifyTimeoutMs,
        finishedAt: queued ? (outcome.finishedAt ?? null) : undefined,
        image: rollbackImage ?? settings.image?.dockerImage
    });
    record.rollout(result);
    if (result.status === 'done')
        ctx.log.info(result.detail);
    else if ((result.status === 'rolled-back' || result.status === 'unhealthy') && outcome.resource === 'application' && settings.log !== 'none' && settings.logLines > 0) {
        // Dokploy reads the newest running container: after Swarm's rollback, that is the previous version
        const label = result.status === 'rolled-back'
            ? "the container that runs now, which after Swarm's rollback is the previous version's, not the failed one's"
            : "the newest running container: the new version's if one runs, else the previous version's";
        try {
            record.runtime(label, await readRuntimeLog(ctx.client, target.id, settings.logLines, ctx.timings.reportGraceMs));
        }
        catch (error) {
            ctx.log.debug(`the runtime log was not read (${(0,errors/* failureKind */.zU)(error)})`);
        }
    }
}

;// CONCATENATED MODULE: ./src/execute.ts











/** One target: changes → operation → result, each recorded as it comes. */
async function execute(settings, target, context, record, service) {
    const spec = operations/* SPECS */.ne[target.resource];
    const mode = spec.operations[settings.operation];
    if (!mode)
        throw new Error(`${target.resource} has no ${settings.operation}`);
    const { client, log } = context;
    record.target(target);
    const ctx = { ...context, spec, serviceId: target.id };
    // .one carries every secret of the service: read it only when something needs it
    const needsDetails = settings.env !== undefined || settings.image !== undefined || ((0,operations/* needsAppName */.SF)(settings.operation) && !target.appName);
    const details = needsDetails ? await service.read() : undefined;
    record.service(details);
    if (settings.env && details)
        await applyEnv(client, target.resource, target.id, details, settings.env, log);
    if (settings.image && details)
        await applyImage(client, target.id, details, settings.image, log);
    if (mode === 'queued' || mode === 'follow') {
        await (mode === 'queued' ? runQueued : followCommit)(ctx, settings, record, service);
        return verifyRollout(ctx, settings, target, record, service);
    }
    if (settings.operation === 'rollback') {
        let restored;
        try {
            restored = await rollBack(client, target.id, log);
        }
        catch (error) {
            if (!(error instanceof NoRollback))
                throw error;
            record.answered('failed', false, error.message);
            return;
        }
        record.answered('done', true);
        record.rolledBack(restored.deploymentId);
        log.info(`rollback.rollback: Dokploy rolled the application back to deployment ${(0,logger/* inline */.mG)(restored.deploymentId)}.`);
        return verifyRollout(ctx, settings, target, record, service, restored.image);
    }
    const label = `${spec.router}.${settings.operation}`;
    const expected = (0,operations/* statusAfter */.Bh)(settings.operation);
    const call = {
        resource: target.resource,
        operation: settings.operation,
        id: target.id,
        mode,
        appName: target.appName ?? details?.appName,
        // a database deploy answers when it is done: it gets the wait bound, not the request bound
        timeoutMs: mode === 'sync-long' ? Math.max(settings.requestTimeoutMs, context.deadline - context.clock.now()) : undefined
    };
    // a database deploy builds while its request is open
    if (mode === 'sync-long') {
        record.accepted();
        record.building();
    }
    let answered;
    try {
        answered = await sendSync(ctx, call, settings.retries);
    }
    catch (error) {
        // Dokploy ran it and it failed (a 500): the operation's outcome is an error, not an unknown
        if (error instanceof errors/* DokployError */.RI && error.failure === 'server-error')
            record.answered('error', false, error.message);
        throw error;
    }
    if (answered === 'answered') {
        record.answered(expected, true);
        // Dokploy's stop logs a failure to scale the service down and answers 200 all the same (API.md §10)
        const caveat = settings.operation === 'stop' ? ' (Dokploy does not report a stop that failed: it answers success all the same)' : '';
        log.info(`${label}: Dokploy accepted it; the ${isDatabase(target.resource) ? `${target.resource} db` : target.resource} is now ${AFTER[settings.operation] ?? expected}${caveat}.`);
    }
    else {
        const followed = await followStatus(ctx, expected);
        record.answered(followed.status, followed.ok, `${label}: ${followed.detail}`);
        if (followed.ok)
            log.info(`${label}: ${followed.detail}`);
    }
    return verifyRollout(ctx, settings, target, record, service);
}
/** What a synchronous operation leaves the service as, in words. */
const AFTER = { start: 'running', stop: 'idle (stopped)', reload: 'reloaded', deploy: 'deployed' };
/**
 * Sends a synchronous operation until Dokploy answers it. Start, stop and reload are idempotent, and a
 * database deploy may be repeated, so an answer lost on the way (a proxy's 502 that never forwarded it, a
 * reset) is sent again rather than guessed from a status the previous run left behind. Only a database
 * deploy seen `running` after the loss is followed instead: Dokploy is working on it.
 */
async function sendSync(ctx, call, retries) {
    const label = `${ctx.spec.router}.${call.operation}`;
    for (let attempt = 0;; attempt++) {
        try {
            await runOperation(ctx.client, call);
            return 'answered';
        }
        catch (error) {
            if (!(error instanceof errors/* DokployError */.RI) || error.delivery !== 'maybe-processed' || error.failure === 'cancelled')
                throw error;
            if (call.mode === 'sync-long' && (await readStatus(ctx.client, ctx.spec, ctx.serviceId)) === 'running') {
                ctx.log.warning(`${(0,logger/* inline */.mG)(error.message)} The ${ctx.spec.router} is deploying: following its status (only the status is read).`);
                return 'running';
            }
            if (attempt >= retries) {
                throw new src_outcome/* UnknownOutcome */.Bt(`${label}: ${(0,logger/* inline */.mG)(error.message)} Sent ${attempt + 1} time(s) without an answer from Dokploy, so whether it ran is unknown.`);
            }
            ctx.log.warning(`${(0,logger/* inline */.mG)(error.message)} ${label} is safe to repeat: sending it again (${attempt + 1}/${retries}).`);
        }
    }
}
const isDatabase = (resource) => operations/* DATABASES */.Lv.includes(resource);

;// CONCATENATED MODULE: ./src/failure.ts

/** Whether a target's failure report quotes the server (a build log, Dokploy's errorMessage, an error text). */
const quotesServer = (outcome, error) => !!outcome.logTail || !!outcome.errorMessage || !!outcome.runtimeLog || (error instanceof errors/* DokployError */.RI && error.failure === 'server-error');

// EXTERNAL MODULE: ./src/dashboard.ts
var dashboard = __webpack_require__(4299);
;// CONCATENATED MODULE: ./src/service.ts

/** `learned` hears of the read once it succeeded (the outcome takes the service's name and place from it). */
function serviceSource(client, spec, id, wanted, learned) {
    let reading;
    let details;
    return {
        read: () => (reading ??= readService(client, spec, id, wanted).then((read) => {
            details = read;
            learned?.(read);
            return read;
        })),
        known: () => details
    };
}

// EXTERNAL MODULE: ./src/target.ts
var src_target = __webpack_require__(6746);
;// CONCATENATED MODULE: ./src/targets.ts












/** Ids need no request; names cost one project.all (plus environment.byProjectId for database names), however many. */
async function resolveTargets(client, settings, log) {
    const { target, resource } = settings;
    if ('ids' in target) {
        if (resource === 'database')
            throw new Error('resource database needs a lookup by name');
        return target.ids.map((id) => ({ resource, id }));
    }
    const found = await (0,lookup/* locateAll */.Y6)(client, resource, target, log.warning);
    for (const service of found) {
        // names come from the server: kept on one line, so none can start a workflow command
        const where = service.environmentName ? ` in ${(0,logger/* inline */.mG)(service.environmentName)}` : '';
        log.info(`Found ${service.resource} "${(0,logger/* inline */.mG)(service.name ?? '')}"${where}: id ${(0,logger/* inline */.mG)(service.id)}.`);
    }
    return found;
}
async function runTargets(settings, targets, context) {
    const { client, baseUrl, github, signal, clock } = context;
    const several = targets.length > 1;
    const labels = targets.map((target) => (0,src_target/* serviceLabel */.u)(target.name, target.id));
    /** The commit status's context: the service's name, with its environment when two targets share the name. */
    const contextOf = (target, label) => labels.filter((other) => other === label).length > 1 && target.environmentName ? `dokploy/${target.environmentName}/${label}` : `dokploy/${label}`;
    const runs = await Promise.all(targets.map(async (target) => {
        const label = (0,src_target/* serviceLabel */.u)(target.name, target.id);
        const log = several ? (0,logger/* prefixed */.gV)(context.log, label) : context.log;
        const record = new src_outcome/* Recorder */.vk((0,src_outcome/* newOutcome */.fq)(target.resource, settings.operation, clock.now()));
        const tracked = github?.track({
            label,
            resource: target.resource,
            context: contextOf(target, label),
            // a service given by id: where it lives comes from its own .one, never from every project's
            environment: async () => settings.github?.environment ?? target.environmentName ?? (await placeOf(run))?.environmentName ?? 'production',
            links: async () => ({ environmentUrl: record.outcome.url ?? (await urlOf(run)), logUrl: (0,dashboard/* dashboardUrl */.a)(baseUrl, record.outcome) })
        });
        record.listen(tracked);
        const spec = operations/* SPECS */.ne[target.resource];
        const service = serviceSource(client, spec, target.id, { env: settings.env !== undefined, registry: settings.image !== undefined }, (details) => record.service(details));
        const run = { target, record, log, service };
        try {
            const liveLog = several && context.liveLog ? { ...context.liveLog, sink: (0,logger/* prefixedSink */.ji)(context.liveLog.sink, label) } : context.liveLog;
            await execute(settings, target, { ...context, log, liveLog }, record, service);
        }
        catch (error) {
            run.failure = error;
            record.failed(error, signal?.aborted ?? false, clock.now() >= context.deadline);
        }
        record.ended(clock.now());
        return run;
    }));
    const cancelled = signal?.aborted ?? false;
    for (const run of runs) {
        const { record } = run;
        const url = record.outcome.url ?? (!cancelled && wantsUrl(settings, record.outcome) ? await urlOf(run) : undefined);
        if (!cancelled)
            await learnBeforePrinting(run);
        record.links((0,dashboard/* dashboardUrl */.a)(baseUrl, record.outcome), url);
        record.done();
    }
    return runs.map((run) => run.record.outcome);
    /** The service's `.one`, for where it lives; a failure leaves it unknown (the report goes without the link). */
    async function placeOf(run) {
        try {
            return await run.service.read();
        }
        catch (error) {
            run.log.debug(`where the service lives was not read (${(0,errors/* failureKind */.zU)(error)})`);
            return undefined;
        }
    }
    /**
     * The public URL: from the domains of the service's `.one` when the run has read it already, else from its
     * domain list (which says nothing secret: `.one`, which does, is not read for a URL).
     */
    async function urlOf(run) {
        const spec = operations/* SPECS */.ne[run.target.resource];
        if (!spec.domainList)
            return undefined;
        try {
            const domains = run.service.known()?.domains ?? (await readDomains(client, spec, run.target.id, context.timings.reportGraceMs));
            return serviceUrl(domains);
        }
        catch (error) {
            run.log.info(`The service's domains could not be read (${(0,errors/* failureKind */.zU)(error)}): the url output stays empty.`);
            return undefined;
        }
    }
    /**
     * Server text may quote secrets the action never read (a build that prints a connection string, a 500
     * that repeats a database password): the service's secrets are learned before any of it is printed, and
     * when they cannot be, none of it is.
     */
    async function learnBeforePrinting(run) {
        const { record } = run;
        if (record.outcome.ok || !quotesServer(record.outcome, run.failure))
            return;
        try {
            await run.service.read();
        }
        catch (error) {
            record.withheld(`the service's secrets could not be read first (${(0,errors/* failureKind */.zU)(error)}), and it may quote them`, run.failure);
        }
    }
}
/** The URL is read after a followed deploy, and for a GitHub deployment; never when nothing reached Dokploy. */
function wantsUrl(settings, outcome) {
    if (!operations/* SPECS */.ne[outcome.resource].domainList || outcome.status === 'failed')
        return false;
    return settings.github?.deployments === true || ((0,operations/* followsRow */.Zl)(operations/* SPECS */.ne[outcome.resource].operations[settings.operation]) && settings.wait);
}

;// CONCATENATED MODULE: ./src/github-deployment.ts



/** Our deployments carry this key in their payload, so they are never taken for the job's own. */
const PAYLOAD_KEY = 'dokploy-action';
const DESCRIPTION_LIMIT = 140;
/** The GitHub state of a Dokploy outcome: a build that failed is a failure, an outcome not reached is an error. */
function stateOf(outcome) {
    if (outcome.status === 'done')
        return 'success';
    if (outcome.status === 'error' || outcome.status === 'cancelled')
        return 'failure';
    return 'error';
}
function github_deployment_describe(outcome) {
    const text = outcome.status === 'done'
        ? `Dokploy ${outcome.operation} done`
        : outcome.status === 'timeout'
            ? 'Still running when the step stopped waiting'
            : `Dokploy ${outcome.operation} ended ${outcome.status}`;
    return (0,title/* clip */.$Q)(text, DESCRIPTION_LIMIT);
}
/** What to tell the user about a failed GitHub call; the token is never part of it. */
function explain(error, permission) {
    const status = error?.status;
    const message = (0,secrets/* redact */.E$)((0,logger/* inline */.mG)(error instanceof Error ? error.message : String(error))).slice(0, 200);
    if (status === 403 || status === 401)
        return `GitHub refused it (${status}: ${message}): give the token ${permission} (permissions: ${permission}), or check its rate limit`;
    if (status === 404)
        return `GitHub answered 404 (${message}): this repository or server has no deployments API for the token`;
    if (status === 429)
        return `GitHub rate-limited it (429)`;
    return message;
}
class GitHubDeployments {
    run;
    log;
    queue = Promise.resolve();
    stopped = false;
    octokit;
    /** Environments whose job-level `environment:` already records this run: nothing is created there. */
    jobOwned = new Map();
    /** Environments where one of this step's deployments succeeded: the next success leaves it active. */
    succeeded = new Set();
    abort = new AbortController();
    constructor(run, log) {
        this.run = run;
        this.log = log;
        // loaded now, before anything is sent: evaluating GitHub's client takes a moment of the event loop,
        // which must not fall between the deploy and the step's first look at the queue (a fast build
        // could end unseen). A failure to load is said when the first call needs it.
        this.client().catch(() => undefined);
    }
    /** A target's GitHub deployment, told of the deploy's progress by the layer that runs it. */
    track(target) {
        let id;
        let environment;
        const { deployments, statuses } = this.run;
        // the commit shows the check as pending from the step's start: branch protection waits for its end
        if (statuses)
            this.enqueue(async (octokit) => this.commitStatus(octokit, target, 'pending', 'Dokploy: following the deployment'));
        return {
            accepted: () => {
                if (!deployments)
                    return;
                this.enqueue(async (octokit) => {
                    environment = await target.environment();
                    if (await this.ownedByJob(octokit, environment))
                        return;
                    id = await this.create(octokit, environment, target);
                });
            },
            building: () => {
                if (!deployments)
                    return;
                this.enqueue(async (octokit) => {
                    if (id !== undefined)
                        await this.status(octokit, id, 'in_progress', 'Dokploy is building it', await target.links());
                });
            },
            ended: (outcome) => {
                if (statuses)
                    this.enqueue(async (octokit) => this.commitStatus(octokit, target, stateOf(outcome), github_deployment_describe(outcome)));
                if (!deployments)
                    return;
                this.enqueue(async (octokit) => {
                    if (id === undefined || environment === undefined)
                        return;
                    const state = stateOf(outcome);
                    // the first success of this step makes the earlier deployments inactive, as GitHub does; its siblings stay
                    const autoInactive = state === 'success' && !this.succeeded.has(environment);
                    if (state === 'success')
                        this.succeeded.add(environment);
                    await this.status(octokit, id, state, github_deployment_describe(outcome), await target.links(), autoInactive);
                });
            }
        };
    }
    /** Waits for the calls still queued, at most `ms`; what is left then is abandoned (and said once). */
    async settle(ms) {
        let timer;
        const late = new Promise((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
        const end = await Promise.race([this.queue.then(() => 'settled'), late]);
        clearTimeout(timer);
        if (end === 'late') {
            this.abort.abort(new Error('the step ended'));
            this.warnOnce(`GitHub did not answer within ${Math.round(ms / 1000)} s at the end of the step: the GitHub deployment may show an earlier status.`);
        }
    }
    enqueue(task) {
        this.queue = this.queue.then(async () => {
            if (this.stopped)
                return;
            try {
                await task(await this.client());
            }
            catch (error) {
                const { deployments, statuses } = this.run;
                const what = deployments ? (statuses ? 'The GitHub deployment and commit status' : 'The GitHub deployment') : 'The commit status';
                const permission = [deployments ? 'deployments: write' : '', statuses ? 'statuses: write' : ''].filter(Boolean).join(', ');
                this.warnOnce(`${what} could not be recorded: ${explain(error, permission)}. The Dokploy deploy is not affected.`);
            }
        });
    }
    warnOnce(message) {
        if (this.stopped)
            return;
        this.stopped = true;
        this.log.warning(message, this.run.deployments ? 'GitHub deployment' : 'GitHub commit status');
    }
    /** @actions/github is loaded only here, so a step without github-deployment never pays for it. */
    client() {
        this.octokit ??= __webpack_require__.e(/* import() */ 413).then(__webpack_require__.bind(__webpack_require__, 2413)).then(({ getOctokit }) => getOctokit(this.run.token));
        return this.octokit;
    }
    get repo() {
        const [owner, repo] = this.run.repository.split('/');
        return { owner, repo };
    }
    request() {
        return { signal: AbortSignal.any([AbortSignal.timeout(this.run.requestTimeoutMs), this.abort.signal]) };
    }
    /**
     * A job with `environment:` gets a GitHub deployment from Actions itself; a second one for the same
     * commit and environment would be a duplicate. Actions' deployment links this run in its statuses.
     */
    ownedByJob(octokit, environment) {
        let owned = this.jobOwned.get(environment);
        if (!owned) {
            owned = this.findJobDeployment(octokit, environment);
            this.jobOwned.set(environment, owned);
            // said once per environment; a failure is the caller's to report (and must not go unhandled here)
            owned.then((yes) => {
                if (yes)
                    this.log.info(`The job's environment "${(0,logger/* inline */.mG)(environment)}" already records this run as a GitHub deployment: not creating another (github-deployment).`);
            }, () => undefined);
        }
        return owned;
    }
    async findJobDeployment(octokit, environment) {
        const { runId, sha } = this.run;
        if (!runId)
            return false;
        const { data: deployments } = await octokit.rest.repos.listDeployments({ ...this.repo, sha, environment, per_page: 10, request: this.request() });
        const others = deployments.filter((d) => !(d.payload && typeof d.payload === 'object' && PAYLOAD_KEY in d.payload)).slice(0, 3);
        const thisRun = new RegExp(`/actions/runs/${runId}(/|$)`);
        for (const deployment of others) {
            const { data: statuses } = await octokit.rest.repos.listDeploymentStatuses({ ...this.repo, deployment_id: deployment.id, per_page: 5, request: this.request() });
            if (statuses.some((s) => thisRun.test(s.log_url ?? '') || thisRun.test(s.target_url ?? '')))
                return true;
        }
        return false;
    }
    async create(octokit, environment, target) {
        const { data } = await octokit.rest.repos.createDeployment({
            ...this.repo,
            ref: this.run.sha,
            environment,
            description: (0,title/* clip */.$Q)(`${target.label}: ${this.run.title}`, DESCRIPTION_LIMIT),
            // the commit is being deployed as it is: no merge of the default branch, no wait for its checks
            auto_merge: false,
            required_contexts: [],
            transient_environment: false,
            task: 'deploy',
            payload: { [PAYLOAD_KEY]: { service: target.label, resource: target.resource } },
            request: this.request()
        });
        if (!('id' in data))
            throw new Error(`GitHub did not create the deployment (${(0,logger/* inline */.mG)(String(data.message ?? 'no reason given'))})`);
        return data.id;
    }
    /** A commit status for the step's commit, linking the Dokploy deployment (the log-url). */
    async commitStatus(octokit, target, state, description) {
        await octokit.rest.repos.createCommitStatus({
            ...this.repo,
            sha: this.run.sha,
            state,
            context: target.context,
            description: (0,title/* clip */.$Q)(description, DESCRIPTION_LIMIT),
            target_url: (await target.links()).logUrl ?? '',
            request: this.request()
        });
    }
    async status(octokit, id, state, description, links, autoInactive = false) {
        await octokit.rest.repos.createDeploymentStatus({
            ...this.repo,
            deployment_id: id,
            state,
            description,
            environment_url: links.environmentUrl ?? '',
            log_url: links.logUrl ?? '',
            auto_inactive: autoInactive,
            request: this.request()
        });
    }
}

;// CONCATENATED MODULE: ./src/work.ts
/**
 * Everything a step does once its inputs are valid, in a chunk of its own (main.ts imports it then): a step
 * that fails on its inputs, the most common failure of a new workflow, never loads or compiles it.
 */






/***/ })

};

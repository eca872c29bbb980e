/**
 * Makes a running Dokploy ready for the conformance suite, through its own HTTP API, the way the
 * dashboard does it: waits until it answers, creates the first admin (or signs in as them), and
 * creates an API key without a rate limit. Shared by the local path (after the server is started by
 * hand) and by .github/workflows/real-dokploy.yml (after start-docker.sh).
 *
 *   DOKPLOY_URL=http://127.0.0.1:3000 node scripts/real-dokploy/bootstrap.js
 *
 * Prints `DOKPLOY_URL=…` and `DOKPLOY_API_KEY=…` lines for a shell's `export`. On a runner
 * (GITHUB_ENV set) the key is masked first and both go to GITHUB_ENV instead of stdout.
 * The admin's credentials come from DOKPLOY_ADMIN_EMAIL / DOKPLOY_ADMIN_PASSWORD when set.
 */
import { appendFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'

const url = (process.env.DOKPLOY_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '')
const admin = {
  email: process.env.DOKPLOY_ADMIN_EMAIL ?? 'admin@example.com',
  password: process.env.DOKPLOY_ADMIN_PASSWORD ?? 'Admin-pass-123!',
  name: 'Conformance',
  lastName: 'Admin'
}

/** One request; errors name the path and status, never the body (it may hold a session or key). */
async function request(method, path, { body, cookie } = {}) {
  const response = await fetch(url + path, {
    method,
    headers: { origin: url, ...(body ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}) },
    body: body ? JSON.stringify(body) : undefined
  })
  const text = await response.text()
  return { status: response.status, text, response }
}

async function waitUntilUp() {
  const until = Date.now() + 10 * 60_000
  while (Date.now() < until) {
    const up = await request('GET', '/api/trpc/settings.health').then((r) => r.status === 200, () => false)
    if (up) return
    await new Promise((resolve) => setTimeout(resolve, 2000))
  }
  throw new Error(`${url} did not answer settings.health within 10 minutes`)
}

async function session() {
  const signUp = await request('POST', '/api/auth/sign-up/email', { body: admin })
  // a server that has its admin already says so: sign in as them instead
  if (signUp.status !== 200 && !/already/i.test(signUp.text)) throw new Error(`sign-up answered ${signUp.status}`)
  // a fresh sign-up has no active organisation yet (it is made after the user): sign in afresh
  const signIn = await request('POST', '/api/auth/sign-in/email', { body: { email: admin.email, password: admin.password } })
  if (signIn.status !== 200) throw new Error(`sign-in answered ${signIn.status}: set DOKPLOY_ADMIN_EMAIL and DOKPLOY_ADMIN_PASSWORD to this server's admin`)
  const cookie = signIn.response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const current = await request('GET', '/api/auth/get-session', { cookie })
  const organizationId = JSON.parse(current.text)?.session?.activeOrganizationId
  if (!organizationId) throw new Error('the admin session has no active organisation')
  return { cookie, organizationId }
}

async function createKey({ cookie, organizationId }) {
  const input = { name: `conformance-${randomBytes(3).toString('hex')}`, metadata: { organizationId }, rateLimitEnabled: false }
  const created = await request('POST', '/api/trpc/user.createApiKey', { body: { json: input }, cookie })
  if (created.status !== 200) throw new Error(`user.createApiKey answered ${created.status}`)
  return JSON.parse(created.text).result.data.json.key
}

await waitUntilUp()
const key = await createKey(await session())
if (process.env.GITHUB_ENV) {
  console.log(`::add-mask::${key}`)
  appendFileSync(process.env.GITHUB_ENV, `DOKPLOY_URL=${url}\nDOKPLOY_API_KEY=${key}\n`)
  console.log(`Dokploy at ${url} is ready; DOKPLOY_URL and DOKPLOY_API_KEY are set for the next steps.`)
} else {
  console.log(`DOKPLOY_URL=${url}\nDOKPLOY_API_KEY=${key}`)
}

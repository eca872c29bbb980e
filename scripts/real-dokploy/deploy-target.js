/**
 * For the workflow's `uses: ./` steps: creates a project with one application running a tiny public
 * image, and writes its `application-id` and `app-name` to GITHUB_OUTPUT (or prints them).
 *   DOKPLOY_URL=… DOKPLOY_API_KEY=… node scripts/real-dokploy/deploy-target.js
 */
import { appendFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'

const url = (process.env.DOKPLOY_URL ?? '').replace(/\/+$/, '')
const key = process.env.DOKPLOY_API_KEY ?? ''
if (!url || !key) throw new Error('Set DOKPLOY_URL and DOKPLOY_API_KEY (scripts/real-dokploy/bootstrap.js prints them).')

async function mutate(procedure, input) {
  const response = await fetch(`${url}/api/trpc/${procedure}`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ json: input })
  })
  if (!response.ok) throw new Error(`${procedure} answered ${response.status}`)
  return (await response.json()).result.data.json
}

const created = await mutate('project.create', { name: `uses-dot ${randomBytes(3).toString('hex')}` })
// v0.25+ answers {project, environment}; older servers the project, whose services sit on it
const place = created.environment ? { environmentId: created.environment.environmentId } : { projectId: created.projectId }
const app = await mutate('application.create', { name: 'hello', ...place })
await mutate('application.saveDockerProvider', { applicationId: app.applicationId, dockerImage: 'nginx:alpine', username: null, password: null, registryUrl: null })
const lines = `application-id=${app.applicationId}\napp-name=${app.appName}\n`
if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, lines)
else process.stdout.write(lines)

import { resolve } from 'node:path'
import { startEmulator } from '../__tests__/emulator/server.js'
import { runAction } from './run-action.js'

/**
 * How late the step ends after Dokploy marks the deployment it follows final, and how many requests the
 * follow costs (docs/dokploy-timing.md):
 *
 *   DOKPLOY_URL=… DOKPLOY_API_KEY=… DOKPLOY_APPLICATION_ID=… npm run lateness:real
 *   npm run lateness:real            without them: the emulator, with the real server's lag after the last line
 *
 * Options: --runs=N (default 6); --action=<path> runs another bundle (an older dist/index.js, for a before and
 * after); --done on the emulator follows successful builds (the Swarm update before the row turns done)
 * instead of failing ones. Lateness is the step's exit minus the row's finishedAt, so against a real server
 * run it on the server's own machine (or one whose clock is synchronised with it).
 */
const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const runs = Number(arg('runs') ?? 6)
const action = arg('action') ? resolve(arg('action')) : undefined
const done = process.argv.includes('--done')
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const real = process.env.DOKPLOY_URL && process.env.DOKPLOY_API_KEY
if (real && !process.env.DOKPLOY_APPLICATION_ID) {
  console.error('Set DOKPLOY_APPLICATION_ID to an application the runs may deploy.')
  process.exit(1)
}
const emu = real ? undefined : await startEmulator({ timeScale: 1 })
const url = real ? process.env.DOKPLOY_URL.replace(/\/+$/, '') : emu.url
const apiKey = real ? process.env.DOKPLOY_API_KEY : emu.apiKey
const id = real ? process.env.DOKPLOY_APPLICATION_ID : emu.ids.api
if (emu) emu.setBuild(id, { durationMs: 4000, ...(done ? {} : { fail: 'exit code 1' }) })

/** The row as Dokploy lists it now (tRPC, as the action reads it). */
async function rowOf(deploymentId) {
  const input = encodeURIComponent(JSON.stringify({ json: { applicationId: id } }))
  const response = await fetch(`${url}/api/trpc/deployment.all?input=${input}`, { headers: { 'x-api-key': apiKey } })
  const rows = (await response.json()).result.data.json
  return rows.find((row) => row.deploymentId === deploymentId)
}

const results = []
console.log(`${real ? url : 'emulator'}: ${runs} followed deploy(s), log: live${action ? `, ${action}` : ''}`)
for (let i = 0; i < runs; i++) {
  const run = await runAction({ url, 'api-key': apiKey, id, log: 'live' }, { env: { RUNNER_DEBUG: '1' }, action })
  const exitedAt = Date.now()
  const deploymentId = run.outputs['deployment-id']
  const row = deploymentId ? await rowOf(deploymentId) : undefined
  const finishedAt = Date.parse(row?.finishedAt ?? '')
  // the socket's upgrade included (it spends a key check as a request does)
  const requests = Number(/Dokploy requests: (\d+)/.exec(run.stdout)?.[1] ?? NaN)
  const live = run.stdout.includes('::group::Build log of ')
  const fellBack = run.stdout.includes('No live build log')
  if (!Number.isFinite(finishedAt)) {
    console.log(`run ${i + 1}: ${run.outputs.status ?? `exit ${run.code}`}, no finishedAt to measure from`)
    continue
  }
  results.push({ late: exitedAt - finishedAt, requests })
  console.log(
    `run ${i + 1}: ${row.status}, step exit ${exitedAt - finishedAt} ms after finishedAt, ${requests} request(s), the socket included` +
      `${live ? '' : ' (not streamed)'}${fellBack ? ' (fell back to polling)' : ''}`
  )
}
if (results.length) {
  const late = results.map((r) => r.late)
  console.log(
    `median lateness ${median(late)} ms (min ${Math.min(...late)}, max ${Math.max(...late)}) over ${results.length} run(s); ` +
      `median ${median(results.map((r) => r.requests))} requests (the socket included) per followed deploy`
  )
}
await emu?.close()

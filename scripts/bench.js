import { readdirSync, readFileSync, statSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { startEmulator } from '../__tests__/emulator/server.js'
import { node, runAction } from './run-action.js'

/**
 * The figures we track: bundle size, start-up time, and requests and bytes per run.
 *   npm run bench              (includes a 60 s build to measure requests per waited minute)
 *   npm run bench -- --quick   (a 20 s build instead)
 */
const quick = process.argv.includes('--quick')
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`

// 1. bundle
const files = readdirSync('dist').filter((f) => f.endsWith('.js'))
const raw = files.reduce((sum, f) => sum + statSync(join('dist', f)).size, 0)
const gz = files.reduce((sum, f) => sum + gzipSync(readFileSync(join('dist', f))).length, 0)
console.log(`bundle: ${files.length} file(s), ${kb(raw)} (${kb(gz)} gzipped)`)

// 2. start-up: a run that fails input validation does everything up to the first request
const startups = []
for (let i = 0; i < 9; i++) startups.push((await runAction({ url: 'not a url', 'api-key': 'k', id: 'x' })).ms)
console.log(`start-up to exit (input error, ${node === process.execPath ? process.version : 'Node 24'}): median ${median(startups).toFixed(0)} ms of 9`)

// 3. requests and bytes per run
const emu = await startEmulator({ buildMs: 300 })
const base = { url: emu.url, 'api-key': emu.apiKey }
const debugFigures = (stdout) => {
  const m = /Dokploy requests: (\d+) \((\d+) retries\), (\d+) B sent, (\d+) B received/.exec(stdout)
  return m ? { requests: +m[1], sent: +m[3], received: +m[4] } : undefined
}
const scenarios = [
  ['application deploy, wait: false', { ...base, id: emu.ids.web, wait: 'false' }],
  ['application deploy, wait (0.3 s build)', { ...base, id: emu.ids.web }],
  ['application stop', { ...base, id: emu.ids.web, operation: 'stop' }],
  ['application reload (reads appName)', { ...base, id: emu.ids.web, operation: 'reload' }],
  ['postgres deploy', { ...base, resource: 'postgres', id: emu.ids.postgres }],
  ['postgres stop by name (v0.30 lookup)', { ...base, resource: 'postgres', project: 'shop', environment: 'production', name: 'db', operation: 'stop' }],
  ['application deploy by name, new image and env', { ...base, project: 'shop', name: 'api', 'docker-image': 'ghcr.io/acme/api:9', env: 'A=1' }]
]
console.log('\nscenario | requests | sent | received | wall time')
for (const [label, inputs] of scenarios) {
  const run = await runAction(inputs, { env: { RUNNER_DEBUG: '1' } })
  const f = debugFigures(run.stdout)
  console.log(`${label} | ${f?.requests} | ${f?.sent} B | ${f?.received} B | ${Math.round(run.ms)} ms${run.code ? ` (exit ${run.code})` : ''}`)
}

// 4. requests per waited minute: one long build followed with the default poll-interval (10 s cap)
const buildSeconds = quick ? 20 : 60
emu.setBuild(emu.ids.api, { durationMs: buildSeconds * 1000 })
const long = await runAction({ ...base, id: emu.ids.api }, { env: { RUNNER_DEBUG: '1' } })
const f = debugFigures(long.stdout)
const minutes = long.ms / 60000
console.log(
  `\nwaiting on a ${buildSeconds} s build: ${f?.requests} requests, ${f?.received} B received in ${(long.ms / 1000).toFixed(1)} s` +
    ` → ${(f.requests / minutes).toFixed(1)} requests and ${kb(f.received / minutes)} per waited minute`
)
await emu.close()

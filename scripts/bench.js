import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { startEmulator } from '../__tests__/emulator/server.js'
import ncc from '@vercel/ncc'
import { compile, EXTERNALS, ROOT } from './compile.js'
import { node, runAction } from './run-action.js'

/**
 * The figures we track: bundle size, start-up time (alone and beside a bundle of @actions/core alone),
 * requests and bytes per run, a database stop by id beside a bare one-request script, and how late and
 * at what cost the step follows a build to its end, polled and live.
 *   npm run bench              (builds of 5 s to 150 s: about 6 minutes)
 *   npm run bench -- --quick   (builds of 5 s and 20 s)
 */
const quick = process.argv.includes('--quick')
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`
const times = (ratio) => `${ratio.toFixed(2)}×`
/** Alternated pairs (a b, b a, …), so that a change in the machine's load falls on both sides alike. */
const PAIRS = quick ? 10 : 20
async function alternate(first, second) {
  const pairs = []
  for (let i = 0; i < PAIRS; i++) {
    const pair = {}
    if (i % 2) pair.second = await second()
    pair.first = await first()
    if (!(i % 2)) pair.second = await second()
    pairs.push(pair)
  }
  const ms = (side) => median(pairs.map((pair) => pair[side].ms))
  return { pairs, first: ms('first'), second: ms('second'), ratio: ms('first') / ms('second'), pairRatio: median(pairs.map((pair) => pair.first.ms / pair.second.ms)) }
}
const scratch = mkdtempSync(join(tmpdir(), 'dokploy-action-bench-'))

// 1. bundle
const files = readdirSync('dist').filter((f) => f.endsWith('.js'))
const raw = files.reduce((sum, f) => sum + statSync(join('dist', f)).size, 0)
const gz = files.reduce((sum, f) => sum + gzipSync(readFileSync(join('dist', f))).length, 0)
const each = files.map((f) => `${f} ${kb(statSync(join('dist', f)).size)}`).join(', ')
console.log(`bundle: ${files.length} file(s) (${each}), ${kb(raw)} (${kb(gz)} gzipped); ${(raw / 1e6).toFixed(2)} MB of at most 1.3 MB`)

// 2. start-up: a run that fails input validation does everything up to the first request
const startups = []
for (let i = 0; i < 9; i++) startups.push((await runAction({ url: 'not a url', 'api-key': 'k', id: 'x' })).ms)
console.log(`start-up to exit (input error, ${node === process.execPath ? process.version : 'Node 24'}): median ${median(startups).toFixed(0)} ms of 9`)

// the same exit beside a bundle of @actions/core alone (at most 1.15×): a two-line entry that fails the step
// as the action does, bundled into a temp dir twice. First as `ncc build --minify` bundles it, with dist's
// externals: the smallest action that uses @actions/core, and the criterion. Then by compile() as dist/ is
// (factories parenthesized, undici run on first use): the share of the action's own code. The entry sits
// under node_modules/.cache, so that it imports @actions/core by name, as src/ does.
const cache = join(ROOT, 'node_modules', '.cache')
mkdirSync(cache, { recursive: true })
const entryDir = mkdtempSync(join(cache, 'dokploy-action-bench-'))
const entry = join(entryDir, 'reference.mjs')
writeFileSync(entry, `import * as core from '@actions/core'\ncore.setFailed('Input "url" is "not a url".')\n`)
const references = []
try {
  references.push((await ncc(entry, { target: 'es2022', quiet: true, externals: EXTERNALS, minify: true })).code)
  references.push((await compile(entry)).files.get('index.js')?.source)
} finally {
  rmSync(entryDir, { recursive: true, force: true })
}
const badInputs = { url: 'not a url', 'api-key': 'k', id: 'x' }
const exited = (run) => {
  if (run.code !== 1) throw new Error(`an input error should exit 1, not ${run.code}`)
  return run
}
for (const [i, source] of references.entries()) {
  const dir = join(scratch, `reference-${i}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'index.js'), source)
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  const startup = await alternate(
    async () => exited(await runAction(badInputs)),
    async () => exited(await runAction(badInputs, { script: join(dir, 'index.js') }))
  )
  const how = i === 0 ? 'as ncc --minify builds it' : "as dist/ is built (the action's own code's share)"
  console.log(
    `start-up to exit beside @actions/core alone, ${how} (${kb(Buffer.byteLength(source))}): ${times(startup.ratio)} (medians ${startup.first.toFixed(0)} ms and ${startup.second.toFixed(0)} ms` +
      ` of ${PAIRS} alternated pairs; median of the pairs' ratios ${times(startup.pairRatio)})${i === 0 ? '; at most 1.15×' : ''}`
  )
}

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

// 3b. a database stop by id beside a bare script that sends the same one POST postgres.stop with Node's own
// fetch and exits (at most 1.25×): wall time of each process, and the requests the emulator received from it
const bare = join(scratch, 'bare.mjs')
writeFileSync(
  bare,
  `const [url, apiKey, id] = process.argv.slice(2)
const response = await fetch(url + '/api/trpc/postgres.stop', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify({ json: { postgresId: id } }) })
await response.arrayBuffer()
process.exitCode = response.ok ? 0 : 1
`
)
const counted = async (start) => {
  const from = emu.requests.length
  const run = await start()
  if (run.code !== 0) throw new Error(`a database stop by id exited ${run.code}`)
  return { ...run, sent: emu.requests.slice(from).map((r) => r.procedure) }
}
const stop = await alternate(
  () => counted(() => runAction({ ...base, resource: 'postgres', id: emu.ids.postgres, operation: 'stop' })),
  () => counted(() => runAction({}, { script: bare, args: [emu.url, emu.apiKey, emu.ids.postgres] }))
)
const sent = (side) => {
  const lists = [...new Set(stop.pairs.map((pair) => pair[side].sent.join(', ')))]
  return `${stop.pairs[0][side].sent.length} request(s): ${lists.join(' | ')}`
}
console.log(
  `\ndatabase stop by id: step ${stop.first.toFixed(0)} ms (${sent('first')}), bare script ${stop.second.toFixed(0)} ms (${sent('second')}):` +
    ` ${times(stop.ratio)} (ratio of medians of ${PAIRS} alternated pairs; median of the pairs' ratios ${times(stop.pairRatio)}); at most 1.25×`
)

// 4. following a build: how late the step ends after Dokploy marks the deployment done, and what it costs.
// Polled (log: tail, the follower as it was before the live log) and live (log: live, over the WebSocket)
// side by side, each against its own emulator, on builds of 5 s to 150 s. Dokploy marks a row about a
// second after the build's last line, longer on a busy swarm (API.md §10): each build gets its own lag
// around that. Requests are counted by the emulator, the WebSocket upgrade included, from the step's first
// request to its exit.
// lengths off the 10 s poll cap's grid, so that no mode gains or loses by where the end falls between polls
const lengths = quick ? [5, 20] : [5, 12, 27, 48, 93, 150]
const lags = quick ? [1000, 1300] : [800, 1300, 1000, 1700, 1100, 1200]
const emulators = { polled: await startEmulator(), live: await startEmulator() }
const follow = async (mode, seconds, doneLagMs) => {
  const server = emulators[mode]
  server.setBuild(server.ids.api, { durationMs: seconds * 1000, doneLagMs })
  const from = server.requests.length
  const run = await runAction({ url: server.url, 'api-key': server.apiKey, id: server.ids.api, log: mode === 'live' ? 'live' : 'tail' })
  const exitedAt = Date.now()
  const settledAt = server.settledAt(run.outputs['deployment-id'])
  const requests = server.requests.length - from
  if (run.code !== 0 || settledAt === undefined) throw new Error(`${mode} run of a ${seconds} s build ended ${run.outputs.status} (exit ${run.code})`)
  const sent = server.requests.slice(from).map((r) => (r.api === 'websocket' ? 'socket' : r.procedure))
  return { lateMs: exitedAt - settledAt, requests, perMinute: requests / (run.ms / 60000), sockets: sent.filter((r) => r === 'socket').length, sent }
}
const rows = []
console.log('\nbuild (lag to done) | polled: late, requests, per waited minute | live: late, requests (socket included), per waited minute')
for (const [i, seconds] of lengths.entries()) {
  const [polled, live] = await Promise.all([follow('polled', seconds, lags[i]), follow('live', seconds, lags[i])])
  rows.push({ seconds, polled, live })
  const cell = (f) => `${(f.lateMs / 1000).toFixed(2)} s, ${f.requests}, ${f.perMinute.toFixed(1)}`
  console.log(`${seconds} s (${lags[i] / 1000} s) | ${cell(polled)} | ${cell(live)}${live.sockets === 1 ? '' : ` (${live.sockets} sockets)`}`)
}
const longest = rows.at(-1)
console.log(`live, ${longest.seconds} s build: ${longest.live.sent.join(', ')}`)
for (const mode of ['polled', 'live']) {
  const late = rows.map((r) => r[mode].lateMs / 1000)
  console.log(
    `${mode}: median lateness after done ${median(late).toFixed(2)} s (max ${Math.max(...late).toFixed(2)} s) over ${rows.length} builds of ${lengths[0]}–${longest.seconds} s;` +
      ` ${longest[mode].perMinute.toFixed(2)} requests per waited minute on the ${longest.seconds} s build`
  )
}
await Promise.all(Object.values(emulators).map((server) => server.close()))
await emu.close()

// 5. the rollout check after done (verify: running): the requests it adds to a followed deploy, and how late
// the step ends after the moment the new version can be confirmed (done, or the task running for the 5 s
// settle period, whichever is later)
const SETTLE_MS = 5000
const check = await startEmulator({ buildMs: 300 })
const checkRuns = [
  ['verify: none', { verify: 'none' }],
  ['running since before done (emulator default)', {}],
  ['new task runs at done', {}, { runningAfterMs: 0 }],
  ['new task runs 3 s after done (slow health check)', {}, { runningAfterMs: 3000 }]
]
console.log('\nrollout check | requests | added | late after confirmable')
let noneRequests
for (const [label, extra, behaviour] of checkRuns) {
  check.setRollout(check.ids.api, behaviour ?? {})
  const from = check.requests.length
  const run = await runAction({ url: check.url, 'api-key': check.apiKey, id: check.ids.api, log: 'tail', ...extra })
  const exitedAt = Date.now()
  const requests = check.requests.length - from
  noneRequests ??= requests
  const doneAt = check.settledAt(run.outputs['deployment-id']) ?? exitedAt
  const started = check.swarm.rollouts.at(-1)?.at ?? doneAt
  const confirmable = extra.verify === 'none' ? doneAt : Math.max(doneAt, started + (behaviour?.runningAfterMs ?? -SETTLE_MS) + SETTLE_MS)
  console.log(`${label} | ${requests} | +${requests - noneRequests} | ${((exitedAt - confirmable) / 1000).toFixed(2)} s${run.code ? ` (exit ${run.code}, ${run.outputs.status})` : ''}`)
}
await check.close()
rmSync(scratch, { recursive: true, force: true })

import { startEmulator } from '../__tests__/emulator/server.js'
import { node, runAction } from './run-action.js'
import { applyScenario, scenarioNamed } from './scenarios.js'

/**
 * Runs the built action once and shows what a user would see: the log, the outputs, the summary.
 *   npm run demo                                   against the built-in emulator (deploys "web")
 *   npm run demo -- resource=postgres operation=stop name=db project=shop
 *   npm run demo -- scenario=failure               the build fails: the step fails and shows the log tail
 *   npm run demo -- scenario=timeout               the build never ends: the step stops waiting (status timeout)
 *   DOKPLOY_URL=https://… DOKPLOY_API_KEY=… npm run demo -- id=<applicationId>   against a real Dokploy
 */
const { scenario: scenarioName, ...args } = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const at = arg.indexOf('=')
    return at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [arg, 'true']
  })
)

const real = process.env.DOKPLOY_URL && process.env.DOKPLOY_API_KEY
if (real && scenarioName) {
  console.error('scenario= sets up the emulator; a real Dokploy builds what it builds.')
  process.exit(2)
}
let scenario
try {
  scenario = real ? undefined : scenarioNamed(scenarioName ?? 'success')
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error))
  process.exit(2)
}
const emulator = real ? undefined : await startEmulator()
if (emulator && scenario) applyScenario(emulator, scenario)
const inputs = real
  ? { url: process.env.DOKPLOY_URL, 'api-key': process.env.DOKPLOY_API_KEY, ...args }
  : { url: emulator.url, 'api-key': emulator.apiKey, ...(args.id || args.name ? {} : { id: emulator.ids.web }), ...scenario?.inputs, ...args }

console.log(`▶ dist/index.js on ${node === process.execPath ? `node ${process.version}` : 'Node 24'} against ${real ? inputs.url : `the emulator at ${emulator.url}`}`)
if (scenario) console.log(`  scenario ${scenarioName ?? 'success'}: ${scenario.about}`)
console.log(`  inputs: ${JSON.stringify({ ...inputs, 'api-key': '***' })}\n`)
const debug = process.env.RUNNER_DEBUG === '1'
const run = await runAction(inputs, {
  env: { GITHUB_SHA: '1a2b3c4d5e6f', GITHUB_WORKFLOW: 'demo', GITHUB_RUN_NUMBER: '1', ...(debug ? { RUNNER_DEBUG: '1' } : {}) }
})
// shown as a runner's log shows it: commands consumed, debug lines only with RUNNER_DEBUG=1
for (const line of run.stdout.split('\n')) {
  const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line)
  if (!command) console.log(`  ${line}`)
  else if (command[1] === 'group') console.log(`  ▸ ${command[2]}`)
  else if (command[1] === 'error' || command[1] === 'warning') console.log(`  ${command[1] === 'error' ? 'Error' : 'Warning'}: ${command[2]}`)
  else if (command[1] === 'debug' && debug) console.log(`  [debug] ${command[2]}`)
}
console.log(`\n▶ exit code ${run.code} after ${Math.round(run.ms)} ms`)
console.log('▶ outputs')
for (const [name, value] of Object.entries(run.outputs)) console.log(`  ${name}: ${value}`)
console.log('▶ job summary (HTML)')
console.log(run.summary)
await emulator?.close()
process.exitCode = run.code ?? 1

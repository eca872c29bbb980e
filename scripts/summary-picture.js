import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { startEmulator } from '../__tests__/emulator/server.js'
import { runAction } from './run-action.js'
import { applyScenario, SCENARIOS } from './scenarios.js'
import { summaryPage } from './summary-html.js'

/**
 * npm run picture: the job summary pictures in docs/, from real runs of dist/index.js against the
 * emulator (a success, and a failed build with its log tail), rendered with headless Chromium.
 * Run it again (after npm run bundle) whenever the summary changes.
 *   CHROMIUM=/path/to/chrome npm run picture     when Chromium is not on PATH as chromium
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const WIDTH = 860
const SCALE = 2
const PICTURES = [
  { scenario: 'success', file: 'docs/summary-success.png' },
  { scenario: 'failure', file: 'docs/summary-failure.png' }
]

/** The first Chromium that answers --version. */
function findChromium() {
  const candidates = process.env.CHROMIUM ? [process.env.CHROMIUM] : ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome']
  for (const candidate of candidates) {
    if (spawnSync(candidate, ['--version'], { encoding: 'utf8' }).status === 0) return candidate
  }
  throw new Error(`No Chromium found (tried ${candidates.join(', ')}): install it (Debian: apt-get install chromium) or set CHROMIUM.`)
}

/** Headless Chromium with a fresh profile, no network of its own, nothing but the page. */
function chromium(binary, args) {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'))
  try {
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`]
    const run = spawnSync(binary, [...flags, ...args], { encoding: 'utf8', timeout: 60_000 })
    if (run.status !== 0) throw new Error(`Chromium failed (${run.status ?? run.signal}): ${run.stderr}`)
    return run.stdout
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}

/** Renders the page twice: once to learn its height, then the screenshot at that height. */
function screenshot(binary, html, file) {
  const dir = mkdtempSync(join(tmpdir(), 'summary-picture-'))
  try {
    const page = join(dir, 'summary.html')
    writeFileSync(page, html)
    const url = pathToFileURL(page).href
    const dom = chromium(binary, [`--window-size=${WIDTH},200`, '--dump-dom', url])
    const height = Number(/data-height="(\d+)"/.exec(dom)?.[1])
    if (!height) throw new Error('Chromium did not report the page height')
    mkdirSync(join(ROOT, 'docs'), { recursive: true })
    chromium(binary, [`--window-size=${WIDTH},${height}`, `--force-device-scale-factor=${SCALE}`, `--screenshot=${join(ROOT, file)}`, url])
    return height
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const binary = findChromium()
for (const { scenario, file } of PICTURES) {
  const emulator = await startEmulator()
  try {
    applyScenario(emulator, SCENARIOS[scenario])
    const run = await runAction(
      { url: emulator.url, 'api-key': emulator.apiKey, id: emulator.ids.web, ...SCENARIOS[scenario].inputs },
      { env: { GITHUB_SHA: '1a2b3c4d5e6f', GITHUB_WORKFLOW: 'Deploy', GITHUB_RUN_NUMBER: '42' } }
    )
    if (!run.summary.trim()) throw new Error(`The ${scenario} run wrote no job summary (exit code ${run.code})`)
    const height = screenshot(binary, summaryPage(run.summary), file)
    console.log(`${file}: ${scenario} (status ${run.outputs.status}), ${WIDTH}×${height} at ${SCALE}×`)
  } finally {
    await emulator.close()
  }
}

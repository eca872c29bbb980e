import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * CI: starts the Dokploy emulator in the background and prints its first line,
 * `{"url", "apiKey", "ids"}`, once it listens. The emulator runs detached, with its output in a file
 * rather than a pipe, so that it outlives this script and the workflow step on every OS (a shell's
 * `&` job may die with the step on Windows). It stops when the job ends.
 *   node scripts/start-emulator.js [cli.js arguments, e.g. --port 3000]
 */
const cli = fileURLToPath(new URL('../__tests__/emulator/cli.js', import.meta.url))
const log = join(mkdtempSync(join(tmpdir(), 'emulator-')), 'output.txt')
const fd = openSync(log, 'w')
const child = spawn(process.execPath, [cli, ...process.argv.slice(2)], { detached: true, stdio: ['ignore', fd, fd], windowsHide: true })
let exited = false
child.on('exit', () => (exited = true))

const deadline = Date.now() + 15_000
for (;;) {
  const first = readFileSync(log, 'utf8').split('\n')[0]
  try {
    const info = JSON.parse(first)
    if (typeof info.url === 'string') {
      process.stdout.write(`${first}\n`)
      break
    }
  } catch {
    // not a whole line yet
  }
  if (exited || Date.now() > deadline) {
    process.stderr.write(`The emulator did not start${exited ? '' : ' within 15 s'}. Its output (${log}):\n${readFileSync(log, 'utf8')}\n`)
    process.exit(1)
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
}
child.unref()

import { expect } from '@jest/globals'
import { spawn } from 'node:child_process'
import { concurrent, heading } from './at-once.js'

/** `npm run demo -- …` (README, Development): a real run of dist/index.js against the emulator, as a user sees it. */
function demo(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['scripts/demo.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

// each demo run starts an emulator of its own: the two tests run at once
heading('npm run demo -- scenario=…', () => {
  concurrent('shows a failed build (the step fails with the log tail) and a timeout (still running when the step stopped waiting)', async () => {
    const [failure, timeout] = await Promise.all([demo('scenario=failure'), demo('scenario=timeout', 'wait-timeout=2')])

    expect(failure.code).toBe(1)
    expect(failure.stdout).toContain('  status: error')
    expect(failure.stdout).toMatch(/Last lines of the build log:\n(?:.*\n)*.*❌ Error: RUN npm run build: exit code 2/)
    expect(failure.stdout).toMatch(/<summary>Last \d+ lines of the build log<\/summary>/)

    expect(timeout.code).toBe(1)
    expect(timeout.stdout).toContain('  status: timeout')
    expect(timeout.stdout).toMatch(/still running when the step stopped waiting/i)
  })

  concurrent('names the scenarios it knows when given another, and runs nothing', async () => {
    const run = await demo('scenario=slow')
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('scenario: "slow" is not one of success, failure, timeout.')
    expect(run.stdout).toBe('')
  })
})

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findNode24 } from './node24.js'

/**
 * Runs dist/index.js the way a runner does (INPUT_* variables with hyphens kept, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files), on the Node 24 the action declares when one is found (else on this node).
 * Shared by the demo and the benchmark.
 */
export const node = findNode24() ?? process.execPath

/** Windows programs need SystemRoot (sockets, crypto) even in a minimal environment. */
const windowsEssentials = () => (process.env.SystemRoot ? { SystemRoot: process.env.SystemRoot } : {})

/**
 * `script` (default dist/index.js) and its `args`: the benchmark runs its reference bundle and its
 * bare one-request script the same way, so that every figure it compares is timed alike; `action`: another
 * bundle of the action to run (a before/after comparison).
 * @param {Record<string,string>} inputs @param {{env?: Record<string,string>, echo?: boolean, script?: string, args?: string[], action?: string}} [options]
 */
export async function runAction(inputs, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dokploy-action-'))
  const output = join(dir, 'output')
  const summary = join(dir, 'summary')
  writeFileSync(output, '')
  writeFileSync(summary, '')
  /** @type {Record<string,string>} */
  const env = { PATH: process.env.PATH ?? '', HOME: dir, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...windowsEssentials(), ...options.env }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  const started = process.hrtime.bigint()
  const child = spawn(node, [options.script ?? options.action ?? 'dist/index.js', ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk
    if (options.echo) process.stdout.write(chunk)
  })
  const code = await new Promise((done) => child.on('close', done))
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const outputs = {}
  const lines = readFileSync(output, 'utf8').split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!m) continue
    const value = []
    while (++i < lines.length && lines[i] !== m[2]) value.push(lines[i])
    outputs[m[1]] = value.join('\n')
  }
  const result = { code, ms, stdout, outputs, summary: readFileSync(summary, 'utf8') }
  rmSync(dir, { recursive: true, force: true })
  return result
}

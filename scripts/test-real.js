import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * `npm run test:real`: the conformance suite against the real Dokploy that DOKPLOY_URL and
 * DOKPLOY_API_KEY name; without them it says so in one line and passes, so that it can sit in any
 * pipeline. Extra arguments go to jest.
 */
if (!process.env.DOKPLOY_URL || !process.env.DOKPLOY_API_KEY) {
  console.log('test:real skipped: set DOKPLOY_URL and DOKPLOY_API_KEY to a real Dokploy (see CONTRIBUTING.md).')
  process.exit(0)
}
const jest = join(dirname(createRequire(import.meta.url).resolve('jest/package.json')), 'bin', 'jest.js')
const result = spawnSync(process.execPath, [jest, '--config', 'jest.real.config.js', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() }
})
process.exit(result.status ?? 1)

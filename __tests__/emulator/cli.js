#!/usr/bin/env node
// Standalone emulator for demos and CI: prints one JSON line {url, apiKey, ids} and runs until SIGINT/SIGTERM.
// Usage: node __tests__/emulator/cli.js [--port N] [--build-ms N] [--db-ms N] [--version vX.Y.Z] [--hostile]

import { startEmulator } from './server.js'

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {import('./server.js').EmulatorOptions} */
  const options = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value`)
      return v
    }
    /** @param {string} v */
    const int = (v) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: not a non-negative integer: ${v}`)
      return n
    }
    switch (flag) {
      case '--port':
        options.port = int(value())
        break
      case '--build-ms':
        options.buildMs = int(value())
        break
      case '--db-ms':
        options.dbMs = int(value())
        break
      case '--version':
        options.version = value()
        break
      case '--api-key':
        options.apiKey = value()
        break
      case '--hostile':
        options.hostile = true
        break
      default:
        throw new Error(`Unknown argument: ${arg}`)
    }
  }
  return options
}

let options
try {
  options = parseArgs(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(2)
}
const emu = await startEmulator(options)
process.stdout.write(`${JSON.stringify({ url: emu.url, apiKey: emu.apiKey, ids: emu.ids })}\n`)

const stop = async () => {
  await emu.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)

import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { compile, ROOT } from './compile.js'

/**
 * npm run bundle: dist/ from scratch (a chunk left over from an earlier build would be committed by
 * mistake), then the bundle and its licenses.txt. Plain Node, so it runs the same on every OS.
 */
const dist = join(ROOT, 'dist')
const { files, licenses } = await compile()
rmSync(dist, { recursive: true, force: true })
for (const [name, { source, mode }] of files) {
  const file = join(dist, name)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, source, mode === undefined ? undefined : { mode })
}
const size = (source) => `${(Buffer.byteLength(source) / 1024).toFixed(0)} kB`
for (const [name, { source }] of files) console.log(`dist/${name.padEnd(16)} ${size(source).padStart(8)}`)
const code = [...files].filter(([name]) => name.endsWith('.js')).map(([, { source }]) => source)
console.log(`dist/*.js: ${size(Buffer.concat(code.map((source) => Buffer.from(source))))}, ${size(Buffer.concat(code.map((source) => gzipSync(source))))} gzipped`)
console.log(`${licenses.length} bundled packages listed in dist/licenses.txt`)

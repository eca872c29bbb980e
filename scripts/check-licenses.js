import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compile, ROOT } from './compile.js'
import { packagesNamedIn, parseLicenses } from './licenses.js'

/**
 * CI: dist/licenses.txt lists every package bundled in dist/, each with a licence text, and nothing
 * else. What "bundled" means comes from two sources: the modules webpack placed in each emitted file
 * (a fresh build in memory, which must match dist/ so that it describes the committed bundle), and
 * the package paths webpack's comments name in the committed files themselves (the lazily loaded
 * chunks: minifying the main file drops its comments).
 */
const dist = join(ROOT, 'dist')
const problems = []
const fail = () => {
  for (const problem of problems) console.error(`::error::${problem}`)
  process.exit(1)
}

const { files, licenses } = await compile()
const committedCode = existsSync(dist) ? readdirSync(dist).filter((name) => name.endsWith('.js')) : []
const builtCode = [...files.keys()].filter((name) => name.endsWith('.js'))
for (const name of builtCode) {
  const file = join(dist, name)
  if (!existsSync(file) || !readFileSync(file).equals(Buffer.from(files.get(name)?.source ?? ''))) problems.push(`dist/${name} is not what npm run bundle builds from src/: run npm run bundle.`)
}
for (const name of committedCode) if (!files.has(name)) problems.push(`dist/${name} is not part of the bundle any more: run npm run bundle.`)
if (problems.length) fail()

const listFile = join(dist, 'licenses.txt')
const listed = existsSync(listFile) ? parseLicenses(readFileSync(listFile, 'utf8')) : []
if (!listed.length) problems.push('dist/licenses.txt is missing or lists no package: run npm run bundle.')
const isListed = (name, version) => listed.some((entry) => entry.name === name && (version === undefined || entry.version === version))

for (const { name, version } of licenses) {
  if (!isListed(name, version)) problems.push(`${name}@${version} is bundled but dist/licenses.txt does not list it: run npm run bundle.`)
}
const namedInCode = new Set(committedCode.flatMap((name) => packagesNamedIn(readFileSync(join(dist, name), 'utf8')).map((pkg) => `${pkg} (named in dist/${name})`)))
for (const entry of namedInCode) {
  const name = entry.slice(0, entry.indexOf(' ('))
  if (!isListed(name)) problems.push(`${entry} is missing from dist/licenses.txt.`)
}
for (const entry of listed) {
  if (!licenses.some((bundled) => bundled.name === entry.name && bundled.version === entry.version)) problems.push(`dist/licenses.txt lists ${entry.name}@${entry.version}, which the bundle does not hold: run npm run bundle.`)
  if (entry.textLength === 0) problems.push(`dist/licenses.txt has no licence text for ${entry.name}@${entry.version}.`)
}
if (problems.length) fail()
console.log(`dist/licenses.txt lists all ${licenses.length} packages bundled in ${builtCode.map((name) => `dist/${name}`).join(', ')}, each with its licence text.`)

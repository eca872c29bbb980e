import ncc from '@vercel/ncc'
import { parse } from 'acorn'
import { fileURLToPath } from 'node:url'
import { chunkModuleFiles, packageDirs, readLicenses, renderLicenses } from './licenses.js'

/** The repository root, whatever the working directory. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The action's entry point. */
const ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url))

/**
 * Requests that the bundle leaves to Node rather than carrying the module, because the action never
 * runs the module (action.yml: node24; the tests that import src run on Node 20, without the bundle):
 * - fetch-blob (node-fetch's Blob) falls back to `web-streams-polyfill` only when Node has no
 *   `globalThis.ReadableStream` and no `node:stream/web`. Node has both since 18, so the 200 kB
 *   polyfill is dead code; the fallback now names `node:stream/web`, the module the branch before it
 *   already reads.
 * - node-fetch loads its multipart parser only in `Response.formData()` on a multipart body, which
 *   the transport never calls (it reads `arrayBuffer()`). It was a 10 kB chunk that no run loads; a
 *   call now fails with this message instead.
 */
export const EXTERNALS = {
  'web-streams-polyfill/dist/ponyfill.es2018.js': 'node:stream/web',
  './utils/multipart-parser.js':
    'data:text/javascript,export function toFormData() { throw new TypeError("dokploy-action does not bundle node-fetch\'s multipart parser: Response.formData() cannot read multipart bodies") }'
}

/** The packages whose requests EXTERNALS names; a request of the same name from any other module would be a mistake. */
const EXTERNAL_ISSUERS = { 'web-streams-polyfill/dist/ponyfill.es2018.js': 'fetch-blob', './utils/multipart-parser.js': 'node-fetch' }

/**
 * Bundles `entry` (src/index.ts by default) with ncc, in memory, as `ncc build src/index.ts --target
 * es2022 --minify` does, with EXTERNALS, and adds licenses.txt for every package in any of the emitted
 * files. ncc minifies the main file only (terser, names of functions and classes kept): that halves
 * it, most of it being undici, which @actions/core pulls in whole; lazily loaded chunks stay as webpack
 * wrote them, and parenthesizeFactories undoes the one start-up cost of minifying. `entry` is another
 * file only for the benchmark's reference bundle.
 * ncc's own `--license` option is not used: it writes one file per chunk under the same name, so a
 * lazily loaded chunk overwrites the main file's list.
 * @param {string} [entry]
 * @returns {Promise<{files: Map<string, {source: string|Buffer, mode?: number}>, licenses: ReturnType<typeof readLicenses>}>}
 */
export async function compile(entry = ENTRY) {
  const { code, assets, stats } = await ncc(entry, { target: 'es2022', quiet: true, externals: EXTERNALS, minify: true })
  // ncc keeps the bundle as webpack wrote it when terser fails, and only says so on the console
  if (code.includes('/******/')) throw new Error('compile: ncc did not minify the bundle (run it with debugLog to see why)')
  const main = parenthesizeFactories(code)
  /** @type {Map<string, {source: string|Buffer, mode?: number}>} */
  const files = new Map([['index.js', { source: main, mode: /^#!/.test(main) ? 0o777 : 0o666 }]])
  for (const [name, asset] of Object.entries(assets)) files.set(name, { source: asset.source, mode: asset.permissions })
  // dependentModules: without it webpack leaves out of a chunk's list every module pulled in by another
  const json = stats.toJson({ all: false, chunks: true, chunkModules: true, nestedModules: true, dependentModules: true, cachedModules: true, reasons: true })
  checkExternals(json, entry === ENTRY)
  const licenses = readLicenses(packageDirs(chunkModuleFiles(json)))
  files.set('licenses.txt', { source: renderLicenses(licenses) })
  return { files, licenses }
}

/**
 * Throws when a request EXTERNALS names comes from a package other than the one it was written for,
 * or (in the action's bundle) no longer comes at all: an update moved it, and the module it stands
 * for would be back.
 */
function checkExternals(json, all) {
  const seen = new Set()
  for (const chunk of json.chunks ?? []) {
    for (const module of chunk.modules ?? []) {
      for (const reason of module.reasons ?? []) {
        const request = reason.userRequest
        if (!Object.hasOwn(EXTERNAL_ISSUERS, request) || module.name !== `external ${JSON.stringify(EXTERNALS[request])}`) continue
        const issuer = String(reason.resolvedModuleIdentifier ?? reason.moduleIdentifier ?? '')
        if (!issuer.split(/[\\/]/).join('/').includes(`/node_modules/${EXTERNAL_ISSUERS[request]}/`)) {
          throw new Error(`compile: ${issuer} requests ${request}, which the bundle leaves out for ${EXTERNAL_ISSUERS[request]} only`)
        }
        seen.add(request)
      }
    }
  }
  for (const request of all ? Object.keys(EXTERNALS) : []) {
    if (!seen.has(request)) throw new Error(`compile: no bundled module requests ${request} any more: update EXTERNALS in scripts/compile.js`)
  }
}

/**
 * Puts back the parentheses around each module's function that terser drops: `{770:(e,t,A)=>{…}}`
 * becomes `{770:((e,t,A)=>{…})}`, as webpack writes it. V8 compiles a parenthesized function at once;
 * without them it only pre-parses each module's function and parses it again when the module is
 * first required, which at start-up is most of them (all of undici's): 10 % more work to an input
 * error, measured by instruction count. Only the modules object of the main file changes.
 * @param {string} code the minified main file
 */
export function parenthesizeFactories(code) {
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'module' })
  const isFactory = (node) => node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression'
  const modules = program.body
    .filter((node) => node.type === 'VariableDeclaration')
    .flatMap((node) => node.declarations)
    .map((declaration) => declaration.init)
    .find((init) => init?.type === 'ObjectExpression' && init.properties.length > 0 && init.properties.every((p) => p.type === 'Property' && p.key.type === 'Literal' && isFactory(p.value)))
  if (!modules) throw new Error("compile: no webpack modules object in ncc's minified bundle")
  let out = ''
  let from = 0
  for (const { value } of modules.properties) {
    out += `${code.slice(from, value.start)}(${code.slice(value.start, value.end)})`
    from = value.end
  }
  return out + code.slice(from)
}

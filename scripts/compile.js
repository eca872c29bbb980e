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
 * wrote them. arrangeFactories undoes the one start-up cost of minifying, and makes undici load on first
 * use. `entry` is another file only for the benchmark's reference bundles.
 * ncc's own `--license` option is not used: it writes one file per chunk under the same name, so a
 * lazily loaded chunk overwrites the main file's list.
 * @param {string} [entry]
 * @returns {Promise<{files: Map<string, {source: string|Buffer, mode?: number}>, licenses: ReturnType<typeof readLicenses>}>}
 */
export async function compile(entry = ENTRY) {
  const { code, assets, stats } = await ncc(entry, { target: 'es2022', quiet: true, externals: EXTERNALS, minify: true })
  // ncc keeps the bundle as webpack wrote it when terser fails, and only says so on the console
  if (code.includes('/******/')) throw new Error('compile: ncc did not minify the bundle (run it with debugLog to see why)')
  // dependentModules: without it webpack leaves out of a chunk's list every module pulled in by another
  const json = stats.toJson({ all: false, chunks: true, chunkModules: true, nestedModules: true, dependentModules: true, cachedModules: true, reasons: true, ids: true })
  const main = arrangeFactories(code, lazyPackage(json, 'undici'))
  /** @type {Map<string, {source: string|Buffer, mode?: number}>} */
  const files = new Map([['index.js', { source: main, mode: /^#!/.test(main) ? 0o777 : 0o666 }]])
  for (const [name, asset] of Object.entries(assets)) files.set(name, { source: asset.source, mode: asset.permissions })
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
 * The modules of a package that the bundle should run only on first use: undici, which @actions/core pulls
 * in whole through @actions/http-client, and which the action needs only for a log socket through a proxy.
 * Its ~100 modules are a third of the main file and most of the work to an input error. Only its index may
 * be required from outside the package (checked), so that index is the one door to wrap.
 * @returns {{ ids: Set<string>, door: string } | undefined} undefined when the bundle does not carry the package
 */
function lazyPackage(json, name) {
  const modules = (json.chunks ?? []).filter((chunk) => chunk.initial).flatMap((chunk) => chunk.modules ?? [])
  const inPackage = (module) => String(module.name).includes(`/node_modules/${name}/`)
  const own = modules.filter(inPackage)
  if (own.length === 0) return undefined
  const door = own.find((module) => String(module.name).endsWith(`/node_modules/${name}/index.js`))
  if (!door) throw new Error(`compile: ${name} is bundled without its index.js`)
  for (const module of own) {
    if (module === door) continue
    const outside = (module.reasons ?? []).find((reason) => reason.moduleName && !String(reason.moduleName).includes(`/node_modules/${name}/`))
    if (outside) throw new Error(`compile: ${outside.moduleName} requires ${module.name} past ${name}'s index: it cannot load on first use`)
  }
  return { ids: new Set(own.map((module) => String(module.id))), door: String(door.id) }
}

/**
 * Shapes the modules object of the minified main file for start-up:
 * - Puts back the parentheses around each module's function that terser drops: `{770:(e,t,A)=>{…}}`
 *   becomes `{770:((e,t,A)=>{…})}`, as webpack writes it. V8 compiles a parenthesized function at once;
 *   without them it only pre-parses it and parses it again when the module is first required, which at
 *   start-up is most of them: 10 % more work to an input error, measured by instruction count.
 * - The modules of `lazy` keep no parentheses (most runs never require them, so pre-parsing is the cheaper
 *   bet), and the module at its door exports a stand-in that runs the real module on the first read of any
 *   of its exports. Webpack reads a named import of a CommonJS module at each use (`undici.ProxyAgent`), so
 *   importing it costs nothing until then. An input error or a stop by id never loads undici: a fifth less
 *   work to an input error, by instruction count.
 * @param {string} code the minified main file
 * @param {{ ids: Set<string>, door: string }} [lazy]
 */
export function arrangeFactories(code, lazy) {
  const program = parse(code, { ecmaVersion: 'latest', sourceType: 'module' })
  const isFactory = (node) => node.type === 'ArrowFunctionExpression' || node.type === 'FunctionExpression'
  const modules = program.body
    .filter((node) => node.type === 'VariableDeclaration')
    .flatMap((node) => node.declarations)
    .map((declaration) => declaration.init)
    .find((init) => init?.type === 'ObjectExpression' && init.properties.length > 0 && init.properties.every((p) => p.type === 'Property' && p.key.type === 'Literal' && isFactory(p.value)))
  if (!modules) throw new Error("compile: no webpack modules object in ncc's minified bundle")
  if (lazy && !modules.properties.some(({ key }) => String(key.value) === lazy.door)) {
    throw new Error(`compile: module ${lazy.door} is not in the main file's modules object`)
  }
  const shape = (id, factory) => (lazy?.door === id ? `(${onFirstUse(factory)})` : lazy?.ids.has(id) ? factory : `(${factory})`)
  let out = ''
  let from = 0
  for (const { key, value } of modules.properties) {
    out += code.slice(from, value.start) + shape(String(key.value), code.slice(value.start, value.end))
    from = value.end
  }
  return out + code.slice(from)
}

/**
 * A module function whose exports are a stand-in: the first read of an export (or a check of its keys)
 * runs `factory` into a module of its own, and every read after that is the real module's.
 * @param {string} factory the source of a webpack module function `(module, exports, require) => …`
 */
export function onFirstUse(factory) {
  return `(module,_exports,require)=>{const factory=${factory};let real;const load=()=>{if(!real){real={exports:{}};factory(real,real.exports,require)}return real.exports};module.exports=new Proxy({},{get:(_,key)=>load()[key],has:(_,key)=>key in load(),ownKeys:()=>Reflect.ownKeys(load()),getOwnPropertyDescriptor:(_,key)=>{const found=Object.getOwnPropertyDescriptor(load(),key);return found&&{...found,configurable:true}}})}`
}

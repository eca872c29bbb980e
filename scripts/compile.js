import ncc from '@vercel/ncc'
import { fileURLToPath } from 'node:url'
import { chunkModuleFiles, packageDirs, readLicenses, renderLicenses } from './licenses.js'

/** The repository root, whatever the working directory. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * Bundles src/index.ts with ncc, in memory, as `ncc build src/index.ts --target es2022` does, and
 * adds licenses.txt for every package in any of the emitted files. ncc's own `--license` option is
 * not used: it writes one file per chunk under the same name, so a lazily loaded chunk overwrites
 * the main file's list.
 * @returns {Promise<{files: Map<string, {source: string|Buffer, mode?: number}>, licenses: ReturnType<typeof readLicenses>}>}
 */
export async function compile() {
  const { code, assets, stats } = await ncc(fileURLToPath(new URL('../src/index.ts', import.meta.url)), {
    target: 'es2022',
    quiet: true
  })
  /** @type {Map<string, {source: string|Buffer, mode?: number}>} */
  const files = new Map([['index.js', { source: code, mode: /^#!/.test(code) ? 0o777 : 0o666 }]])
  for (const [name, asset] of Object.entries(assets)) files.set(name, { source: asset.source, mode: asset.permissions })
  // dependentModules: without it webpack leaves out of a chunk's list every module pulled in by another
  const json = stats.toJson({ all: false, chunks: true, chunkModules: true, nestedModules: true, dependentModules: true, cachedModules: true })
  const licenses = readLicenses(packageDirs(chunkModuleFiles(json)))
  files.set('licenses.txt', { source: renderLicenses(licenses) })
  return { files, licenses }
}

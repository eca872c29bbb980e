import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, sep } from 'node:path'

/**
 * Which third-party packages a bundle holds, and their licence texts, for dist/licenses.txt.
 * The list comes from the files webpack put in the bundle's chunks (the main file and every lazily
 * loaded one), not from package.json: a dependency that is never imported is not shipped, and a
 * transitive one that is imported is.
 */

/**
 * The package a bundled file belongs to: its directory (up to `node_modules/<name>` or
 * `node_modules/@scope/<name>`, the last one when nested) and its name; undefined outside node_modules.
 * @param {string} file
 * @returns {{dir: string, name: string} | undefined}
 */
export function packageOf(file) {
  const parts = file.split(/[\\/]/)
  const at = parts.lastIndexOf('node_modules')
  const length = parts[at + 1]?.startsWith('@') ? 3 : 2
  if (at < 0 || at + length > parts.length) return undefined
  return { dir: parts.slice(0, at + length).join(sep), name: parts.slice(at + 1, at + length).join('/') }
}

/**
 * The source file of every module webpack placed in a chunk, concatenated modules' parts included.
 * `stats` is webpack's stats JSON with chunks, chunkModules and nestedModules.
 * @param {{chunks?: {modules?: any[]}[]}} stats
 * @returns {string[]}
 */
export function chunkModuleFiles(stats) {
  /** @type {Set<string>} */
  const files = new Set()
  /** @param {any[]|undefined} modules */
  const walk = (modules) => {
    for (const module of modules ?? []) {
      if (typeof module.nameForCondition === 'string') files.add(module.nameForCondition)
      walk(module.modules)
    }
  }
  for (const chunk of stats.chunks ?? []) walk(chunk.modules)
  return [...files]
}

/** The package directories that files come from, each once. */
export function packageDirs(files) {
  const dirs = new Set()
  for (const file of files) {
    const dir = packageOf(file)?.dir
    if (dir) dirs.add(dir)
  }
  return [...dirs]
}

/** package.json's licence: an SPDX expression, or the older `{type}` and `licenses: [{type}]` forms. */
export function licenseName(manifest) {
  const named = (value) => (typeof value === 'string' ? value : typeof value?.type === 'string' ? value.type : undefined)
  const single = named(manifest.license)
  if (single) return single
  const several = Array.isArray(manifest.licenses) ? manifest.licenses.map(named).filter(Boolean) : []
  return several.length ? `(${several.join(' OR ')})` : 'UNKNOWN'
}

const LICENSE_FILE = /^(licen[cs]e|copying)([.\-_].*)?$/i
const NOTICE_FILE = /^notice([.\-_].*)?$/i
const FILE_ORDER = (a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)

/**
 * A README's licence section (some packages ship no LICENSE file, only this): from a heading that
 * says "License" (ATX or Setext) to the next heading, without link reference definitions.
 */
export function readmeLicenseSection(readme) {
  const lines = readme.replace(/\r\n?/g, '\n').split('\n')
  const isHeading = (i) => /^#{1,6}\s/.test(lines[i]) || (i + 1 < lines.length && lines[i].trim() !== '' && /^(=+|-+)\s*$/.test(lines[i + 1]))
  const start = lines.findIndex((line, i) => isHeading(i) && /^#*\s*licen[cs]e\b/i.test(line.trim()))
  if (start < 0) return undefined
  const body = []
  for (let i = start + (/^#/.test(lines[start]) ? 1 : 2); i < lines.length && !isHeading(i); i++) body.push(lines[i])
  const text = body
    .filter((line) => !/^\s*\[[^\]]+\]:\s*\S+/.test(line))
    .join('\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim()
  // only a real licence text counts, not "MIT" or a link to one
  return /permission|copyright|licensed under/i.test(text) && text.length > 200 ? text : undefined
}

const normalize = (text) => text.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').trim()

/**
 * Name, version, licence and licence text of the package in `dir`. Throws when the package ships
 * no licence text at all: its terms would then be unknown, and someone has to look.
 * @param {string} dir
 */
export function readPackageLicense(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const files = readdirSync(dir).sort(FILE_ORDER)
  // from node_modules on, with forward slashes: the same wherever the repository is checked out
  const parts = dir.split(/[\\/]/)
  const where = parts.slice(parts.indexOf('node_modules')).join('/')
  const licenseFile = files.find((file) => LICENSE_FILE.test(file))
  const noticeFile = files.find((file) => NOTICE_FILE.test(file))
  let text
  let source
  if (licenseFile) {
    text = normalize(readFileSync(join(dir, licenseFile), 'utf8'))
    source = `${where}/${licenseFile}`
  } else {
    const readme = files.find((file) => /^readme(\..*)?$/i.test(file))
    const section = readme ? readmeLicenseSection(readFileSync(join(dir, readme), 'utf8')) : undefined
    if (section) {
      text = normalize(section)
      source = `${where}/${readme} (its licence section; the package ships no licence file)`
    }
  }
  if (!text) throw new Error(`${manifest.name}@${manifest.version} (${where}) ships no licence text: look its terms up before bundling it.`)
  const notice = noticeFile ? normalize(readFileSync(join(dir, noticeFile), 'utf8')) : undefined
  return { name: manifest.name, version: manifest.version, license: licenseName(manifest), source, text, notice }
}

/** Reads each package directory, sorted by name and version. */
export function readLicenses(dirs) {
  const entries = dirs.filter((dir) => existsSync(join(dir, 'package.json'))).map((dir) => readPackageLicense(dir))
  const key = (entry) => `${entry.name}@${entry.version}`
  return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

const RULE = '='.repeat(80)
const THIN = '-'.repeat(80)

/** The text of dist/licenses.txt: a header, then one section per package. */
export function renderLicenses(entries) {
  const header = [
    'Third-party software bundled in dist/ by scripts/bundle.js (npm run bundle), one section per package.',
    'Generated from the modules in every file of the bundle; do not edit.'
  ]
  const sections = entries.map((entry) =>
    [
      RULE,
      `${entry.name}@${entry.version}`,
      `License: ${entry.license}`,
      `From: ${entry.source}`,
      THIN,
      entry.text,
      ...(entry.notice ? ['', THIN, 'NOTICE', THIN, entry.notice] : [])
    ].join('\n')
  )
  return `${[header.join('\n'), ...sections].join('\n\n')}\n`
}

/**
 * The packages a licenses.txt lists, with the length of each licence text, read back from its
 * section headers.
 * @returns {{name: string, version: string, license: string, textLength: number}[]}
 */
export function parseLicenses(text) {
  const sections = text.replace(/\r\n?/g, '\n').split(`${RULE}\n`).slice(1)
  return sections.map((section) => {
    const [id = '', licenseLine = '', , rule, ...rest] = section.split('\n')
    const at = id.lastIndexOf('@')
    return {
      name: at > 0 ? id.slice(0, at) : id,
      version: at > 0 ? id.slice(at + 1) : '',
      license: licenseLine.replace(/^License: /, ''),
      textLength: rule === THIN ? rest.join('\n').trim().length : 0
    }
  })
}

/**
 * The packages a bundle file names in the comments webpack leaves in it
 * (`// CONCATENATED MODULE: ./node_modules/x/…`, `// EXTERNAL MODULE: ./node_modules/x/…`): a
 * second, independent sign of what was bundled.
 */
export function packagesNamedIn(code) {
  const names = new Set()
  for (const [, path] of code.matchAll(/\/\/ (?:CONCATENATED|EXTERNAL) MODULE: (\S+)/g)) {
    const name = packageOf(path)?.name
    if (name) names.add(name)
  }
  return [...names]
}

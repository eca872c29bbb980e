import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * CI: the project's workflows keep the rules of a well-kept action.
 * - every action from another repository is pinned to a full commit SHA, with a `# vX.Y.Z` comment
 *   that dependabot keeps current;
 * - `permissions: {}` at the top, and each job asks for its own;
 * - `concurrency` on every workflow, `timeout-minutes` on every job;
 * - `persist-credentials: false` on every checkout;
 * - CodeQL's action at v4 or later (v3 is being retired);
 * - dependabot watches both the npm packages and the actions.
 * Reads the YAML by indentation, which is enough for these files (no YAML package is a dependency).
 */

const PINNED = /^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}\s+#\s*v\d+\.\d+\.\d+\s*$/

/** Indentation of a line (spaces). */
const indentOf = (line) => /^ */.exec(line)?.[0].length ?? 0
const meaningful = (line) => line.trim() !== '' && !line.trim().startsWith('#')

/** The lines under `key:` at `indent` (the block that follows it, more indented), or undefined. */
function block(lines, key, indent = 0) {
  const at = lines.findIndex((line) => indentOf(line) === indent && line.slice(indent).startsWith(`${key}:`))
  if (at < 0) return undefined
  const body = []
  for (let i = at + 1; i < lines.length && (!meaningful(lines[i]) || indentOf(lines[i]) > indent); i++) body.push(lines[i])
  return { line: lines[at].slice(indent + key.length + 1).trim(), body }
}

/** The entries of a mapping block: each key at the block's first indentation, with its lines. */
function entries(body) {
  const first = body.find(meaningful)
  if (!first) return []
  const indent = indentOf(first)
  const result = []
  for (const line of body) {
    if (meaningful(line) && indentOf(line) === indent && /^[\w-]+:/.test(line.trim())) result.push({ key: line.trim().split(':')[0], lines: [line] })
    else result.at(-1)?.lines.push(line)
  }
  return result
}

/** The items of a list block (`- …`), each with its lines, the dash removed. */
function items(body) {
  const first = body.find(meaningful)
  if (!first) return []
  const indent = indentOf(first)
  const result = []
  for (const line of body) {
    if (meaningful(line) && indentOf(line) === indent && line.trim().startsWith('- ')) result.push([`${' '.repeat(indent + 2)}${line.trim().slice(2)}`])
    else result.at(-1)?.push(line)
  }
  return result
}

/** A key's value on its line within some lines, if any (first occurrence, any indentation). */
function valueOf(lines, key) {
  for (const line of lines) {
    const match = new RegExp(`^\\s*(?:- )?${key}:\\s*(.*)$`).exec(line)
    if (match) return match[1]
  }
  return undefined
}

/**
 * Problems of one workflow file's text, each a sentence naming the file and the job or step.
 * @param {string} name
 * @param {string} text
 * @returns {string[]}
 */
export function workflowProblems(name, text) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  const problems = []
  const permissions = block(lines, 'permissions')
  if (!permissions) problems.push(`${name}: no top-level permissions (use "permissions: {}" and give each job what it needs).`)
  else if (permissions.line !== '{}') problems.push(`${name}: top-level permissions must be {} (each job asks for its own), not "${permissions.line || 'a list'}".`)
  if (!block(lines, 'concurrency')) problems.push(`${name}: no concurrency group.`)

  for (const job of entries(block(lines, 'jobs')?.body ?? [])) {
    const where = `${name}, job ${job.key}`
    const jobLines = job.lines.slice(1)
    const jobIndent = indentOf(job.lines[0]) + 2
    if (!block(jobLines, 'timeout-minutes', jobIndent)) problems.push(`${where}: no timeout-minutes.`)
    const jobPermissions = block(jobLines, 'permissions', jobIndent)
    if (!jobPermissions) problems.push(`${where}: no permissions of its own.`)
    else if (/^(write-all|read-all)$/.test(jobPermissions.line)) problems.push(`${where}: permissions "${jobPermissions.line}" is more than a job needs.`)
    for (const step of items(block(jobLines, 'steps', jobIndent)?.body ?? [])) {
      const uses = valueOf(step, 'uses')
      if (!uses) continue
      if (!uses.startsWith('./') && !uses.startsWith('docker://') && !PINNED.test(uses)) {
        problems.push(`${where}: "uses: ${uses}" is not pinned to a full commit SHA with a "# vX.Y.Z" comment.`)
      }
      const codeql = /^github\/codeql-action\/[^@]*@(?:v(\d+)|[0-9a-f]{40}\s+#\s*v(\d+))/.exec(uses)
      const codeqlMajor = Number(codeql?.[1] ?? codeql?.[2])
      if (codeqlMajor < 4) problems.push(`${where}: CodeQL Action v${codeqlMajor} is being retired: use v4 or later.`)
      if (/^actions\/checkout@/.test(uses) && valueOf(step, 'persist-credentials') !== 'false') {
        problems.push(`${where}: actions/checkout without "persist-credentials: false".`)
      }
    }
  }
  return problems
}

/** Problems of .github/dependabot.yml: it must update the npm packages and the pinned actions. */
export function dependabotProblems(text) {
  const ecosystems = [...text.matchAll(/package-ecosystem:\s*['"]?([\w-]+)/g)].map((match) => match[1])
  return ['npm', 'github-actions'].filter((wanted) => !ecosystems.includes(wanted)).map((missing) => `.github/dependabot.yml: no updates for ${missing}.`)
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const dir = join(root, '.github', 'workflows')
  const files = readdirSync(dir).filter((file) => /\.ya?ml$/.test(file))
  const problems = [
    ...files.flatMap((file) => workflowProblems(`.github/workflows/${file}`, readFileSync(join(dir, file), 'utf8'))),
    ...dependabotProblems(readFileSync(join(root, '.github', 'dependabot.yml'), 'utf8'))
  ]
  for (const problem of problems) console.error(`::error::${problem}`)
  if (problems.length) process.exit(1)
  console.log(`${files.length} workflows: actions pinned to commit SHAs, least permissions, concurrency, timeouts, checkouts without credentials; dependabot on npm and actions.`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()

import { execFileSync } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { compareVersions, gitEnvironment, moveMajorTag, parseLsRemote, parseVersion } from './major-tag.js'

/**
 * Release workflow, on a push to main: a push whose commit sets a new `version` in package.json, and
 * has that version's section in CHANGELOG.md (`## [X.Y.Z] - YYYY-MM-DD`), releases it:
 *   1. tags that commit `vX.Y.Z` (annotated, its message the CHANGELOG section) and pushes the tag;
 *   2. publishes the GitHub release of the tag, its notes the CHANGELOG section (a prerelease for a
 *      version like 1.3.0-rc.1);
 *   3. moves the major tag (`v1`) by the rules of scripts/major-tag.js: never for a prerelease, never
 *      backwards.
 *
 *   BEFORE=<sha before the push> AFTER=<sha pushed> [GITHUB_TOKEN=…] node scripts/release.js [--check]
 *
 * A push that leaves the version as it was does nothing. A version whose tag the remote already has
 * does nothing either, except finish what a previous run at the same commit left undone (the GitHub
 * release, the major tag): a re-run changes nothing. A version that is not X.Y.Z[-pre], that is lower
 * than the newest release tag, or that has no CHANGELOG section fails, with the reason.
 * `--check` only decides: it says what a run would do, and writes `release`, `tag` and `commit` to
 * $GITHUB_OUTPUT, so that the workflow checks dist/ only for a release.
 *
 * Other environment: REMOTE (default origin); GITHUB_API_URL (default https://api.github.com; a
 * GitHub Enterprise Server's API, or a test's server); GITHUB_REPOSITORY (owner/name);
 * PUBLISH_RELEASE=false tags without creating the GitHub release; RELEASE_HEAD=true (a run started by
 * hand) releases AFTER's version at AFTER itself, if it has no tag yet, without comparing with BEFORE. The tagger is git's committer
 * identity (GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL in the workflow).
 */

const NO_COMMIT = /^0*$/

/**
 * Semantic-version precedence, prereleases included: negative when a < b (1.3.0-rc.1 < 1.3.0).
 * @param {import('./major-tag.js').Version} a
 * @param {import('./major-tag.js').Version} b
 */
export function precedence(a, b) {
  const core = compareVersions(a, b)
  if (core || a.prerelease === b.prerelease) return core
  if (!a.prerelease) return 1
  if (!b.prerelease) return -1
  const left = a.prerelease.split('.')
  const right = b.prerelease.split('.')
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    if (left[i] === undefined) return -1
    if (right[i] === undefined) return 1
    if (left[i] === right[i]) continue
    const numeric = [left[i], right[i]].map((part) => /^\d+$/.test(part))
    if (numeric[0] && numeric[1]) return Number(left[i]) - Number(right[i])
    if (numeric[0] !== numeric[1]) return numeric[0] ? -1 : 1
    return left[i] < right[i] ? -1 : 1
  }
  return 0
}

/**
 * The body of `## [version] - YYYY-MM-DD` in a CHANGELOG, without its heading, up to the next `## `
 * heading (the link definitions at the bottom left out).
 * @returns {{notes: string} | {error: string}}
 */
export function changelogSection(text, version) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  const wanted = `## [${version}]`
  const at = lines.findIndex((line) => line.startsWith(`${wanted} `) || line.trim() === wanted)
  const expected = `"${wanted} - YYYY-MM-DD"`
  if (at < 0) {
    return { error: `CHANGELOG.md has no ${expected} section: in the release commit, move the [Unreleased] entries under that heading.` }
  }
  if (!/^ - \d{4}-\d{2}-\d{2}\s*$/.test(lines[at].slice(wanted.length))) {
    return { error: `CHANGELOG.md's heading "${lines[at].trim()}" is not ${expected}: give the release its date.` }
  }
  const end = lines.findIndex((line, i) => i > at && line.startsWith('## '))
  const body = lines.slice(at + 1, end < 0 ? lines.length : end)
  while (body.length && (/^\s*$/.test(body.at(-1) ?? '') || /^\[[^\]]+\]:\s*\S/.test(body.at(-1) ?? ''))) body.pop()
  const notes = body.join('\n').trim()
  if (!notes) return { error: `CHANGELOG.md's ${wanted} section is empty: move the [Unreleased] entries under it.` }
  return { notes }
}

/** `version` of package.json at a commit; undefined when the commit or the file or the field is missing. */
function versionAt(git, commit) {
  try {
    const version = JSON.parse(git('show', `${commit}:package.json`)).version
    return typeof version === 'string' ? version : undefined
  } catch {
    return undefined
  }
}

function parentOf(git, commit) {
  try {
    return git('rev-parse', '--verify', '--quiet', `${commit}^1^{commit}`).trim()
  } catch {
    return undefined
  }
}

function commitExists(git, commit) {
  try {
    git('cat-file', '-e', `${commit}^{commit}`)
    return true
  } catch {
    return false
  }
}

/**
 * What a push means. With `head` (a run started by hand), what main's head means: its version is
 * released at that very commit unless it is already tagged, whatever the commit before it holds; this
 * is how a release that failed (no CHANGELOG section, say) is made once a commit has fixed it.
 * @param {{git: (...args: string[]) => string, remote: string, before?: string, after?: string, head?: boolean}} options
 * @returns {{action: 'none', message: string}
 *   | {action: 'fail', message: string}
 *   | {action: 'release'|'finish', message: string, version: string, tag: string, commit: string, prerelease: boolean, notes: string}}
 */
export function plan({ git, remote, before, after = 'HEAD', head: atHead = false }) {
  const head = git('rev-parse', '--verify', `${after}^{commit}`).trim()
  let base = before && !NO_COMMIT.test(before) ? before : undefined
  let note = ''
  if (base && !commitExists(git, base)) {
    note = ` (${base.slice(0, 12)}, the commit before the push, is not in this clone: compared with the parent commit)`
    base = undefined
  }
  base = base ? git('rev-parse', '--verify', `${base}^{commit}`).trim() : parentOf(git, head)
  const version = versionAt(git, head)
  const previous = base ? versionAt(git, base) : undefined
  if (version === previous && !atHead) return { action: 'none', message: `package.json's version is still ${version ?? '(none)'}${note}: nothing to release.` }
  const tag = `v${version}`
  const parsed = version === undefined ? undefined : parseVersion(tag)
  if (!parsed) return { action: 'fail', message: `package.json's version "${version ?? ''}" is not MAJOR.MINOR.PATCH or MAJOR.MINOR.PATCH-PRERELEASE: nothing is released.` }

  // the commit that set the version: the pushed commit, or the first-parent ancestor after which it stayed
  let commit = head
  if (!atHead) {
    for (let parent = parentOf(git, commit); parent && parent !== base && versionAt(git, parent) === version; parent = parentOf(git, commit)) commit = parent
  }

  const tags = parseLsRemote(git('ls-remote', '--tags', remote))
  const existing = tags.get(tag)
  if (existing && existing !== commit) {
    return { action: 'none', message: `${tag} already exists, at ${existing.slice(0, 12)} and not at ${commit.slice(0, 12)}: nothing to release.` }
  }
  const newest = [...tags.keys()]
    .map((name) => ({ name, version: parseVersion(name) }))
    .filter((entry) => entry.version)
    .sort((a, b) => precedence(b.version, a.version))[0]
  if (!existing && newest?.version && precedence(parsed, newest.version) < 0) {
    return { action: 'fail', message: `package.json sets ${version}, lower than the newest release tag ${newest.name}: a release from main never goes backwards. Set a version above ${newest.name.slice(1)}.` }
  }
  const section = changelogSection(git('show', `${commit}:CHANGELOG.md`), version)
  if ('error' in section) return { action: 'fail', message: `${section.error} ${tag} is not released.` }
  const prerelease = Boolean(parsed.prerelease)
  const what = prerelease ? 'prerelease' : 'release'
  return existing
    ? { action: 'finish', version, tag, commit, prerelease, notes: section.notes, message: `${tag} is already tagged at ${commit.slice(0, 12)}: only what an earlier run left undone is done.` }
    : { action: 'release', version, tag, commit, prerelease, notes: section.notes, message: `${tag}: ${what} of ${commit.slice(0, 12)}, which sets version ${version}.` }
}

/**
 * Creates the GitHub release of a tag unless it exists: GET …/releases/tags/{tag}, then POST …/releases.
 * @param {{apiUrl: string, repository: string, token?: string, tag: string, notes: string, prerelease: boolean, fetchImpl?: typeof fetch}} options
 * @returns {Promise<{created: boolean, url: string}>}
 */
export async function publishRelease({ apiUrl, repository, token, tag, notes, prerelease, fetchImpl = fetch }) {
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new Error(`GITHUB_REPOSITORY "${repository}" is not owner/name: the GitHub release of ${tag} is not created.`)
  const base = `${apiUrl.replace(/\/$/, '')}/repos/${repository}/releases`
  const headers = {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'dokploy-action-release',
    ...(token ? { authorization: `Bearer ${token}` } : {})
  }
  const failure = async (response, doing) => {
    let reason = ''
    try {
      const body = await response.json()
      reason = typeof body?.message === 'string' ? `: ${body.message}` : ''
    } catch {
      // not JSON: the status says enough
    }
    return new Error(`GitHub answered ${response.status} when ${doing}${reason}.`)
  }
  const found = await fetchImpl(`${base}/tags/${encodeURIComponent(tag)}`, { headers })
  if (found.ok) {
    const release = await found.json()
    return { created: false, url: String(release?.html_url ?? '') }
  }
  if (found.status !== 404) throw await failure(found, `looking for the release of ${tag}`)
  const body = { tag_name: tag, name: tag, body: notes, draft: false, prerelease, make_latest: prerelease ? 'false' : 'true' }
  const created = await fetchImpl(base, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!created.ok) throw await failure(created, `creating the release of ${tag}`)
  const release = await created.json()
  return { created: true, url: String(release?.html_url ?? '') }
}

/**
 * Decides, and for a release tags, publishes and moves the major tag.
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, check?: boolean, log?: (line: string) => void, fetchImpl?: typeof fetch}} [options]
 * @returns {Promise<{ok: boolean, plan: ReturnType<typeof plan>}>}
 */
export async function release({ cwd, env = process.env, check = false, log = console.log, fetchImpl = fetch } = {}) {
  const remote = env.REMOTE || 'origin'
  const gitEnv = gitEnvironment(env, log)
  const git = (...args) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const decision = plan({ git, remote, before: env.BEFORE, after: env.AFTER || 'HEAD', head: env.RELEASE_HEAD === 'true' })
  if (decision.action === 'fail') {
    log(`::error title=No release::${decision.message}`)
    return { ok: false, plan: decision }
  }
  if (decision.action === 'none') {
    log(decision.message)
    return { ok: true, plan: decision }
  }
  log(decision.message)
  if (check) return { ok: true, plan: decision }

  const { tag, commit, notes, prerelease } = decision
  if (decision.action === 'release') {
    git('tag', '--force', '--annotate', '--cleanup=verbatim', '--message', `${tag}\n\n${notes}\n`, tag, commit)
    git('push', remote, `refs/tags/${tag}`)
    log(`${tag} tagged at ${commit.slice(0, 12)} and pushed.`)
  }
  if (env.PUBLISH_RELEASE === 'false') {
    log(`::notice title=No GitHub release::PUBLISH_RELEASE=false: the GitHub release of ${tag} is not created.`)
  } else {
    const published = await publishRelease({
      apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
      repository: env.GITHUB_REPOSITORY ?? '',
      token: env.GITHUB_TOKEN,
      tag,
      notes,
      prerelease,
      fetchImpl
    })
    log(published.created ? `GitHub release ${tag} published${published.url ? `: ${published.url}` : ''}.` : `GitHub release ${tag} already exists.`)
  }
  return { ok: moveMajorTag({ tag, prerelease, remote, git, log }), plan: decision }
}

/** Writes the decision to $GITHUB_OUTPUT, for the steps that run only for a release. */
function writeOutputs(file, decision) {
  if (!file) return
  const releasing = decision.action === 'release' || decision.action === 'finish'
  const lines = [`release=${releasing}`, `tag=${releasing ? decision.tag : ''}`, `commit=${releasing ? decision.commit : ''}`]
  appendFileSync(file, `${lines.join('\n')}\n`)
}

async function main() {
  const check = process.argv.includes('--check')
  try {
    const result = await release({ check })
    if (check) writeOutputs(process.env.GITHUB_OUTPUT, result.plan)
    if (!result.ok) process.exitCode = 1
  } catch (error) {
    const message = error instanceof Error ? (error.message || String(error)) : String(error)
    console.log(`::error title=Release failed::${message.replace(/\r?\n/g, ' ')}`)
    process.exitCode = 1
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()

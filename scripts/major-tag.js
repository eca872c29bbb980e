import { execFileSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'

/**
 * Release workflow: moves the major tag (v1) to a newly published release, so `uses: …@v1` gets it.
 *   TAG=v1.2.3 PRERELEASE=false [GITHUB_TOKEN=…] node scripts/major-tag.js
 * Only a full release moves it: a prerelease (flagged so on GitHub, or a tag like v1.3.0-rc.1) never
 * does, and neither does a release older than the one the tag already points at (a backport v1.2.4
 * published after v1.3.0 leaves v1 on v1.3.0). The remote's tags are read with `git ls-remote`, so the
 * decision does not depend on which tags the checkout fetched.
 */

/** @typedef {{major: number, minor: number, patch: number, prerelease: string}} Version */

/** `v1.2.3` or `v1.2.3-rc.1` (build metadata after `+` ignored); undefined for anything else. */
export function parseVersion(tag) {
  const match = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(tag)
  if (!match) return undefined
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), prerelease: match[4] ?? '' }
}

/** Orders full releases: negative when a < b. */
export function compareVersions(a, b) {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch
}

/**
 * What to do with the major tag.
 * @param {{tag: string, prerelease: boolean, tags: Map<string, string>}} release `tags`: the remote's tag names, each with the commit it points at
 * @returns {{action: 'move'|'keep'|'refuse'|'fail', major?: string, commit?: string, message: string}}
 */
export function decide({ tag, prerelease, tags }) {
  const version = parseVersion(tag)
  if (!version) return { action: 'fail', message: `The release tag "${tag}" is not vMAJOR.MINOR.PATCH: the major tag is not moved.` }
  const major = `v${version.major}`
  if (prerelease || version.prerelease) {
    return { action: 'keep', major, message: `${tag} is a prerelease: ${major} stays where it is.` }
  }
  const commit = tags.get(tag)
  if (!commit) return { action: 'fail', major, message: `The remote has no tag ${tag}: push it before publishing the release.` }
  const current = tags.get(major)
  if (!current) return { action: 'move', major, commit, message: `${major} created at ${tag} (${commit.slice(0, 12)}).` }
  // the highest full release of this major at the commit the major tag points at
  const versionsThere = [...tags]
    .filter(([name, at]) => at === current && name !== major)
    .map(([name]) => ({ name, version: parseVersion(name) }))
    .filter((entry) => entry.version && !entry.version.prerelease && entry.version.major === version.major)
    .sort((a, b) => compareVersions(b.version, a.version))
  const newest = versionsThere[0]
  if (!newest) {
    return { action: 'fail', major, message: `${major} points at ${current.slice(0, 12)}, which no ${major}.x.y release tag names: move it by hand once you know which release it should be.` }
  }
  const order = compareVersions(version, newest.version)
  if (order < 0) return { action: 'refuse', major, message: `${major} stays on ${newest.name}: ${tag} is older, and the major tag never moves backwards.` }
  if (current === commit) return { action: 'keep', major, message: `${major} already points at ${tag} (${commit.slice(0, 12)}).` }
  return { action: 'move', major, commit, message: `${major} moved from ${newest.name} (${current.slice(0, 12)}) to ${tag} (${commit.slice(0, 12)}).` }
}

/** `git ls-remote --tags` output as tag name → commit (an annotated tag's peeled `^{}` line wins). */
export function parseLsRemote(output) {
  /** @type {Map<string, string>} */
  const tags = new Map()
  const peeled = new Set()
  for (const line of output.split('\n')) {
    const match = /^([0-9a-f]{40,64})\trefs\/tags\/(.+?)(\^\{\})?$/.exec(line.trim())
    if (!match) continue
    const [, sha, name, isPeeled] = match
    if (isPeeled) {
      tags.set(name, sha)
      peeled.add(name)
    } else if (!peeled.has(name)) tags.set(name, sha)
  }
  return tags
}

/**
 * Git configuration for the remote's authentication, passed through the environment so that the
 * token is never on a command line nor written to .git/config (the checkout keeps no credentials).
 * @param {NodeJS.ProcessEnv} [env]
 * @param {(line: string) => void} [log]
 */
export function gitEnvironment(env = process.env, log = console.log) {
  const token = env.GITHUB_TOKEN
  if (!token) return env
  const header = `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`
  log(`::add-mask::${header.slice('AUTHORIZATION: basic '.length)}`)
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/$/, '')
  return { ...env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${server}/.extraheader`, GIT_CONFIG_VALUE_0: header }
}

/**
 * Reads the remote's tags, decides, and moves the major tag if it should; says what it did.
 * @param {{tag: string, prerelease: boolean, remote: string, git: (...args: string[]) => string, log?: (line: string) => void}} options
 * @returns {boolean} false when the decision is a failure (the caller fails the step)
 */
export function moveMajorTag({ tag, prerelease, remote, git, log = console.log }) {
  const decision = decide({ tag, prerelease, tags: parseLsRemote(git('ls-remote', '--tags', remote)) })
  if (decision.action === 'move' && decision.major && decision.commit) {
    git('push', '--force', remote, `${decision.commit}:refs/tags/${decision.major}`)
    log(decision.message)
  } else if (decision.action === 'keep') {
    log(`::notice title=Major tag not moved::${decision.message}`)
  } else if (decision.action === 'refuse') {
    // a backport release is legitimate: the release stands, only the major tag stays
    log(`::warning title=Major tag not moved backwards::${decision.message}`)
  } else {
    log(`::error title=Major tag not moved::${decision.message}`)
    return false
  }
  return true
}

function main() {
  const env = gitEnvironment()
  const git = (...args) => execFileSync('git', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const ok = moveMajorTag({ tag: process.env.TAG ?? '', prerelease: process.env.PRERELEASE === 'true', remote: process.env.REMOTE ?? 'origin', git })
  if (!ok) process.exitCode = 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()

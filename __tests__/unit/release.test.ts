import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { changelogSection, precedence, release } from '../../scripts/release.js'
import { parseVersion } from '../../scripts/major-tag.js'

const CHANGELOG_HEAD = '# Changelog\n\nEvery change users can notice.\n\n'
const LINKS = '\n[Unreleased]: https://example.com/compare/v1.0.0...HEAD\n[1.0.0]: https://example.com/releases/tag/v1.0.0\n'
const V1_0_0 = '## [1.0.0] - 2026-11-26\n\n### Added\n\n- The first release.\n'

describe('changelogSection', () => {
  const text = `${CHANGELOG_HEAD}## [Unreleased]\n\n## [1.1.0] - 2026-12-04\n\n### Fixed\n\n- A fix.\n\n${V1_0_0}${LINKS}`

  it('returns the body under the version’s heading, up to the next one, without the links at the bottom', () => {
    expect(changelogSection(text, '1.1.0')).toEqual({ notes: '### Fixed\n\n- A fix.' })
    expect(changelogSection(text, '1.0.0')).toEqual({ notes: '### Added\n\n- The first release.' })
    expect(changelogSection(text.replace(/\n/g, '\r\n'), '1.1.0')).toEqual({ notes: '### Fixed\n\n- A fix.' })
  })

  it('says what is missing: the section, its date, its entries', () => {
    expect(changelogSection(text, '1.2.0')).toEqual({
      error: 'CHANGELOG.md has no "## [1.2.0] - YYYY-MM-DD" section: in the release commit, move the [Unreleased] entries under that heading.'
    })
    expect(changelogSection(text, '1.1')).toHaveProperty('error')
    expect(changelogSection(text.replace('## [1.1.0] - 2026-12-04', '## [1.1.0]'), '1.1.0')).toEqual({
      error: 'CHANGELOG.md\'s heading "## [1.1.0]" is not "## [1.1.0] - YYYY-MM-DD": give the release its date.'
    })
    expect(changelogSection(`${CHANGELOG_HEAD}## [2.0.0] - 2027-01-01\n\n${LINKS}`, '2.0.0')).toEqual({
      error: 'CHANGELOG.md\'s ## [2.0.0] section is empty: move the [Unreleased] entries under it.'
    })
  })
})

describe('precedence', () => {
  const v = (tag: string) => parseVersion(tag)!
  it('orders prereleases before their release, numerically then by name', () => {
    expect(precedence(v('v1.3.0-rc.1'), v('v1.3.0'))).toBeLessThan(0)
    expect(precedence(v('v1.3.0'), v('v1.3.0-rc.1'))).toBeGreaterThan(0)
    expect(precedence(v('v1.3.0-rc.2'), v('v1.3.0-rc.10'))).toBeLessThan(0)
    expect(precedence(v('v1.3.0-alpha'), v('v1.3.0-alpha.1'))).toBeLessThan(0)
    expect(precedence(v('v1.3.0-alpha.beta'), v('v1.3.0-alpha.1'))).toBeGreaterThan(0)
    expect(precedence(v('v1.3.0-beta'), v('v1.3.0-alpha'))).toBeGreaterThan(0)
    expect(precedence(v('v1.2.9'), v('v1.3.0-rc.1'))).toBeLessThan(0)
    expect(precedence(v('v1.3.0-rc.1'), v('v1.3.0-rc.1'))).toBe(0)
  })
})

/** A stand-in for GitHub's releases API: remembers the releases it was asked to create. */
type Request = { method: string; url: string; authorization: string; body: Record<string, unknown> | undefined }

describe('scripts/release.js on a push to main, against a local origin and a fake GitHub API', () => {
  let dir: string
  let work: string
  let origin: string
  let server: Server
  let apiUrl: string
  const requests: Request[] = []
  const releases = new Map<string, Record<string, unknown>>()
  const script = resolve('scripts/release.js')

  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
  const head = () => git(work, 'rev-parse', 'HEAD')
  /** Commits package.json at a version and a CHANGELOG, and returns the commit. */
  const commit = (message: string, version: string, changelog: string) => {
    writeFileSync(join(work, 'package.json'), `${JSON.stringify({ name: 'demo', version, type: 'module' }, null, 2)}\n`)
    writeFileSync(join(work, 'CHANGELOG.md'), changelog)
    git(work, 'add', '-A')
    git(work, 'commit', '-q', '--allow-empty', '-m', message)
    return head()
  }
  const push = () => git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/main')
  /** The remote's tags: name → the commit it names (peeled). */
  const remoteTags = () => {
    const tags: Record<string, string> = {}
    for (const line of git(work, 'ls-remote', '--tags', 'origin').split('\n').filter(Boolean)) {
      const [sha, ref] = line.split('\t')
      const name = ref.replace('refs/tags/', '')
      if (name.endsWith('^{}')) tags[name.slice(0, -3)] = sha
      else tags[name] ??= sha
    }
    return tags
  }
  /** Runs the release logic as the workflow does, with the push's before and after commits. */
  const run = async (before: string, after: string, extra: Record<string, string> = {}) => {
    const lines: string[] = []
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      BEFORE: before,
      AFTER: after,
      GITHUB_API_URL: apiUrl,
      GITHUB_REPOSITORY: 'owner/demo',
      GITHUB_TOKEN: 'test-token',
      GITHUB_SERVER_URL: 'https://github.example.com',
      ...extra
    }
    const result = await release({ cwd: work, env, log: (line: string) => lines.push(line) })
    return { ...result, output: lines.join('\n') }
  }

  const unreleased = (entries: string) => `${CHANGELOG_HEAD}## [Unreleased]\n\n${entries}`
  const released = (version: string, entries: string, older = '') =>
    `${CHANGELOG_HEAD}## [Unreleased]\n\n## [${version}] - 2026-12-04\n\n${entries}\n${older}${V1_0_0}${LINKS}`

  let start: string
  let v110: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'release-'))
    origin = join(dir, 'origin.git')
    work = join(dir, 'work')
    execFileSync('git', ['init', '-q', '--bare', origin])
    execFileSync('git', ['clone', '-q', origin, work], { stdio: 'ignore' })
    git(work, 'config', 'user.email', 'test@example.com')
    git(work, 'config', 'user.name', 'test')
    git(work, 'config', 'commit.gpgsign', 'false')
    git(work, 'config', 'tag.gpgsign', 'false')
    server = createServer((request, response) => {
      let text = ''
      request.on('data', (chunk: Buffer) => (text += chunk.toString()))
      request.on('end', () => {
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined
        requests.push({ method: request.method ?? '', url: request.url ?? '', authorization: String(request.headers.authorization ?? ''), body })
        const answer = (status: number, value: unknown) => {
          // no keep-alive: a socket the server closed while git ran must never be reused (ECONNRESET under load)
          response.writeHead(status, { 'content-type': 'application/json', connection: 'close' })
          response.end(JSON.stringify(value))
        }
        const byTag = /^\/repos\/owner\/demo\/releases\/tags\/(.+)$/.exec(request.url ?? '')
        if (request.method === 'GET' && byTag) {
          const found = releases.get(decodeURIComponent(byTag[1]))
          return found ? answer(200, found) : answer(404, { message: 'Not Found' })
        }
        if (request.method === 'POST' && request.url === '/repos/owner/demo/releases' && body) {
          const created = { ...body, html_url: `https://github.example.com/owner/demo/releases/tag/${String(body.tag_name)}` }
          releases.set(String(body.tag_name), created)
          return answer(201, created)
        }
        answer(404, { message: 'Not Found' })
      })
    })
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    start = commit('1.0.0', '1.0.0', `${CHANGELOG_HEAD}## [Unreleased]\n\n${V1_0_0}${LINKS}`)
    push()
  }, 60000)
  afterAll(async () => {
    await new Promise((done) => server.close(done))
    rmSync(dir, { recursive: true, force: true })
  })

  it('does nothing for a push that leaves the version as it was', async () => {
    const after = commit('Work in progress', '1.0.0', `${CHANGELOG_HEAD}## [Unreleased]\n\n### Added\n\n- A feature.\n\n${V1_0_0}${LINKS}`)
    push()
    const result = await run(start, after)
    expect(result.ok).toBe(true)
    expect(result.plan.action).toBe('none')
    expect(result.output).toContain("package.json's version is still 1.0.0: nothing to release.")
    expect(remoteTags()).toEqual({})
    expect(requests).toEqual([])
  }, 60000)

  it('tags the commit that bumps the version, publishes its CHANGELOG section, and creates v1', async () => {
    const before = head()
    v110 = commit('Release 1.1.0', '1.1.0', released('1.1.0', '### Added\n\n- A feature.\n'))
    push()
    const result = await run(before, v110)
    expect(result.output).not.toContain('::error')
    expect(result.ok).toBe(true)
    expect(remoteTags()).toEqual({ 'v1.1.0': v110, v1: v110 })
    // annotated, its message the section
    git(work, 'fetch', '-q', '--force', 'origin', 'refs/tags/v1.1.0:refs/tags/v1.1.0')
    expect(git(work, 'cat-file', '-t', 'v1.1.0')).toBe('tag')
    expect(git(work, 'tag', '-l', '--format=%(contents)', 'v1.1.0')).toBe('v1.1.0\n\n### Added\n\n- A feature.')
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /repos/owner/demo/releases/tags/v1.1.0', 'POST /repos/owner/demo/releases'])
    expect(requests[1].authorization).toBe('Bearer test-token')
    expect(requests[1].body).toEqual({ tag_name: 'v1.1.0', name: 'v1.1.0', body: '### Added\n\n- A feature.', draft: false, prerelease: false, make_latest: 'true' })
    expect(result.output).toContain('v1 created at v1.1.0')
  }, 60000)

  it('changes nothing when it runs again for the same push', async () => {
    const tags = remoteTags()
    requests.length = 0
    const result = await run(start, v110)
    expect(result.ok).toBe(true)
    expect(result.plan.action).toBe('finish')
    expect(remoteTags()).toEqual(tags)
    expect(requests.map((request) => request.method)).toEqual(['GET'])
    expect(result.output).toContain('GitHub release v1.1.0 already exists.')
    expect(result.output).toContain('v1 already points at v1.1.0')
  }, 60000)

  it('tags the commit that set the version when the push holds later commits too, and moves v1 there', async () => {
    requests.length = 0
    const bump = commit('Release 1.2.0', '1.2.0', released('1.2.0', '### Fixed\n\n- A fix.\n'))
    const after = commit('Docs after the release', '1.2.0', readFileSync(join(work, 'CHANGELOG.md'), 'utf8'))
    push()
    const result = await run(v110, after)
    expect(result.ok).toBe(true)
    expect(remoteTags()).toEqual({ 'v1.1.0': v110, 'v1.2.0': bump, v1: bump })
    expect(result.output).toContain('v1 moved from v1.1.0')
  }, 60000)

  it('tags a prerelease, publishes it as one, and leaves v1 alone', async () => {
    requests.length = 0
    const before = head()
    const v1 = remoteTags().v1
    const rc = commit('1.3.0-rc.1', '1.3.0-rc.1', released('1.3.0-rc.1', '### Added\n\n- Something to try.\n'))
    push()
    const result = await run(before, rc)
    expect(result.ok).toBe(true)
    expect(remoteTags()['v1.3.0-rc.1']).toBe(rc)
    expect(remoteTags().v1).toBe(v1)
    expect(requests[1].body).toMatchObject({ tag_name: 'v1.3.0-rc.1', prerelease: true, make_latest: 'false' })
    expect(result.output).toContain('::notice title=Major tag not moved::v1.3.0-rc.1 is a prerelease: v1 stays where it is.')
  }, 60000)

  /** A failed release must leave origin's tags as they were; the bad commit is then taken back off main. */
  const failing = async (version: string, changelog: string) => {
    const before = head()
    const tags = remoteTags()
    requests.length = 0
    const after = commit(`Release ${version}`, version, changelog)
    push()
    const result = await run(before, after)
    expect(result.ok).toBe(false)
    expect(result.plan.action).toBe('fail')
    expect(remoteTags()).toEqual(tags)
    expect(requests).toEqual([])
    git(work, 'reset', '-q', '--hard', before)
    git(work, 'push', '-q', '--force', 'origin', 'HEAD:refs/heads/main')
    return result.output
  }

  it('fails, tagging nothing, for a version without its CHANGELOG section', async () => {
    const output = await failing('1.3.0', unreleased('### Added\n\n- Not moved.\n'))
    expect(output.split('\n').at(-1)).toBe(
      '::error title=No release::CHANGELOG.md has no "## [1.3.0] - YYYY-MM-DD" section: in the release commit, move the [Unreleased] entries under that heading. v1.3.0 is not released.'
    )
  }, 60000)

  it('fails, tagging nothing, for a version lower than the newest tag, or one that is not a version', async () => {
    expect(await failing('1.1.5', released('1.1.5', '- A backport.\n'))).toContain(
      'package.json sets 1.1.5, lower than the newest release tag v1.3.0-rc.1: a release from main never goes backwards.'
    )
    expect(await failing('1.3.0-rc.0', released('1.3.0-rc.0', '- Older rc.\n'))).toContain('lower than the newest release tag v1.3.0-rc.1')
    expect(await failing('1.4', released('1.4', '- Not semver.\n'))).toContain('package.json\'s version "1.4" is not MAJOR.MINOR.PATCH')
  }, 60000)

  it('finishes, when run again, a release whose GitHub release could not be created', async () => {
    requests.length = 0
    const before = head()
    const after = commit('Release 1.3.0', '1.3.0', released('1.3.0', '### Added\n\n- It all.\n'))
    push()
    // a GitHub API that refuses the release: the tag is pushed, the major tag is not moved
    await expect(run(before, after, { GITHUB_REPOSITORY: 'owner/missing' })).rejects.toThrow(
      'GitHub answered 404 when creating the release of v1.3.0: Not Found.'
    )
    expect(remoteTags()['v1.3.0']).toBe(after)
    expect(remoteTags().v1).not.toBe(after)

    requests.length = 0
    const again = await run(before, after)
    expect(again.ok).toBe(true)
    expect(again.output).toContain('v1.3.0 is already tagged at')
    expect(requests.map((request) => request.method)).toEqual(['GET', 'POST'])
    expect(remoteTags().v1).toBe(after)
  }, 60000)

  it('releases, in a run started by hand, the version a fixed-up head holds, at that head', async () => {
    const before = head()
    const bump = commit('Release 1.3.1', '1.3.1', unreleased('### Fixed\n\n- Forgot to move this.\n'))
    push()
    expect((await run(before, bump)).ok).toBe(false)
    // the fix keeps the version, so its push releases nothing; a run by hand releases it at the fix
    const fix = commit('Move the entries of 1.3.1', '1.3.1', released('1.3.1', '### Fixed\n\n- Forgot to move this.\n'))
    push()
    expect((await run(bump, fix)).plan.action).toBe('none')
    requests.length = 0
    const byHand = await run('', fix, { RELEASE_HEAD: 'true' })
    expect(byHand.ok).toBe(true)
    expect(remoteTags()['v1.3.1']).toBe(fix)
    expect(remoteTags().v1).toBe(fix)
    expect(requests[1].body).toMatchObject({ tag_name: 'v1.3.1', body: '### Fixed\n\n- Forgot to move this.' })
    // and by hand again: already tagged there, nothing more
    requests.length = 0
    const again = await run('', fix, { RELEASE_HEAD: 'true' })
    expect(again.plan.action).toBe('finish')
    expect(requests.map((request) => request.method)).toEqual(['GET'])
  }, 60000)

  it('as a command: --check only decides and writes the outputs; a failure exits 1 with the message', () => {
    const output = join(dir, 'github-output')
    writeFileSync(output, '')
    const before = head()
    const after = commit('Release 1.4.0', '1.4.0', released('1.4.0', '- More.\n'))
    push()
    const env = { PATH: process.env.PATH ?? '', HOME: dir, BEFORE: before, AFTER: after, GITHUB_OUTPUT: output, PUBLISH_RELEASE: 'false' }
    let command = spawnSync(process.execPath, [script, '--check'], { cwd: work, env, encoding: 'utf8' })
    expect(command.status).toBe(0)
    expect(readFileSync(output, 'utf8')).toBe(`release=true\ntag=v1.4.0\ncommit=${after}\n`)
    expect(remoteTags()['v1.4.0']).toBeUndefined()

    const broken = commit('Release 1.5.0', '1.5.0', unreleased('- Forgot.\n'))
    push()
    writeFileSync(output, '')
    command = spawnSync(process.execPath, [script, '--check'], { cwd: work, env: { ...env, BEFORE: after, AFTER: broken }, encoding: 'utf8' })
    expect(command.status).toBe(1)
    expect(command.stdout).toContain('::error title=No release::CHANGELOG.md has no "## [1.5.0] - YYYY-MM-DD" section')
    expect(readFileSync(output, 'utf8')).toBe('release=false\ntag=\ncommit=\n')
  }, 60000)
})

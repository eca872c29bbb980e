import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { compareVersions, decide, parseLsRemote, parseVersion } from '../../scripts/major-tag.js'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const C = 'c'.repeat(40)
const tags = (entries: Record<string, string>) => new Map(Object.entries(entries))

describe('parseVersion', () => {
  it('reads full releases and prereleases, and nothing else', () => {
    expect(parseVersion('v1.2.3')).toEqual({ major: 1, minor: 2, patch: 3, prerelease: '' })
    expect(parseVersion('v2.0.0-rc.1')).toEqual({ major: 2, minor: 0, patch: 0, prerelease: 'rc.1' })
    expect(parseVersion('v1.2.3+build.5')?.prerelease).toBe('')
    for (const bad of ['1.2.3', 'v1', 'v1.2', 'v01.2.3', 'release-5', 'v1.2.3.4', '']) expect(parseVersion(bad)).toBeUndefined()
  })

  it('orders by major, minor, then patch, numerically', () => {
    const v = (tag: string) => parseVersion(tag)!
    expect(compareVersions(v('v1.10.0'), v('v1.9.9'))).toBeGreaterThan(0)
    expect(compareVersions(v('v1.2.3'), v('v1.2.10'))).toBeLessThan(0)
    expect(compareVersions(v('v1.2.3'), v('v1.2.3'))).toBe(0)
  })
})

describe('decide', () => {
  it('creates the major tag at the first full release', () => {
    expect(decide({ tag: 'v1.0.0', prerelease: false, tags: tags({ 'v1.0.0': A }) })).toMatchObject({ action: 'move', major: 'v1', commit: A })
  })

  it('moves it forward to a newer full release', () => {
    const decision = decide({ tag: 'v1.1.0', prerelease: false, tags: tags({ 'v1.0.0': A, v1: A, 'v1.1.0': B }) })
    expect(decision).toMatchObject({ action: 'move', major: 'v1', commit: B })
    expect(decision.message).toContain('from v1.0.0')
  })

  it('never moves it for a prerelease, whether GitHub flags it or its tag says so', () => {
    const remote = tags({ 'v1.0.0': A, v1: A, 'v1.1.0-rc.1': B, 'v1.1.0': B })
    expect(decide({ tag: 'v1.1.0', prerelease: true, tags: remote })).toMatchObject({ action: 'keep', major: 'v1' })
    expect(decide({ tag: 'v1.1.0-rc.1', prerelease: false, tags: remote })).toMatchObject({ action: 'keep', major: 'v1' })
  })

  it('refuses to move it backwards to an older release', () => {
    const decision = decide({ tag: 'v1.0.1', prerelease: false, tags: tags({ 'v1.0.0': A, 'v1.1.0': B, v1: B, 'v1.0.1': C }) })
    expect(decision).toMatchObject({ action: 'refuse', major: 'v1' })
    expect(decision.message).toBe('v1 stays on v1.1.0: v1.0.1 is older, and the major tag never moves backwards.')
  })

  it('judges by the newest release at the tagged commit, ignoring prereleases and other majors there', () => {
    const remote = tags({ 'v1.1.0': B, 'v1.2.0-rc.1': B, 'v2.0.0-beta': B, v1: B, 'v1.1.5': C })
    expect(decide({ tag: 'v1.1.5', prerelease: false, tags: remote })).toMatchObject({ action: 'move', commit: C })
  })

  it('leaves it alone when it already points at the release', () => {
    expect(decide({ tag: 'v1.1.0', prerelease: false, tags: tags({ 'v1.1.0': B, v1: B }) })).toMatchObject({ action: 'keep' })
  })

  it('fails on a tag that is not a version, a tag the remote lacks, and a major tag no release names', () => {
    expect(decide({ tag: 'release-5', prerelease: false, tags: tags({}) }).action).toBe('fail')
    expect(decide({ tag: 'v1.2.0', prerelease: false, tags: tags({ v1: A }) }).message).toContain('The remote has no tag v1.2.0')
    expect(decide({ tag: 'v1.2.0', prerelease: false, tags: tags({ v1: A, 'v1.2.0': B }) }).message).toContain('which no v1.x.y release tag names')
  })
})

describe('parseLsRemote', () => {
  it('maps each tag to its commit, the peeled line winning for an annotated tag', () => {
    const output = [`${A}\trefs/tags/v1`, `${B}\trefs/tags/v1.0.0`, `${C}\trefs/tags/v1.0.0^{}`, 'garbage', ''].join('\n')
    expect(parseLsRemote(output)).toEqual(tags({ v1: A, 'v1.0.0': C }))
  })
})

describe('scripts/major-tag.js against a git remote', () => {
  let dir: string
  let work: string
  let origin: string
  const script = resolve('scripts/major-tag.js')
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
  const commit = (message: string) => {
    writeFileSync(join(work, 'file.txt'), message)
    git(work, 'add', 'file.txt')
    git(work, 'commit', '-q', '-m', message)
    return git(work, 'rev-parse', 'HEAD')
  }
  /** Tags a new commit (annotated, as GitHub's release form does) and pushes it. */
  const release = (tag: string) => {
    const sha = commit(tag)
    git(work, 'tag', '-a', tag, '-m', tag)
    git(work, 'push', '-q', 'origin', 'HEAD', `refs/tags/${tag}`)
    return sha
  }
  const run = (tag: string, prerelease = false) => {
    const env = { PATH: process.env.PATH ?? '', HOME: dir, TAG: tag, PRERELEASE: String(prerelease) }
    return spawnSync(process.execPath, [script], { cwd: work, env, encoding: 'utf8' })
  }
  const remoteTag = (name: string) => {
    const line = git(work, 'ls-remote', '--tags', 'origin', `refs/tags/${name}`)
    return line ? line.split('\t')[0] : undefined
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'major-tag-'))
    origin = join(dir, 'origin.git')
    work = join(dir, 'work')
    execFileSync('git', ['init', '-q', '--bare', origin])
    execFileSync('git', ['init', '-q', work])
    git(work, 'config', 'user.email', 'test@example.com')
    git(work, 'config', 'user.name', 'test')
    git(work, 'config', 'commit.gpgsign', 'false')
    git(work, 'config', 'tag.gpgsign', 'false')
    git(work, 'remote', 'add', 'origin', origin)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('creates v1 at the commit of the first release, moves it forward, and keeps it for a prerelease or an older release', () => {
    const first = release('v1.0.0')
    let result = run('v1.0.0')
    expect(result.status).toBe(0)
    expect(remoteTag('v1')).toBe(first)

    const second = release('v1.1.0')
    expect(run('v1.1.0').status).toBe(0)
    expect(remoteTag('v1')).toBe(second)

    release('v1.2.0-rc.1')
    result = run('v1.2.0-rc.1', true)
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('::notice title=Major tag not moved::v1.2.0-rc.1 is a prerelease: v1 stays where it is.')
    expect(remoteTag('v1')).toBe(second)

    release('v1.0.1')
    result = run('v1.0.1')
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('::warning title=Major tag not moved backwards::v1 stays on v1.1.0')
    expect(remoteTag('v1')).toBe(second)

    const third = release('v2.0.0')
    expect(run('v2.0.0').status).toBe(0)
    expect(remoteTag('v2')).toBe(third)
    expect(remoteTag('v1')).toBe(second)
  })

  it('fails, and moves nothing, for a tag that is not a version', () => {
    const before = remoteTag('v1')
    const result = run('nightly')
    expect(result.status).toBe(1)
    expect(result.stdout).toContain('::error title=Major tag not moved::The release tag "nightly" is not vMAJOR.MINOR.PATCH')
    expect(remoteTag('v1')).toBe(before)
  })
})

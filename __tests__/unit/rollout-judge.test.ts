import { describe, expect, it } from '@jest/globals'
import { durationMs, judgeContainers, judgeStackTasks, judgeTasks, normalizeImage } from '../../src/rollout-judge.js'
import type { SwarmTask } from '../../src/dokploy/api.js'

const task = (name: string, image: string, desired: string, current: string, error = ''): SwarmTask => ({ id: `${name}-${current}`, name, image, desired, current, error })
const MIN = 60_000

describe('durationMs', () => {
  it.each([
    ['Running Less than a second ago', 0],
    ['Running 1 second ago', 1000],
    ['Up 12 seconds (healthy)', 12_000],
    ['Running About a minute ago', MIN],
    ['Failed 3 minutes ago', 3 * MIN],
    ['Running About an hour ago', 60 * MIN],
    ['Running 2 days ago', 2 * 24 * 60 * MIN]
  ])('%s', (text, ms) => expect(durationMs(text)).toBe(ms))

  it('no duration', () => expect(durationMs('Preparing')).toBeUndefined())
})

describe('normalizeImage', () => {
  it.each([
    ['nginx', 'nginx:latest'],
    ['docker.io/library/nginx:1.25', 'nginx:1.25'],
    ['ghcr.io/acme/api:2.0@sha256:0123abcd', 'ghcr.io/acme/api:2.0'],
    ['registry.local:5000/web', 'registry.local:5000/web:latest']
  ])('%s', (image, normal) => expect(normalizeImage(image)).toBe(normal))
})

describe('judgeTasks', () => {
  const since = { sinceStepMs: 5 * MIN }

  it('an empty list is blind', () => expect(judgeTasks([], since)).toEqual({ kind: 'blind' }))

  it('the new task runs: running, with its age', () => {
    const tasks = [task('web.1', 'web:latest', 'running', 'Running 7 seconds ago'), task('web.1', 'web:latest', 'shutdown', 'Shutdown 7 seconds ago')]
    expect(judgeTasks(tasks, { ...since, newTasks: true })).toEqual({ kind: 'running', ageMs: 7000, units: 1 })
  })

  it('start-first: the new task starting, the old one running: pending', () => {
    const tasks = [task('web.1', 'web:latest', 'running', 'Starting 2 seconds ago'), task('web.1', 'web:latest', 'running', 'Running 3 hours ago')]
    expect(judgeTasks(tasks, since)).toMatchObject({ kind: 'pending', why: expect.stringMatching(/starting/) })
  })

  it('the previous image runs again after the new one failed: rolled-back, with its error', () => {
    const tasks = [
      task('api.1', 'ghcr.io/acme/api:1.0', 'running', 'Running 2 seconds ago'),
      task('api.1', 'ghcr.io/acme/api:2.0', 'shutdown', 'Failed 4 seconds ago', 'task: non-zero exit (1)'),
      task('api.1', 'ghcr.io/acme/api:1.0', 'shutdown', 'Shutdown 6 seconds ago')
    ]
    expect(judgeTasks(tasks, { ...since, image: 'ghcr.io/acme/api:2.0' })).toEqual({ kind: 'rolled-back', running: 'ghcr.io/acme/api:1.0', error: 'task: non-zero exit (1)' })
  })

  it('another image and no failure of the new one: still pending, never rolled-back', () => {
    const tasks = [task('api.1', 'ghcr.io/acme/api:1.0', 'running', 'Running 2 days ago')]
    expect(judgeTasks(tasks, { ...since, image: 'ghcr.io/acme/api:2.0' })).toMatchObject({ kind: 'pending' })
  })

  it('the same image replaced after a failure during this step: replaced, not a proven rollout', () => {
    const tasks = [task('web.1', 'web:latest', 'running', 'Running 1 second ago'), task('web.1', 'web:latest', 'shutdown', 'Failed 3 seconds ago', 'task: non-zero exit (137)')]
    expect(judgeTasks(tasks, since)).toEqual({ kind: 'replaced', error: 'task: non-zero exit (137)' })
  })

  it('deploying a fix for a version that crash-looped: its failures came before the update, the new task runs', () => {
    const tasks = [
      task('web.1', 'web:latest', 'running', 'Running 6 seconds ago'),
      task('web.1', 'web:latest', 'shutdown', 'Shutdown 6 seconds ago'),
      task('web.1', 'web:latest', 'shutdown', 'Failed 9 seconds ago', 'task: non-zero exit (1)'),
      task('web.1', 'web:latest', 'shutdown', 'Failed 20 seconds ago', 'task: non-zero exit (1)')
    ]
    expect(judgeTasks(tasks, { sinceStepMs: 60_000 })).toEqual({ kind: 'running', ageMs: 6000, units: 1 })
    // without a shut-down task between, the time since done tells: a failure before it is the old version's
    expect(judgeTasks([tasks[0], tasks[2]], { sinceStepMs: 60_000, sinceDoneMs: 8000 })).toMatchObject({ kind: 'running' })
    expect(judgeTasks([tasks[0], tasks[2]], { sinceStepMs: 60_000, sinceDoneMs: 12_000 })).toMatchObject({ kind: 'replaced' })
  })

  it('a failure from before the step is history, not this rollout', () => {
    const tasks = [task('web.1', 'web:latest', 'running', 'Running 8 seconds ago'), task('web.1', 'web:latest', 'shutdown', 'Failed 3 days ago', 'task: non-zero exit (1)')]
    expect(judgeTasks(tasks, { sinceStepMs: 20_000 })).toMatchObject({ kind: 'running' })
  })

  it('an application task older than the step is the previous version', () => {
    const tasks = [task('web.1', 'web:latest', 'running', 'Running 2 hours ago')]
    expect(judgeTasks(tasks, { sinceStepMs: 30_000, newTasks: true })).toMatchObject({ kind: 'pending', why: expect.stringMatching(/from before this deploy/) })
    // a database started while it ran already: the same task is fine
    expect(judgeTasks(tasks, { sinceStepMs: 30_000 })).toMatchObject({ kind: 'running' })
  })

  it('every slot counts; a slot scaled away is skipped; the history prefix is not part of the name', () => {
    const tasks = [
      task('web.1', 'web:latest', 'running', 'Running 9 seconds ago'),
      task('web.2', 'web:latest', 'running', 'Running 6 seconds ago'),
      task('web.3', 'web:latest', 'shutdown', 'Shutdown 1 minute ago')
    ]
    expect(judgeTasks(tasks, since)).toEqual({ kind: 'running', ageMs: 6000, units: 2 })
    expect(judgeTasks([...tasks.slice(0, 1), task('web.2', 'web:latest', 'running', 'Preparing 1 second ago')], since)).toMatchObject({ kind: 'pending' })
  })
})

describe('judgeContainers', () => {
  const c = (state: string, status: string) => ({ id: 'c', name: 'stack-web-1', state, status })
  it('running and healthy', () => expect(judgeContainers([c('running', 'Up 12 seconds (healthy)'), c('running', 'Up 9 seconds')])).toEqual({ kind: 'running', ageMs: 9000, units: 2 }))
  it('a one-off job that exited 0 is skipped', () => expect(judgeContainers([c('running', 'Up 12 seconds'), c('exited', 'Exited (0) 5 seconds ago')])).toMatchObject({ kind: 'running', units: 1 }))
  it('health: starting is pending', () => expect(judgeContainers([c('running', 'Up 2 seconds (health: starting)')])).toMatchObject({ kind: 'pending' }))
  it('exited 1 is pending, with the status as its error', () => expect(judgeContainers([c('exited', 'Exited (1) 3 seconds ago')])).toMatchObject({ kind: 'pending', error: 'Exited (1) 3 seconds ago' }))
  it('nothing is blind', () => expect(judgeContainers([])).toEqual({ kind: 'blind' }))
})

describe('judgeStackTasks', () => {
  const t = (state: string, status: string) => ({ id: 't', name: 'stack_web.1.abc', state, status })
  it('running', () => expect(judgeStackTasks([t('running', 'Running 6 seconds ago')])).toEqual({ kind: 'running', ageMs: 6000, units: 1 }))
  it('starting', () => expect(judgeStackTasks([t('starting', 'Starting 1 second ago')])).toMatchObject({ kind: 'pending' }))
  it('failed', () => expect(judgeStackTasks([t('failed', 'Failed 1 second ago (task: non-zero exit (1))')])).toMatchObject({ kind: 'pending', error: 'Failed 1 second ago (task: non-zero exit (1))' }))
})

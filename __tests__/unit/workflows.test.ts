import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { dependabotProblems, workflowProblems } from '../../scripts/check-workflows.js'

const CHECKOUT = 'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1'

/** A workflow that keeps every rule; each test breaks one. */
const GOOD = `name: CI
on: [push]

permissions: {}

concurrency:
  group: ci-\${{ github.ref }}
  cancel-in-progress: true

jobs:
  test:
    runs-on: \${{ matrix.os }}
    timeout-minutes: 10
    permissions:
      contents: read
    steps:
      - uses: ${CHECKOUT}
        with:
          persist-credentials: false
      - name: Local action
        uses: ./
      - run: npm test
  analyze:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    permissions:
      security-events: write
    steps:
      - name: Checkout
        uses: ${CHECKOUT}
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: github/codeql-action/init@8aad20d150bbac5944a9f9d289da16a4b0d87c1e # v4.36.2
`

describe('workflowProblems', () => {
  it('finds nothing wrong in a workflow that keeps every rule', () => {
    expect(workflowProblems('ci.yml', GOOD)).toEqual([])
    expect(workflowProblems('ci.yml', GOOD.replace(/\n/g, '\r\n'))).toEqual([])
  })

  it('wants an action pinned to a full commit SHA with a version comment', () => {
    expect(workflowProblems('ci.yml', GOOD.replace(CHECKOUT, 'actions/checkout@v7'))).toEqual([
      'ci.yml, job test: "uses: actions/checkout@v7" is not pinned to a full commit SHA with a "# vX.Y.Z" comment.'
    ])
    expect(workflowProblems('ci.yml', GOOD.replace(CHECKOUT, CHECKOUT.replace(' # v7.0.1', '')))).toHaveLength(1)
    expect(workflowProblems('ci.yml', GOOD.replace(CHECKOUT, CHECKOUT.slice(0, 30)))).toHaveLength(1)
  })

  it('wants permissions: {} at the top and permissions on each job, never write-all', () => {
    expect(workflowProblems('ci.yml', GOOD.replace('permissions: {}\n', ''))).toEqual([
      'ci.yml: no top-level permissions (use "permissions: {}" and give each job what it needs).'
    ])
    expect(workflowProblems('ci.yml', GOOD.replace('permissions: {}', 'permissions:\n  contents: write'))[0]).toContain('top-level permissions must be {}')
    expect(workflowProblems('ci.yml', GOOD.replace('    permissions:\n      contents: read\n', ''))).toEqual(['ci.yml, job test: no permissions of its own.'])
    expect(workflowProblems('ci.yml', GOOD.replace('    permissions:\n      contents: read\n', '    permissions: write-all\n'))).toEqual([
      'ci.yml, job test: permissions "write-all" is more than a job needs.'
    ])
  })

  it('wants a concurrency group and a timeout on every job', () => {
    expect(workflowProblems('ci.yml', GOOD.replace(/concurrency:\n.*\n.*\n/, ''))).toEqual(['ci.yml: no concurrency group.'])
    expect(workflowProblems('ci.yml', GOOD.replace('    timeout-minutes: 20\n', ''))).toEqual(['ci.yml, job analyze: no timeout-minutes.'])
  })

  it('does not take a step’s timeout for the job’s', () => {
    const stepTimeout = GOOD.replace('    timeout-minutes: 10\n', '').replace('      - run: npm test', '      - run: npm test\n        timeout-minutes: 5')
    expect(workflowProblems('ci.yml', stepTimeout)).toEqual(['ci.yml, job test: no timeout-minutes.'])
  })

  it('wants persist-credentials: false on every checkout', () => {
    expect(workflowProblems('ci.yml', GOOD.replace('          fetch-depth: 0\n          persist-credentials: false\n', '          fetch-depth: 0\n'))).toEqual([
      'ci.yml, job analyze: actions/checkout without "persist-credentials: false".'
    ])
  })

  it('refuses CodeQL Action v3', () => {
    const v3 = GOOD.replace('8aad20d150bbac5944a9f9d289da16a4b0d87c1e # v4.36.2', 'b0c4fd77f6c559021d78430ec4d0d169ae74a4eb # v3.36.2')
    expect(workflowProblems('ci.yml', v3)).toEqual(['ci.yml, job analyze: CodeQL Action v3 is being retired: use v4 or later.'])
  })
})

describe('dependabotProblems', () => {
  it('wants updates for both npm and github-actions', () => {
    expect(dependabotProblems('updates:\n  - package-ecosystem: npm\n  - package-ecosystem: "github-actions"\n')).toEqual([])
    expect(dependabotProblems('updates:\n  - package-ecosystem: npm\n')).toEqual(['.github/dependabot.yml: no updates for github-actions.'])
  })
})

describe('the project’s own workflows', () => {
  it('keep every rule (scripts/check-workflows.js, as CI runs it)', () => {
    const run = spawnSync(process.execPath, ['scripts/check-workflows.js'], { encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
  })
})

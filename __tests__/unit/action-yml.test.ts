import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { Input, Output } from '../../src/constants.js'
import { readSettings } from '../../src/inputs.js'
import { STATUSES } from '../../src/outcome.js'

/** action.yml is the contract users' workflows rely on: it must name exactly what the code reads and writes. */
const yml = readFileSync('action.yml', 'utf8')

function section(name: string): Map<string, string | undefined> {
  const body = yml.split(new RegExp(`^${name}:\\n`, 'm'))[1]?.split(/^\S/m)[0] ?? ''
  const entries = new Map<string, string | undefined>()
  let current: string | undefined
  for (const line of body.split('\n')) {
    const key = /^ {2}([a-z-]+):\s*$/.exec(line)
    if (key) entries.set((current = key[1]), undefined)
    const fallback = /^ {4}default: '(.*)'$/.exec(line)
    if (fallback && current) entries.set(current, fallback[1])
  }
  return entries
}

describe('action.yml', () => {
  it('declares every input the code reads, and no other', () => {
    expect([...section('inputs').keys()].sort()).toEqual(Object.values(Input).sort())
  })

  it('declares every output the code writes, and no other', () => {
    expect([...section('outputs').keys()].sort()).toEqual(Object.values(Output).sort())
  })

  it('runs dist/index.js on node24', () => {
    expect(yml).toMatch(/^runs:\n {2}using: 'node24'\n {2}main: 'dist\/index.js'$/m)
  })

  it('quotes the same defaults the code applies when an input is empty (as outside a runner)', () => {
    const defaults = section('inputs')
    const given: Record<string, string> = { url: 'https://dokploy.example.com', 'api-key': 'key-123', id: 'A1' }
    const fromYml = readSettings((name) => given[name] ?? defaults.get(name) ?? '', {})
    const fromCode = readSettings((name) => given[name] ?? '', {})
    expect(fromYml).toEqual(fromCode)
    expect(defaults.get('wait-timeout')).toBe('600')
    expect(defaults.get('resource')).toBe('application')
  })

  it('names every status value the action can output, in action.yml and the README', () => {
    const described = /^ {2}status:\n {4}description: '(.*)'$/m.exec(yml)?.[1] ?? ''
    const readme = /^\| `status` \| (.*) \|$/m.exec(readFileSync('README.md', 'utf8'))?.[1] ?? ''
    for (const status of STATUSES) {
      expect(described).toMatch(new RegExp(`(^|[ ,.:])${status}([ ,.;:)]|$)`))
      expect(readme).toContain(`\`${status}\``)
    }
  })
})

import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'

/**
 * action.yml and the README's tables state the same facts: every input and output in both, the same
 * defaults, and the rules users trip over stated in each (issue 18 found four stated in one only).
 */
const yml = readFileSync('action.yml', 'utf8')
const readme = readFileSync('README.md', 'utf8')

interface Entry {
  description: string
  fallback?: string
}

/** `inputs:` or `outputs:` of action.yml: each name with its description and default. */
function section(name: string): Map<string, Entry> {
  const body = yml.split(new RegExp(`^${name}:\\n`, 'm'))[1]?.split(/^\S/m)[0] ?? ''
  const entries = new Map<string, Entry>()
  let current: Entry | undefined
  for (const line of body.split('\n')) {
    const key = /^ {2}([a-z-]+):\s*$/.exec(line)
    if (key) entries.set(key[1], (current = { description: '' }))
    const description = /^ {4}description: (['"])(.*)\1$/.exec(line)
    if (description && current) current.description = description[2].replace(/''/g, "'")
    const fallback = /^ {4}default: '(.*)'$/.exec(line)
    if (fallback && current) current.fallback = fallback[1]
  }
  return entries
}

/** The README table under `## <heading>`: each backticked name of a row's first cell with the row's cells. */
function table(heading: string): Map<string, string[]> {
  const body = readme.split(new RegExp(`^## ${heading}\\n`, 'm'))[1]?.split(/^## /m)[0] ?? ''
  const rows = new Map<string, string[]>()
  for (const line of body.split('\n')) {
    if (!line.startsWith('| `')) continue
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim())
    for (const [, name] of cells[0].matchAll(/`([a-z-]+)`/g)) rows.set(name, cells)
  }
  return rows
}

const inputs = section('inputs')
const readmeInputs = table('Inputs')

describe('action.yml and the README agree', () => {
  it('list the same inputs and outputs', () => {
    expect([...readmeInputs.keys()].sort()).toEqual([...inputs.keys()].sort())
    expect([...table('Outputs').keys()].sort()).toEqual([...section('outputs').keys()].sort())
  })

  it('give the same default for every input; a default in words is stated in action.yml too', () => {
    for (const [name, { fallback, description }] of inputs) {
      const shown = readmeInputs.get(name)?.[1] ?? ''
      if (fallback) expect(`${name}: ${shown}`).toBe(`${name}: \`${fallback}\``)
      else if (shown && shown !== '(required)') expect(`${name}: ${description}`).toMatch(/default/i)
    }
  })

  it.each([
    ['wait-timeout covers the whole step, the sum of the builds with several targets', 'wait-timeout', /for the whole step \(with several targets, the sum of their builds\)/],
    ['env is applied only by deploy and redeploy', 'env', /Applied by deploy and redeploy only/],
    ['environment is refused together with id', 'environment', /refused with `?id`?/],
    ['results is [] when the step fails early', 'results', /`?\[\]`? when the step failed before it had a target/]
  ])('%s', (_fact, name, rule) => {
    const described = inputs.get(name)?.description ?? section('outputs').get(name)?.description ?? ''
    const row = (readmeInputs.get(name) ?? table('Outputs').get(name) ?? []).join(' | ')
    expect(described).toMatch(rule)
    expect(row).toMatch(rule)
  })
})

import { describe, expect, it } from '@jest/globals'
import { envChanges, envValues, parseEnvInput, planEnv } from '../../src/env.js'

describe('parseEnvInput', () => {
  it('reads KEY=value lines and skips comments and blank lines', () => {
    const { entries, problems } = parseEnvInput('# database\nDB_HOST=db\n\n   \n  # indented comment\nDB_PORT=5432\n')
    expect(problems).toEqual([])
    expect(entries).toEqual([
      { key: 'DB_HOST', value: 'db' },
      { key: 'DB_PORT', value: '5432' }
    ])
  })

  it('keeps everything after the first = as the value', () => {
    const { entries } = parseEnvInput('URL=postgres://u:p@h/db?ssl=true\nEMPTY=\nB64=YWJj==')
    expect(entries).toEqual([
      { key: 'URL', value: 'postgres://u:p@h/db?ssl=true' },
      { key: 'EMPTY', value: '' },
      { key: 'B64', value: 'YWJj==' }
    ])
  })

  it('accepts CRLF line endings and trims the key', () => {
    expect(parseEnvInput('A=1\r\n  B =2\r\n').entries).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: '2' }
    ])
  })

  it('lets the last of duplicate keys win', () => {
    const { entries, problems } = parseEnvInput('A=1\nB=2\nA=3')
    expect(problems).toEqual([])
    expect(entries).toHaveLength(2)
    expect(entries.find((e) => e.key === 'A')?.value).toBe('3')
    expect(entries.find((e) => e.key === 'B')?.value).toBe('2')
  })

  it('accepts dots and dashes after the first character of a key', () => {
    expect(parseEnvInput('_a.b-c=1').entries).toEqual([{ key: '_a.b-c', value: '1' }])
  })

  it('reports each bad line by number only, never quoting it (it may be part of a secret)', () => {
    const { entries, problems } = parseEnvInput('OK=1\nno-equals-sign-secret\n=value-without-key\n1ABC=numeric-start\nMY KEY=spaced\n')
    expect(entries).toEqual([{ key: 'OK', value: '1' }])
    expect(problems).toEqual([
      'line 2 has no KEY=value',
      'line 3 has no KEY=value',
      'line 4 does not start with a valid variable name (letters, digits, _ . -)',
      'line 5 does not start with a valid variable name (letters, digits, _ . -)'
    ])
    const all = problems.join(' ')
    for (const value of ['no-equals-sign-secret', 'value-without-key', 'numeric-start', 'spaced', '1ABC', 'MY KEY']) expect(all).not.toContain(value)
  })

  it('returns nothing for an empty text', () => {
    expect(parseEnvInput('')).toEqual({ entries: [], problems: [] })
  })
})

describe('planEnv merge', () => {
  const current = '# database\nDB_HOST=db\n\nDB_PORT=5432\n# app\nLOG_LEVEL=info'

  it('changes keys in place, appends new ones, and keeps every other line, comment and the order', () => {
    const plan = planEnv(current, [
      { key: 'LOG_LEVEL', value: 'debug' },
      { key: 'NEW_KEY', value: 'x' },
      { key: 'DB_HOST', value: 'db2' }
    ], 'merge')
    expect(plan.env).toBe('# database\nDB_HOST=db2\n\nDB_PORT=5432\n# app\nLOG_LEVEL=debug\nNEW_KEY=x')
    expect(plan.added).toEqual(['NEW_KEY'])
    expect(plan.changed).toEqual(['LOG_LEVEL', 'DB_HOST'])
    expect(plan.removed).toEqual([])
    expect(envChanges(plan)).toBe(3)
  })

  it('reports nothing when every value is already set', () => {
    const plan = planEnv(current, [{ key: 'DB_PORT', value: '5432' }], 'merge')
    expect(plan.env).toBe(current)
    expect(plan).toMatchObject({ added: [], changed: [], removed: [] })
    expect(envChanges(plan)).toBe(0)
  })

  it('does not touch a commented-out line with the same key', () => {
    const plan = planEnv('#API_URL=old\nA=1', [{ key: 'API_URL', value: 'new' }], 'merge')
    expect(plan.env).toBe('#API_URL=old\nA=1\nAPI_URL=new')
    expect(plan.added).toEqual(['API_URL'])
  })

  it('builds a block from an empty one', () => {
    const plan = planEnv('', [
      { key: 'A', value: '1' },
      { key: 'B', value: '2' }
    ], 'merge')
    expect(plan.env).toBe('A=1\nB=2')
    expect(plan.added).toEqual(['A', 'B'])
    expect(envChanges(plan)).toBe(2)
  })

  it('changes a key set to an empty value', () => {
    const plan = planEnv('A=1', [{ key: 'A', value: '' }], 'merge')
    expect(plan.env).toBe('A=')
    expect(plan.changed).toEqual(['A'])
  })
})

describe('planEnv replace', () => {
  it('makes the given entries the whole block and reports removed keys', () => {
    const plan = planEnv('# comment\nA=1\nB=2\nC=3', [
      { key: 'A', value: '1' },
      { key: 'C', value: '30' },
      { key: 'D', value: '4' }
    ], 'replace')
    expect(plan.env).toBe('A=1\nC=30\nD=4')
    expect(plan.added).toEqual(['D'])
    expect(plan.changed).toEqual(['C'])
    expect(plan.removed).toEqual(['B'])
    expect(envChanges(plan)).toBe(3)
  })

  it('reports no change when the block already holds exactly the entries', () => {
    const plan = planEnv('A=1\nB=2', [
      { key: 'A', value: '1' },
      { key: 'B', value: '2' }
    ], 'replace')
    expect(plan.env).toBe('A=1\nB=2')
    expect(envChanges(plan)).toBe(0)
  })
})

describe('envValues', () => {
  it('lists the non-empty values of a block, for masking', () => {
    expect(envValues('# secret=not-a-value\nA=alpha\nB=\n\nC=x=y\nnot a pair')).toEqual(['alpha', 'x=y'])
  })

  it('returns nothing for an empty block', () => {
    expect(envValues('')).toEqual([])
  })
})

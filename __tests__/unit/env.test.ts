import { describe, expect, it } from '@jest/globals'

const { envChanges, parseEnvInput, planEnv } = await import('../../src/env.js')

/** A PEM key pasted between quotes, as dotenv takes a value over several lines. */
const PEM_LINES = ['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'bXVsdGktbGluZS1zZWNyZXQ=', '-----END PRIVATE KEY-----']
const PEM = PEM_LINES.join('\n')
const QUOTED_PEM = `"${PEM}"`

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

  it('reports a key set twice, with its line numbers, and no value', () => {
    const { problems } = parseEnvInput('A=first-secret\nB=2\nA=second-secret\n# A=commented\nA=third-secret')
    expect(problems).toEqual(['A is set more than once (lines 1, 3, 5)'])
    expect(problems.join(' ')).not.toMatch(/secret/)
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

describe('parseEnvInput: a quoted value over several lines', () => {
  it('reads a double-quoted PEM as one entry, quotes and line breaks kept as written', () => {
    const { entries, problems } = parseEnvInput(`TLS_KEY=${QUOTED_PEM}\nOTHER=1`)
    expect(problems).toEqual([])
    expect(entries).toEqual([
      { key: 'TLS_KEY', value: QUOTED_PEM },
      { key: 'OTHER', value: '1' }
    ])
  })

  it('reads a single-quoted one, with CRLF line endings', () => {
    const { entries, problems } = parseEnvInput("A=1\r\nCERT='line one\r\nline two'\r\nB=2\r\n")
    expect(problems).toEqual([])
    expect(entries).toEqual([
      { key: 'A', value: '1' },
      { key: 'CERT', value: "'line one\nline two'" },
      { key: 'B', value: '2' }
    ])
  })

  it('takes lines inside the quotes as the value, even ones that look like a comment, a blank or KEY=value', () => {
    const { entries, problems } = parseEnvInput('TEXT="# not a comment\n\nNOT_A_KEY=inside\nend"\nLAST=1')
    expect(problems).toEqual([])
    expect(entries.map((e) => e.key)).toEqual(['TEXT', 'LAST'])
    expect(entries[0].value).toBe('"# not a comment\n\nNOT_A_KEY=inside\nend"')
  })

  it('does not end the value at an escaped quote', () => {
    expect(parseEnvInput('A="say \\"hi\\"\nstill A"\nB=1').entries).toEqual([
      { key: 'A', value: '"say \\"hi\\"\nstill A"' },
      { key: 'B', value: '1' }
    ])
  })

  it('keeps a value quoted on one line as one line', () => {
    expect(parseEnvInput('A="x"\nB=\'y\'').entries).toEqual([
      { key: 'A', value: '"x"' },
      { key: 'B', value: "'y'" }
    ])
  })

  it('reports a quote that is never closed by line number and key, never reading what follows as keys', () => {
    const { entries, problems } = parseEnvInput(`OK=1\nTLS_KEY="${PEM}\nOTHER=unseen-secret`)
    expect(entries).toEqual([{ key: 'OK', value: '1' }])
    expect(problems).toEqual(['line 2: the value of TLS_KEY opens a quote that is never closed'])
    for (const line of PEM_LINES) expect(problems.join(' ')).not.toContain(line)
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

describe('planEnv with a multi-line value in the current block', () => {
  const current = `A=1\nTLS_KEY=${QUOTED_PEM}\nB=2`

  it('merge keeps the block whole and never reads its lines as keys', () => {
    const plan = planEnv(current, [{ key: 'B', value: '3' }], 'merge')
    expect(plan.env).toBe(`A=1\nTLS_KEY=${QUOTED_PEM}\nB=3`)
    expect(plan).toMatchObject({ added: [], changed: ['B'], removed: [] })
  })

  it('merge replaces the whole block, with the value as written', () => {
    const plan = planEnv(current, [{ key: 'TLS_KEY', value: "'new\nkey'" }], 'merge')
    expect(plan.env).toBe("A=1\nTLS_KEY='new\nkey'\nB=2")
    expect(plan).toMatchObject({ added: [], changed: ['TLS_KEY'], removed: [] })
  })

  it('merge reports no change when the block is already set to the same text', () => {
    const plan = planEnv(current, [{ key: 'TLS_KEY', value: QUOTED_PEM }], 'merge')
    expect(plan.env).toBe(current)
    expect(envChanges(plan)).toBe(0)
  })

  it('replace lists only real keys as removed', () => {
    const plan = planEnv(`${current}\nC="x\nHIDDEN=1\n"`, [{ key: 'A', value: '1' }], 'replace')
    expect(plan.env).toBe('A=1')
    expect(plan.removed).toEqual(['TLS_KEY', 'B', 'C'])
  })

  it('replace writes a multi-line entry back as one', () => {
    const plan = planEnv('A=1', [{ key: 'TLS_KEY', value: QUOTED_PEM }, { key: 'OTHER', value: '1' }], 'replace')
    expect(plan.env).toBe(`TLS_KEY=${QUOTED_PEM}\nOTHER=1`)
    expect(plan).toMatchObject({ added: ['TLS_KEY', 'OTHER'], changed: [], removed: ['A'] })
  })

  it('reads an unclosed quote in Dokploy\'s text as one line, as dotenv does', () => {
    const plan = planEnv('A="open\nB=2', [{ key: 'C', value: '3' }], 'replace')
    expect(plan.removed).toEqual(['A', 'B'])
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

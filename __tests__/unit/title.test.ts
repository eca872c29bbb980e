import { describe, expect, it } from '@jest/globals'
import { clip, defaultRunInfo, DESCRIPTION_LIMIT, TITLE_LIMIT } from '../../src/title.js'

const ACTIONS_ENV = {
  GITHUB_SHA: '1a2b3c4d5e6f7a8b9c0d',
  GITHUB_WORKFLOW: 'Deploy',
  GITHUB_RUN_NUMBER: '42',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '987654321'
}

describe('clip', () => {
  it('keeps text within the limit unchanged', () => {
    expect(clip('hello', 5)).toBe('hello')
    expect(clip('', 3)).toBe('')
  })

  it('cuts longer text to exactly the limit, ending in an ellipsis', () => {
    const out = clip('abcdefghij', 5)
    expect(out).toBe('abcd…')
    expect(out).toHaveLength(5)
  })
})

describe('defaultRunInfo', () => {
  it('names the short SHA, the workflow and the run number, and links the run', () => {
    expect(defaultRunInfo(ACTIONS_ENV)).toEqual({
      title: '1a2b3c4 · Deploy #42',
      description: 'https://github.com/acme/shop/actions/runs/987654321'
    })
  })

  it('marks a re-run attempt in the title and the link', () => {
    const info = defaultRunInfo({ ...ACTIONS_ENV, GITHUB_RUN_ATTEMPT: '3' })
    expect(info.title).toBe('1a2b3c4 · Deploy #42.3')
    expect(info.description).toBe('https://github.com/acme/shop/actions/runs/987654321/attempts/3')
  })

  it('uses the GitHub Enterprise server URL', () => {
    const info = defaultRunInfo({ ...ACTIONS_ENV, GITHUB_SERVER_URL: 'https://ghe.acme.example' })
    expect(info.description).toBe('https://ghe.acme.example/acme/shop/actions/runs/987654321')
  })

  it('falls back to placeholders outside GitHub Actions', () => {
    expect(defaultRunInfo({})).toEqual({ title: 'local · dokploy-action #0', description: 'run outside GitHub Actions' })
  })

  it('clips an overlong workflow name to the title limit', () => {
    const info = defaultRunInfo({ ...ACTIONS_ENV, GITHUB_WORKFLOW: 'w'.repeat(300) })
    expect(info.title).toHaveLength(TITLE_LIMIT)
    expect(info.title.endsWith('…')).toBe(true)
    expect(info.title.startsWith('1a2b3c4 · www')).toBe(true)
  })

  it('clips an overlong run URL to the description limit', () => {
    const info = defaultRunInfo({ ...ACTIONS_ENV, GITHUB_REPOSITORY: `acme/${'r'.repeat(600)}` })
    expect(info.description).toHaveLength(DESCRIPTION_LIMIT)
  })
})

import { describe, expect, it, jest } from '@jest/globals'

const core = {
  info: jest.fn<(message: string) => void>(),
  warning: jest.fn<(message: string, properties?: { title?: string }) => void>(),
  debug: jest.fn<(message: string) => void>(),
  startGroup: jest.fn<(name: string) => void>(),
  endGroup: jest.fn<() => void>()
}
jest.unstable_mockModule('@actions/core', () => core)

const { actionsLog, formatDuration, gutter, inline, prefixed } = await import('../../src/logger.js')

describe('gutter', () => {
  it('prefixes every line, so a log line cannot start a workflow command', () => {
    const out = gutter('building\n::set-output name=status::done\n::add-mask::x\r\n::error::forged')
    const lines = out.split('\n')
    expect(lines).toEqual(['│ building', '│ ::set-output name=status::done', '│ ::add-mask::x', '│ ::error::forged'])
    expect(lines.some((line) => line.startsWith('::'))).toBe(false)
  })

  it('prefixes a single line and an empty text', () => {
    expect(gutter('::set-output name=a::b')).toBe('│ ::set-output name=a::b')
    expect(gutter('')).toBe('│ ')
  })
})

describe('inline', () => {
  it('folds every line break into one visible marker', () => {
    expect(inline('first\nsecond\r\n\r\nthird')).toBe('first ⏎ second ⏎ third')
  })

  it('leaves no line that could start with a workflow command', () => {
    const out = inline('oops\n::set-output name=status::done')
    expect(out).not.toMatch(/[\r\n]/)
    expect(out.startsWith('::')).toBe(false)
  })

  it('trims the ends', () => {
    expect(inline('  message\n')).toBe('message ⏎')
    expect(inline('plain')).toBe('plain')
  })
})

describe('formatDuration', () => {
  it('shows seconds under a minute, and minutes with padded seconds above', () => {
    expect(formatDuration(0)).toBe('0s')
    expect(formatDuration(5_000)).toBe('5s')
    expect(formatDuration(65_000)).toBe('1m 05s')
    expect(formatDuration(59_600)).toBe('1m 00s')
    expect(formatDuration(3_723_000)).toBe('62m 03s')
  })

  it('rounds up, so a wait is never shown shorter than it was ("gave up after 7s" for wait-timeout 8)', () => {
    expect(formatDuration(5_400)).toBe('6s')
    expect(formatDuration(7_001)).toBe('8s')
    expect(formatDuration(7_999)).toBe('8s')
    expect(formatDuration(8_000)).toBe('8s')
    expect(formatDuration(119_001)).toBe('2m 00s')
  })
})

describe('actionsLog', () => {
  it('routes messages to the matching @actions/core calls', () => {
    actionsLog.info('i')
    actionsLog.warning('w')
    actionsLog.debug('d')
    expect(core.info).toHaveBeenCalledWith('i')
    expect(core.warning).toHaveBeenCalledWith('w', { title: 'Dokploy' })
    expect(core.debug).toHaveBeenCalledWith('d')
  })

  it('gives every warning annotation a title', () => {
    actionsLog.warning('w', 'GitHub deployment')
    expect(core.warning).toHaveBeenLastCalledWith('w', { title: 'GitHub deployment' })
  })

  it('wraps a group body between startGroup and endGroup', () => {
    core.info.mockClear()
    actionsLog.group('Why it failed', 'body')
    expect(core.startGroup).toHaveBeenCalledWith('Why it failed')
    expect(core.info).toHaveBeenCalledWith('body')
    expect(core.endGroup).toHaveBeenCalledTimes(1)
    const order = [core.startGroup.mock.invocationCallOrder[0], core.info.mock.invocationCallOrder[0], core.endGroup.mock.invocationCallOrder[0]]
    expect([...order].sort((a, b) => a - b)).toEqual(order)
  })
})

describe('actionsLog.info', () => {
  it('defuses any line that would start a workflow command, and leaves other lines alone', () => {
    core.info.mockClear()
    actionsLog.info('Found application "web\n::set-output name=status::done"\n  ##[error]old style\nplain')
    expect(core.info).toHaveBeenCalledWith('Found application "web\n│ ::set-output name=status::done"\n  # #[error]old style\nplain')
  })
})

describe('prefixed: the log of one of several targets', () => {
  const lines: [string, string, string?][] = []
  const base = {
    info: (m: string) => lines.push(['info', m]),
    warning: (m: string, t?: string) => lines.push(['warning', m, t]),
    debug: (m: string) => lines.push(['debug', m]),
    group: (t: string, b: string) => lines.push(['group', t, b])
  }

  it('starts every line with the target\'s name, the name kept on one line', () => {
    const log = prefixed(base, 'web\n::error::x')
    log.info('Queued.\nStill queued.')
    log.warning('Slow.')
    log.debug('poll')
    log.group('Why it failed', 'a\nb')
    expect(lines).toEqual([
      ['info', '[web ⏎ ::error::x] Queued.\n[web ⏎ ::error::x] Still queued.'],
      ['warning', '[web ⏎ ::error::x] Slow.', 'Dokploy: web ⏎ ::error::x'],
      ['debug', '[web ⏎ ::error::x] poll'],
      ['group', '[web ⏎ ::error::x] Why it failed', '[web ⏎ ::error::x] a\n[web ⏎ ::error::x] b']
    ])
  })
})

import { describe, expect, it, jest } from '@jest/globals'
import { HOSTILE_LINES, commandsIn, parseLine, runnerCommands } from '../runner-commands.js'

/**
 * Every line the action prints, run through a model of the runner's command parser (both forms, its
 * white-space rules, culture-lenient matching): server text never holds a command the runner would run.
 * The fake core writes what @actions/core writes to stdout, so the step's own commands can be told apart.
 */
let stdout = ''
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C')
const command = (name: string, data: string, title?: string): void => {
  stdout += `::${name}${title === undefined ? '' : ` title=${escapeProperty(title)}`}::${escapeData(data)}\n`
}
const core = {
  info: (message: string) => (stdout += `${message}\n`),
  debug: (message: string) => command('debug', message),
  warning: (message: string, properties?: { title?: string }) => command('warning', message, properties?.title),
  notice: (message: string, properties?: { title?: string }) => command('notice', message, properties?.title),
  error: (message: string, properties?: { title?: string }) => command('error', message, properties?.title),
  startGroup: (name: string) => command('group', name),
  endGroup: () => command('endgroup', ''),
  setSecret: (value: string) => command('add-mask', value),
  setOutput: jest.fn(),
  summary: { addRaw: () => ({ write: async () => undefined }) }
}
jest.unstable_mockModule('@actions/core', () => core)

const { actionsLog, actionsSink, defused, defusedLine, gutter, inline, mayHoldCommand, prefixed, prefixedSink, wall } = await import('../../src/logger.js')
const { registerSecret } = await import('../../src/secrets.js')
const { LogPrinter } = await import('../../src/log-lines.js')
const { printFailureDetails } = await import('../../src/report.js')
const { newOutcome } = await import('../../src/outcome.js')

/**
 * The commands the runner would find in the output so far that are not the step's own: in a server
 * line, or carrying the payload. One of the step's own commands comes last, and must run: the wall
 * (stop-commands) is down again by then.
 */
function forged(): string[] {
  actionsLog.warning('the step goes on')
  const found: string[] = []
  for (const lenient of [false, true]) {
    const { ran, ignored, stopped } = runnerCommands(stdout, { lenient })
    expect(stopped).toBe(false)
    expect(ran[ran.length - 1]).toMatchObject({ name: 'warning', data: 'the step goes on' })
    // nothing of the step's own is lost behind the wall
    expect(ignored.filter((c) => !c.data.includes('pwned'))).toEqual([])
    found.push(...[...ran, ...ignored].filter((c) => c.form === 'legacy' || !c.line.startsWith('::') || c.data.startsWith('pwned')).map((c) => c.line))
  }
  return found
}
/** The step's own commands, the wall's left out. */
const ownCommands = (): string[] =>
  runnerCommands(stdout)
    .ran.map((c) => c.name)
    .filter((name) => name !== 'stop-commands' && !name.startsWith('dokploy-'))

describe('the runner model itself finds every hostile line', () => {
  it('finds a command in each hostile line, exactly or leniently', () => {
    for (const line of HOSTILE_LINES) expect([line, parseLine(line) ?? parseLine(line, { lenient: true })]).toEqual([line, expect.objectContaining({})])
    // the forms the issue lists: the legacy one anywhere, U+0085 before `::`
    expect(parseLine('Step 4/9 : RUN echo ##[add-mask]x')).toMatchObject({ form: 'legacy', name: 'add-mask', data: 'x' })
    expect(parseLine('\u0085::stop-commands::tok')).toMatchObject({ form: 'v2', name: 'stop-commands', data: 'tok' })
    expect(parseLine('│ ::add-mask::x')).toBeUndefined()
    expect(parseLine('##[unknown]x')).toBeUndefined()
  })

  it('models stop-commands: nothing runs until the token comes back, in either form', () => {
    const result = runnerCommands('::stop-commands::t0k3n\n::error::ignored\n##[t0k3n]\n::error::runs\n')
    expect(result.ran.map((c) => c.name)).toEqual(['stop-commands', 't0k3n', 'error'])
    expect(result.ignored.map((c) => c.data)).toEqual(['ignored'])
    expect(result.stopped).toBe(false)
  })
})

describe('defusedLine', () => {
  it('leaves no command in any hostile line, in either model, and keeps its text', () => {
    for (const line of HOSTILE_LINES) {
      const out = defusedLine(line)
      expect([line, commandsIn(out)]).toEqual([line, []])
      expect(out).toContain('pwned')
    }
  })

  it('changes nothing in ordinary lines: indentation, colours, emoji, box drawing, a # or a [ alone', () => {
    for (const line of ['Building web (dockerfile)', '\u001b[0m::not a command at the start', '    at Object.<anonymous> (app.js:1:1)', '\u001b[32m✔ compiled\u001b[0m', '✅ Docker build completed.', '│ boxed', '#5 [build 1/4] RUN npm ci', 'NODE_ENV=production', '', '   ', 'a :: b', 'C# [x]'])
      expect(defusedLine(line)).toBe(line)
  })

  it('is idempotent', () => {
    for (const line of HOSTILE_LINES) expect(defusedLine(defusedLine(line))).toBe(defusedLine(line))
  })

  it('defused splits text where the runner does (CR, LF, CRLF) and keeps the breaks', () => {
    const out = defused('ok\r::error::pwned\r\n##[warning]pwned\nend')
    expect(out).toBe('ok\r│ ::error::pwned\r\n# #[warning]pwned\nend')
    expect(commandsIn(out)).toEqual([])
  })
})

describe('every way server text is printed', () => {
  const text = HOSTILE_LINES.join('\n')

  it('the streamed build log, in a group and prefixed for several targets', () => {
    stdout = ''
    const printer = new LogPrinter(actionsSink, `Build log of ${inline('web ##[error]pwned')}`, 50)
    for (const line of HOSTILE_LINES) printer.print({ text: line, dropped: 0 })
    printer.close()
    const sink = prefixedSink(actionsSink, 'api ##[endgroup]pwned')
    const several = new LogPrinter(sink, 'Build log of api', 0)
    for (const line of HOSTILE_LINES) several.print({ text: line, dropped: 0 })
    several.close()
    expect(forged()).toEqual([])
    // each line is shown, changed only where the runner would have found a command
    for (const line of HOSTILE_LINES) expect(stdout).toContain(`\n${defusedLine(line)}\n`)
    expect(ownCommands()).toEqual(['group', 'endgroup', 'warning'])
  })

  it('the failure details: Dokploy’s error message and the log tail, behind the gutter', () => {
    stdout = ''
    const outcome = { ...newOutcome('application', 'deploy', 0), resourceId: 'app-web', name: 'web ##[error]pwned', status: 'error', errorMessage: text, logTail: text }
    printFailureDetails({ outcomes: [outcome, { ...outcome }], resource: 'application', operation: 'deploy', startedAt: 0 }, actionsLog)
    expect(forged()).toEqual([])
    expect(ownCommands()).toEqual(['group', 'endgroup', 'group', 'endgroup', 'warning'])
  })

  it('messages that quote server text, through the log and a target’s prefixed log', () => {
    stdout = ''
    actionsLog.info(`Found application "${inline(text)}"`)
    actionsLog.info(text)
    prefixed(actionsLog, 'web\n::error::pwned').info(text)
    actionsLog.group(`title ${text}`, gutter(text))
    expect(forged()).toEqual([])
  })
})

describe('the second wall: stop-commands around server text', () => {
  it('is raised before the first line the runner would look at, and lowered before each command of the step', () => {
    stdout = ''
    const printer = new LogPrinter(actionsSink, 'Build log of web', 10)
    printer.print({ text: 'plain line', dropped: 0 })
    printer.print({ text: 'std::vector and ::add-mask::pwned', dropped: 0 })
    registerSecret('wall-secret-8e1d')
    printer.print({ text: '##[error]pwned', dropped: 0 })
    actionsLog.debug('a debug line')
    printer.print({ text: 'more ::x::', dropped: 0 })
    printer.close()
    const lines = stdout.trimEnd().split('\n')
    const token = (at: number): string => lines[at].replace('::stop-commands::', '')
    expect(lines[0]).toBe('::group::Build log of web')
    expect(lines[1]).toBe('plain line')
    expect(lines[2]).toMatch(/^::stop-commands::dokploy-[0-9a-f]{32}$/)
    expect(lines[4]).toBe(`::${token(2)}::`)
    expect(lines[5]).toBe('::add-mask::wall-secret-8e1d')
    const raises = lines.filter((line) => line.startsWith('::stop-commands::'))
    // '##[error]' defused holds no `##[` any more: no wall for it; a fresh token each time
    expect(raises).toHaveLength(2)
    expect(new Set(raises).size).toBe(2)
    expect(lines[lines.length - 1]).toBe('::endgroup::')
    const { ran, ignored, stopped } = runnerCommands(stdout)
    expect(stopped).toBe(false)
    expect(ignored).toEqual([])
    expect(ran.filter((c) => c.name === 'add-mask' || c.name === 'debug' || c.name === 'endgroup').map((c) => c.name)).toEqual(['add-mask', 'debug', 'endgroup'])
  })

  it('holds on its own: a command printed behind it is not run, and the runner runs commands after it', () => {
    stdout = ''
    wall.raise()
    core.info('::error::pwned')
    core.info('##[add-mask]pwned')
    wall.lower()
    actionsLog.warning('after the wall')
    const { ran, ignored } = runnerCommands(stdout)
    expect(ignored.map((c) => c.line)).toEqual(['::error::pwned', '##[add-mask]pwned'])
    expect(ran.map((c) => c.name).slice(-1)).toEqual(['warning'])
  })

  it('looks for what the runner looks for: `::` or `##[`, ignorable characters between or not', () => {
    expect(mayHoldCommand('plain line')).toBe(false)
    expect(mayHoldCommand('a: b')).toBe(false)
    expect(mayHoldCommand('│ ::add-mask::x')).toBe(true)
    expect(mayHoldCommand(':\u00ad:x')).toBe(true)
    expect(mayHoldCommand('#\u200b#[x]')).toBe(true)
  })
})

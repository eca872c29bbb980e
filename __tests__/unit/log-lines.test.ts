import { describe, expect, it, jest } from '@jest/globals'
import { silentCore } from './fake-dokploy.js'

jest.unstable_mockModule('@actions/core', silentCore)

const { LineSplitter, LogPrinter, MAX_LINE_CHARS, capLine, isEndLine, maskLine } = await import('../../src/log-lines.js')
const { registerSecret } = await import('../../src/secrets.js')

const SECRET = 'pg-pass-7f3a9c21'
registerSecret(SECRET)

const texts = (lines: { text: string }[]): string[] => lines.map((line) => line.text)

/** Feeds `chunks` and returns every line, the unfinished one flushed. */
function split(...chunks: string[]): string[] {
  const splitter = new LineSplitter()
  return [...chunks.flatMap((chunk) => texts(splitter.push(chunk))), ...texts(splitter.flush())]
}

describe('LineSplitter', () => {
  const log = 'Cloning repo: ✅\r\n#5 [build 1/4] RUN npm ci\n\nDownloading 10%\rDownloading 90%\rdone\n✅ Docker build completed.\n'
  const lines = ['Cloning repo: ✅', '#5 [build 1/4] RUN npm ci', '', 'Downloading 10%', 'Downloading 90%', 'done', '✅ Docker build completed.']

  it('gives the same lines however the stream is cut into chunks', () => {
    expect(split(log)).toEqual(lines)
    for (let at = 0; at <= log.length; at++) expect(split(log.slice(0, at), log.slice(at))).toEqual(lines)
    expect(split(...log.split(''))).toEqual(lines)
  })

  it('ends a line at a lone carriage return, as the runner reads it: a \\r cannot hide a workflow command inside a line', () => {
    expect(split('progress 50%\r::set-output name=status::done\n')).toEqual(['progress 50%', '::set-output name=status::done'])
    // CR at the end of one chunk and LF at the start of the next are one line break
    expect(split('a\r', '\nb\n')).toEqual(['a', 'b'])
    expect(split('a\r', 'b\n')).toEqual(['a', 'b'])
  })

  it('holds an unfinished line until its end, and flushes it when the stream ends', () => {
    const splitter = new LineSplitter()
    expect(texts(splitter.push('Building web'))).toEqual([])
    expect(texts(splitter.push(' (dockerfile)\nStep'))).toEqual(['Building web (dockerfile)'])
    expect(texts(splitter.flush())).toEqual(['Step'])
    expect(splitter.flush()).toEqual([])
  })

  it('holds at most 64 KiB of a line with no end, and counts what it dropped', () => {
    const splitter = new LineSplitter()
    splitter.push('x'.repeat(50_000))
    splitter.push('y'.repeat(50_000))
    const [line] = splitter.push('\n')
    expect(line.text).toHaveLength(64 * 1024)
    expect(line.dropped).toBe(100_000 - 64 * 1024)
  })
})

describe('masking and cutting a line', () => {
  it('masks every secret the step knows, and leaves ANSI colours alone', () => {
    expect(maskLine(`DATABASE_URL=postgres://app:${SECRET}@db/app`)).toBe('DATABASE_URL=postgres://app:***@db/app')
    expect(maskLine('\u001b[32m✔ compiled\u001b[0m')).toBe('\u001b[32m✔ compiled\u001b[0m')
  })

  it('prints a line without its colours when a colour code splits a secret, so the secret is still masked', () => {
    const split = `password: ${SECRET.slice(0, 6)}\u001b[1m${SECRET.slice(6)}\u001b[0m`
    expect(maskLine(split)).toBe('password: ***')
  })

  it('cuts a long line after masking it, and says how much was cut', () => {
    const long = `${'a'.repeat(MAX_LINE_CHARS - 5)}${SECRET}${'b'.repeat(100)}`
    const shown = capLine({ text: long, dropped: 0 })
    expect(shown).not.toContain(SECRET.slice(0, 5))
    expect(shown).toBe(`${'a'.repeat(MAX_LINE_CHARS - 5)}***bb … [${long.length - SECRET.length + 3 - MAX_LINE_CHARS} more characters cut]`)
    expect(capLine({ text: 'short', dropped: 0 })).toBe('short')
  })
})

describe("Dokploy's last lines", () => {
  it.each([
    '✅ Docker build completed.',
    '✅ Nixpacks build completed.',
    '✅ Heroku build completed.',
    '✅ Paketo build completed.',
    '✅ Railpack build completed.',
    '✅ Pulling image completed.',
    'Docker Compose Deployed: ✅',
    'Docker Deployed: ✅',
    'Error occurred ❌, check the logs for details.',
    '\u001b[32m✅ Docker build completed.\u001b[0m  '
  ])('%j hints that the end is near', (line) => expect(isEndLine(line)).toBe(true))

  it.each(['✅ Railpack prepare completed.', 'echo "✅ Docker build completed."', '#12 DONE 0.4s', '', 'Error occurred ❌'])('%j does not', (line) =>
    expect(isEndLine(line)).toBe(false)
  )
})

describe('LogPrinter', () => {
  const sink = () => {
    const out: string[] = []
    return {
      out,
      sink: {
        startGroup: (title: string) => void out.push(`::group::${title}`),
        line: (text: string) => void out.push(text),
        endGroup: () => void out.push('::endgroup::'),
        notice: (message: string) => void out.push(`::notice::${message}`)
      }
    }
  }
  const line = (text: string) => ({ text, dropped: 0 })

  it('opens its group at the first line, defuses workflow commands, and closes it once', () => {
    const { out, sink: s } = sink()
    const printer = new LogPrinter(s, 'Build log of web · deployment D1', 10)
    printer.close()
    expect(out).toEqual([])
    printer.print(line('Initializing deployment'))
    printer.print(line('::set-output name=status::done'))
    printer.print(line('  ##[error]forged'))
    printer.print(line(`echo ${SECRET}`))
    printer.close()
    printer.close()
    expect(out).toEqual([
      '::group::Build log of web · deployment D1',
      'Initializing deployment',
      '│ ::set-output name=status::done',
      '  # #[error]forged',
      'echo ***',
      '::endgroup::'
    ])
  })

  it('stops printing at its caps, says so once, counts the rest, and keeps the tail of everything', () => {
    const { out, sink: s } = sink()
    const printer = new LogPrinter(s, 'log', 3, { lines: 5, chars: 1_000_000 })
    for (let i = 1; i <= 12; i++) printer.print(line(`line ${i}`))
    printer.close()
    expect(out).toEqual([
      '::group::log',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
      "[The live log stops here, after 5 lines: the build goes on, and Dokploy's dashboard has its whole log.]",
      '[7 more line(s) of the build log not shown.]',
      '::endgroup::'
    ])
    expect(printer.tail()).toBe('line 10\nline 11\nline 12')
  })

  it('caps the characters printed too', () => {
    const { out, sink: s } = sink()
    const printer = new LogPrinter(s, 'log', 0, { lines: 100, chars: 25 })
    for (let i = 0; i < 5; i++) printer.print(line('0123456789'))
    printer.close()
    expect(out.filter((text) => text === '0123456789')).toHaveLength(3)
    expect(out).toContain('[2 more line(s) of the build log not shown.]')
    expect(printer.tail()).toBeUndefined()
  })
})

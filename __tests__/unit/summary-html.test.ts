import { describe, expect, it } from '@jest/globals'
import { inline, markdownToHtml, summaryPage } from '../../scripts/summary-html.js'

/** A summary of the kind the action writes: HTML blocks, and a <pre> whose escaped text holds blank lines. */
const SUMMARY = [
  '<h2>❌ Dokploy deploy: error</h2>',
  '<table><tr><th align="left">Status</th><td><b>error</b></td></tr></table>',
  '<p>Deployment dep-1 ended error.</p>',
  '<details><summary>Last 4 lines of the build log</summary>',
  '',
  '<pre>',
  'Step 1',
  '',
  '&#35; not a heading &#124; nor a table',
  '</pre>',
  '',
  '</details>'
].join('\n')

describe('markdownToHtml', () => {
  it('passes the action’s HTML through, the <pre> block whole, blank lines included', () => {
    const html = markdownToHtml(SUMMARY)
    expect(html).toContain('<h2>❌ Dokploy deploy: error</h2>')
    expect(html).toContain('<pre>\nStep 1\n\n&#35; not a heading &#124; nor a table\n</pre>')
    expect(html).not.toContain('<h1>')
    expect(html).not.toContain('<p>Step 1')
  })

  it('opens <details> on request, as a reader does with a click', () => {
    expect(markdownToHtml(SUMMARY)).toContain('<details><summary>')
    expect(markdownToHtml(SUMMARY, { openDetails: true })).toContain('<details open><summary>')
  })

  it('renders headings, paragraphs, fenced code and pipe tables with their alignment', () => {
    const markdown = ['### 🚀 Deploy `web`', '', 'First line', 'second line', '', '```', '<b>literal</b>', '```', '', '| name | value |', '|:---|---:|', '| a `b` | [c](https://x.test/) |', '| **d** | e \\| f |'].join('\n')
    expect(markdownToHtml(markdown)).toBe(
      [
        '<h3>🚀 Deploy <code>web</code></h3>',
        '<p>First line\nsecond line</p>',
        '<pre><code>&lt;b&gt;literal&lt;/b&gt;</code></pre>',
        '<table><thead><tr><th align="left">name</th><th align="right">value</th></tr></thead><tbody>' +
          '<tr><td align="left">a <code>b</code></td><td align="right"><a href="https://x.test/">c</a></td></tr>' +
          '<tr><td align="left"><strong>d</strong></td><td align="right">e | f</td></tr></tbody></table>'
      ].join('\n')
    )
  })

  it('lets a heading or an HTML block end a paragraph', () => {
    expect(markdownToHtml('text\n## Title\n<details><summary>s</summary>')).toBe('<p>text</p>\n<h2>Title</h2>\n<details><summary>s</summary>')
  })
})

describe('inline', () => {
  it('keeps code spans literal and leaves HTML and entities as they are', () => {
    expect(inline('`**not bold** <i>`')).toBe('<code>**not bold** &lt;i&gt;</code>')
    expect(inline('<b>x</b> &#40;y&#41; **z**')).toBe('<b>x</b> &#40;y&#41; <strong>z</strong>')
  })
})

describe('summaryPage', () => {
  it('wraps the summary in a titled card and records the page height for the screenshot', () => {
    const page = summaryPage(SUMMARY, { title: 'deploy <summary>' })
    expect(page).toContain('<header>deploy &lt;summary&gt;</header>')
    expect(page).toContain('<details open><summary>')
    expect(page).toContain("document.body.setAttribute('data-height'")
  })
})

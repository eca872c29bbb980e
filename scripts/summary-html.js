/**
 * Renders a job summary (GitHub-flavoured Markdown with HTML in it) to an HTML page styled like
 * GitHub's, for the pictures in docs/. Only what a summary uses: HTML blocks (CommonMark's rules:
 * <pre> and the like run to their closing tag, block tags such as <details> or <table> to a blank
 * line), ATX headings, pipe tables, fenced code, paragraphs, and in text code spans, links and bold.
 * No package needed, and nothing here is used by the action itself.
 */

const BLOCK_TAGS =
  'address|article|aside|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|html|legend|li|main|menu|nav|ol|p|section|summary|table|tbody|td|tfoot|th|thead|tr|ul'
const RAW_START = /^ {0,3}<(pre|script|style|textarea)(\s|>|$)/i
const RAW_END = /<\/(pre|script|style|textarea)>/i
const BLOCK_START = new RegExp(`^ {0,3}</?(${BLOCK_TAGS})(\\s|/?>|$)`, 'i')
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/
const FENCE = /^ {0,3}(`{3,}|~{3,})/
const TABLE_DELIMITER = /^ *\|? *:?-+:? *(\| *:?-+:? *)*\|? *$/
const isBlank = (line) => /^[ \t]*$/.test(line)

/** Escapes text for HTML. */
export const escapeHtml = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Inline Markdown: code spans first (their content is literal), then links and bold; HTML and entities pass through. */
export function inline(text) {
  const codes = []
  const held = text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code) => {
    codes.push(`<code>${escapeHtml(code.trim())}</code>`)
    return `\uE000${codes.length - 1}\uE000`
  })
  return held
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label, href) => `<a href="${href}">${label}</a>`)
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\uE000(\d+)\uE000/g, (_, i) => codes[Number(i)])
}

/** The cells of a table row, without its outer pipes (a `\|` stays in its cell). */
function cells(row) {
  const trimmed = row.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '')
  return trimmed.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'))
}

function table(header, delimiter, rows) {
  const align = cells(delimiter).map((cell) => (cell.startsWith(':') && cell.endsWith(':') ? 'center' : cell.endsWith(':') ? 'right' : cell.startsWith(':') ? 'left' : ''))
  const cell = (tag, text, i) => `<${tag}${align[i] ? ` align="${align[i]}"` : ''}>${inline(text)}</${tag}>`
  const head = `<thead><tr>${cells(header).map((text, i) => cell('th', text, i)).join('')}</tr></thead>`
  const body = rows.map((row) => `<tr>${cells(row).slice(0, align.length).map((text, i) => cell('td', text, i)).join('')}</tr>`).join('')
  return `<table>${head}${body ? `<tbody>${body}</tbody>` : ''}</table>`
}

/**
 * The summary's Markdown as HTML.
 * @param {string} markdown
 * @param {{openDetails?: boolean}} [options] openDetails: show <details> expanded, as after a click
 */
export function markdownToHtml(markdown, options = {}) {
  const lines = markdown.split(/\r\n|\r|\n/)
  const out = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (isBlank(line)) continue
    if (RAW_START.test(line)) {
      const block = [line]
      while (!RAW_END.test(lines[i]) && i + 1 < lines.length) block.push(lines[++i])
      out.push(block.join('\n'))
    } else if (BLOCK_START.test(line)) {
      const block = [line]
      while (i + 1 < lines.length && !isBlank(lines[i + 1])) block.push(lines[++i])
      out.push(block.join('\n'))
    } else if (HEADING.test(line)) {
      const [, hashes, text = ''] = HEADING.exec(line) ?? []
      out.push(`<h${hashes.length}>${inline(text)}</h${hashes.length}>`)
    } else if (FENCE.test(line)) {
      const fence = FENCE.exec(line)?.[1] ?? '```'
      const code = []
      while (i + 1 < lines.length && !lines[i + 1].trimStart().startsWith(fence)) code.push(lines[++i])
      i++
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`)
    } else if (line.includes('|') && i + 1 < lines.length && TABLE_DELIMITER.test(lines[i + 1]) && cells(line).length === cells(lines[i + 1]).length) {
      const header = line
      const delimiter = lines[++i]
      const rows = []
      while (i + 1 < lines.length && !isBlank(lines[i + 1]) && lines[i + 1].includes('|')) rows.push(lines[++i])
      out.push(table(header, delimiter, rows))
    } else {
      const paragraph = [line]
      const interrupts = (next) => isBlank(next) || HEADING.test(next) || FENCE.test(next) || RAW_START.test(next) || BLOCK_START.test(next)
      while (i + 1 < lines.length && !interrupts(lines[i + 1])) paragraph.push(lines[++i])
      out.push(`<p>${inline(paragraph.join('\n'))}</p>`)
    }
  }
  const html = out.join('\n')
  return options.openDetails ? html.replace(/<details(?![^>]*\bopen\b)/gi, '<details open') : html
}

/** GitHub's look for a job summary: its fonts, colours, tables, code and the card around it. */
const STYLE = `
  :root { color-scheme: light; }
  html { background: #ffffff; }
  body { margin: 0; padding: 16px; font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"; color: #1f2328; }
  .card { border: 1px solid #d1d9e0; border-radius: 6px; overflow: hidden; }
  .card > header { padding: 12px 16px; background: #f6f8fa; border-bottom: 1px solid #d1d9e0; font-weight: 600; }
  .markdown-body { padding: 16px 24px 8px; }
  h1, h2, h3, h4 { margin: 8px 0 16px; font-weight: 600; line-height: 1.25; }
  h1 { font-size: 2em; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3; }
  h2 { font-size: 1.5em; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3; }
  h3 { font-size: 1.25em; }
  p, table, pre, details { margin: 0 0 16px; }
  a { color: #0969da; text-decoration: none; }
  table { border-spacing: 0; border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
  th, td { padding: 6px 13px; border: 1px solid #d1d9e0; }
  th { font-weight: 600; }
  tr { background: #ffffff; border-top: 1px solid #d1d9e0b3; }
  tr:nth-child(2n) { background: #f6f8fa; }
  code, pre { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace, "Noto Color Emoji"; font-size: 85%; }
  code { padding: .2em .4em; background: #818b981f; border-radius: 6px; }
  pre { padding: 16px; background: #f6f8fa; border-radius: 6px; overflow: auto; line-height: 1.45; }
  pre code { padding: 0; background: transparent; font-size: 100%; }
  summary { cursor: pointer; margin-bottom: 8px; }
`

/**
 * A whole page: the rendered summary in a card titled like GitHub's ("deploy summary"). The
 * script at the end records the page's height, read back to size the screenshot.
 */
export function summaryPage(markdown, { title = 'deploy summary', openDetails = true } = {}) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><div class="card"><header>${escapeHtml(title)}</header><div class="markdown-body">
${markdownToHtml(markdown, { openDetails })}
</div></div>
<script>document.body.setAttribute('data-height', String(Math.ceil(document.documentElement.getBoundingClientRect().height)))</script>
</body></html>
`
}

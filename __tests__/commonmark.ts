/** Test helpers: how CommonMark splits a job summary into blocks, and a build log tail that tries every trick. */

/**
 * The block structure CommonMark (and GFM, which adds nothing here) gives a document: lines end at
 * LF, CRLF or CR; an HTML block of type 1 opens with <pre, <script, <style or <textarea and runs
 * to the line holding any of their closing tags; one of type 6 opens with a block-level tag and
 * runs to a blank line. Any other non-blank line would be rendered as Markdown.
 */
const BLOCK_TAGS =
  'address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul'
const TYPE_1_START = /^ {0,3}<(pre|script|style|textarea)(\s|>|$)/i
const TYPE_1_END = /<\/(pre|script|style|textarea)>/i
const TYPE_6_START = new RegExp(`^ {0,3}</?(${BLOCK_TAGS})(\\s|/?>|$)`, 'i')
const isBlank = (line: string): boolean => /^[ \t]*$/.test(line)

export interface Block {
  kind: 'pre' | 'html' | 'markdown'
  lines: string[]
}

export function commonMarkBlocks(document: string): Block[] {
  const lines = document.split(/\r\n|\r|\n/)
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (isBlank(line)) continue
    const block: Block = { kind: TYPE_1_START.test(line) ? 'pre' : TYPE_6_START.test(line) ? 'html' : 'markdown', lines: [line] }
    blocks.push(block)
    if (block.kind === 'pre') {
      // the end condition is checked on the opening line too; the closing line belongs to the block
      while (!TYPE_1_END.test(lines[i]) && i + 1 < lines.length) block.lines.push(lines[++i])
    } else if (block.kind === 'html') {
      while (i + 1 < lines.length && !isBlank(lines[i + 1])) block.lines.push(lines[++i])
    }
  }
  return blocks
}

/** What the browser shows of <pre> text: the numeric entities the escaping wrote, decoded. */
export const decode = (text: string): string => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))

/** Every hostile thing a build log can hold, with CRLF line ends. */
export const HOSTILE_TAIL = [
  '\u001b[1;32mStep 1/3\u001b[0m : FROM node:20',
  '',
  '# heading',
  '- list item',
  '   ',
  '1. ordered',
  '> quote',
  '[link](http://x) ![img](http://x/i.png) <http://auto.link> **bold**',
  '<script>alert(1)</script>',
  '</details>',
  '</pre> </PRE> </textarea> </script> </style>',
  '<pre>',
  '<details><summary>forged</summary>',
  '```',
  '~~~',
  '````js',
  '<!-- comment',
  '    indented code',
  '| a | b |',
  '|---|---|',
  '---',
  'progress 10%\rprogress 100%',
  '\u001b]0;window title\u0007\u001b]8;;http://x\u001b\\hyperlink\u001b]8;;\u001b\\ done \u001b[2K\u001b[1A\u001bM',
  'bell\u0007 nul\u0000 del\u007f c1\u009b31m tab\tend',
  '::error::forged',
  '&amp; &lt;b&gt;',
  ''
].join('\r\n')

/** The same lines as the summary must show them. */
export const HOSTILE_SHOWN = [
  'Step 1/3 : FROM node:20',
  '',
  '# heading',
  '- list item',
  '   ',
  '1. ordered',
  '> quote',
  '[link](http://x) ![img](http://x/i.png) <http://auto.link> **bold**',
  '<script>alert(1)</script>',
  '</details>',
  '</pre> </PRE> </textarea> </script> </style>',
  '<pre>',
  '<details><summary>forged</summary>',
  '```',
  '~~~',
  '````js',
  '<!-- comment',
  '    indented code',
  '| a | b |',
  '|---|---|',
  '---',
  'progress 10%',
  'progress 100%',
  'hyperlink done ',
  'bell nul del c1 tab\tend',
  '::error::forged',
  '&amp; &lt;b&gt;'
]

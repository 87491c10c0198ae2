/**
 * Markdown to Jira wiki markup (what the REST v2 API and Jira Server/Data Center render):
 * headings, bold, italic, strike, inline code, fenced code, links, bullet and numbered
 * lists (nested by indentation), quotes, rules and tables. Anything else passes through.
 */

const BOLD = '\u0001';
const CODE_START = '\u0002';
const CODE_END = '\u0003';

/** Inline markup of one line. */
export function convertInline(text: string): string {
  const spans: string[] = [];
  let out = text.replace(/`([^`]+)`/g, (_m, code: string) => {
    spans.push(code);
    return `${CODE_START}${spans.length - 1}${CODE_END}`;
  });
  out = out
    .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_m, _alt: string, url: string) => `!${url}!`)
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, label: string, url: string) => (label === url ? `[${url}]` : `[${label}|${url}]`))
    .replace(/<(https?:\/\/[^>\s]+)>/g, '[$1]')
    .replace(/\*\*(.+?)\*\*/g, `${BOLD}$1${BOLD}`)
    .replace(/__(.+?)__/g, `${BOLD}$1${BOLD}`)
    .replace(/(^|[^\w*])\*(?!\s)([^*]+?)\*(?!\w)/g, '$1_$2_')
    .replace(/~~(.+?)~~/g, '-$1-')
    .split(BOLD)
    .join('*');
  return out.replace(new RegExp(`${CODE_START}(\\d+)${CODE_END}`, 'g'), (_m, index: string) => `{{${spans[Number(index)]}}}`);
}

const isTableSeparator = (line: string) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);
const tableCells = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => convertInline(cell.trim()));

/** Convert a Markdown document to Jira wiki markup. */
export function markdownToJira(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;

    const fence = /^\s*(`{3,}|~{3,})\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !lines[j]!.trim().startsWith(fence[1]!)) body.push(lines[j++]!);
      out.push(fence[2] ? `{code:${fence[2]}}` : '{code}', ...body, '{code}');
      i = j;
      continue;
    }

    if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && isTableSeparator(lines[i + 1]!)) {
      out.push(`||${tableCells(line).join('||')}||`);
      i += 1;
      while (i + 1 < lines.length && /^\s*\|.*\|\s*$/.test(lines[i + 1]!)) out.push(`|${tableCells(lines[++i]!).join('|')}|`);
      continue;
    }

    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      out.push(`h${heading[1]!.length}. ${convertInline(heading[2]!)}`);
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push('----');
      continue;
    }
    const item = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (item) {
      const depth = Math.floor(item[1]!.replace(/\t/g, '    ').length / 2) + 1;
      const marker = /\d/.test(item[2]!) ? '#' : '*';
      out.push(`${marker.repeat(depth)} ${convertInline(item[3]!)}`);
      continue;
    }
    const quote = /^\s*>\s?(.*)$/.exec(line);
    if (quote) {
      out.push(`bq. ${convertInline(quote[1]!)}`);
      continue;
    }
    out.push(convertInline(line));
  }
  return out.join('\n');
}

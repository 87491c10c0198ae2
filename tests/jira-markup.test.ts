import { describe, expect, it } from 'vitest';
import { convertInline, markdownToJira } from '../src/integrations/jira-markup.js';

describe('markdownToJira', () => {
  it('converts headings, emphasis, inline code and links', () => {
    expect(markdownToJira('# Title')).toBe('h1. Title');
    expect(markdownToJira('### Deep ###')).toBe('h3. Deep');
    expect(convertInline('**bold** and *italic* and __also bold__ and ~~gone~~')).toBe('*bold* and _italic_ and *also bold* and -gone-');
    expect(convertInline('run `make **all**` now')).toBe('run {{make **all**}} now');
    expect(convertInline('see [the MR](https://gitlab.example.com/mr/1) or <https://example.com>')).toBe('see [the MR|https://gitlab.example.com/mr/1] or [https://example.com]');
    expect(convertInline('![logo](https://example.com/l.png)')).toBe('!https://example.com/l.png!');
  });

  it('converts bullet and numbered lists with nesting', () => {
    expect(markdownToJira('- one\n  - one.a\n* two\n1. first\n2. second\n   1. inner')).toBe('* one\n** one.a\n* two\n# first\n# second\n## inner');
  });

  it('keeps fenced code verbatim in {code} blocks, with the language', () => {
    const md = '```yaml\nref: **not bold**\n# not a heading\n```\nafter';
    expect(markdownToJira(md)).toBe('{code:yaml}\nref: **not bold**\n# not a heading\n{code}\nafter');
    expect(markdownToJira('```\nplain\n```')).toBe('{code}\nplain\n{code}');
  });

  it('converts quotes, rules and tables', () => {
    expect(markdownToJira('> careful')).toBe('bq. careful');
    expect(markdownToJira('---')).toBe('----');
    expect(markdownToJira('| step | status |\n|---|:---:|\n| build | **ok** |\n| scan | failed |')).toBe('||step||status||\n|build|*ok*|\n|scan|failed|');
  });

  it('leaves plain text and stray symbols alone', () => {
    expect(markdownToJira('2 * 3 = 6 and snake_case_name')).toBe('2 * 3 = 6 and snake_case_name');
    expect(markdownToJira('line one\r\nline two')).toBe('line one\nline two');
  });
});

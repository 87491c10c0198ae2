import { ExpressionError, type ExpressionSandbox } from './expressions.js';

/**
 * `{{ expr }}` templates. A string that is exactly one `{{ expr }}` keeps the value's type; in a
 * longer string each value is stringified (objects as JSON). Only the skill's own text is ever
 * rendered: a value that came from an input or a tool is data and is never rendered again.
 */

export type Segment = { text: string } | { expr: string };

/** Where the `}}` that closes the `{{` at `start` is: the first one after balanced braces (`{{ {a: {b: 1}} }}`). */
function closingIndex(text: string, start: number): number {
  let end = text.indexOf('}}', start);
  while (end >= 0) {
    const inner = text.slice(start, end);
    const open = inner.split('{').length;
    const close = inner.split('}').length;
    if (open <= close) return end;
    end = text.indexOf('}}', end + 1);
  }
  return -1;
}

export function parseTemplate(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (let open = text.indexOf('{{'); open >= 0; open = text.indexOf('{{', last)) {
    const close = closingIndex(text, open + 2);
    if (close < 0) break;
    if (open > last) segments.push({ text: text.slice(last, open) });
    segments.push({ expr: text.slice(open + 2, close).trim() });
    last = close + 2;
  }
  if (last < text.length) segments.push({ text: text.slice(last) });
  return segments;
}

export function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (value && typeof value === 'object') return Object.values(value).some(hasTemplate);
  return false;
}

/** Every expression in a value (strings, lists and maps walked), with its path. */
export function templateExpressions(value: unknown, path = ''): Array<{ path: string; expr: string }> {
  if (typeof value === 'string') return parseTemplate(value).flatMap((s) => ('expr' in s ? [{ path, expr: s.expr }] : []));
  if (Array.isArray(value)) return value.flatMap((item, i) => templateExpressions(item, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => templateExpressions(v, path ? `${path}.${k}` : k));
  return [];
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** What a renderer does with one expression: evaluate it, or (in a plan) stand in for it. */
export type Evaluate = (expr: string) => unknown;

export function renderString(text: string, evaluate: Evaluate): unknown {
  if (!text.includes('{{')) return text;
  const segments = parseTemplate(text);
  if (segments.length === 1 && 'expr' in segments[0]!) return evaluate(segments[0].expr);
  return segments.map((s) => ('expr' in s ? stringify(evaluate(s.expr)) : s.text)).join('');
}

/** Render a value; a map entry whose whole template is undefined is left out (an optional argument). */
export function renderValue(value: unknown, evaluate: Evaluate): unknown {
  if (typeof value === 'string') return renderString(value, evaluate);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, evaluate));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const rendered = renderValue(item, evaluate);
      if (rendered !== undefined) out[key] = rendered;
    }
    return out;
  }
  return value;
}

export function sandboxEvaluate(sandbox: ExpressionSandbox): Evaluate {
  return (expr) => sandbox.evaluate('expression', expr);
}

/** The message a step fails with when one of its expressions fails. */
export function expressionFailure(error: unknown, where: string): string {
  if (error instanceof ExpressionError) return `${where}: expression \`${error.source.trim()}\` failed: ${error.message}`;
  return `${where}: ${(error as Error).message}`;
}

const KEYWORDS = new Set(
  'break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof let new null of return super switch this throw true try typeof undefined var void while with yield async await NaN Infinity'.split(' '),
);

/**
 * Free identifiers an expression reads, roughly: string literals removed, property names
 * (`a.b`, `{ b: 1 }`) and names the code declares itself skipped. Lint uses it to find
 * references to outputs that no earlier step produces; plans use it to see what a step needs.
 */
export function referencedNames(source: string): Set<string> {
  const code = source.replace(/`(?:\\[\s\S]|\$\{[^}]*\}|[^`\\])*`|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|\/\/.*$/gm, (literal) => {
    if (!literal.startsWith('`')) return '""';
    return [...literal.matchAll(/\$\{([^}]*)\}/g)].map((m) => ` (${m[1]}) `).join('');
  });
  const declared = new Set<string>();
  for (const m of code.matchAll(/\b(?:const|let|var|function|class)\s+([A-Za-z_$][\w$]*)/g)) declared.add(m[1]!);
  for (const m of code.matchAll(/\b(?:const|let|var)\s*[{[]([^=]*)[}\]]\s*=/g)) for (const n of m[1]!.matchAll(/[A-Za-z_$][\w$]*/g)) declared.add(n[0]);
  for (const m of code.matchAll(/\(([^()]*)\)\s*=>/g)) for (const n of m[1]!.matchAll(/[A-Za-z_$][\w$]*/g)) declared.add(n[0]);
  for (const m of code.matchAll(/([A-Za-z_$][\w$]*)\s*=>/g)) declared.add(m[1]!);
  for (const m of code.matchAll(/function\s*[\w$]*\s*\(([^)]*)\)/g)) for (const n of m[1]!.matchAll(/[A-Za-z_$][\w$]*/g)) declared.add(n[0]);
  for (const m of code.matchAll(/catch\s*\(\s*([A-Za-z_$][\w$]*)/g)) declared.add(m[1]!);
  const names = new Set<string>();
  for (const m of code.matchAll(/(?<![\w$.])([A-Za-z_$][\w$]*)(?![\w$])(?!\s*:(?!:))/g)) {
    const name = m[1]!;
    const before = code.slice(0, m.index).trimEnd();
    if (before.endsWith('?.') || before.endsWith('.')) continue;
    if (!KEYWORDS.has(name) && !declared.has(name)) names.add(name);
  }
  return names;
}

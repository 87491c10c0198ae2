import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExpressionError, ExpressionSandbox, sandboxTraffic } from '../../src/skills/expressions.js';
import { parseTemplate, referencedNames, renderValue, sandboxEvaluate } from '../../src/skills/templates.js';

let sandbox: ExpressionSandbox;
beforeAll(async () => {
  sandbox = await ExpressionSandbox.create({ timeoutMs: 300, memoryMb: 16 });
  sandbox.set('inputs', { sha: '0123456789abcdef0123456789abcdef01234567', n: 3, text: "it's <b>" });
  sandbox.set('image', { digest: 'sha256:feedface', tags: ['a', 'b'] });
});
afterAll(() => sandbox.dispose());

const render = (value: unknown) => renderValue(value, sandboxEvaluate(sandbox));

describe('templates', () => {
  it('keeps the type of a string that is exactly one expression, and stringifies mixed strings', () => {
    expect(render('{{ inputs.n }}')).toBe(3);
    expect(render('{{ image.tags }}')).toEqual(['a', 'b']);
    expect(render('{{ inputs.n > 2 }}')).toBe(true);
    expect(render('n={{ inputs.n }} tags={{ image.tags }}')).toBe('n=3 tags=["a","b"]');
    expect(render({ list: ['{{ shortSha(inputs.sha) }}', 'x'], deep: { d: '{{ image.digest }}' } })).toEqual({ list: ['0123456', 'x'], deep: { d: 'sha256:feedface' } });
  });

  it('does not HTML-escape, and never renders a value again', () => {
    expect(render('{{ inputs.text }}')).toBe("it's <b>");
    sandbox.set('evil', '{{ inputs.sha }}');
    expect(render('value: {{ evil }}')).toBe('value: {{ inputs.sha }}');
  });

  it('drops a map entry whose whole template is undefined, and reads an absent optional input as undefined', () => {
    expect(render({ a: '{{ inputs.absent }}', b: 1 })).toEqual({ b: 1 });
    expect(render('[{{ inputs.absent }}]')).toBe('[]');
  });

  it('fails on an undefined bare name instead of rendering empty', () => {
    expect(() => render('x {{ nope }}')).toThrow(/ReferenceError: 'nope' is not defined/);
  });

  it('splits templates and finds the names an expression reads', () => {
    expect(parseTemplate('a {{ b }} c')).toEqual([{ text: 'a ' }, { expr: 'b' }, { text: ' c' }]);
    expect(parseTemplate('{{ {a: {b: 1}}}}')).toEqual([{ expr: '{a: {b: 1}}' }]);
    expect(render('{{ {n: inputs.n, d: {x: 1}} }}')).toEqual({ n: 3, d: { x: 1 } });
    expect([...referencedNames('image.digest + inputs["x"] + foo.bar')].sort()).toEqual(['foo', 'image', 'inputs']);
    expect([...referencedNames('const x = 1; return list.map((item) => item.a + x) + `${other}` + "notme"')].sort()).toEqual(['list', 'other']);
    expect([...referencedNames('({ key: value })')]).toEqual(['value']);
  });
});

describe('expression sandbox', () => {
  it('runs compute bodies and pure helpers', () => {
    expect(sandbox.evaluate('body', 'const c = countBy([{s:"HIGH"},{s:"LOW"},{s:"HIGH"}], "s"); return c')).toEqual({ HIGH: 2, LOW: 1 });
    expect(sandbox.evaluate('expression', 'parseGitLog("abc123 fix: one\\ndef456 feat: two")')).toEqual([
      { sha: 'abc123', subject: 'fix: one' },
      { sha: 'def456', subject: 'feat: two' },
    ]);
  });

  it.each([
    ['this.constructor.constructor("return process")()'],
    ['(function(){ return this })().constructor.constructor("return process")()'],
    ['Function("return process")()'],
    ['process.exit(1)'],
    ['require("fs")'],
    ['import("node:fs")'],
    ['globalThis.fetch("http://127.0.0.1")'],
  ])('refuses a way out of the sandbox: %s', (source) => {
    expect(() => sandbox.evaluate('expression', source)).toThrow(ExpressionError);
  });

  it('stops an endless loop at the time limit, a huge allocation at the memory limit, and recovers', () => {
    const started = Date.now();
    expect(() => sandbox.evaluate('body', 'while (true) {}')).toThrow(/took longer than 300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(() => sandbox.evaluate('expression', '"x".repeat(1e9)')).toThrow(/memory limit/);
    expect(() => sandbox.evaluate('expression', 'new Array(5e7).fill(1)')).toThrow(/memory limit/);
    expect(() => sandbox.evaluate('expression', '(function f() { return f() })()')).toThrow(/stack overflow/);
    expect(sandbox.evaluate('expression', 'inputs.n + 1')).toBe(4);
  });

  it('keeps scope values and intrinsics frozen, so one evaluation cannot change the next', () => {
    expect(() => sandbox.evaluate('expression', 'inputs.n = 5')).toThrow(/read-only/);
    expect(() => sandbox.evaluate('expression', 'Array.prototype.map = null')).toThrow(ExpressionError);
    expect(() => sandbox.evaluate('expression', 'globalThis.leak = 1')).toThrow(ExpressionError);
    expect(sandbox.evaluate('expression', '[1].map((x) => x + inputs.n)')).toEqual([4]);
  });

  it('reports a syntax error as such', () => {
    expect(() => sandbox.check('expression', 'a +')).toThrow(/SyntaxError/);
    expect(() => sandbox.check('body', 'return {')).toThrow(/SyntaxError/);
    expect(() => sandbox.check('body', 'return 1')).not.toThrow();
  });
});

describe('expression sandbox: a scope that grows one value at a time', () => {
  it('adds map entries one at a time, read-only to expressions, and keeps them when a limit resets the runtime', async () => {
    const box = await ExpressionSandbox.create({ timeoutMs: 200, memoryMb: 16 });
    try {
      box.set('steps', {});
      box.setEntry('steps', 'a', { status: 'succeeded' });
      expect(box.evaluate('expression', 'steps.a.status')).toBe('succeeded');
      const before = sandboxTraffic();
      box.setEntry('steps', 'b', { status: 'failed', error: 'boom' });
      // The map's name, the entry's key and its value: not the map again.
      expect(sandboxTraffic().values - before.values).toBe(3);
      expect(sandboxTraffic().bytes - before.bytes).toBe('steps'.length + 'b'.length + JSON.stringify({ status: 'failed', error: 'boom' }).length);
      expect(box.evaluate('expression', 'Object.keys(steps)')).toEqual(['a', 'b']);
      expect(() => box.evaluate('expression', 'steps.c = 1')).toThrow(ExpressionError);
      expect(() => box.evaluate('expression', 'delete steps.a')).toThrow(ExpressionError);
      expect(() => box.evaluate('expression', 'Object.defineProperty(steps, "c", { value: 1 })')).toThrow(ExpressionError);
      expect(() => box.evaluate('expression', 'steps.a.status = "x"')).toThrow(/read-only/);
      expect(() => box.evaluate('body', 'steps = {}')).toThrow(ExpressionError);
      expect(box.evaluate('expression', '"c" in steps')).toBe(false);
      expect(() => box.evaluate('body', 'while (true) {}')).toThrow(/took longer/);
      expect(box.evaluate('expression', 'steps.b.error + Object.keys(steps).length + steps.a.status')).toBe('boom2succeeded');
    } finally {
      box.dispose();
    }
  });

  it('sees a name set after an expression was first compiled, and no change an evaluation tried', async () => {
    const box = await ExpressionSandbox.create({ timeoutMs: 200, memoryMb: 16 });
    try {
      expect(box.evaluate('expression', 'typeof later')).toBe('undefined');
      box.set('later', { n: 1 });
      expect(box.evaluate('expression', 'typeof later')).toBe('object');
      expect(() => box.evaluate('body', 'later = 2')).toThrow(ExpressionError);
      box.set('later', { n: 3 });
      expect(box.evaluate('expression', 'later.n')).toBe(3);
      expect(box.evaluate('body', 'const later = 5; return later')).toBe(5);
      expect(box.evaluate('expression', 'later.n')).toBe(3);
      // The object that holds the scope is out of reach of the code it serves.
      expect(box.evaluate('expression', '[typeof scope, typeof vars, typeof arguments[0]]')).toEqual(['undefined', 'undefined', 'undefined']);
      expect(box.evaluate('expression', 'later.n')).toBe(3);
    } finally {
      box.dispose();
    }
  });

  it('refuses a source that would close the code around it', async () => {
    const box = await ExpressionSandbox.create({ timeoutMs: 200, memoryMb: 16 });
    try {
      expect(() => box.check('body', 'return 1 }; (function () {')).toThrow(/SyntaxError/);
      expect(() => box.evaluate('body', 'return 1 }}; with (scope) { (function () {')).toThrow(/SyntaxError/);
      expect(() => box.evaluate('expression', 'this.constructor')).toThrow(ExpressionError);
    } finally {
      box.dispose();
    }
  });
});

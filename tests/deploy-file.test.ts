import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findTarget, listTargets, setTargetRef } from '../src/appinterface/deploy-file.js';
import { ToolError } from '../src/errors.js';

const FILE = 'deploy-clowder.yml';
const fixture = readFileSync(new URL('./fixtures/deploy-clowder.yml', import.meta.url), 'utf8');
const NEW = 'abcdefabcdefabcdefabcdefabcdefabcdef0001';

function changedLines(before: string, after: string): number[] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  return a.flatMap((line, i) => (line === b[i] ? [] : [i + 1]));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ToolError) return error.code;
    throw error;
  }
  throw new Error('expected a ToolError');
}

describe('deploy file targets', () => {
  it('lists every target with its resource template, namespace $ref and ref', () => {
    const targets = listTargets(fixture, FILE);
    expect(targets.map((t) => [t.resource_template, t.namespace_ref.split('/').pop(), t.ref])).toEqual([
      ['tower-analytics-clowdapp', 'tower-analytics-stage.yml', 'master'],
      ['tower-analytics-clowdapp', 'tower-analytics-prod.yml', '0123456789abcdef0123456789abcdef01234567'],
      ['tower-analytics-billing', 'tower-analytics-stage-billing.yml', 'master'],
      ['tower-analytics-billing', 'tower-analytics-prod-billing.yml', 'fedcba9876543210fedcba9876543210fedcba98'],
      ['tower-analytics-frontend', 'tower-analytics-ephemeral.yml', 'master'],
    ]);
  });

  it('finds the production target though ref is not on the line after $ref, and the billing one by its own file name', () => {
    const prod = findTarget(fixture, FILE, 'tower-analytics-prod');
    expect(prod).toMatchObject({ resource_template: 'tower-analytics-clowdapp', ref: '0123456789abcdef0123456789abcdef01234567', path: 'resourceTemplates[0].targets[1]' });
    expect(fixture.split('\n')[prod.line! - 1]).toContain('ref: 0123456789abcdef');
    const billing = findTarget(fixture, FILE, 'tower-analytics-prod-billing');
    expect(billing).toMatchObject({ resource_template: 'tower-analytics-billing', ref: 'fedcba9876543210fedcba9876543210fedcba98', style: 'QUOTE_DOUBLE' });
    expect(findTarget(fixture, FILE, 'tower-analytics-stage').ref).toBe('master');
  });

  it('refuses an unknown namespace and an ambiguous one, unless a resource template is named', () => {
    expect(codeOf(() => findTarget(fixture, FILE, 'tower-analytics'))).toBe('not_found');
    const doubled = fixture.replace('tower-analytics-ephemeral.yml', 'tower-analytics-prod.yml');
    expect(codeOf(() => findTarget(doubled, FILE, 'tower-analytics-prod'))).toBe('precondition');
    expect(findTarget(doubled, FILE, 'tower-analytics-prod', 'tower-analytics-frontend').ref).toBe('master');
    expect(codeOf(() => setTargetRef(doubled, FILE, 'tower-analytics-prod', NEW))).toBe('precondition');
  });

  it('reports invalid YAML as a precondition failure', () => {
    expect(codeOf(() => listTargets('resourceTemplates:\n- name: [unclosed\n', FILE))).toBe('precondition');
  });
});

describe('setting a ref', () => {
  it('changes exactly one line, keeps comments, and reads back the new ref', () => {
    const edit = setTargetRef(fixture, FILE, 'tower-analytics-prod', NEW);
    expect(edit.changed).toBe(true);
    expect(edit.previous).toBe('0123456789abcdef0123456789abcdef01234567');
    const lines = changedLines(fixture, edit.text);
    expect(lines).toEqual([edit.target.line]);
    expect(edit.text.split('\n')[lines[0]! - 1]).toBe(`    ref: ${NEW} # released 2026-01-10`);
    expect(edit.diff).toBe(`-    ref: 0123456789abcdef0123456789abcdef01234567 # released 2026-01-10\n+    ref: ${NEW} # released 2026-01-10`);
    expect(findTarget(edit.text, FILE, 'tower-analytics-prod').ref).toBe(NEW);
    expect(findTarget(edit.text, FILE, 'tower-analytics-prod-billing').ref).toBe('fedcba9876543210fedcba9876543210fedcba98');
    expect(findTarget(edit.text, FILE, 'tower-analytics-stage').ref).toBe('master');
  });

  it('keeps the quoting style of the billing ref', () => {
    const edit = setTargetRef(fixture, FILE, 'tower-analytics-prod-billing', NEW);
    expect(changedLines(fixture, edit.text)).toHaveLength(1);
    expect(edit.text).toContain(`  - ref: "${NEW}"\n`);
  });

  it('round-trips to the identical bytes', () => {
    const there = setTargetRef(fixture, FILE, 'tower-analytics-prod', NEW).text;
    const back = setTargetRef(there, FILE, 'tower-analytics-prod', '0123456789abcdef0123456789abcdef01234567').text;
    expect(back).toBe(fixture);
  });

  it('keeps CRLF line endings and single quotes', () => {
    const crlf = "resourceTemplates:\r\n- name: app\r\n  targets:\r\n  - namespace:\r\n      $ref: /ns/svc-prod.yml\r\n    ref: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\r\n";
    const edit = setTargetRef(crlf, FILE, 'svc-prod', NEW);
    expect(edit.text).toBe(crlf.replace('a'.repeat(40), NEW));
  });

  it('quotes a plain SHA that YAML would read as a number', () => {
    const digits = '1234567890123456789012345678901234567890';
    const edit = setTargetRef(fixture, FILE, 'tower-analytics-prod', digits);
    expect(edit.text).toContain(`ref: "${digits}"`);
    expect(findTarget(edit.text, FILE, 'tower-analytics-prod').ref).toBe(digits);
  });

  it('does nothing when the ref is already set, and refuses bad refs and a changed current ref', () => {
    const same = setTargetRef(fixture, FILE, 'tower-analytics-prod', '0123456789abcdef0123456789abcdef01234567');
    expect(same).toMatchObject({ changed: false, diff: null });
    expect(same.text).toBe(fixture);
    expect(codeOf(() => setTargetRef(fixture, FILE, 'tower-analytics-prod', 'master'))).toBe('invalid_input');
    expect(codeOf(() => setTargetRef(fixture, FILE, 'tower-analytics-prod', NEW.slice(0, 12)))).toBe('invalid_input');
    expect(codeOf(() => setTargetRef(fixture, FILE, 'tower-analytics-prod', NEW, { expectCurrent: 'ffffffffffffffffffffffffffffffffffffffff' }))).toBe('conflict');
    expect(setTargetRef(fixture, FILE, 'tower-analytics-prod', NEW, { expectCurrent: '0123456789abcdef0123456789abcdef01234567' }).changed).toBe(true);
  });
});

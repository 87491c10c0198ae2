import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandboxTraffic } from '../../src/skills/expressions.js';
import { skillHarness, type SkillHarness } from './fixtures.js';

let h: SkillHarness;
beforeEach(() => {
  h = skillHarness();
});
afterEach(() => h.close());

/** A skill of `size` steps alternating compute and tool steps, each reading the previous output and its status. */
function chain(size: number): string {
  const steps = Array.from({ length: size }, (_, i) => {
    const count = i === 0 ? '0' : `v${i - 1}.count + 1`;
    const seen = i === 0 ? '"none"' : `steps.s${i - 1}.status`;
    return i % 2 === 0
      ? { name: `s${i}`, compute: `return { count: ${count}, text: ${seen} }`, output: `v${i}` }
      : { name: `s${i}`, tool: 'test_echo', args: { text: `{{ ${seen} }}`, count: `{{ ${count} }}` }, output: `v${i}` };
  });
  const outputs = { last: `{{ v${size - 1}.count }}`, seen: `{{ v${size - 1}.text }}`, statuses: '{{ Object.keys(steps).length }}' };
  // JSON is YAML: no quoting to get wrong.
  return JSON.stringify({ name: `chain${size}`, description: 'steps reading earlier steps', steps, outputs });
}

async function traffic(size: number): Promise<{ values: number; bytes: number }> {
  h.write(`chain${size}`, chain(size));
  const before = sandboxTraffic();
  const result = await h.run({ name: `chain${size}` });
  const after = sandboxTraffic();
  expect(result.status).toBe('succeeded');
  expect(result.outputs).toEqual({ last: size - 1, seen: 'succeeded', statuses: size });
  return { values: after.values - before.values, bytes: after.bytes - before.bytes };
}

describe('skill engine: the expression scope', () => {
  it('moves only what a step produced into the sandbox: the cost of one more step does not grow with the steps before it', async () => {
    const small = await traffic(40);
    const medium = await traffic(240);
    const large = await traffic(440);
    // What one more step costs, measured twice further along: equal when only the delta crosses,
    // about twice as much the second time when the scope of all earlier steps crosses again.
    const early = { values: (medium.values - small.values) / 200, bytes: (medium.bytes - small.bytes) / 200 };
    const late = { values: (large.values - medium.values) / 200, bytes: (large.bytes - medium.bytes) / 200 };
    expect(late.values).toBe(early.values);
    expect(late.bytes).toBeLessThan(early.bytes * 1.1);
    // A step moves its own output, its status, its expressions and their values: tens of bytes, not kilobytes.
    expect(late.bytes).toBeLessThan(200);
  });
});

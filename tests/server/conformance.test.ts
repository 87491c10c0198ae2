import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

describe('MCP conformance suite over HTTP', () => {
  it('passes every scenario except those needing the suite fixtures (conformance-baseline.yml)', () => {
    const run = spawnSync(process.execPath, ['scripts/conformance.mjs'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/server-initialize: 1 passed, 0 failed/);
    expect(run.stdout).toMatch(/tools-call-error: 1 passed, 0 failed/);
    expect(run.stdout).toMatch(/dns-rebinding-protection: 2 passed, 0 failed/);
    expect(run.stdout).toMatch(/resources-list: 1 passed, 0 failed/);
    expect(run.stdout).toMatch(/prompts-list: 1 passed, 0 failed/);
  }, 150_000);
});

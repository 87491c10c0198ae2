import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/principal.js';
import type { Runtime } from '../../src/server/runtime.js';
import type { RunResult } from '../../src/tools/index.js';
import { connect, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import { bundle, data, type Manifest } from '../releases/fixtures.js';
import { resourceUris } from '../../src/resources/uris.js';
import { sharedPostgres } from '../helpers/real-postgres.js';
import { contentConfig, TOKENS } from './content-fixtures.js';

const INVALID_PARAMS = -32602;
const PRIMARY: Principal = { role: 'admin', tenant: 'primary', subject: 'token:A_ADMIN' };
const OTHER: Principal = { role: 'admin', tenant: 'other', subject: 'token:B_ADMIN' };
const THIRD: Principal = { role: 'admin', tenant: 'third', subject: 'token:C_ADMIN' };

describe('completion/complete', () => {
  const dir = tempDir();
  let runtime: Runtime;
  let primary: ConnectedClient;
  let other: ConnectedClient;
  let third: ConnectedClient;
  const primaryReleases: string[] = [];
  let otherRelease: string;
  let primaryRun: string;
  let otherRun: string;

  const prompt = (client: ConnectedClient, name: string, argument: string, value: string) => client.client.complete({ ref: { type: 'ref/prompt', name }, argument: { name: argument, value } });
  const template = (client: ConnectedClient, uri: string, argument: string, value: string) => client.client.complete({ ref: { type: 'ref/resource', uri }, argument: { name: argument, value } });

  beforeAll(async () => {
    runtime = testRuntime({ config: contentConfig(dir.path, { extraKnowledge: 120 }), env: TOKENS, memoryPath: join(dir.path, 'memory.db') });
    [primary, other, third] = await Promise.all([PRIMARY, OTHER, THIRD].map((principal) => connect(runtime, { principal })));
    for (const [from_env, to_env] of [['dev', 'staging'], ['staging', 'prod']]) {
      primaryReleases.push(data<Manifest>(await primary.call('release_prepare', { from_env, to_env, bundle: bundle([]) })).id);
    }
    otherRelease = data<Manifest>(await other.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([]) })).id;
    primaryRun = ((await primary.call('skill_run', { name: 'note_release', inputs: { ticket: 'AAP-1' } })).structuredContent as unknown as RunResult).run_id;
    otherRun = ((await other.call('skill_run', { name: 'note_release', inputs: { ticket: 'AAP-2' } })).structuredContent as unknown as RunResult).run_id;
  });
  afterAll(async () => {
    for (const c of [primary, other, third]) await c?.close();
    await runtime?.close();
    dir.cleanup();
  });

  it('completes skill names for the skill resource template', async () => {
    expect((await template(primary, 'release-mcp://skills/{name}', 'name', 'release_')).completion).toEqual({
      values: ['release_aa_backend_prod', 'release_runbook', 'release_to_prod'],
      total: 3,
      hasMore: false,
    });
    expect((await template(primary, 'release-mcp://skills/{name}', 'name', 'note')).completion.values).toEqual(['note_release']);
    expect((await template(primary, 'release-mcp://skills/{name}', 'name', 'zzz')).completion).toEqual({ values: [], total: 0, hasMore: false });
  });

  it("completes an argument by its enum and a boolean by true/false", async () => {
    expect((await prompt(primary, 'release_runbook', 'target', 's')).completion).toEqual({ values: ['staging'], total: 1, hasMore: false });
    expect((await prompt(primary, 'note_release', 'level', '')).completion.values).toEqual(['low', 'high']);
    expect((await prompt(primary, 'note_release', 'urgent', 't')).completion.values).toEqual(['true']);
  });

  it('completes personas', async () => {
    expect((await prompt(primary, 'note_release', 'persona', 'de')).completion).toEqual({ values: ['developer', 'devops'], total: 2, hasMore: false });
    expect((await prompt(primary, 'note_release', 'persona', '')).completion.values.sort()).toEqual([...runtime.personas.keys()].sort());
  });

  it("completes the environments the tenant can release to", async () => {
    expect((await prompt(primary, 'note_release', 'environment', '')).completion.values).toEqual(['dev', 'staging', 'prod']);
    expect((await prompt(primary, 'note_release', 'environment', 'st')).completion.values).toEqual(['staging']);
    // "third" has no database in any environment.
    expect((await prompt(third, 'note_release', 'environment', '')).completion).toEqual({ values: [], total: 0, hasMore: false });
  });

  it("completes the tenant's release ids, newest first, never another tenant's", async () => {
    const mine = (await prompt(primary, 'note_release', 'release_id', 'rel_')).completion;
    expect(mine).toEqual({ values: [...primaryReleases].reverse(), total: 2, hasMore: false });
    expect((await template(primary, 'release-mcp://releases/{id}', 'id', '')).completion.values).not.toContain(otherRelease);
    expect((await template(other, 'release-mcp://releases/{id}', 'id', '')).completion.values).toEqual([otherRelease]);
  });

  it("completes the tenant's run ids, never another tenant's", async () => {
    expect((await template(primary, 'release-mcp://runs/{id}', 'id', '')).completion.values).toEqual([primaryRun]);
    expect((await prompt(other, 'note_release', 'run_id', otherRun.slice(0, 8))).completion.values).toEqual([otherRun]);
  });

  it('gives at most 100 values, with the total and hasMore', async () => {
    const all = (await template(primary, 'release-mcp://knowledge/{+path}', 'path', 'bulk/')).completion;
    expect(all.values).toHaveLength(100);
    expect(all).toMatchObject({ total: 120, hasMore: true });
    expect(all.values[0]).toBe('bulk/k000.yaml');
    const few = (await template(primary, 'release-mcp://knowledge/{+path}', 'path', 'bulk/k11')).completion;
    expect(few).toEqual({ values: Array.from({ length: 10 }, (_, i) => `bulk/k11${i}.yaml`), total: 10, hasMore: false });
  });

  it('refuses an unknown prompt, argument or template with invalid params naming it', async () => {
    await expect(prompt(primary, 'no_such_skill', 'x', '')).rejects.toMatchObject({ code: INVALID_PARAMS, message: expect.stringContaining('no prompt "no_such_skill"') });
    await expect(prompt(primary, 'note_release', 'colour', '')).rejects.toMatchObject({ code: INVALID_PARAMS, message: expect.stringContaining('has no argument "colour"') });
    await expect(template(primary, 'release-mcp://nothing/{id}', 'id', '')).rejects.toMatchObject({ code: INVALID_PARAMS, message: expect.stringContaining('no resource template "release-mcp://nothing/{id}"') });
    await expect(template(primary, 'release-mcp://runs/{id}', 'name', '')).rejects.toMatchObject({ code: INVALID_PARAMS, message: expect.stringContaining('has the variable "id", not "name"') });
  });

  it("refuses a template of a kind the session's persona does not see", async () => {
    const developer = await connect(runtime, { persona: 'developer' });
    try {
      await expect(template(developer, 'release-mcp://releases/{id}', 'id', '')).rejects.toMatchObject({ code: INVALID_PARAMS });
      expect((await template(developer, 'release-mcp://runs/{id}', 'id', '')).completion.values).toContain(primaryRun);
    } finally {
      await developer.close();
    }
  });
});

const postgres = sharedPostgres();

describe.skipIf(!postgres)('completions and resources on a PostgreSQL memory', () => {
  const dir = tempDir();
  let runtime: Runtime | undefined;
  let mcp: ConnectedClient | undefined;
  afterAll(async () => {
    await mcp?.close();
    await runtime?.close();
    dir.cleanup();
  });

  it("completes and reads the tenant's runs and releases", async () => {
    runtime = testRuntime({ config: contentConfig(dir.path), env: TOKENS, memoryPath: await postgres!.createDatabase('content') });
    await runtime.ready();
    mcp = await connect(runtime, { principal: PRIMARY });
    const releaseId = data<Manifest>(await mcp.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([]) })).id;
    const runId = ((await mcp.call('skill_run', { name: 'note_release', inputs: { ticket: 'AAP-7' } })).structuredContent as unknown as RunResult).run_id;
    expect((await mcp.client.complete({ ref: { type: 'ref/resource', uri: 'release-mcp://releases/{id}' }, argument: { name: 'id', value: 'rel_' } })).completion.values).toEqual([releaseId]);
    expect((await mcp.client.complete({ ref: { type: 'ref/resource', uri: 'release-mcp://runs/{id}' }, argument: { name: 'id', value: '' } })).completion.values).toEqual([runId]);
    const uris = (await mcp.client.listResources()).resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining([resourceUris.run(runId), resourceUris.release(releaseId), resourceUris.audit()]));
    const { contents } = await mcp.client.readResource({ uri: resourceUris.audit() });
    expect(JSON.parse((contents[0] as { text: string }).text).events[0]).toMatchObject({ event: 'release.prepared', release_id: releaseId });
  }, 60_000);
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceUris } from '../../src/resources/uris.js';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import type { Runtime } from '../../src/server/runtime.js';
import { BUILTIN_SKILLS_DIR } from '../../src/skills/loader.js';
import type { RunResult, RunsResult } from '../../src/tools/index.js';
import { connect, tempDir, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import { bundle, data, type Manifest } from '../releases/fixtures.js';
import { allResourceUris, contentConfig, NOTE_SKILL, readText, TOKENS } from './content-fixtures.js';
import { httpClient, type HttpClient } from './http-fixtures.js';

// The SDK answers a resources/read miss with Invalid Params naming the URI, on both protocol eras.
const NOT_FOUND = -32602;
const INVALID_PARAMS = -32602;

interface Events {
  tenant: string;
  events: Array<{ id: number; event: string; release_id: string | null; tenant: string }>;
}

describe('MCP resources', () => {
  const dir = tempDir();
  let runtime: Runtime;
  let http: HttpHandle;
  let aAdmin: HttpClient;
  let aViewer: HttpClient;
  let bAdmin: HttpClient;
  let local: ConnectedClient;
  let runId: string;
  let releaseId: string;
  let otherReleaseId: string;

  beforeAll(async () => {
    runtime = testRuntime({ config: contentConfig(dir.path, { extraKnowledge: 60 }), env: TOKENS, memoryPath: join(dir.path, 'memory.db') });
    http = await serveHttp(runtime, { host: '127.0.0.1', port: 0 });
    [aAdmin, aViewer, bAdmin] = await Promise.all([TOKENS.A_ADMIN, TOKENS.A_VIEWER, TOKENS.B_ADMIN].map((t) => httpClient(http.url, t)));
    local = await connect(runtime);
    const run = (await aAdmin.call('skill_run', { name: 'note_release', inputs: { ticket: 'AAP-1234' } })).structuredContent as unknown as RunResult;
    expect(run.status).toBe('succeeded');
    runId = run.run_id;
    const migration = { operation: 'add_column', table: 'users', column: { name: 'plan', type: 'TEXT' } };
    releaseId = data<Manifest>(await aAdmin.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([migration]) })).id;
    otherReleaseId = data<Manifest>(await bAdmin.call('release_prepare', { from_env: 'dev', to_env: 'staging', bundle: bundle([]) })).id;
  });
  afterAll(async () => {
    for (const c of [aAdmin, aViewer, bAdmin]) await c?.close();
    await local?.close();
    await http?.close();
    await runtime?.close();
    dir.cleanup();
  });

  it('advertises resources, prompts and completions', () => {
    expect(aAdmin.client.getServerCapabilities()).toMatchObject({ resources: { listChanged: true }, prompts: {}, completions: {} });
  });

  it('lists the skill library, recent runs and releases of the tenant, the audit trail and every knowledge file, paged', async () => {
    const first = await aAdmin.client.listResources();
    expect(first.resources).toHaveLength(50);
    expect(first.nextCursor).toBeTypeOf('string');
    const uris = await allResourceUris(aAdmin.client);
    expect(new Set(uris).size).toBe(uris.length);
    expect(uris).toEqual(
      expect.arrayContaining([
        resourceUris.skill('release_to_prod'),
        resourceUris.skill('note_release'),
        resourceUris.run(runId),
        resourceUris.release(releaseId),
        resourceUris.audit(),
        resourceUris.knowledge('aa-backend/release.yaml'),
        resourceUris.knowledge('bulk/k059.yaml'),
      ]),
    );
    expect(uris).not.toContain(resourceUris.release(otherReleaseId));
    expect(uris.filter((u) => u.includes('://knowledge/'))).toHaveLength(61);
    const release = first.resources.find((r) => r.uri === resourceUris.release(releaseId));
    expect(release).toMatchObject({ name: releaseId, mimeType: 'application/json', description: 'dev -> staging: prepared' });
  });

  it('refuses a cursor it did not hand out as invalid params', async () => {
    await expect(aAdmin.client.listResources({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: INVALID_PARAMS, message: expect.stringContaining('cursor') });
  });

  it('lists a template for each parameterised kind', async () => {
    const { resourceTemplates } = await aAdmin.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
      'release-mcp://knowledge/{+path}',
      'release-mcp://releases/{id}',
      'release-mcp://runs/{id}',
      'release-mcp://skills/{name}',
    ]);
  });

  it('reads a skill as its YAML text', async () => {
    expect(await readText(aAdmin.client, resourceUris.skill('note_release'))).toEqual({ text: NOTE_SKILL, mimeType: 'text/yaml' });
    const builtin = await readText(aAdmin.client, resourceUris.skill('release_to_prod'));
    expect(builtin.text).toBe(readFileSync(join(BUILTIN_SKILLS_DIR, 'release_to_prod.yaml'), 'utf8'));
  });

  it('reads a run record as skill_runs gives it (the link t14 tool results carry)', async () => {
    const { text, mimeType } = await readText(aAdmin.client, resourceUris.run(runId));
    expect(mimeType).toBe('application/json');
    const expected = data<RunsResult>(await aAdmin.call('skill_runs', { run_id: runId })).run;
    expect(JSON.parse(text)).toEqual(expected);
    expect(JSON.parse(text)).toMatchObject({ summary: { run_id: runId, skill: 'note_release', status: 'succeeded' }, inputs: { ticket: 'AAP-1234' } });
  });

  it('reads a release manifest with its migration SQL as release_get gives it', async () => {
    const { text, mimeType } = await readText(aAdmin.client, resourceUris.release(releaseId));
    expect(mimeType).toBe('application/json');
    const manifest = JSON.parse(text) as Manifest;
    expect(manifest).toEqual(data(await aAdmin.call('release_get', { release_id: releaseId })));
    expect(manifest.migrations[0]).toMatchObject({ sql: 'ALTER TABLE "users" ADD COLUMN "plan" TEXT', rollback_sql: 'ALTER TABLE "users" DROP COLUMN "plan"' });
  });

  it("reads the tenant's audit trail newest first, without another tenant's events", async () => {
    await aAdmin.call('release_events', {});
    const second = data<Manifest>(await aAdmin.call('release_prepare', { from_env: 'staging', to_env: 'prod', bundle: bundle([]) })).id;
    const audit = JSON.parse((await readText(aAdmin.client, resourceUris.audit())).text) as Events;
    expect(audit.tenant).toBe('primary');
    const ids = audit.events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(audit.events[0]).toMatchObject({ event: 'release.prepared', release_id: second });
    expect(audit.events.map((e) => e.release_id)).toContain(releaseId);
    expect(audit.events.every((e) => e.tenant === 'primary')).toBe(true);
    const other = JSON.parse((await readText(bAdmin.client, resourceUris.audit())).text) as Events;
    expect(other.events.map((e) => e.release_id)).toEqual([otherReleaseId]);
  });

  it('reads a knowledge file as its text, with secrets masked', async () => {
    const { text, mimeType } = await readText(aAdmin.client, resourceUris.knowledge('aa-backend/release.yaml'));
    expect(mimeType).toBe('text/yaml');
    expect(text).toContain('images are tagged with the full SHA');
    expect(text).toContain('token: [redacted]');
    expect(text).not.toContain(TOKENS.A_ADMIN);
  });

  it('answers an unknown or malformed URI with resource-not-found naming it, and reads nothing outside the folders', async () => {
    for (const uri of [
      'release-mcp://runs/run_does_not_exist',
      'release-mcp://releases/rel_20000101_0000',
      'release-mcp://skills/no_such_skill',
      'release-mcp://knowledge/aa-backend/missing.yaml',
      'release-mcp://knowledge/../outside.yaml',
      'release-mcp://knowledge/..%2Foutside.yaml',
      'release-mcp://knowledge/%2Fetc%2Fpasswd',
      'release-mcp://audit/extra',
      'release-mcp://nothing/x',
      'release-mcp://runs/',
      'file:///etc/passwd',
    ]) {
      await expect(aAdmin.client.readResource({ uri }), uri).rejects.toMatchObject({ code: NOT_FOUND, message: expect.stringContaining(uri), data: { uri } });
    }
  });

  it("never shows another tenant's run or release: the same not-found as an unknown URI", async () => {
    const uris = await allResourceUris(bAdmin.client);
    expect(uris).not.toContain(resourceUris.run(runId));
    expect(uris).not.toContain(resourceUris.release(releaseId));
    expect(uris).toContain(resourceUris.release(otherReleaseId));
    for (const uri of [resourceUris.run(runId), resourceUris.release(releaseId)]) {
      const error = await bAdmin.client.readResource({ uri }).then(
        () => undefined,
        (e: { code: number; message: string }) => e,
      );
      expect(error).toMatchObject({ code: NOT_FOUND });
      expect(error!.message).toBe(`MCP error -32602: resource ${uri} not found`);
      expect(error!.message).not.toContain('AAP-1234');
    }
    // The owner reads it.
    expect(JSON.parse((await readText(aAdmin.client, resourceUris.release(releaseId))).text)).toMatchObject({ id: releaseId, tenant: 'primary' });
  });

  it('lets a viewer read the read-only kinds of its tenant', async () => {
    const uris = await allResourceUris(aViewer.client);
    expect(uris).toEqual(expect.arrayContaining([resourceUris.run(runId), resourceUris.release(releaseId), resourceUris.audit(), resourceUris.skill('note_release')]));
    expect(JSON.parse((await readText(aViewer.client, resourceUris.release(releaseId))).text)).toMatchObject({ id: releaseId });
    expect((await aViewer.client.listResourceTemplates()).resourceTemplates).toHaveLength(4);
  });

  it('filters kinds by persona like tools: developer has no releases or audit, core only skills and runs', async () => {
    const developer = await connect(runtime, { persona: 'developer' });
    const core = await connect(runtime, { persona: 'core' });
    try {
      const devUris = await allResourceUris(developer.client);
      expect(devUris).toEqual(expect.arrayContaining([resourceUris.skill('note_release'), resourceUris.run(runId), resourceUris.knowledge('aa-backend/release.yaml')]));
      expect(devUris.filter((u) => u.includes('://releases/') || u.includes('://audit'))).toEqual([]);
      await expect(developer.client.readResource({ uri: resourceUris.release(releaseId) })).rejects.toMatchObject({ code: NOT_FOUND });
      await expect(developer.client.readResource({ uri: resourceUris.audit() })).rejects.toMatchObject({ code: NOT_FOUND });
      expect((await developer.client.listResourceTemplates()).resourceTemplates.map((t) => t.name).sort()).toEqual(['knowledge', 'runs', 'skills']);

      const coreUris = await allResourceUris(core.client);
      expect(new Set(coreUris.map((u) => u.split('/')[2]))).toEqual(new Set(['skills', 'runs']));
      await expect(core.client.readResource({ uri: resourceUris.knowledge('aa-backend/release.yaml') })).rejects.toMatchObject({ code: NOT_FOUND });
    } finally {
      await developer.close();
      await core.close();
    }
  });

  it('tells the client the resource list changed when the persona changes', async () => {
    const session = await connect(runtime, { persona: 'developer' });
    try {
      const changed = new Promise<void>((resolve) => session.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => resolve()));
      await session.call('persona_load', { persona: 'release' });
      await changed;
      expect(await allResourceUris(session.client)).toContain(resourceUris.audit());
    } finally {
      await session.close();
    }
  });
});

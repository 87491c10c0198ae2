import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addSessionLog,
  appendItem,
  childRun,
  claimRun,
  createRun,
  finishStepCalls,
  findKnownIssues,
  getRun,
  learnFix,
  listRuns,
  MemoryDb,
  MIGRATIONS,
  openStepCall,
  readLists,
  recentSessionLog,
  replaceKnownIssues,
  startStepCall,
} from '../src/memory/index.js';
import { applyFlags, currentFlags, restoreFlags } from '../src/releases/flags.js';
import { getRelease, insertPrepared, listEvents, transition } from '../src/releases/ledger.js';
import { journalIntent, journalOutcome } from '../src/releases/promotion-journal.js';
import { ledgerFamilies } from '../src/server/metrics.js';
import { serveHttp } from '../src/server/http.js';
import { testRuntime } from './helpers/harness.js';
import { sharedPostgres } from './helpers/real-postgres.js';

/**
 * The memory's store contract, one body run on both backends: the embedded SQLite file and a
 * real PostgreSQL database. What one backend stores and finds, the other does too.
 */
const server = sharedPostgres();
const backends = [['sqlite'], ...(server ? [['postgresql']] : [])] as Array<['sqlite' | 'postgresql']>;
const actor = { role: 'admin' as const, tenant: 'primary', subject: 'token:A' };

let open: MemoryDb[] = [];
afterEach(async () => {
  for (const m of open) await m.close();
  open = [];
});

async function memoryOn(backend: 'sqlite' | 'postgresql', secrets: string[] = []): Promise<MemoryDb> {
  const mem = backend === 'sqlite' ? new MemoryDb({ path: ':memory:', secrets }) : new MemoryDb({ path: '', url: await server!.createDatabase('contract'), secrets });
  open.push(mem);
  await mem.ready();
  return mem;
}

describe.each(backends)('the memory store on %s', (backend) => {
  it('applies every migration once and says which backend it is', async () => {
    const mem = await memoryOn(backend);
    expect(mem.backend).toBe(backend);
    const versions = (await mem.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version);
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
    expect(await mem.schemaVersion()).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
    expect(await mem.ok()).toBe(true);
  });

  it('keeps the journal and lists per tenant, masks secrets, pages by id', async () => {
    const mem = await memoryOn(backend, ['hunter2-secret']);
    const first = await addSessionLog(mem, { tenant: 'primary', subject: 'u' }, 'deployed', 'password hunter2-secret used');
    await addSessionLog(mem, { tenant: 'other', subject: 'v' }, 'theirs');
    const second = await addSessionLog(mem, { tenant: 'primary', subject: 'u' }, 'verified');
    expect(second.id).toBeGreaterThan(first.id);
    const log = await recentSessionLog(mem, 'primary');
    expect(log.map((e) => e.action)).toEqual(['verified', 'deployed']);
    expect(log[1]!.details).not.toContain('hunter2-secret');
    expect((await recentSessionLog(mem, 'primary', { before: second.id })).map((e) => e.action)).toEqual(['deployed']);

    for (let i = 0; i < 5; i++) expect((await appendItem(mem, 'primary', 'state', 'history', { n: i })).length).toBe(i + 1);
    await appendItem(mem, 'other', 'state', 'history', { n: 99 });
    const page = await readLists(mem, 'primary', 'state', { limit: 2 });
    expect(page.lists.history).toMatchObject({ total: 5, items: [{ item: { n: 3 } }, { item: { n: 4 } }] });
    const older = await readLists(mem, 'primary', 'state', { list: 'history', limit: 2, before: page.lists.history!.next_before });
    expect(older.lists.history!.items.map((i) => i.item)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('learns fixes once per tenant, tool and pattern, and finds them by pattern and by word', async () => {
    const mem = await memoryOn(backend);
    const taught = await learnFix(mem, actor, { tool: 'quay_get_tag', error_pattern: 'manifest unknown', root_cause: 'the build has not pushed yet', fix: 'wait for the build' });
    expect(taught.created).toBe(true);
    const again = await learnFix(mem, actor, { tool: 'quay_get_tag', error_pattern: 'manifest unknown', root_cause: 'still building', fix: 'wait longer' });
    expect(again).toMatchObject({ created: false, fix: { id: taught.fix.id, times_fixed: 2, fix: 'wait longer' } });
    await learnFix(mem, { ...actor, tenant: 'other' }, { tool: 'quay_get_tag', error_pattern: 'manifest unknown', root_cause: 'x', fix: 'not yours' });
    await learnFix(mem, actor, { tool: 'git_push', error_pattern: 'zebrafish gateway refused', root_cause: 'the zebrafish proxy is down', fix: 'use the direct route' });

    const byPattern = await findKnownIssues(mem, { tenant: 'primary', error_text: 'Error: manifest unknown for tag v1', onErrorTextOnly: true });
    expect(byPattern.map((m) => m.fix)).toEqual(['wait longer']);
    const byWord = await findKnownIssues(mem, { tenant: 'primary', error_text: 'the zebrafish proxy answered 502' });
    expect(byWord.map((m) => m.fix)).toContain('use the direct route');
    expect((await findKnownIssues(mem, { tenant: 'other', error_text: 'zebrafish' })).map((m) => m.fix)).not.toContain('use the direct route');

    await replaceKnownIssues(mem, 'knowledge:test.yaml', [{ topic: 'konflux', pattern: 'snapshot not found', meaning: 'the integration test did not finish', fix: 'wait for the snapshot' }]);
    const known = await findKnownIssues(mem, { tenant: 'primary', tool: 'konflux_create_release', error_text: 'snapshot not found: app-123' });
    expect(known[0]).toMatchObject({ kind: 'known_issue', fix: 'wait for the snapshot', on_error_text: true });
  });

  it('records runs, lets one claimer of two take a stopped run, and journals step calls', async () => {
    const mem = await memoryOn(backend);
    const base = { tenant: 'primary', started_by: 'u', skill: 's', version: '1', file: '', status: 'failed', dry_run: false, inputs: { tag: 'v1' }, owner: 'h:1:a' };
    await createRun(mem, { ...base, id: 'run-1' });
    await createRun(mem, { ...base, id: 'run-2', parent: { run: 'run-1', step: 'nested', depth: 1 } });
    const claims = await Promise.all([claimRun(mem, 'primary', 'run-1', ['failed'], 'h:2:b'), claimRun(mem, 'primary', 'run-1', ['failed'], 'h:3:c')]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await getRun(mem, 'primary', 'run-1'))!.run).toMatchObject({ status: 'running', resumes: 1, inputs: { tag: 'v1' }, dry_run: false });
    expect(await getRun(mem, 'other', 'run-1')).toBeUndefined();
    expect((await listRuns(mem, 'primary')).map((r) => r.id).sort()).toEqual(['run-1', 'run-2']);
    expect((await childRun(mem, 'run-1', 'nested'))?.id).toBe('run-2');
    expect(Object.keys((await childRun(mem, 'run-1', 'nested'))!)).not.toContain('rowid');

    await startStepCall(mem, 'run-1', { round: 0, phase: 'main', name: 'post', tool: 'notify_team', args: { text: 'x' }, idempotent: false });
    await startStepCall(mem, 'run-1', { round: 0, phase: 'main', name: 'post', tool: 'notify_team', args: { text: 'y' }, idempotent: false });
    expect(await openStepCall(mem, 'run-1', 'main', 'post')).toMatchObject({ args: { text: 'y' }, idempotent: false });
    await finishStepCalls(mem, 'run-1', 'main', 'post', 'succeeded');
    expect(await openStepCall(mem, 'run-1', 'main', 'post')).toBeUndefined();
  });

  it('gives releases one id sequence, moves them once, and keeps flags and the promotion journal in the same transaction', async () => {
    const mem = await memoryOn(backend);
    const release = { from_env: 'dev', to_env: 'staging', bundle_sha256: 'x', hotfix: false, allow_data_loss: false, bundle: {}, migrations: [], feature_flags: { beta: true }, schema_before: 'y' };
    const now = new Date('2026-01-15T12:00:30Z');
    const ids = await Promise.all([1, 2, 3].map(async () => (await insertPrepared(mem, release, actor, 5, now)).id));
    expect(ids.sort()).toEqual(['rel_20260115_1200', 'rel_20260115_1200_2', 'rel_20260115_1200_3']);

    const env = { name: 'staging', feature_flags: { beta: false } } as unknown as Parameters<typeof currentFlags>[2];
    const id = ids[0]!;
    await mem.transaction(async () => {
      const previous = await applyFlags(mem, 'primary', 'staging', { beta: true }, id);
      await journalIntent(mem, { release_id: id, tenant: 'primary', environment: 'staging', target: '/nowhere', plan_sha256: 'x', previous_flags: previous });
    });
    expect(await currentFlags(mem, 'primary', env)).toEqual({ beta: true });
    const moves = await Promise.allSettled([1, 2].map(() => transition(mem, 'primary', id, { to: 'promoted', event: 'release.promoted', actor, alongside: () => journalOutcome(mem, id, 'committed') })));
    expect(moves.map((m) => m.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((moves.find((m) => m.status === 'rejected') as PromiseRejectedResult).reason.message).toMatch(/is promoted: only a release that is prepared can be promoted/);
    expect((await getRelease(mem, 'primary', id)).status).toBe('promoted');
    expect((await mem.get<{ outcome: string }>('SELECT outcome FROM release_promotions WHERE release_id = ?', id))?.outcome).toBe('committed');
    expect((await listEvents(mem, 'primary', { release_id: id, limit: 10 })).map((e) => e.event)).toEqual(['release.prepared', 'release.promoted']);

    // A failure inside a transaction undoes all of it, nested writes included.
    await expect(
      mem.transaction(async () => {
        await restoreFlags(mem, 'primary', 'staging', { beta: null }, id);
        await mem.transaction(async () => appendItem(mem, 'primary', 'k', 'l', 1));
        throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(await currentFlags(mem, 'primary', env)).toEqual({ beta: true });
    expect((await readLists(mem, 'primary', 'k')).lists).toEqual({});

    const families = await ledgerFamilies(mem, 30_000);
    expect(families.find((f) => f.name === 'releases_prepared_total')?.samples[0]?.value).toBe(3);
    expect(families.find((f) => f.name === 'release_prepare_seconds')?.samples.at(-1)?.value).toBe(3);
  });
});

const CLI = join(process.cwd(), 'dist', 'cli.js');
const MEMORY_INDEX = join(process.cwd(), 'dist', 'memory', 'index.js');

describe.skipIf(!server)('the memory on PostgreSQL, opened by several processes', () => {
  it('is migrated once when two processes open an empty database at the same moment', async () => {
    const url = await server!.createDatabase('race');
    const script = `import { MemoryDb } from ${JSON.stringify(MEMORY_INDEX)};
      const m = new MemoryDb({ path: '', url: process.env.URL });
      await m.ready();
      process.stdout.write(String(await m.schemaVersion()));
      await m.close();`;
    const opened = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, URL: url } });
            let out = '';
            let err = '';
            child.stdout.on('data', (c) => (out += c));
            child.stderr.on('data', (c) => (err += c));
            child.on('exit', (code) => resolve({ code, out, err }));
          }),
      ),
    );
    for (const o of opened) expect(o, o.err).toMatchObject({ code: 0, out: String(Math.max(...MIGRATIONS.map((m) => m.version))) });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = (await client.query('SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version')).rows;
    await client.end();
    expect(rows).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b).map((version) => ({ version, n: 1 })));
  }, 60_000);

  it('fails to open with a message that names the database and never its password', async () => {
    const url = new URL(await server!.createDatabase('wrongpw'));
    url.password = 'not-the-password-xyz';
    const mem = new MemoryDb({ path: '', url: url.toString() });
    open.push(mem);
    const failure = await mem.ready().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/cannot open the memory database postgresql:\/\/postgres@127\.0\.0\.1:\d+\/wrongpw_\w+/);
    expect(failure?.message).not.toContain('not-the-password-xyz');
    await expect(mem.get('SELECT 1')).rejects.toThrow(/cannot open the memory database/);
  });

  it('CLI: a command opens (and migrates) the database RELEASE_MCP_DATABASE_URL names', async () => {
    const url = await server!.createDatabase('cli');
    const child = spawn(process.execPath, [CLI, 'skill', 'runs', '--json'], { env: { ...process.env, RELEASE_MCP_DATABASE_URL: url, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ runs: [] });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const applied = (await client.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n;
    await client.end();
    expect(applied).toBe(MIGRATIONS.length);
  }, 30_000);

  it('/health says the memory is on PostgreSQL and reachable, naming the database without its password', async () => {
    const url = new URL(await server!.createDatabase('health'));
    const password = decodeURIComponent(url.password);
    url.password = '';
    const runtime = testRuntime({ env: { RELEASE_MCP_DATABASE_URL: url.toString(), PGPASSWORD: password }, memoryPath: undefined });
    await runtime.ready();
    const handle = await serveHttp(runtime, { host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(handle.url.replace('/mcp', '/health'));
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ status: 'ok', memory: { ok: true, backend: 'postgresql', location: url.toString(), schema_version: Math.max(...MIGRATIONS.map((m) => m.version)) } });
      expect(text).not.toContain(password);
      expect(runtime.secretValues).toContain(password);
    } finally {
      await handle.close();
    }
  });

  it('a row another process holds fails the write with a conflict naming the database, after the short wait a committed promotion uses', async () => {
    const url = await server!.createDatabase('locked');
    const mem = new MemoryDb({ path: '', url });
    open.push(mem);
    const release = { from_env: 'dev', to_env: 'staging', bundle_sha256: 'x', hotfix: false, allow_data_loss: false, bundle: {}, migrations: [], feature_flags: {}, schema_before: 'y' };
    const { id } = await insertPrepared(mem, release, actor, 1);
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM releases WHERE id = $1 FOR UPDATE', [id]);
      const started = performance.now();
      const failure = await mem
        .withLockWait(50, () => transition(mem, 'primary', id, { to: 'promoted', event: 'release.promoted', actor }))
        .then(() => undefined, (error: unknown) => error);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect((failure as { code?: string }).code).toBe('55P03');
      expect(mem.lockError(failure)?.message).toMatch(/^the memory database postgresql:\/\/postgres@127\.0\.0\.1:\d+\/locked_\w+ is locked by another writer/);
      await other.query('ROLLBACK');
      expect((await transition(mem, 'primary', id, { to: 'promoted', event: 'release.promoted', actor })).status).toBe('promoted');
    } finally {
      await other.end();
    }
  });
});

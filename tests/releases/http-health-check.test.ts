import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmulatorServer } from '../emulators/base.js';
import { connect, errorOf, testRuntime, type ConnectedClient } from '../helpers/harness.js';
import type { Runtime } from '../../src/server/runtime.js';

interface Checks {
  environment: string;
  ok: boolean;
  checks: Array<{ name?: string; url: string; ok: boolean; status: number | null; attempts: number; json_value?: unknown; error?: string }>;
}

describe('http_health_check', () => {
  const service = new EmulatorServer('service');
  let state = 'ok';
  let runtime: Runtime;
  let mcp: ConnectedClient;

  beforeAll(async () => {
    service.route('GET', '/api/v1/health', () => ({ status: 200, body: { status: state, db: { ok: state === 'ok' } } }));
    service.route('GET', '/ready', () => ({ status: 204 }));
    service.route('GET', '/plain', () => ({ status: 200, body: 'OK' }));
    await service.start();
  });
  afterAll(() => service.stop());
  afterEach(async () => {
    service.clearFaults();
    state = 'ok';
    await mcp.close();
    runtime.close();
  });

  const start = async (healthUrls: unknown[]) => {
    runtime = testRuntime({ config: { environments: [{ name: 'dev', database: ':memory:' }, { name: 'staging', database: ':memory:', health_urls: healthUrls }] } });
    mcp = await connect(runtime);
  };

  it('passes when status and JSON field match, for every configured URL', async () => {
    await start([{ url: `${service.url}/api/v1/health`, json_field: 'db.ok', expect_value: true }, { url: `${service.url}/ready`, expect_status: 204 }]);
    const result = await mcp.call('http_health_check', { environment: 'staging' });
    expect(result.isError).toBeFalsy();
    const body = result.structuredContent as unknown as Checks;
    expect(body.ok).toBe(true);
    expect(body.checks.map((c) => [c.status, c.attempts, c.ok])).toEqual([[200, 1, true], [204, 1, true]]);
    expect(body.checks[0]!.json_value).toBe(true);
  });

  it('never returns credentials written into a health URL', async () => {
    await start([{ url: service.url.replace('http://', 'http://probe:s3cret-pass@') + '/ready', expect_status: 204 }]);
    const result = await mcp.call('http_health_check', { environment: 'staging', retries: 0, fail_on_unhealthy: false });
    const body = result.structuredContent as unknown as Checks;
    expect(body.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('s3cret-pass');
    expect(body.checks[0]!.url).toContain('***@');
    const failed = await mcp.call('http_health_check', { environment: 'staging', retries: 0 });
    expect(JSON.stringify(failed)).not.toContain('s3cret-pass');
    const other = await mcp.call('http_health_check', { environment: 'staging', url: 'http://example.invalid/x' });
    expect(errorOf(other).code).toBe('forbidden');
    expect(JSON.stringify(other)).not.toContain('s3cret-pass');
  });

  it('retries until the URL passes', async () => {
    await start([{ url: `${service.url}/api/v1/health`, json_field: 'status', expect_value: 'ok' }]);
    service.inject({ status: 503, times: 2, match: /health/ });
    const body = (await mcp.call('http_health_check', { environment: 'staging', retries: 3, retry_delay_ms: 10 })).structuredContent as unknown as Checks;
    expect(body.checks[0]).toMatchObject({ ok: true, status: 200, attempts: 3 });
  });

  it('fails with the reason when a URL stays unhealthy, or reports it with fail_on_unhealthy false', async () => {
    await start([{ url: `${service.url}/api/v1/health`, json_field: 'status', expect_value: 'ok' }, { url: `${service.url}/plain`, json_field: 'status' }]);
    state = 'degraded';
    const failed = await mcp.call('http_health_check', { environment: 'staging', retries: 1, retry_delay_ms: 10 });
    expect(errorOf(failed).code).toBe('upstream');
    expect(errorOf(failed).message).toContain('status is "degraded", expected "ok"');
    expect(errorOf(failed).message).toContain('body is not JSON');
    const report = (await mcp.call('http_health_check', { environment: 'staging', retries: 0, fail_on_unhealthy: false })).structuredContent as unknown as Checks;
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => c.attempts)).toEqual([1, 1]);
  });

  it('times out a slow URL and reports a wrong status', async () => {
    await start([{ url: `${service.url}/api/v1/health` }, { url: `${service.url}/ready` }]);
    service.inject({ delayMs: 500, match: /health/ });
    const report = (await mcp.call('http_health_check', { environment: 'staging', retries: 0, timeout_ms: 100, fail_on_unhealthy: false })).structuredContent as unknown as Checks;
    expect(report.checks[0]).toMatchObject({ ok: false, status: null, error: 'no answer within 100 ms' });
    expect(report.checks[1]).toMatchObject({ ok: false, status: 204, error: 'status 204, expected 200' });
  });

  it('calls only configured URLs, and says when an environment has none', async () => {
    await start([{ url: `${service.url}/ready`, expect_status: 204 }]);
    const before = service.requests.length;
    const other = await mcp.call('http_health_check', { environment: 'staging', url: `${service.url}/plain` });
    expect(errorOf(other).code).toBe('forbidden');
    expect(service.requests.length).toBe(before);
    expect((await mcp.call('http_health_check', { environment: 'staging', url: `${service.url}/ready` })).isError).toBeFalsy();
    expect(errorOf(await mcp.call('http_health_check', { environment: 'dev' })).code).toBe('config');
    expect(errorOf(await mcp.call('http_health_check', { environment: 'qa' })).code).toBe('invalid_input');
  });

  it('runs the smoke checks with kind smoke, named in the result and in the failure', async () => {
    runtime = testRuntime({
      config: {
        environments: [
          { name: 'dev', database: ':memory:' },
          {
            name: 'staging',
            database: ':memory:',
            health_urls: [{ url: `${service.url}/ready`, expect_status: 204 }],
            smoke_checks: [
              { name: 'health says ok', url: `${service.url}/api/v1/health`, json_field: 'status', expect_value: 'ok' },
              { name: 'plain page', url: `${service.url}/plain` },
            ],
          },
        ],
      },
    });
    mcp = await connect(runtime);
    const before = service.requests.length;
    const smoke = (await mcp.call('http_health_check', { environment: 'staging', kind: 'smoke' })).structuredContent as unknown as Checks & { kind: string };
    expect(smoke).toMatchObject({ kind: 'smoke', ok: true });
    expect(smoke.checks.map((c) => c.name)).toEqual(['health says ok', 'plain page']);
    expect(service.requests.slice(before).map((r) => r.path).sort()).toEqual(['/api/v1/health', '/plain']);
    state = 'degraded';
    const failed = errorOf(await mcp.call('http_health_check', { environment: 'staging', kind: 'smoke', retries: 0 }));
    expect(failed.code).toBe('upstream');
    expect(failed.message).toBe('staging smoke checks fail: health says ok: status is "degraded", expected "ok"');
    const health = (await mcp.call('http_health_check', { environment: 'staging' })).structuredContent as unknown as Checks & { kind: string };
    expect(health).toMatchObject({ kind: 'health', ok: true });
    expect(errorOf(await mcp.call('http_health_check', { environment: 'staging', kind: 'smoke', url: `${service.url}/ready` })).code).toBe('forbidden');
    expect(errorOf(await mcp.call('http_health_check', { environment: 'dev', kind: 'smoke' })).hint).toContain('smoke_checks');
  });
});

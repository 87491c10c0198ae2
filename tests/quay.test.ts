import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { QuayFeature } from '../src/integrations/quay.js';
import { QuayEmulator } from './emulators/quay.js';
import { connect, errorOf, testRuntime, type ConnectedClient } from './helpers/harness.js';

const REPO = 'redhat-user-workloads/aap-aa-tenant/aap-aa-main/automation-analytics-backend-main';
const SHA = 'a'.repeat(40);
const TOKEN = 'quay-test-token';

const quay = new QuayEmulator();
let mcp: ConnectedClient;

async function open(env: Record<string, string> = { QUAY_TOKEN: TOKEN }, extra: Record<string, unknown> = {}) {
  mcp = await connect(testRuntime({ config: { quay: { url: quay.url, repositories: { backend: REPO }, timeout_ms: 2000, cve_list_limit: 3, ...extra } }, env }), { persona: 'devops' });
}

function features(vulns: Array<[string, string, string | undefined]>, pkg = 'openssl'): QuayFeature[] {
  return [{ Name: pkg, Version: '1.0', Vulnerabilities: vulns.map(([Name, Severity, FixedBy]) => ({ Name, Severity, Link: `https://cve/${Name}`, ...(FixedBy ? { FixedBy } : {}) })) }];
}

beforeAll(async () => {
  await quay.start();
});
afterAll(async () => {
  await quay.stop();
});
beforeEach(async () => {
  await open();
});
afterEach(async () => {
  quay.server.clearFaults();
  await mcp.close();
});

describe('quay_get_tag', () => {
  it('returns the active tag through a short name from config', async () => {
    const digest = quay.pushTag(REPO, SHA, { size: 4242 });
    const result = await mcp.call('quay_get_tag', { repository: 'backend', tag: SHA });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ repository: REPO, tag: SHA, manifest_digest: digest, size: 4242, is_manifest_list: false });
    const request = quay.server.requestsMatching(/tag/).at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.query).toContain(`specificTag=${SHA}`);
  });

  it('treats a dead tag as no image', async () => {
    quay.pushTag(REPO, 'dead-one');
    quay.deleteTag(REPO, 'dead-one');
    const error = errorOf(await mcp.call('quay_get_tag', { repository: REPO, tag: 'dead-one' }));
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(/dead/);
  });

  it('says a missing tag is not built yet', async () => {
    quay.addRepository(REPO);
    const error = errorOf(await mcp.call('quay_get_tag', { repository: REPO, tag: 'b'.repeat(40) }));
    expect(error.code).toBe('not_found');
    expect(error.hint).toMatch(/wait for the build/);
  });

  it('reports an unknown repository and an unknown short name', async () => {
    expect(errorOf(await mcp.call('quay_get_tag', { repository: 'nobody/nothing', tag: 'x' })).code).toBe('not_found');
    const bad = errorOf(await mcp.call('quay_get_tag', { repository: 'frontend', tag: 'x' }));
    expect(bad.code).toBe('invalid_input');
    expect(bad.hint).toContain('backend');
  });

  it('maps a refused token to auth with a hint naming QUAY_TOKEN, without leaking it', async () => {
    await mcp.close();
    await open({ QUAY_TOKEN: 'expired-token-value' });
    const result = await mcp.call('quay_get_tag', { repository: REPO, tag: SHA });
    const error = errorOf(result);
    expect(error.code).toBe('auth');
    expect(error.hint).toContain('QUAY_TOKEN');
    // API v1 takes OAuth access tokens; robot credentials are for the registry
    expect(error.hint).toContain('OAuth');
    expect(error.hint).not.toMatch(/robot/i);
    expect(JSON.stringify(result)).not.toContain('expired-token-value');
  });

  it('reports a repository Quay will not show (403 with a token, 401 without) as not_found, with what to check', async () => {
    const unseen = errorOf(await mcp.call('quay_get_tag', { repository: 'nobody/unseen', tag: SHA }));
    expect(unseen).toMatchObject({ code: 'not_found' });
    expect(unseen.message).toContain('nobody/unseen');
    expect(unseen.hint).toMatch(/read access/);
    expect(quay.server.requestsMatching(/nobody\/unseen/).map((r) => r.status)).toEqual([403]);
    await mcp.close();
    await open({});
    const anonymous = errorOf(await mcp.call('quay_get_tag', { repository: 'nobody/unseen', tag: SHA }));
    expect(anonymous).toMatchObject({ code: 'not_found' });
    expect(anonymous.hint).toContain('QUAY_TOKEN');
    expect(quay.server.requestsMatching(/nobody\/unseen/).map((r) => r.status)).toEqual([403, 401]);
  });

  it('maps 403, 429 (with retry_after), 500, a delay past the timeout and a closed port', async () => {
    quay.pushTag(REPO, SHA);
    quay.forbidden.add(REPO);
    // Quay cannot tell "no such repository" from "no access": both are not_found for the tag look-up
    expect(errorOf(await mcp.call('quay_get_tag', { repository: REPO, tag: SHA })).code).toBe('not_found');
    quay.forbidden.clear();

    quay.inject({ status: 429, headers: { 'retry-after': '7' }, body: { error_message: 'slow down' } });
    const limited = await mcp.call('quay_get_tag', { repository: REPO, tag: SHA });
    expect(errorOf(limited).code).toBe('rate_limited');
    expect((limited._meta as Record<string, { retry_after?: number }>)['release-mcp/error']!.retry_after).toBe(7);

    quay.inject({ status: 500 });
    expect(errorOf(await mcp.call('quay_get_tag', { repository: REPO, tag: SHA })).code).toBe('upstream');

    quay.inject({ delayMs: 2500, status: 200 });
    expect(errorOf(await mcp.call('quay_get_tag', { repository: REPO, tag: SHA })).code).toBe('timeout');

    await mcp.close();
    mcp = await connect(testRuntime({ config: { quay: { url: 'http://127.0.0.1:1', timeout_ms: 2000 } }, env: {} }), { persona: 'devops' });
    expect(errorOf(await mcp.call('quay_get_tag', { repository: REPO, tag: SHA })).code).toBe('network');
  });
});

describe('quay_check_image_exists', () => {
  it('answers exists with the digest, or false with the reason and what to do', async () => {
    const digest = quay.pushTag(REPO, 'c'.repeat(40));
    const found = await mcp.call('quay_check_image_exists', { repository: 'aap-aa-tenant/aap-aa-main/automation-analytics-backend-main', namespace: 'redhat-user-workloads', tag: 'c'.repeat(40) });
    expect(found.isError).toBeFalsy();
    expect(found.structuredContent).toMatchObject({ repository: REPO, exists: true, manifest_digest: digest, is_manifest_list: false, reason: null });
    const missing = (await mcp.call('quay_check_image_exists', { repository: REPO, tag: 'd'.repeat(40) })).structuredContent!;
    expect(missing).toMatchObject({ exists: false, manifest_digest: null });
    expect(missing.reason).toContain('image not found');
    expect(missing.hint).toContain('konflux_list_builds');
    const short = (await mcp.call('quay_check_image_exists', { repository: 'backend', tag: 'd'.repeat(8) })).structuredContent!;
    expect(short.hint).toContain('full 40-character');
    quay.pushTag(REPO, 'gone');
    quay.deleteTag(REPO, 'gone');
    const dead = (await mcp.call('quay_check_image_exists', { repository: REPO, tag: 'gone' })).structuredContent!;
    expect(dead).toMatchObject({ exists: false });
    expect(dead.reason).toContain('deleted or expired');
  });

  it('fails, rather than answering false, when the repository cannot be read or the input is wrong', async () => {
    expect(errorOf(await mcp.call('quay_check_image_exists', { repository: 'nobody/nothing', tag: SHA })).code).toBe('not_found');
    const badNamespace = errorOf(await mcp.call('quay_check_image_exists', { repository: REPO, tag: SHA, namespace: 'Bad Namespace' }));
    expect(badNamespace.code).toBe('invalid_input');
    expect(badNamespace.message).toContain('namespace');
  });
});

describe('manifest lists (multi-arch images)', () => {
  const scanned = (vulns: Array<[string, string, string | undefined]>) => ({ status: 'scanned', data: { Layer: { Features: features(vulns) } } });

  it('follows a manifest list to each architecture and judges all of them: the verdict is the worst', async () => {
    const list = quay.pushManifestList(REPO, 'multi-1', ['linux/amd64', 'linux/arm64/v8']);
    quay.setSecurity(REPO, list.images['linux/amd64']!, scanned([['CVE-A', 'Low', undefined]]));
    quay.setSecurity(REPO, list.images['linux/arm64/v8']!, scanned([['CVE-B', 'Critical', '3.0']]));
    const vulns = await mcp.call('quay_get_vulnerabilities', { repository: REPO, tag: 'multi-1' });
    expect(vulns.isError, JSON.stringify(vulns.content)).toBeFalsy();
    expect(vulns.structuredContent).toMatchObject({ manifest_digest: list.digest, status: 'scanned', total: 2, counts: { Critical: 1, Low: 1 } });
    expect(vulns.structuredContent!.architectures).toEqual([
      expect.objectContaining({ platform: 'linux/amd64', digest: list.images['linux/amd64'], status: 'scanned', total: 1 }),
      expect.objectContaining({ platform: 'linux/arm64/v8', status: 'scanned', total: 1, counts: expect.objectContaining({ Critical: 1 }) }),
    ]);
    const policy = (await mcp.call('quay_check_policy', { repository: REPO, tag: 'multi-1' })).structuredContent!;
    expect(policy).toMatchObject({ verdict: 'block', pass: false });
    expect(policy.reasons).toEqual([expect.stringMatching(/^linux\/arm64\/v8: 1 critical/)]);
    // Quay itself calls the list unsupported: never judged on that alone
    expect(quay.server.requestsMatching(new RegExp(`manifest/${list.digest}/security`))).toHaveLength(0);
  });

  it('a list passes only when every image passes; a queued image keeps it pending; a digest alone is followed too', async () => {
    const list = quay.pushManifestList(REPO, 'multi-2', ['linux/amd64', 'linux/s390x']);
    quay.setSecurity(REPO, list.images['linux/amd64']!, scanned([]));
    const pending = (await mcp.call('quay_check_policy', { repository: REPO, digest: list.digest })).structuredContent!;
    expect(pending).toMatchObject({ verdict: 'pending', scan_status: 'queued' });
    expect((pending.architectures as Array<{ verdict: string }>).map((a) => a.verdict)).toEqual(['pass', 'pending']);
    quay.setSecurity(REPO, list.images['linux/s390x']!, scanned([['CVE-C', 'High', undefined]]));
    const passes = (await mcp.call('quay_check_policy', { repository: REPO, tag: 'multi-2' })).structuredContent!;
    expect(passes).toMatchObject({ verdict: 'pass', scan_status: 'scanned' });
    expect(passes.reasons).toEqual([expect.stringContaining('2 images (linux/amd64, linux/s390x)')]);
    const high = (await mcp.call('quay_check_policy', { repository: REPO, tag: 'multi-2', fail_on: 'high' })).structuredContent!;
    expect(high).toMatchObject({ verdict: 'block' });
  });
});

describe('quay_list_tags', () => {
  it('pages and filters tags, newest first', async () => {
    const repo = 'org/listing';
    for (const name of ['v1', 'v2', 'main-1', 'main-2', 'main-3']) quay.pushTag(repo, name);
    const first = await mcp.call('quay_list_tags', { repository: repo, filter: 'main', limit: 2 });
    expect(first.structuredContent).toMatchObject({ page: 1, has_additional: true });
    expect((first.structuredContent!.tags as Array<{ name: string }>).map((t) => t.name)).toEqual(['main-3', 'main-2']);
    const second = await mcp.call('quay_list_tags', { repository: repo, filter: 'main', limit: '2', page: '2' });
    expect((second.structuredContent!.tags as Array<{ name: string }>).map((t) => t.name)).toEqual(['main-1']);
    expect(second.structuredContent!.has_additional).toBe(false);
  });

  it('hides dead tags unless asked', async () => {
    const repo = 'org/dead-listing';
    quay.pushTag(repo, 'keep');
    quay.pushTag(repo, 'gone');
    quay.deleteTag(repo, 'gone');
    const live = await mcp.call('quay_list_tags', { repository: repo });
    expect((live.structuredContent!.tags as Array<{ name: string }>).map((t) => t.name)).toEqual(['keep']);
    const all = await mcp.call('quay_list_tags', { repository: repo, only_active: false });
    expect(all.structuredContent!.tags).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'gone', active: false })]));
  });
});

describe('quay_get_vulnerabilities and quay_check_policy', () => {
  it('summarises a scanned image and trims the CVE list with a note', async () => {
    const digest = quay.pushTag(REPO, 'scanned');
    quay.setSecurity(REPO, digest, {
      status: 'scanned',
      data: { Layer: { Features: features([['CVE-1', 'Critical', '1.1'], ['CVE-2', 'High', undefined], ['CVE-3', 'Low', '1.2'], ['CVE-4', 'Medium', undefined], ['CVE-5', 'High', '1.3']]) } },
    });
    const result = await mcp.call('quay_get_vulnerabilities', { repository: 'backend', tag: 'scanned' });
    expect(result.isError).toBeFalsy();
    const s = result.structuredContent!;
    expect(s).toMatchObject({ status: 'scanned', manifest_digest: digest, total: 5, counts: { Critical: 1, High: 2, Medium: 1, Low: 1 }, fixable: { Critical: 1, High: 1, Low: 1 } });
    expect((s.cves as Array<{ id: string }>).map((c) => c.id)).toEqual(['CVE-1', 'CVE-5', 'CVE-2']);
    expect(s.trimmed).toMatch(/3 most severe of 5/);
    expect(quay.server.requestsMatching(/security/).at(-1)!.query).toContain('vulnerabilities=true');

    const policy = await mcp.call('quay_check_policy', { repository: 'backend', tag: 'scanned', fail_on: 'critical' });
    expect(policy.structuredContent).toMatchObject({ verdict: 'block', pass: false });
    expect((policy.structuredContent!.reasons as string[])[0]).toContain('CVE-1');
  });

  it('does not pass a queued scan, nor a failed or unsupported one', async () => {
    const queued = quay.pushTag(REPO, 'queued');
    quay.setSecurity(REPO, queued, { status: 'queued', data: null });
    const vulns = await mcp.call('quay_get_vulnerabilities', { repository: REPO, digest: queued });
    expect(vulns.structuredContent).toMatchObject({ status: 'queued', total: 0 });
    const pending = await mcp.call('quay_check_policy', { repository: REPO, tag: 'queued' });
    expect(pending.structuredContent).toMatchObject({ verdict: 'pending', pass: false, scan_status: 'queued' });

    for (const status of ['failed', 'unsupported'] as const) {
      const d = quay.pushTag(REPO, status);
      quay.setSecurity(REPO, d, { status, data: null });
      const result = await mcp.call('quay_check_policy', { repository: REPO, tag: status });
      expect(result.structuredContent).toMatchObject({ verdict: 'unknown', pass: false });
      expect((result.structuredContent!.reasons as string[])[0]).toContain(status);
    }
  });

  it('passes a clean scan, and blocks on high only when fail_on is high', async () => {
    const digest = quay.pushTag(REPO, 'highs');
    quay.setSecurity(REPO, digest, { status: 'scanned', data: { Layer: { Features: features([['CVE-9', 'High', '2.0']]) } } });
    expect((await mcp.call('quay_check_policy', { repository: REPO, tag: 'highs' })).structuredContent).toMatchObject({ verdict: 'pass', pass: true });
    expect((await mcp.call('quay_check_policy', { repository: REPO, tag: 'highs', fail_on: 'high' })).structuredContent).toMatchObject({ verdict: 'block' });
  });

  it('does not pass a tag on the scan of another image: a digest that is not the tag\'s is refused', async () => {
    const dirty = quay.pushTag(REPO, 'dirty');
    quay.setSecurity(REPO, dirty, { status: 'scanned', data: { Layer: { Features: features([['CVE-1', 'Critical', '2.0']]) } } });
    const clean = quay.pushTag(REPO, 'clean');
    quay.setSecurity(REPO, clean, { status: 'scanned', data: { Layer: { Features: [] } } });
    const mixed = await mcp.call('quay_check_policy', { repository: REPO, tag: 'dirty', digest: clean });
    expect(errorOf(mixed).code).toBe('invalid_input');
    expect(errorOf(mixed).message).toContain(dirty);
    expect((await mcp.call('quay_check_policy', { repository: REPO, tag: 'dirty', digest: dirty })).structuredContent).toMatchObject({ verdict: 'block', tag: 'dirty' });
  });

  it('needs a tag or a digest, and reports an unknown manifest as not_found', async () => {
    expect(errorOf(await mcp.call('quay_get_vulnerabilities', { repository: REPO })).code).toBe('invalid_input');
    expect(errorOf(await mcp.call('quay_get_vulnerabilities', { repository: REPO, digest: `sha256:${'0'.repeat(64)}` })).code).toBe('not_found');
    expect(errorOf(await mcp.call('quay_check_policy', { repository: REPO, tag: 'never-built' })).code).toBe('not_found');
  });
});

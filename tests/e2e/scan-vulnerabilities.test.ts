import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuaySecurityReport } from '../../src/integrations/quay.js';
import { connectServer, createReleaseEnv, type ReleaseEnv, type ServerClient } from '../helpers/release-env.js';
import { runOf as run, stepOf as step } from '../helpers/harness.js';

const SKILL = 'scan_vulnerabilities';
const REPO = 'redhat-user-workloads/aap-aa-tenant/aap-aa-main/automation-analytics-frontend-main';
let env: ReleaseEnv;
let mcp: ServerClient;


function vulnerability(id: string, severity: string, fixedBy = ''): { Name: string; Severity: string; FixedBy: string; Link: string; Description: string } {
  return { Name: id, Severity: severity, FixedBy: fixedBy, Link: `https://access.redhat.com/security/cve/${id}`, Description: `${id} in a package` };
}

/** Push a tag with a security report; returns the tag. */
function image(tag: string, report: QuaySecurityReport | 'none'): string {
  const digest = env.quay.pushTag(REPO, tag);
  if (report !== 'none') env.quay.setSecurity(REPO, digest, report);
  return tag;
}

const scanned = (features: Array<{ Name: string; Version: string; Vulnerabilities: ReturnType<typeof vulnerability>[] }>) => ({ status: 'scanned', data: { Layer: { Features: features } } }) as QuaySecurityReport;

beforeAll(async () => {
  env = await createReleaseEnv({ prefix: 'e2e-scan-' });
  mcp = await connectServer(env);
});

afterAll(async () => {
  await mcp?.close();
  await env?.close();
});

describe('scan_vulnerabilities', () => {
  it('scanned with a critical CVE: counts, fixable counts, CVE list, and the default policy blocks', async () => {
    const tag = image('v1', scanned([
      { Name: 'openssl', Version: '3.0.1', Vulnerabilities: [vulnerability('CVE-2026-1000', 'Critical', '3.0.9'), vulnerability('CVE-2026-1001', 'High')] },
      { Name: 'zlib', Version: '1.2.11', Vulnerabilities: [vulnerability('CVE-2026-1002', 'Medium', '1.2.13')] },
    ]));
    const result = await mcp.runSkill(SKILL, { repository: REPO, tag });
    expect(result.isError).toBe(true);
    expect(run(result).status).toBe('failed');
    const policy = step(result, 'policy');
    expect(policy.status).toBe('failed');
    expect(policy.error?.message).toBe(`${REPO}:v1 is blocked by policy: 1 critical (1 fixable): CVE-2026-1000`);
    const summary = step(result, 'verdict').output_summary!;
    expect(summary).toContain('"verdict":"block"');
    expect(summary).toContain('"Critical":1,"High":1,"Medium":1');
    // Recorded even when blocked.
    expect(step(result, 'record_scan').status).toBe('succeeded');
  });

  it('without a critical-only policy the same image passes, and tracks recurring CVEs across scans', async () => {
    const tag = image('v2', scanned([{ Name: 'openssl', Version: '3.0.1', Vulnerabilities: [vulnerability('CVE-2026-1000', 'Critical', '3.0.9'), vulnerability('CVE-2026-2000', 'Low')] }]));
    const result = await mcp.runSkill(SKILL, { repository: REPO, tag, fail_on_critical: false });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(run(result).outputs).toMatchObject({
      scan_status: 'scanned',
      verdict: 'pass',
      passed: true,
      reasons: ['no policy set: report only'],
      counts: { Critical: 1, High: 0, Low: 1 },
      fixable: { Critical: 1, Low: 0 },
      total: 2,
      recurring: [{ id: 'CVE-2026-1000', severity: 'Critical', seen_in_scans: 2, first_seen_tag: 'v1' }],
    });
    expect((run(result).outputs.cves as Array<{ id: string }>).map((c) => c.id)).toEqual(['CVE-2026-1000', 'CVE-2026-2000']);

    const strict = await mcp.runSkill(SKILL, { repository: REPO, tag: image('v3', scanned([{ Name: 'curl', Version: '8.0', Vulnerabilities: [vulnerability('CVE-2026-3000', 'High', '8.1')] }])), fail_on_high: true });
    expect(strict.isError).toBe(true);
    expect(step(strict, 'policy').error?.message).toContain('1 high (1 fixable): CVE-2026-3000');
  });

  it('a clean scan passes', async () => {
    const result = await mcp.runSkill(SKILL, { repository: REPO, tag: image('v4', scanned([{ Name: 'bash', Version: '5.2', Vulnerabilities: [] }])) });
    expect(result.isError).toBeFalsy();
    expect(run(result).outputs).toMatchObject({ verdict: 'pass', passed: true, total: 0, recurring: [], reasons: ['no critical vulnerabilities'] });
  });

  it('a queued scan is pending, not passed: the policy fails the run; report-only mode says pending', async () => {
    const tag = image('v5', 'none');
    const gated = await mcp.runSkill(SKILL, { repository: REPO, tag });
    expect(gated.isError).toBe(true);
    expect(step(gated, 'policy').error?.message).toMatch(/has no passing scan \(pending\): the scan is still queued/);
    const reportOnly = await mcp.runSkill(SKILL, { repository: REPO, tag, fail_on_critical: false });
    expect(reportOnly.isError).toBeFalsy();
    expect(run(reportOnly).outputs).toMatchObject({ scan_status: 'queued', verdict: 'pending', passed: false });
  });

  it('an unsupported image is unknown, not passed', async () => {
    const result = await mcp.runSkill(SKILL, { repository: REPO, tag: image('v6', { status: 'unsupported', data: null } as QuaySecurityReport) });
    expect(result.isError).toBe(true);
    expect(step(result, 'policy').error?.message).toContain('has no passing scan (unknown): Quay does not support scanning this image');
  });

  it('a missing image fails at check_image', async () => {
    const result = await mcp.runSkill(SKILL, { repository: REPO, tag: 'nope' });
    expect(result.isError).toBe(true);
    expect(step(result, 'check_image')).toMatchObject({ status: 'failed', error: { code: 'not_found' } });
  });
});

import { describe, expect, it } from 'vitest';
import { evaluatePolicy, normalizeSeverity, summarizeVulnerabilities } from '../src/integrations/quay-vulns.js';

const report = (status: string, vulns: Array<{ pkg: string; id: string; sev: string; fix?: string }>) => ({
  status,
  data: {
    Layer: {
      Features: [...new Set(vulns.map((v) => v.pkg))].map((pkg) => ({
        Name: pkg,
        Version: '1',
        Vulnerabilities: vulns.filter((v) => v.pkg === pkg).map((v) => ({ Name: v.id, Severity: v.sev, ...(v.fix ? { FixedBy: v.fix } : {}), Link: `https://a/${v.id} https://b/${v.id}` })),
      })),
    },
  },
});

describe('summarizeVulnerabilities', () => {
  it('counts by severity and fixable, one entry per CVE and package, most severe first', () => {
    const s = summarizeVulnerabilities(
      report('scanned', [
        { pkg: 'a', id: 'CVE-3', sev: 'low' },
        { pkg: 'a', id: 'CVE-1', sev: 'Critical', fix: '2' },
        { pkg: 'a', id: 'CVE-1', sev: 'Critical', fix: '2' },
        { pkg: 'b', id: 'CVE-1', sev: 'Critical' },
        { pkg: 'b', id: 'CVE-2', sev: 'weird' },
      ]),
      10,
    );
    expect(s.counts).toEqual({ Critical: 2, High: 0, Medium: 0, Low: 1, Negligible: 0, Unknown: 1 });
    expect(s.fixable.Critical).toBe(1);
    expect(s.total).toBe(4);
    expect(s.cves.map((c) => `${c.id}/${c.package}`)).toEqual(['CVE-1/a', 'CVE-1/b', 'CVE-3/a', 'CVE-2/b']);
    expect(s.cves[0]!.link).toBe('https://a/CVE-1');
    expect(s.trimmed).toBeNull();
  });

  it('trims the list to the limit with a note, and reads queued and odd statuses', () => {
    const s = summarizeVulnerabilities(report('scanned', [1, 2, 3].map((i) => ({ pkg: 'p', id: `CVE-${i}`, sev: 'High' }))), 2);
    expect(s.cves).toHaveLength(2);
    expect(s.trimmed).toMatch(/2 most severe of 3/);
    expect(summarizeVulnerabilities({ status: 'queued', data: null }, 5)).toMatchObject({ status: 'queued', total: 0 });
    expect(summarizeVulnerabilities({ status: 'garbage' }, 5).status).toBe('failed');
    expect(normalizeSeverity('Defcon1')).toBe('Critical');
  });
});

describe('evaluatePolicy', () => {
  const scanned = (sev: string) => summarizeVulnerabilities(report('scanned', [{ pkg: 'p', id: 'CVE-X', sev }]), 10);
  it('passes only a finished scan without blocking findings', () => {
    expect(evaluatePolicy(scanned('Medium'), 'high').verdict).toBe('pass');
    expect(evaluatePolicy(scanned('High'), 'critical').verdict).toBe('pass');
    expect(evaluatePolicy(scanned('High'), 'high')).toMatchObject({ verdict: 'block', reasons: [expect.stringContaining('CVE-X')] });
    expect(evaluatePolicy(scanned('Critical'), 'critical').verdict).toBe('block');
  });
  it('never passes a queued, failed or unsupported scan', () => {
    for (const [status, verdict] of [['queued', 'pending'], ['failed', 'unknown'], ['unsupported', 'unknown']] as const) {
      expect(evaluatePolicy(summarizeVulnerabilities({ status }, 5), 'critical').verdict).toBe(verdict);
    }
  });
});

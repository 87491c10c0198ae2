import type { QuaySecurityReport } from './quay.js';

export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type SeverityCounts = Record<Severity, number>;
export type ScanStatus = 'scanned' | 'queued' | 'failed' | 'unsupported';

export interface CveEntry {
  id: string;
  severity: Severity;
  package: string;
  version: string;
  fixed_by: string | null;
  link: string | null;
}

export interface VulnerabilitySummary {
  status: ScanStatus;
  counts: SeverityCounts;
  fixable: SeverityCounts;
  total: number;
  cves: CveEntry[];
  trimmed: string | null;
}

const zeroCounts = (): SeverityCounts => ({ Critical: 0, High: 0, Medium: 0, Low: 0, Negligible: 0, Unknown: 0 });

/** Clair's severity names, whatever their case; Defcon1 is Clair's name above Critical. */
export function normalizeSeverity(value: string | undefined): Severity {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'defcon1') return 'Critical';
  return SEVERITIES.find((s) => s.toLowerCase() === v) ?? 'Unknown';
}

export function normalizeScanStatus(value: string | undefined): ScanStatus {
  const v = (value ?? '').toLowerCase();
  return v === 'scanned' || v === 'queued' || v === 'unsupported' ? v : 'failed';
}

/**
 * Counts by severity, fixable counts and the CVE list of a Quay security report. One entry per
 * (CVE, package); the list is ordered most severe first and trimmed to `limit` with a note.
 */
export function summarizeVulnerabilities(report: QuaySecurityReport, limit: number): VulnerabilitySummary {
  const status = normalizeScanStatus(report.status);
  const counts = zeroCounts();
  const fixable = zeroCounts();
  const seen = new Set<string>();
  const cves: CveEntry[] = [];
  for (const feature of report.data?.Layer?.Features ?? []) {
    for (const vuln of feature.Vulnerabilities ?? []) {
      const key = `${vuln.Name}\u0000${feature.Name}\u0000${feature.Version ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const severity = normalizeSeverity(vuln.Severity);
      const fixedBy = vuln.FixedBy?.trim() || null;
      counts[severity] += 1;
      if (fixedBy) fixable[severity] += 1;
      const link = vuln.Link?.trim().split(/\s+/)[0] || null;
      cves.push({ id: vuln.Name, severity, package: feature.Name, version: feature.Version ?? '', fixed_by: fixedBy, link });
    }
  }
  const rank = (s: Severity) => SEVERITIES.indexOf(s);
  cves.sort((a, b) => rank(a.severity) - rank(b.severity) || Number(b.fixed_by !== null) - Number(a.fixed_by !== null) || a.id.localeCompare(b.id));
  const total = cves.length;
  const shown = cves.slice(0, limit);
  const trimmed = total > shown.length ? `showing the ${shown.length} most severe of ${total} vulnerabilities; the counts cover all of them` : null;
  return { status, counts, fixable, total, cves: shown, trimmed };
}

export type PolicyVerdict = 'pass' | 'block' | 'pending' | 'unknown';
export type FailOn = 'critical' | 'high';

export interface PolicyResult {
  verdict: PolicyVerdict;
  reasons: string[];
}

/**
 * The release policy on a scan: only a finished scan can pass. A queued scan is `pending`; a
 * failed or unsupported one is `unknown`; findings at or above `failOn` block.
 */
export function evaluatePolicy(summary: Pick<VulnerabilitySummary, 'status' | 'counts' | 'fixable' | 'cves'>, failOn: FailOn): PolicyResult {
  if (summary.status === 'queued') return { verdict: 'pending', reasons: ['the vulnerability scan is still queued: check again in a few minutes'] };
  if (summary.status === 'failed') return { verdict: 'unknown', reasons: ['the vulnerability scan failed: the image could not be assessed'] };
  if (summary.status === 'unsupported') return { verdict: 'unknown', reasons: ['Quay does not support scanning this image (unsupported): it could not be assessed'] };
  const blocking: Severity[] = failOn === 'high' ? ['Critical', 'High'] : ['Critical'];
  const reasons: string[] = [];
  for (const severity of blocking) {
    const n = summary.counts[severity];
    if (n === 0) continue;
    const ids = summary.cves.filter((c) => c.severity === severity).map((c) => c.id);
    const sample = [...new Set(ids)].slice(0, 5);
    reasons.push(`${n} ${severity.toLowerCase()} vulnerabilit${n === 1 ? 'y' : 'ies'} (${summary.fixable[severity]} fixable)${sample.length ? `: ${sample.join(', ')}` : ''}`);
  }
  if (reasons.length) return { verdict: 'block', reasons };
  return { verdict: 'pass', reasons: [`no ${blocking.map((s) => s.toLowerCase()).join(' or ')} vulnerabilities found`] };
}

const STATUS_RANK: readonly ScanStatus[] = ['failed', 'unsupported', 'queued', 'scanned'];
const VERDICT_RANK: readonly PolicyVerdict[] = ['block', 'unknown', 'pending', 'pass'];

/** The worst of several scan statuses: one image that could not be scanned leaves the whole unassessed. */
export function worstScanStatus(statuses: readonly ScanStatus[]): ScanStatus {
  return STATUS_RANK.find((s) => statuses.includes(s)) ?? 'failed';
}

/** The worst verdict: a manifest list passes only when every image in it passes. */
export function worstVerdict(verdicts: readonly PolicyVerdict[]): PolicyVerdict {
  return VERDICT_RANK.find((v) => verdicts.includes(v)) ?? 'unknown';
}

/** One report for the images of a manifest list: every package of every image, under the worst status. */
export function mergeReports(reports: readonly QuaySecurityReport[]): QuaySecurityReport {
  const status = worstScanStatus(reports.map((r) => normalizeScanStatus(r.status)));
  return { status, data: { Layer: { Features: reports.flatMap((r) => r.data?.Layer?.Features ?? []) } } };
}

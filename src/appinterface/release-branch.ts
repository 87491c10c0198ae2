import { ToolError } from '../errors.js';
import type { BranchList } from '../git/history.js';

export interface ReleaseBranchName {
  name: string;
  base: string;
  version: number;
  existing: string[];
}

/**
 * `<prefix><date>` (e.g. aa-release-2026-01-31), or `-v2`, `-v3`... after the highest version that
 * already exists as a local branch or a remote-tracking branch of `remote`.
 */
export function releaseBranchName(branches: BranchList, remote: string, prefix: string, date: string): ReleaseBranchName {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    throw new ToolError('invalid_input', `date must be YYYY-MM-DD, got "${date}"`);
  }
  const base = `${prefix}${date}`;
  const version = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:-v(\\d+))?$`);
  const names = [...branches.local.map((b) => b.name), ...branches.remote.filter((b) => b.remote === remote).map((b) => b.name)];
  const existing = [...new Set(names.filter((n) => version.test(n)))].sort();
  const highest = existing.reduce((max, name) => Math.max(max, Number(version.exec(name)?.[1] ?? 1)), 0);
  const next = highest + 1;
  return { name: next === 1 ? base : `${base}-v${next}`, base, version: next, existing };
}

/** Today as YYYY-MM-DD (UTC), the same day skills see as `today`. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

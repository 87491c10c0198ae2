import { jsonNumber, tableColumns } from '../memory/dialect.js';
import { effectiveStatus, type MemoryDb } from '../memory/index.js';

/** Prometheus text exposition (format 0.0.4) of a few metric families, no client library. */
export interface Sample {
  /** Full sample name, e.g. release_prepare_seconds_bucket. */
  name: string;
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: Sample[];
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Seconds: from a quick dry run to a long promotion skill. */
export const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      const labelText = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}` : '';
      lines.push(`${sample.name}${labelText} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Tool calls of this process by tool and outcome (ok or the error code). */
export class Metrics {
  private readonly toolCalls = new Map<string, { tool: string; outcome: string; count: number }>();

  countToolCall(tool: string, outcome: string): void {
    const key = `${tool}\u0000${outcome}`;
    const entry = this.toolCalls.get(key) ?? { tool, outcome, count: 0 };
    entry.count++;
    this.toolCalls.set(key, entry);
  }

  toolCallFamily(): MetricFamily {
    const samples = [...this.toolCalls.values()]
      .sort((a, b) => a.tool.localeCompare(b.tool) || a.outcome.localeCompare(b.outcome))
      .map((e) => ({ name: 'tool_calls_total', labels: { tool: e.tool, outcome: e.outcome }, value: e.count }));
    return { name: 'tool_calls_total', help: 'Tool calls since the server started, by tool and outcome (ok or the error code)', type: 'counter', samples };
  }
}

async function hasTable(memory: MemoryDb, table: string, column: string): Promise<boolean> {
  const columns = await memory.all<{ name: string }>(tableColumns(memory.backend), table);
  return columns.some((c) => c.name === column);
}

/** Events, counting an aggregated row (refused requests of one address in one minute) as its `count`. */
async function eventCount(memory: MemoryDb, events: readonly string[]): Promise<number> {
  const count = jsonNumber(memory.backend, 'details', 'count');
  return (await memory.get<{ n: number }>(`SELECT COALESCE(SUM(COALESCE(${count}, 1)), 0) AS n FROM release_events WHERE event IN (${events.map(() => '?').join(',')})`, ...events))!.n;
}

/** A histogram over the durations stored with audit events (so it survives restarts). */
async function durationHistogram(memory: MemoryDb, name: string, help: string, events: readonly string[]): Promise<MetricFamily> {
  const bucketSql = DURATION_BUCKETS.map((_, i) => `SUM(CASE WHEN duration_ms <= ? THEN 1 ELSE 0 END) AS b${i}`).join(', ');
  const row = (await memory.get<Record<string, number | null>>(
    `SELECT COUNT(*) AS n, COALESCE(SUM(duration_ms), 0) AS total, ${bucketSql} FROM release_events WHERE duration_ms IS NOT NULL AND event IN (${events.map(() => '?').join(',')})`,
    ...DURATION_BUCKETS.map((b) => b * 1000),
    ...events,
  ))!;
  const samples: Sample[] = DURATION_BUCKETS.map((b, i) => ({ name: `${name}_bucket`, labels: { le: String(b) }, value: row[`b${i}`] ?? 0 }));
  samples.push({ name: `${name}_bucket`, labels: { le: '+Inf' }, value: row.n ?? 0 });
  samples.push({ name: `${name}_sum`, value: (row.total ?? 0) / 1000 }, { name: `${name}_count`, value: row.n ?? 0 });
  return { name, help, type: 'histogram', samples };
}

/**
 * Skill runs by status as skill_runs shows them: a `running` row whose lease expired and whose
 * process is gone counts as interrupted (leaseMs is skills.lease_ms).
 */
async function skillRunCounts(memory: MemoryDb, leaseMs: number): Promise<Array<{ status: string; n: number }>> {
  const counts = new Map<string, number>();
  for (const row of await memory.all<{ status: string; n: number }>("SELECT status, COUNT(*) AS n FROM skill_runs WHERE status <> 'running' GROUP BY status")) {
    counts.set(String(row.status), row.n);
  }
  const now = Date.now();
  for (const run of await memory.all<{ status: string; owner: string | null; heartbeat_at: number | null }>("SELECT status, owner, heartbeat_at FROM skill_runs WHERE status = 'running'")) {
    const status = effectiveStatus(run, leaseMs, now);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return [...counts].map(([status, n]) => ({ status, n })).sort((a, b) => a.status.localeCompare(b.status));
}

/**
 * Release counters and durations come from the audit trail in memory (all tenants), so they
 * count every process that shares the file and survive restarts. Skill runs are counted by
 * status from the skill run table when the memory has one.
 */
export async function ledgerFamilies(memory: MemoryDb, leaseMs: number): Promise<MetricFamily[]> {
  if (!(await hasTable(memory, 'release_events', 'event'))) return [];
  const counter = async (name: string, help: string, events: string[]): Promise<MetricFamily> => ({ name, help, type: 'counter', samples: [{ name, value: await eventCount(memory, events) }] });
  const families = await Promise.all([
    counter('releases_prepared_total', 'Releases prepared', ['release.prepared']),
    counter('releases_promoted_total', 'Releases promoted', ['release.promoted']),
    counter('releases_failed_total', 'Release promotions that failed and were rolled back', ['release.failed']),
    counter('releases_rolled_back_total', 'Releases rolled back', ['release.rollback']),
    counter('release_calls_refused_total', 'Release tool calls and HTTP requests refused (role, tenant, status)', ['release.refused', 'access.refused']),
    durationHistogram(memory, 'release_prepare_seconds', 'Time to prepare a release (plan and dry run)', ['release.prepared']),
    durationHistogram(memory, 'release_promote_seconds', 'Time to promote a release, successful or failed', ['release.promoted', 'release.failed']),
  ]);
  if (await hasTable(memory, 'skill_runs', 'status')) {
    const rows = await skillRunCounts(memory, leaseMs);
    families.push({ name: 'skill_runs', help: 'Skill runs recorded in memory, by current status', type: 'gauge', samples: rows.map((r) => ({ name: 'skill_runs', labels: { status: String(r.status) }, value: r.n })) });
  }
  return families;
}

export async function renderMetrics(memory: MemoryDb, metrics: Metrics, leaseMs: number): Promise<string> {
  return renderPrometheus([...(await ledgerFamilies(memory, leaseMs)), metrics.toolCallFamily()]);
}

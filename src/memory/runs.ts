import { nowIso, type MemoryDb } from './store.js';

/** A skill run as stored: JSON columns parsed, secrets already masked on the way in. */
export interface RunRecord {
  id: string;
  /** Tenant of the principal that started the run: only that tenant sees or continues it. */
  tenant: string;
  /** Subject of the principal that started it. */
  started_by: string;
  skill: string;
  version: string;
  file: string;
  status: string;
  dry_run: boolean;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  error: string | null;
  resumes: number;
  started_at: string;
  updated_at: string;
  duration_ms: number;
}

export interface RunStepRecord {
  seq: number;
  /** 0 for the first attempt of the run, +1 for each resume. */
  round: number;
  phase: 'main' | 'finally';
  name: string;
  kind: string;
  status: string;
  tool: string | null;
  args: Record<string, unknown> | null;
  attempts: number;
  duration_ms: number;
  /** The step's full output value, kept so that a resume can reuse it. */
  output: unknown;
  output_summary: string | null;
  error: { code: string; message: string; hint?: string } | null;
  matches: unknown[] | null;
  note: string | null;
  ts: string;
}

type Row = Record<string, unknown>;

const statements = new WeakMap<MemoryDb, Map<string, ReturnType<MemoryDb['db']['prepare']>>>();

/** Steps are written one by one while a run goes: their statements are prepared once per database. */
function statement(mem: MemoryDb, sql: string) {
  let cache = statements.get(mem);
  if (!cache) statements.set(mem, (cache = new Map()));
  let prepared = cache.get(sql);
  if (!prepared) cache.set(sql, (prepared = mem.db.prepare(sql)));
  return prepared;
}

const parse = <T>(text: unknown, fallback: T): T => (typeof text === 'string' ? (JSON.parse(text) as T) : fallback);

function runFromRow(row: Row): RunRecord {
  return {
    ...(row as unknown as RunRecord),
    dry_run: row.dry_run === 1,
    inputs: parse(row.inputs, {}),
    outputs: parse(row.outputs, {}),
  };
}

function stepFromRow(row: Row): RunStepRecord {
  return {
    ...(row as unknown as RunStepRecord),
    args: parse(row.args, null),
    output: parse(row.output, undefined),
    error: parse(row.error, null),
    matches: parse(row.matches, null),
  };
}

export function createRun(
  mem: MemoryDb,
  run: { id: string; tenant: string; started_by: string; skill: string; version: string; file: string; status: string; dry_run: boolean; inputs: Record<string, unknown> },
): void {
  const now = nowIso();
  mem.db
    .prepare(
      'INSERT INTO skill_runs (id, tenant, started_by, skill, version, file, status, dry_run, inputs, started_at, updated_at) VALUES (@id, @tenant, @started_by, @skill, @version, @file, @status, @dry_run, @inputs, @now, @now)',
    )
    .run({ ...run, dry_run: run.dry_run ? 1 : 0, inputs: mem.json(run.inputs), now });
}

/** Take a stopped run of this tenant for a resume; false when it is not in one of the given states (or another process took it). */
export function claimRun(mem: MemoryDb, tenant: string, id: string, from: readonly string[]): boolean {
  const placeholders = from.map(() => '?').join(', ');
  const info = mem.db
    .prepare(`UPDATE skill_runs SET status = 'running', resumes = resumes + 1, updated_at = ? WHERE id = ? AND tenant = ? AND status IN (${placeholders})`)
    .run(nowIso(), id, tenant, ...from);
  return info.changes === 1;
}

export function finishRun(mem: MemoryDb, id: string, result: { status: string; outputs: Record<string, unknown>; error?: string | undefined; duration_ms: number }): void {
  mem.db
    .prepare('UPDATE skill_runs SET status = @status, outputs = @outputs, error = @error, duration_ms = duration_ms + @duration_ms, updated_at = @now WHERE id = @id')
    .run({ id, status: result.status, outputs: mem.json(result.outputs), error: result.error ? mem.redact(result.error) : null, duration_ms: Math.round(result.duration_ms), now: nowIso() });
}

export function addRunStep(mem: MemoryDb, runId: string, step: Omit<RunStepRecord, 'seq' | 'ts'>): void {
  const json = (value: unknown) => (value === undefined || value === null ? null : mem.json(value));
  statement(
      mem,
      `INSERT INTO run_steps (run_id, seq, round, phase, name, kind, status, tool, args, attempts, duration_ms, output, output_summary, error, matches, note, ts)
       VALUES (@run_id, (SELECT coalesce(max(seq), 0) + 1 FROM run_steps WHERE run_id = @run_id), @round, @phase, @name, @kind, @status, @tool, @args, @attempts, @duration_ms, @output, @output_summary, @error, @matches, @note, @ts)`,
  ).run({
      run_id: runId,
      round: step.round,
      phase: step.phase,
      name: step.name,
      kind: step.kind,
      status: step.status,
      tool: step.tool,
      args: json(step.args),
      attempts: step.attempts,
      duration_ms: Math.round(step.duration_ms),
      output: json(step.output),
      output_summary: step.output_summary === null ? null : mem.redact(step.output_summary),
      error: json(step.error),
      matches: json(step.matches),
      note: step.note === null ? null : mem.redact(step.note),
      ts: nowIso(),
    });
}

/** A run of this tenant with its steps; another tenant's run is undefined, as if it did not exist. */
export function getRun(mem: MemoryDb, tenant: string, id: string): { run: RunRecord; steps: RunStepRecord[] } | undefined {
  const row = mem.db.prepare('SELECT * FROM skill_runs WHERE id = ? AND tenant = ?').get(id, tenant) as Row | undefined;
  if (!row) return undefined;
  const steps = (mem.db.prepare('SELECT * FROM run_steps WHERE run_id = ? ORDER BY seq').all(id) as Row[]).map(stepFromRow);
  return { run: runFromRow(row), steps };
}

/** A tenant's runs, newest first. */
export function listRuns(mem: MemoryDb, tenant: string, query: { skill?: string; limit?: number } = {}): RunRecord[] {
  const limit = query.limit ?? 20;
  const rows = mem.db
    .prepare('SELECT * FROM skill_runs WHERE tenant = ? AND (? IS NULL OR skill = ?) ORDER BY started_at DESC, rowid DESC LIMIT ?')
    .all(tenant, query.skill ?? null, query.skill ?? null, limit) as Row[];
  return rows.map(runFromRow);
}

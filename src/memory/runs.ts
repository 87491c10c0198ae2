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
  /** host:pid:random of the process running it, while it runs. */
  owner: string | null;
  /** Last lease renewal, epoch ms. */
  heartbeat_at: number | null;
  /** The run (and its skill_run step) that started this one. */
  parent_run: string | null;
  parent_step: string | null;
  depth: number;
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

const parse = <T>(text: unknown, fallback: T): T => (typeof text === 'string' ? (JSON.parse(text) as T) : fallback);

function runFromRow(row: Row): RunRecord {
  // PostgreSQL's skill_runs has an explicit rowid column (SQLite's is hidden): not part of a run.
  const { rowid: _rowid, ...fields } = row;
  return {
    ...(fields as unknown as RunRecord),
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

export type NewRun = Pick<RunRecord, 'id' | 'tenant' | 'started_by' | 'skill' | 'version' | 'file' | 'status' | 'dry_run' | 'inputs'> & {
  owner: string;
  parent?: { run: string; step: string; depth: number } | undefined;
};

export async function createRun(mem: MemoryDb, run: NewRun): Promise<void> {
  const now = nowIso();
  await mem.run(
    `INSERT INTO skill_runs (id, tenant, started_by, skill, version, file, status, dry_run, inputs, started_at, updated_at, owner, heartbeat_at, parent_run, parent_step, depth)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    run.id,
    run.tenant,
    run.started_by,
    run.skill,
    run.version,
    run.file,
    run.status,
    run.dry_run ? 1 : 0,
    mem.json(run.inputs),
    now,
    now,
    run.owner,
    Date.now(),
    run.parent?.run ?? null,
    run.parent?.step ?? null,
    run.parent?.depth ?? 0,
  );
}

/**
 * Take a stopped run of this tenant for a resume, atomically: false when it is no longer in one
 * of the given states, or (for an interrupted run) when another process took it since it was read.
 */
export async function claimRun(mem: MemoryDb, tenant: string, id: string, from: readonly string[], owner: string, interrupted?: { owner: string | null; heartbeat_at: number | null }): Promise<boolean> {
  const placeholders = from.map(() => '?').join(', ');
  const takeInterrupted = interrupted ? " OR (status = 'running' AND owner IS ? AND heartbeat_at IS ?)" : '';
  // One conditional UPDATE: of two processes claiming the same run, exactly one changes the row.
  const info = await mem.run(
    `UPDATE skill_runs SET status = 'running', resumes = resumes + 1, owner = ?, heartbeat_at = ?, updated_at = ? WHERE id = ? AND tenant = ? AND (status IN (${placeholders})${takeInterrupted})`,
    owner,
    Date.now(),
    nowIso(),
    id,
    tenant,
    ...from,
    ...(interrupted ? [interrupted.owner, interrupted.heartbeat_at] : []),
  );
  return info.changes === 1;
}

/** Renew the lease of a run this owner holds; false when it holds it no more. */
export async function renewLease(mem: MemoryDb, id: string, owner: string): Promise<boolean> {
  return (await mem.run('UPDATE skill_runs SET heartbeat_at = ? WHERE id = ? AND owner = ?', Date.now(), id, owner)).changes === 1;
}

/** End a stopped or interrupted run for good; false when it changed since it was read. */
export async function abandonRun(mem: MemoryDb, tenant: string, id: string, seen: { status: string; owner: string | null; heartbeat_at: number | null }, reason: string): Promise<boolean> {
  const info = await mem.run(
    `UPDATE skill_runs SET status = 'abandoned', owner = NULL, error = ?, updated_at = ? WHERE id = ? AND tenant = ? AND status = ? AND owner IS ? AND heartbeat_at IS ?`,
    mem.redact(reason),
    nowIso(),
    id,
    tenant,
    seen.status,
    seen.owner,
    seen.heartbeat_at,
  );
  return info.changes === 1;
}

export async function finishRun(mem: MemoryDb, id: string, result: { status: string; outputs: Record<string, unknown>; error?: string | undefined; duration_ms: number }): Promise<void> {
  await mem.run(
    'UPDATE skill_runs SET status = ?, outputs = ?, error = ?, owner = NULL, duration_ms = duration_ms + ?, updated_at = ? WHERE id = ?',
    result.status,
    mem.json(result.outputs),
    result.error ? mem.redact(result.error) : null,
    Math.round(result.duration_ms),
    nowIso(),
    id,
  );
}

export async function addRunStep(mem: MemoryDb, runId: string, step: Omit<RunStepRecord, 'seq' | 'ts'>): Promise<void> {
  const json = (value: unknown) => (value === undefined || value === null ? null : mem.json(value));
  await mem.run(
    `INSERT INTO run_steps (run_id, seq, round, phase, name, kind, status, tool, args, attempts, duration_ms, output, output_summary, error, matches, note, ts)
     VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM run_steps WHERE run_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    runId,
    runId,
    step.round,
    step.phase,
    step.name,
    step.kind,
    step.status,
    step.tool,
    json(step.args),
    step.attempts,
    Math.round(step.duration_ms),
    json(step.output),
    step.output_summary === null ? null : mem.redact(step.output_summary),
    json(step.error),
    json(step.matches),
    step.note === null ? null : mem.redact(step.note),
    nowIso(),
  );
}

/** A run of this tenant with its steps; another tenant's run is undefined, as if it did not exist. */
export async function getRun(mem: MemoryDb, tenant: string, id: string): Promise<{ run: RunRecord; steps: RunStepRecord[] } | undefined> {
  const row = await mem.get<Row>('SELECT * FROM skill_runs WHERE id = ? AND tenant = ?', id, tenant);
  if (!row) return undefined;
  const steps = (await mem.all<Row>('SELECT * FROM run_steps WHERE run_id = ? ORDER BY seq', id)).map(stepFromRow);
  return { run: runFromRow(row), steps };
}

/** A tenant's runs, newest first. */
export async function listRuns(mem: MemoryDb, tenant: string, query: { skill?: string; limit?: number } = {}): Promise<RunRecord[]> {
  const limit = query.limit ?? 20;
  const rows = await mem.all<Row>('SELECT * FROM skill_runs WHERE tenant = ? AND (? IS NULL OR skill = ?) ORDER BY started_at DESC, rowid DESC LIMIT ?', tenant, query.skill ?? null, query.skill ?? null, limit);
  return rows.map(runFromRow);
}

/** A step's tool call, journaled before it is made. */
export interface StepCall {
  round: number;
  phase: string;
  name: string;
  tool: string;
  args: Record<string, unknown> | null;
  idempotent: boolean;
  started_at: string;
  done_at: string | null;
  outcome: string | null;
}

export async function startStepCall(mem: MemoryDb, runId: string, call: { round: number; phase: string; name: string; tool: string; args: Record<string, unknown>; idempotent: boolean }): Promise<void> {
  await mem.run(
    `INSERT INTO run_step_calls (run_id, round, phase, name, tool, args, idempotent, started_at, done_at, outcome)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
     ON CONFLICT (run_id, phase, name, round) DO UPDATE SET tool = excluded.tool, args = excluded.args, idempotent = excluded.idempotent, started_at = excluded.started_at, done_at = NULL, outcome = NULL`,
    runId,
    call.round,
    call.phase,
    call.name,
    call.tool,
    mem.json(call.args),
    call.idempotent ? 1 : 0,
    nowIso(),
  );
}

/** Close every open call of a step (the outcome is its recorded status). */
export async function finishStepCalls(mem: MemoryDb, runId: string, phase: string, name: string, outcome: string): Promise<void> {
  await mem.run('UPDATE run_step_calls SET done_at = ?, outcome = ? WHERE run_id = ? AND phase = ? AND name = ? AND done_at IS NULL', nowIso(), outcome, runId, phase, name);
}

/** The latest call of a step, when its result was never recorded (its process died during it). */
export async function openStepCall(mem: MemoryDb, runId: string, phase: string, name: string): Promise<StepCall | undefined> {
  const row = await mem.get<Row>('SELECT * FROM run_step_calls WHERE run_id = ? AND phase = ? AND name = ? AND done_at IS NULL ORDER BY round DESC LIMIT 1', runId, phase, name);
  if (!row) return undefined;
  return { ...(row as unknown as StepCall), args: parse(row.args, null), idempotent: row.idempotent === 1 };
}

/** The latest run a skill_run step of a run started. */
export async function childRun(mem: MemoryDb, parentRun: string, parentStep: string): Promise<RunRecord | undefined> {
  const row = await mem.get<Row>('SELECT * FROM skill_runs WHERE parent_run = ? AND parent_step = ? ORDER BY started_at DESC, rowid DESC LIMIT 1', parentRun, parentStep);
  return row ? runFromRow(row) : undefined;
}

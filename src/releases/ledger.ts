import { ToolError } from '../errors.js';
import { nowIso, type MemoryDb } from '../memory/index.js';
import type { Principal } from '../principal.js';
import type { FlagValue, PreviousFlags } from './flags.js';
import type { Finding } from './migration-safety.js';
import type { PlannedMigration } from './target-db.js';

export const RELEASE_STATUSES = ['prepared', 'promoted', 'failed', 'rolled_back'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

/** The only status changes there are. */
const TRANSITIONS: Record<ReleaseStatus, readonly ReleaseStatus[]> = {
  prepared: ['promoted', 'failed'],
  promoted: ['rolled_back'],
  failed: ['rolled_back'],
  rolled_back: [],
};

export const RELEASE_EVENTS = ['release.prepared', 'release.promoted', 'release.failed', 'release.rollback', 'release.refused', 'access.refused'] as const;
export type ReleaseEventName = (typeof RELEASE_EVENTS)[number];

export interface ReleaseManifest {
  id: string;
  tenant: string;
  from_env: string;
  to_env: string;
  status: ReleaseStatus;
  hotfix: boolean;
  allow_data_loss: boolean;
  bundle: Record<string, unknown>;
  bundle_sha256: string;
  migrations: PlannedMigration[];
  feature_flags: Record<string, FlagValue>;
  /** sha256 of the target schema when prepared; promote refuses if it changed since. */
  schema_before: string;
  /** sha256 of the SQL the dry run ran; promote refuses a plan that no longer matches it. Absent on releases prepared before it existed. */
  plan_sha256?: string;
  /** Safe-migration findings of the prepare (warnings; errors refuse it). */
  findings?: Finding[];
  target_kind?: 'sqlite' | 'postgresql';
  schema_after: string | null;
  backup_path: string | null;
  previous_flags: PreviousFlags | null;
  created_by: string;
  created_at: string;
  promoted_at: string | null;
  failed_at: string | null;
  rolled_back_at: string | null;
  error_message: string | null;
}

export interface ReleaseEvent {
  id: number;
  release_id: string | null;
  tenant: string;
  event: ReleaseEventName;
  actor: string;
  role: string;
  ts: string;
  duration_ms: number | null;
  details: Record<string, unknown>;
}

interface ReleaseRow {
  id: string;
  tenant: string;
  from_env: string;
  to_env: string;
  status: ReleaseStatus;
  bundle_sha256: string;
  manifest: string;
  created_by: string;
  created_at: string;
  promoted_at: string | null;
  failed_at: string | null;
  rolled_back_at: string | null;
  error_message: string | null;
  backup_path: string | null;
  schema_after: string | null;
  previous_flags: string | null;
}

type StoredManifest = Pick<ReleaseManifest, 'hotfix' | 'allow_data_loss' | 'bundle' | 'migrations' | 'feature_flags' | 'schema_before' | 'plan_sha256' | 'findings' | 'target_kind'>;

function fromRow(row: ReleaseRow): ReleaseManifest {
  const stored = JSON.parse(row.manifest) as StoredManifest;
  return {
    id: row.id,
    tenant: row.tenant,
    from_env: row.from_env,
    to_env: row.to_env,
    status: row.status,
    ...stored,
    bundle_sha256: row.bundle_sha256,
    schema_after: row.schema_after,
    backup_path: row.backup_path,
    previous_flags: row.previous_flags ? (JSON.parse(row.previous_flags) as PreviousFlags) : null,
    created_by: row.created_by,
    created_at: row.created_at,
    promoted_at: row.promoted_at,
    failed_at: row.failed_at,
    rolled_back_at: row.rolled_back_at,
    error_message: row.error_message,
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** rel_YYYYMMDD_hhmm (UTC); a second release in the same minute gets _2, then _3, ... */
export async function nextReleaseId(memory: MemoryDb, now: Date): Promise<string> {
  const base = `rel_${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}_${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}`;
  // Ids are one sequence for every process: the caller's transaction holds this lock until its insert commits.
  await memory.lock('release_ids');
  const taken = new Set((await memory.all<{ id: string }>("SELECT id FROM releases WHERE id = ? OR id LIKE ? || '\\_%' ESCAPE '\\'", base, base)).map((r) => r.id));
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}_${n}`)) n++;
  return `${base}_${n}`;
}

export interface EventInput {
  release_id?: string | null;
  event: ReleaseEventName;
  actor: Principal;
  duration_ms?: number;
  details?: Record<string, unknown>;
}

/** Append an audit event (call inside the transaction of the change it records); returns its id. */
export function recordEvent(memory: MemoryDb, input: EventInput): Promise<number> {
  return memory.insert(
    'INSERT INTO release_events (release_id, tenant, event, actor, role, ts, duration_ms, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    input.release_id ?? null,
    input.actor.tenant,
    input.event,
    input.actor.subject,
    input.actor.role,
    nowIso(),
    input.duration_ms === undefined ? null : Math.round(input.duration_ms),
    memory.json(input.details ?? {}),
  );
}

/** Replace the details of an event that aggregates many (refused requests of one address in one minute). */
export async function updateEventDetails(memory: MemoryDb, id: number, details: Record<string, unknown>): Promise<void> {
  await memory.run('UPDATE release_events SET details = ? WHERE id = ?', memory.json(details), id);
}

export interface NewRelease extends StoredManifest {
  from_env: string;
  to_env: string;
  bundle_sha256: string;
}

/** Store a prepared release and its release.prepared event in one transaction. */
export async function insertPrepared(memory: MemoryDb, release: NewRelease, actor: Principal, durationMs: number, now = new Date()): Promise<ReleaseManifest> {
  const id = await memory.transaction(async () => {
    const id = await nextReleaseId(memory, now);
    const { from_env, to_env, bundle_sha256, ...stored } = release;
    await memory.run(
      'INSERT INTO releases (id, tenant, from_env, to_env, status, bundle_sha256, manifest, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      id,
      actor.tenant,
      from_env,
      to_env,
      'prepared',
      bundle_sha256,
      memory.json(stored),
      actor.subject,
      now.toISOString(),
    );
    await recordEvent(memory, {
      release_id: id,
      event: 'release.prepared',
      actor,
      duration_ms: durationMs,
      details: { from_env, to_env, bundle_sha256, migrations: release.migrations.length, data_loss: release.migrations.some((m) => m.data_loss) },
    });
    return id;
  });
  return getRelease(memory, actor.tenant, id);
}

/** A release of this tenant; another tenant's release is reported as not found. */
export async function getRelease(memory: MemoryDb, tenant: string, id: string, options: { forUpdate?: boolean } = {}): Promise<ReleaseManifest> {
  const row = await memory.get<ReleaseRow>(`SELECT * FROM releases WHERE id = ? AND tenant = ?${options.forUpdate && memory.backend === 'postgresql' ? ' FOR UPDATE' : ''}`, id, tenant);
  if (!row) throw new ToolError('not_found', `no release ${id}`, { hint: 'release_list shows the releases you can see' });
  return fromRow(row);
}

export async function listReleases(memory: MemoryDb, tenant: string, filter: { status?: ReleaseStatus; environment?: string; limit: number }): Promise<ReleaseManifest[]> {
  const rows = await memory.all<ReleaseRow>(
    `SELECT * FROM releases WHERE tenant = ? AND (? IS NULL OR status = ?) AND (? IS NULL OR to_env = ?)
     ORDER BY created_at DESC, id DESC LIMIT ?`,
    tenant,
    filter.status ?? null,
    filter.status ?? null,
    filter.environment ?? null,
    filter.environment ?? null,
    filter.limit,
  );
  return rows.map(fromRow);
}

/** The newest release of a tenant, for /health. */
export async function latestRelease(memory: MemoryDb, tenant: string): Promise<ReleaseManifest | undefined> {
  return (await listReleases(memory, tenant, { limit: 1 }))[0];
}

export async function listEvents(memory: MemoryDb, tenant: string, filter: { release_id?: string; event?: ReleaseEventName; limit: number }): Promise<ReleaseEvent[]> {
  const rows = await memory.all<Omit<ReleaseEvent, 'details'> & { details: string }>(
    `SELECT * FROM release_events WHERE tenant = ? AND (? IS NULL OR release_id = ?) AND (? IS NULL OR event = ?)
     ORDER BY id DESC LIMIT ?`,
    tenant,
    filter.release_id ?? null,
    filter.release_id ?? null,
    filter.event ?? null,
    filter.event ?? null,
    filter.limit,
  );
  return rows.reverse().map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

export function canTransition(from: ReleaseStatus, to: ReleaseStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function allowedFrom(to: ReleaseStatus): ReleaseStatus[] {
  return RELEASE_STATUSES.filter((s) => TRANSITIONS[s].includes(to));
}

export interface TransitionInput {
  to: ReleaseStatus;
  event: ReleaseEventName;
  actor: Principal;
  duration_ms?: number;
  details?: Record<string, unknown>;
  set?: Partial<Pick<ReleaseRow, 'promoted_at' | 'failed_at' | 'rolled_back_at' | 'error_message' | 'backup_path' | 'schema_after' | 'previous_flags'>>;
  /** Extra writes that must commit with the status change (feature flag restore). */
  alongside?: () => Promise<void>;
}

/**
 * Change a release's status, its fields and its audit event in one transaction. The status is
 * read again inside the transaction, so two callers cannot both move the same release.
 */
export async function transition(memory: MemoryDb, tenant: string, id: string, input: TransitionInput): Promise<ReleaseManifest> {
  await memory.transaction(async () => {
    // The row stays locked (PostgreSQL FOR UPDATE; SQLite's write lock) until the change commits.
    const current = await getRelease(memory, tenant, id, { forUpdate: true });
    if (!canTransition(current.status, input.to)) throw transitionError(current, input.to);
    const fields = Object.entries(input.set ?? {});
    await memory.run(
      `UPDATE releases SET status = ?${fields.map(([k]) => `, ${k} = ?`).join('')} WHERE id = ? AND tenant = ?`,
      input.to,
      ...fields.map(([, v]) => (v === undefined ? null : memory.redact(String(v)))),
      id,
      tenant,
    );
    await input.alongside?.();
    await recordEvent(memory, { release_id: id, event: input.event, actor: input.actor, ...(input.duration_ms !== undefined ? { duration_ms: input.duration_ms } : {}), details: { from: current.status, to: input.to, ...input.details } });
  });
  return getRelease(memory, tenant, id);
}

export function transitionError(release: ReleaseManifest, to: ReleaseStatus): ToolError {
  const verb = to === 'rolled_back' ? 'rolled back' : to;
  return new ToolError('precondition', `release ${release.id} is ${release.status}: only a release that is ${allowedFrom(to).join(' or ')} can be ${verb}`, {
    hint: release.status === 'rolled_back' ? 'prepare a new release' : 'release_get shows its status and history',
    details: { release_id: release.id, status: release.status },
  });
}

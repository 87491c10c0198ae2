/**
 * The release operations of the REST API and the `release` command, on the service functions
 * of src/releases (in process): request shapes of seed 003 in, manifest views out.
 */
import type { z } from 'zod';
import { ToolError } from '../errors.js';
import type { Principal } from '../principal.js';
import { listReleases, prepareRelease, promoteRelease, readRelease, rollbackRelease, type MigrationOp, type ReleaseManifest } from '../releases/index.js';
import { promotionSkillRunner } from '../releases/promotion-skill.js';
import { formatIssues } from '../validation.js';
import { LocalSession } from './context.js';
import { listQuerySchema, type PrepareRequest, type ReleaseSummary, type ReleaseView } from './rest-schemas.js';
import type { Runtime } from './runtime.js';

/** Parse with a schema; a bad value is an invalid_input error naming every field (`bundle_data.database.changes.0.table: ...`). */
export function validate<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // A bare value (a release id) has no field path: say what it is instead of `(root)`.
  const problems = formatIssues(parsed.error.issues).map((p) => p.replace(/^\(root\): /, ''));
  throw new ToolError('invalid_input', `invalid ${what}: ${problems.join('; ')}`, {
    details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}

/** The service's prepare input from a seed 003 body: `bundle_data.database.changes[].type` is the migration's operation. */
export function prepareInput(body: PrepareRequest) {
  const data = body.bundle_data ?? {};
  const migrations = (data.database?.changes ?? []).map(({ type, ...rest }) => ({ operation: type, ...rest }) as MigrationOp);
  return {
    from_env: body.from_env,
    to_env: body.to_env,
    bundle: { ...(data.commit_sha ? { commit_sha: data.commit_sha } : {}), images: data.images ?? {}, migrations, feature_flags: data.feature_flags ?? {} },
    hotfix: body.hotfix ?? false,
    allow_data_loss: body.allow_data_loss ?? false,
  };
}

const commitOf = (r: ReleaseManifest) => (typeof r.bundle.commit_sha === 'string' ? r.bundle.commit_sha : null);

const timestampsOf = (r: ReleaseManifest) => ({
  created_by: r.created_by,
  created_at: r.created_at,
  promoted_at: r.promoted_at,
  failed_at: r.failed_at,
  rolled_back_at: r.rolled_back_at,
  error_message: r.error_message,
});

/** The manifest as the API shows it: the documented fields only (no schema fingerprints, no stored bundle). */
export function releaseView(r: ReleaseManifest, promotionRunning = false): ReleaseView {
  const images = r.bundle.images && typeof r.bundle.images === 'object' ? (r.bundle.images as Record<string, string>) : {};
  return {
    release_id: r.id,
    id: r.id,
    status: r.status,
    from_env: r.from_env,
    to_env: r.to_env,
    hotfix: r.hotfix,
    allow_data_loss: r.allow_data_loss,
    commit_sha: commitOf(r),
    images,
    bundle_sha256: r.bundle_sha256,
    migrations: r.migrations.map((m) => ({
      index: m.index,
      operation: m.operation,
      table: m.table,
      sql: m.sql,
      rollback_sql: m.rollback_sql,
      reversible: m.reversible,
      data_loss: m.data_loss,
      dry_run_result: { ok: m.dry_run_result.ok, ...(m.dry_run_result.error !== undefined ? { error: m.dry_run_result.error } : {}), affected: m.dry_run_result.affected },
    })),
    feature_flags: r.feature_flags,
    previous_flags: r.previous_flags,
    backup_path: r.backup_path,
    promotion_running: promotionRunning,
    ...timestampsOf(r),
  };
}

export function releaseSummary(r: ReleaseManifest): ReleaseSummary {
  return {
    release_id: r.id,
    status: r.status,
    from_env: r.from_env,
    to_env: r.to_env,
    commit_sha: commitOf(r),
    bundle_sha256: r.bundle_sha256,
    migrations: r.migrations.length,
    ...timestampsOf(r),
  };
}

export type ListQuery = z.output<typeof listQuerySchema>;

/** Prepare, promote, roll back, list and read releases as a principal; roles and tenants as in the service. */
export class ReleaseActions {
  constructor(private readonly runtime: Runtime) {}

  private get deps() {
    return { config: this.runtime.config, memory: this.runtime.memory, secrets: this.runtime.secrets };
  }

  async prepare(actor: Principal, body: PrepareRequest): Promise<ReleaseManifest> {
    return await prepareRelease(this.deps, actor, prepareInput(body));
  }

  /** Runs the environment's promotion skill through skill_run, with the caller's rights. */
  async promote(actor: Principal, id: string, signal: AbortSignal = new AbortController().signal): Promise<ReleaseManifest> {
    const ctx = new LocalSession(this.runtime, actor).context({ signal });
    return await promoteRelease(this.deps, actor, id, promotionSkillRunner((name, args) => ctx.callTool(name, args)));
  }

  async rollback(actor: Principal, id: string) {
    return await rollbackRelease(this.deps, actor, id);
  }

  async list(actor: Principal, query: ListQuery): Promise<ReleaseManifest[]> {
    return await listReleases(this.runtime.memory, actor.tenant, {
      limit: query.limit ?? 50,
      ...(query.status ? { status: query.status } : {}),
      ...(query.environment ? { environment: query.environment } : {}),
    });
  }

  async get(actor: Principal, id: string): Promise<ReleaseManifest> {
    return await readRelease(this.deps, actor, id);
  }
}

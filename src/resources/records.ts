import { ToolError } from '../errors.js';
import { listEvents, listReleases, type ReleaseEvent, type ReleaseManifest } from '../releases/ledger.js';
import type { RunsResult, RunSummary } from '../tools/skills.js';
import { AUDIT_LIMIT } from './kinds.js';
import type { ContentDeps } from './deps.js';

/** Candidates a completion looks through: the newest of a tenant. */
const COMPLETION_SCAN = 1000;

function skillService(deps: ContentDeps) {
  if (!deps.skills) throw new ToolError('config', 'the skill engine is not installed in this server', { hint: 'start release-mcp through its CLI (release-mcp serve)' });
  return deps.skills;
}

/** The tenant's newest runs. */
export async function recentRuns(deps: ContentDeps, limit: number): Promise<RunSummary[]> {
  return (await skillService(deps).runs({ limit }, deps.principal.tenant)).runs;
}

/** One run of the tenant in full, as skill_runs with run_id gives it; undefined when the tenant has no such run. */
export async function runRecord(deps: ContentDeps, runId: string): Promise<NonNullable<RunsResult['run']> | undefined> {
  try {
    return (await skillService(deps).runs({ run_id: runId, limit: 1 }, deps.principal.tenant)).run;
  } catch (error) {
    if (error instanceof ToolError && error.code === 'not_found') return undefined;
    throw error;
  }
}

export function recentReleases(deps: ContentDeps, limit: number): Promise<ReleaseManifest[]> {
  return listReleases(deps.memory, deps.principal.tenant, { limit });
}

/**
 * A release of the tenant as release_get gives it: a promotion left without outcome is finished
 * first, and the manifest has the fields of release_get's output (not the ledger's internal ones).
 * Undefined when the tenant has no release of that id.
 */
export async function releaseRecord(deps: ContentDeps, releaseId: string): Promise<Record<string, unknown> | undefined> {
  // The release service and the release tools load when a release is first read, not at start.
  const [{ readRelease }, { releaseGet }] = await Promise.all([import('../releases/service.js'), import('../tools/releases.js')]);
  try {
    return releaseGet.output.parse(await readRelease({ config: deps.config, memory: deps.memory, secrets: deps.secrets }, deps.principal, releaseId));
  } catch (error) {
    if (error instanceof ToolError && error.code === 'not_found') return undefined;
    throw error;
  }
}

/** The tenant's newest audit events, newest first. */
export async function auditTrail(deps: ContentDeps): Promise<{ tenant: string; limit: number; events: ReleaseEvent[] }> {
  const events = await listEvents(deps.memory, deps.principal.tenant, { limit: AUDIT_LIMIT });
  return { tenant: deps.principal.tenant, limit: AUDIT_LIMIT, events: events.reverse() };
}

/** Ids of the tenant's newest releases, newest first. */
export async function releaseIds(deps: ContentDeps): Promise<string[]> {
  const rows = await deps.memory.all<{ id: string }>('SELECT id FROM releases WHERE tenant = ? ORDER BY created_at DESC, id DESC LIMIT ?', deps.principal.tenant, COMPLETION_SCAN);
  return rows.map((r) => r.id);
}

/** Ids of the tenant's newest skill runs, newest first. */
export async function runIds(deps: ContentDeps): Promise<string[]> {
  const rows = await deps.memory.all<{ id: string }>('SELECT id FROM skill_runs WHERE tenant = ? ORDER BY started_at DESC, id DESC LIMIT ?', deps.principal.tenant, COMPLETION_SCAN);
  return rows.map((r) => r.id);
}

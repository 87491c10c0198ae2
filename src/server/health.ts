import { latestRelease } from '../releases/index.js';
import type { Runtime } from './runtime.js';

export interface ReleasesHealth {
  /** True when environments are configured (they always are: dev, staging, prod by default). */
  configured: boolean;
  /** False when the ledger cannot be read or the latest release failed. */
  ok: boolean;
  latest_release: string | null;
  /** Target environment of the latest release. */
  environment: string | null;
  status: string | null;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  name: 'release-mcp';
  version: string;
  persona: string;
  read_only: boolean;
  /** Which store holds the memory and whether it answers; a PostgreSQL location never shows its password. */
  memory: { ok: boolean; schema_version: number; backend: 'sqlite' | 'postgresql'; location: string };
  sessions: number;
  releases: ReleasesHealth;
}

/** The latest release of the default tenant (health is for the operator of the server). */
async function releasesHealth(runtime: Runtime): Promise<ReleasesHealth> {
  const configured = runtime.config.environments.length > 0;
  try {
    const latest = await latestRelease(runtime.memory, runtime.config.releases.default_tenant);
    return { configured, ok: latest?.status !== 'failed', latest_release: latest?.id ?? null, environment: latest?.to_env ?? null, status: latest?.status ?? null };
  } catch {
    return { configured, ok: false, latest_release: null, environment: null, status: null };
  }
}

export async function healthReport(runtime: Runtime, sessions: number): Promise<HealthReport> {
  const memoryOk = await runtime.memory.ok();
  return {
    status: memoryOk ? 'ok' : 'degraded',
    name: 'release-mcp',
    version: runtime.version,
    persona: runtime.defaultPersona,
    read_only: runtime.readOnly,
    memory: { ok: memoryOk, schema_version: memoryOk ? await runtime.memory.schemaVersion() : 0, backend: runtime.memory.backend, location: runtime.memory.path },
    sessions,
    releases: memoryOk ? await releasesHealth(runtime) : { configured: runtime.config.environments.length > 0, ok: false, latest_release: null, environment: null, status: null },
  };
}

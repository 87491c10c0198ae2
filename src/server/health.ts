import type { Runtime } from './runtime.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  name: 'release-mcp';
  version: string;
  persona: string;
  read_only: boolean;
  memory: { ok: boolean; schema_version: number };
  sessions: number;
}

export function healthReport(runtime: Runtime, sessions: number): HealthReport {
  const memoryOk = runtime.memory.ok();
  return {
    status: memoryOk ? 'ok' : 'degraded',
    name: 'release-mcp',
    version: runtime.version,
    persona: runtime.defaultPersona,
    read_only: runtime.readOnly,
    memory: { ok: memoryOk, schema_version: memoryOk ? runtime.memory.schemaVersion : 0 },
    sessions,
  };
}

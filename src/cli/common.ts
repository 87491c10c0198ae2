import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, configSearchPlaces, loadConfig } from '../config.js';
import { createRuntime, StartupError, type Runtime, type RuntimeOptions } from '../server/runtime.js';

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, badInput: 2, awaitingApproval: 3 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const RUNTIME_FLAGS = {
  config: { type: 'string' },
  memory: { type: 'string' },
  persona: { type: 'string' },
  'read-only': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export interface RuntimeFlags {
  config?: string | undefined;
  memory?: string | undefined;
  persona?: string | undefined;
  'read-only'?: boolean | undefined;
}

/** Load config and build the runtime from the common flags; every failure is a clean message. */
export async function runtimeFromFlags(flags: RuntimeFlags, extra: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  const { config, path } = loadConfig(flags.config ? { path: flags.config } : {});
  // Say so at start: a server running on defaults because its config was not found looks configured otherwise.
  if (!path) process.stderr.write(`release-mcp: no config file found (looked in --config, RELEASE_MCP_CONFIG, ${configSearchPlaces(process.env, process.cwd()).join(', ')}); using defaults\n`);
  const runtime = createRuntime({
    config,
    ...(path ? { configPath: path } : {}),
    ...(flags.memory ? { memoryPath: flags.memory } : {}),
    ...(flags.persona ? { persona: flags.persona } : {}),
    readOnly: flags['read-only'] ?? false,
    ...extra,
  });
  // A memory that opens when asked reports its failures through ready() to whoever asks.
  if (extra.openMemoryWhenAsked) return runtime;
  try {
    await runtime.ready();
  } catch (error) {
    await runtime.close().catch(() => undefined);
    throw error;
  }
  return runtime;
}

/** Errors a user can fix (bad flags, config, persona) exit 2 with their message only. */
export function exitCodeFor(error: unknown): number {
  return error instanceof UsageError || error instanceof ConfigError || error instanceof StartupError ? EXIT.badInput : EXIT.failed;
}

export function printError(error: unknown): void {
  process.stderr.write(`release-mcp: ${(error as Error).message ?? String(error)}\n`);
}

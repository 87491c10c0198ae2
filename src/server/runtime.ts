import { join } from 'node:path';
import { readSecrets, readTargetPasswords, secretValues, userDataDir, type Config, type Secrets } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { indexLegacyFixes, MemoryDb, MemoryOpenError, syncKnownIssues, type Migration } from '../memory/index.js';
// The one module, not releases/index.js: the release service and its planners load with the release tools.
import { hasOpenPromotions } from '../releases/open-promotions.js';
// The service's module loads on first use; the engine when a skill first runs.
import { installSkillService } from '../skills/install.js';
import { checkPersonas, loadPersonas, unknownPersonaMessage, type Persona } from '../personas/index.js';
// Not tools/index.js: that imports every tool module, which a server does only when a tool is called.
import { STARTUP_MANIFEST } from '../tools/manifest.js';
import { TOOL_MODULES } from '../tools/modules.js';
import { createClientCache, ToolCatalog, type AnyToolDefinition, type ClientCache, type ServiceMap } from '../tools/registry.js';
import { VERSION } from '../version.js';
import { readHttpTokens, type TokenEntry } from './auth.js';
import { Metrics } from './metrics.js';

/** Everything a server process shares across its sessions. */
export interface Runtime {
  version: string;
  config: Config;
  configPath: string | undefined;
  secrets: Secrets;
  /** Values masked in every result, log line and memory row. */
  secretValues: string[];
  memory: MemoryDb;
  logger: Logger;
  catalog: ToolCatalog;
  personas: ReadonlyMap<string, Persona>;
  clients: ClientCache;
  services: ServiceMap;
  defaultPersona: string;
  readOnly: boolean;
  /** Bearer tokens of config http.tokens, read from the variables they name. */
  httpTokens: TokenEntry[];
  /** In-process counters for /metrics (tool calls). */
  metrics: Metrics;
  /** Resolves once the memory is open and its startup work done (PostgreSQL connects and migrates); a StartupError otherwise. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config: Config;
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** `--memory`; else config memory.path; else the user's data directory. */
  memoryPath?: string;
  persona?: string;
  readOnly?: boolean;
  logger?: Logger;
  /** Replace the tool list (tests register purpose-made tools this way). */
  tools?: readonly AnyToolDefinition[];
  migrations?: readonly Migration[];
  /**
   * Open a SQLite memory on first use (a query, `ready()`) instead of now: stdio serving answers the
   * client's handshake first. Startup failures of the memory are then `ready()`'s.
   */
  openMemoryWhenAsked?: boolean;
  /** Hooks that add or replace services once the runtime exists (the skill engine is installed first). */
  extend?: ReadonlyArray<(runtime: Runtime) => void>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** A memory file that is corrupt or not writable is a startup problem the user fixes (exit 2), not a crash. */
function openMemory(options: ConstructorParameters<typeof MemoryDb>[0]): MemoryDb {
  try {
    return new MemoryDb(options);
  } catch (error) {
    if (error instanceof MemoryOpenError) throw new StartupError(error.message, { cause: error });
    throw error;
  }
}

/**
 * The PostgreSQL memory, when one is chosen: --memory with a postgresql:// URL, else (without
 * --memory) RELEASE_MCP_DATABASE_URL, else config memory.url. Its password is the URL's, or
 * config memory.password_env's variable, or PGPASSWORD.
 */
export function resolveDatabase(options: Pick<RuntimeOptions, 'memoryPath' | 'config' | 'env'>): { url: string; password: string | undefined } | undefined {
  const env = options.env ?? process.env;
  const isUrl = (value: string | undefined) => value !== undefined && /^postgres(ql)?:\/\//.test(value);
  const url = options.memoryPath !== undefined ? (isUrl(options.memoryPath) ? options.memoryPath : undefined) : env.RELEASE_MCP_DATABASE_URL || options.config.memory.url;
  if (!url) return undefined;
  if (!isUrl(url)) throw new StartupError('RELEASE_MCP_DATABASE_URL: expected a postgresql:// URL');
  const password = env[options.config.memory.password_env ?? 'PGPASSWORD'] || undefined;
  return { url, password };
}

export function resolveMemoryPath(options: Pick<RuntimeOptions, 'memoryPath' | 'config' | 'env'>): string {
  return options.memoryPath ?? options.config.memory.path ?? join(userDataDir(options.env), 'memory.db');
}

/**
 * Build the shared runtime. Every problem that would make a tool misbehave later (an unknown
 * persona, a persona naming a missing tool) fails here, at startup, with the list of choices.
 */
export function createRuntime(options: RuntimeOptions): Runtime {
  const env = options.env ?? process.env;
  const { config } = options;
  const secrets = { ...readSecrets(env), target_passwords: readTargetPasswords(config, env) };
  const httpTokens = readHttpTokens(config, env);
  const database = resolveDatabase({ ...options, env });
  const databasePassword = database ? [database.password, urlPassword(database.url)].filter((p): p is string => !!p && p.length >= 4) : [];
  const masked = [...secretValues(secrets, config), ...httpTokens.map((t) => t.token).filter((t) => t.length >= 4), ...databasePassword];
  const logger = options.logger ?? createLogger({ secrets: masked, level: env.RELEASE_MCP_LOG_LEVEL === 'debug' ? 'debug' : 'info' });

  // Tools are listed from the manifest; a tool's module is imported when the tool is first called.
  const catalog = options.tools ? new ToolCatalog(options.tools) : ToolCatalog.lazy(STARTUP_MANIFEST, TOOL_MODULES);
  const personas = loadPersonas();
  checkPersonas(personas, new Set(catalog.names), catalog.families);
  const defaultPersona = options.persona ?? env.RELEASE_MCP_PERSONA ?? config.default_persona;
  if (!personas.has(defaultPersona)) throw new StartupError(unknownPersonaMessage(defaultPersona, personas));

  const memory = openMemory({
    path: database ? '' : resolveMemoryPath({ ...options, env }),
    ...(database ? { url: database.url, password: database.password } : {}),
    secrets: masked,
    defaultTenant: config.releases.default_tenant,
    busyTimeoutMs: config.memory.busy_timeout_ms,
    ...(options.migrations ? { migrations: options.migrations } : {}),
    ...(options.openMemoryWhenAsked ? { openWhenAsked: true } : {}),
  });
  // Before the memory serves anyone (queries wait for it; ready() reports its failure).
  memory.afterOpen(async () => {
    try {
      await syncKnownIssues(memory, config.knowledge_dirs);
      await indexLegacyFixes(memory);
    } catch (error) {
      throw new StartupError((error as Error).message);
    }
    // A promotion whose process died between the target commit and the ledger is finished now.
    // The journal's module loads only when there is one.
    try {
      if (await hasOpenPromotions(memory)) {
        const { reconcilePromotions } = await import('../releases/promotion-journal.js');
        for (const r of await reconcilePromotions(memory)) logger.warn('promotion journal reconciled at start', { ...r });
      }
    } catch (error) {
      logger.error('could not reconcile the promotion journal', { message: (error as Error).message });
    }
  });

  const runtime: Runtime = {
    version: VERSION,
    config,
    configPath: options.configPath,
    secrets,
    secretValues: masked,
    memory,
    logger,
    catalog,
    personas,
    clients: createClientCache(),
    services: {} as ServiceMap,
    defaultPersona,
    readOnly: options.readOnly ?? false,
    httpTokens,
    metrics: new Metrics(),
    ready: async () => {
      try {
        await memory.ready();
      } catch (error) {
        if (error instanceof MemoryOpenError) throw new StartupError(error.message, { cause: error });
        throw error;
      }
    },
    close: () => memory.close(),
  };
  installSkillService(runtime);
  for (const extend of options.extend ?? []) extend(runtime);
  return runtime;
}

function urlPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

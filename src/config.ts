import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { formatIssues } from './validation.js';

const url = () => z.url({ error: 'expected a URL' });
const positiveMs = (fallback: number) => z.number().int().positive().default(fallback);

const repositorySchema = z.strictObject({
  path: z.string().min(1).describe('Local checkout, relative to the config file or absolute'),
  remote: z.string().default('origin').describe('Remote that release branches are pushed to'),
  upstream: z.string().default('upstream').describe('Remote that holds the canonical history'),
  default_branch: z.string().default('master'),
  gitlab_project: z.string().optional().describe('GitLab project path, e.g. service/app-interface'),
  gitlab_fork: z.string().optional().describe('GitLab project that `remote` pushes to when it is a fork (e.g. jdoe/app-interface); default: read from the URL of `remote`'),
});

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const labelSet = z.record(z.string(), z.string().min(1)).superRefine((labels, ctx) => {
  for (const key of Object.keys(labels)) if (!LABEL_NAME.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'expected a Prometheus label name like "namespace" (letters, digits and _)' });
});

const prometheusEnvironmentSchema = z.strictObject({
  url: url(),
  namespace: z.string().min(1).describe('Namespace of the environment; alerts carrying namespace (or exported_namespace) = this value are its alerts unless match_labels says otherwise'),
  match_labels: labelSet
    .optional()
    .describe('Labels whose values place an alert in this environment (a label also matches as exported_<label>); default {"namespace": <namespace>}; {} takes every alert of this Prometheus'),
  unlabelled_alerts: z
    .enum(['block', 'ignore'])
    .default('block')
    .describe('A firing critical or blocking_alerts alert that lacks the match labels (absent(), cluster-wide rules): block (default, it may concern this environment) or ignore'),
  blocking_alerts: z.array(z.string()).default([]).describe('Alert names that block a deploy at any severity'),
});

const healthUrlSchema = z.strictObject({
  url: url(),
  expect_status: z.number().int().min(100).max(599).default(200),
  json_field: z.string().min(1).optional().describe('Dotted path of a field in the JSON body that must be present, e.g. "status" or "db.ok"'),
  expect_value: z.union([z.string(), z.number(), z.boolean()]).optional().describe('Value json_field must equal'),
});

const smokeCheckSchema = healthUrlSchema.extend({
  name: z.string().trim().min(1).describe('What the check proves, e.g. "catalog lists items"'),
});

const flagValue = z.union([z.boolean(), z.string()]);

/** A postgresql:// URL names a PostgreSQL target; anything else is a SQLite file. */
export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

const targetDatabase = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    if (!isPostgresUrl(value)) return;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a postgresql://user@host[:port]/database URL' });
      return;
    }
    if (url.password) ctx.addIssue({ code: 'custom', message: 'a postgresql:// URL must not carry the password: name the variable holding it in password_env (or set PGPASSWORD)' });
    if (!url.hostname || url.pathname.length < 2) ctx.addIssue({ code: 'custom', message: 'expected a postgresql://user@host[:port]/database URL (host and database name)' });
  });

const environmentSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case name like "staging"'),
  database: targetDatabase
    .optional()
    .describe("Database of the environment for the default tenant (releases.default_tenant): a SQLite file relative to the config file, or a postgresql:// URL without password; default <data dir>/environments/<name>.db"),
  databases: z
    .record(z.string().min(1), targetDatabase)
    .default({})
    .describe("Database of the environment per tenant (tenant -> SQLite path or postgresql:// URL); a tenant without one cannot release to this environment. A database belongs to one tenant only"),
  password_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable holding the password')
    .optional()
    .describe('Environment variable holding the password of its postgresql:// databases (default PGPASSWORD); the password never goes in config.json'),
  feature_flags: z.record(z.string(), flagValue).default({}).describe('Flag values before any release changes them'),
  health_urls: z.array(healthUrlSchema).default([]).describe('URLs http_health_check may call for this environment'),
  smoke_checks: z.array(smokeCheckSchema).default([]).describe('Named GET checks (status, optional JSON field and value) that http_health_check runs with kind "smoke"'),
  promotion_skill: z.string().optional().describe('Skill run by release_promote after the migrations (through skill_run)'),
  alerts_environment: z.string().optional().describe('Name in prometheus.environments watched after a promotion'),
});

export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type HealthUrlConfig = z.infer<typeof healthUrlSchema>;
export type SmokeCheckConfig = z.infer<typeof smokeCheckSchema>;

const DEFAULT_ENVIRONMENTS = ['dev', 'staging', 'prod'].map((name) => ({ name, databases: {}, feature_flags: {}, health_urls: [], smoke_checks: [] }));

const httpTokenSchema = z.strictObject({
  env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable holding the token').describe('Environment variable holding the token (the token itself never goes in config)'),
  role: z.enum(['admin', 'operator', 'viewer']),
  tenant: z.string().min(1).optional().describe('Tenant whose releases the token sees; default releases.default_tenant'),
});

const healActionSchema = z.strictObject({
  tool: z.string().optional().describe('Tool to call as the heal action'),
  args: z.record(z.string(), z.unknown()).default({}),
  command: z.array(z.string()).min(1).optional().describe('argv of a command to run as the heal action (no shell)'),
  timeout_ms: positiveMs(60_000),
});

export const configSchema = z.strictObject({
  default_persona: z.string().default('release'),
  repositories: z.record(z.string(), repositorySchema).default({}),
  workspace_roots: z.array(z.string()).default([]).describe('Folders whose git repositories tools may use'),
  git: z
    .strictObject({
      allow_any_path: z.boolean().default(false),
      user_name: z.string().optional(),
      user_email: z.string().optional(),
      timeout_ms: positiveMs(120_000),
      diff_max_bytes: positiveMs(50_000),
    })
    .prefault({}),
  commit_format: z
    .strictObject({
      template: z.string().default('{type}({scope}): {subject}\n\n{issue_key}'),
      types: z.array(z.string()).default(['feat', 'fix', 'chore', 'docs', 'refactor', 'test', 'ci', 'build', 'perf', 'revert']),
      issue_key_pattern: z.string().default('[A-Z][A-Z0-9]+-\\d+'),
    })
    .prefault({}),
  app_interface: z
    .strictObject({
      repo: z.string().default('app-interface').describe('Name in `repositories` of the app-interface checkout'),
      deploy_file: z.string().default('data/services/insights/tower-analytics/cicd/deploy-clowder.yml'),
      prod_namespace: z.string().default('tower-analytics-prod'),
      billing_namespace: z.string().default('tower-analytics-prod-billing'),
      target_branch: z.string().default('master'),
      gitlab_project: z.string().default('service/app-interface'),
      validate_command: z.array(z.string()).min(1).optional().describe('argv, e.g. ["make", "bundle", "validate"]'),
      validate_timeout_ms: positiveMs(600_000),
      branch_prefix: z.string().default('aa-release-'),
    })
    .prefault({}),
  quay: z
    .strictObject({
      url: url().default('https://quay.io'),
      repositories: z.record(z.string(), z.string()).default({}).describe('Short names for Quay repositories (namespace/repo)'),
      timeout_ms: positiveMs(30_000),
      cve_list_limit: z.number().int().positive().default(50),
    })
    .prefault({}),
  jira: z
    .strictObject({
      url: url().optional(),
      flavor: z.enum(['cloud', 'server']).default('cloud').describe('cloud: JIRA_EMAIL + JIRA_TOKEN; server: JIRA_TOKEN as a personal access token'),
      project: z.string().default('AAP'),
      default_issue_type: z.string().default('Story'),
      timeout_ms: positiveMs(30_000),
    })
    .prefault({}),
  gitlab: z
    .strictObject({
      url: url().optional(),
      default_target_branch: z.string().default('master'),
      timeout_ms: positiveMs(30_000),
    })
    .prefault({}),
  konflux: z
    .strictObject({
      kubeconfig: z.string().nullish().describe('Path of a kubeconfig; KUBECONFIG, then in-cluster, when null or absent'),
      context: z.string().nullish().describe('kubeconfig context to use; the current context when null or absent'),
      namespace: z.string().default('aap-aa-tenant'),
      release_plan: z.string().optional(),
      login_hint: z.string().default('log in to the Konflux cluster again (oc login) and retry'),
      timeout_ms: positiveMs(30_000),
      poll_interval_ms: positiveMs(10_000),
      list_page_size: z.number().int().min(1).max(5000).default(500).describe('Items per page when listing (Kubernetes `limit`)'),
      list_max_pages: z.number().int().min(1).max(1000).default(20).describe('Pages a list follows (`continue`) before it gives up'),
    })
    .prefault({}),
  prometheus: z
    .strictObject({
      environments: z.record(z.string(), prometheusEnvironmentSchema).default({}),
      timeout_ms: positiveMs(15_000),
    })
    .prefault({}),
  tls: z
    .strictObject({
      ca_file: z.string().min(1).nullish().describe('PEM file of extra CA certificates (a private CA) that every HTTPS client trusts, besides the public ones and NODE_EXTRA_CA_CERTS; relative to the config file; null: none'),
    })
    .prefault({}),
  slack: z
    .strictObject({
      webhook_url: url().optional().describe('Prefer SLACK_WEBHOOK_URL: the webhook URL is a secret'),
      channel_label: z.string().optional(),
      timeout_ms: positiveMs(10_000),
    })
    .prefault({}),
  namespaces: z.record(z.string(), z.string()).default({}),
  memory: z
    .strictObject({
      path: z.string().optional(),
      item_max_bytes: z.number().int().min(64).max(16 * 1024 * 1024).default(64 * 1024).describe('Largest item memory_append stores, in bytes of its JSON'),
      busy_timeout_ms: z.number().int().min(0).max(10_000).default(500).describe('How long a write waits for another writer before failing with a conflict'),
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'expected a postgresql:// URL')
        .optional()
        .describe('PostgreSQL database for the memory, shared by several server processes (RELEASE_MCP_DATABASE_URL overrides it); without it the memory is the SQLite file memory.path'),
      password_env: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
        .optional()
        .describe('Environment variable holding the PostgreSQL password when the URL has none (default PGPASSWORD)'),
    })
    .prefault({}),
  skills_dirs: z.array(z.string()).default([]),
  knowledge_dirs: z.array(z.string()).default([]),
  skills: z
    .strictObject({
      expression_timeout_ms: positiveMs(1_000),
      expression_memory_mb: z.number().int().positive().default(32),
      step_timeout_ms: positiveMs(600_000),
      lease_ms: positiveMs(30_000).describe('A running run renews its lease this often x3; a run whose lease expired and whose process is gone is interrupted'),
      max_depth: z.number().int().min(1).max(50).default(5).describe('How deep skill_run steps may nest'),
      approval_ttl_minutes: z.number().min(0.01).max(24 * 60).default(10).describe('How long a 2026-07-28 client may take to answer a confirm step asked in an input_required result'),
    })
    .prefault({}),
  heal: z.record(z.string(), healActionSchema).default({}).describe('Heal action per error class, for on_error: auto_heal'),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(3000),
      allowed_hosts: z.array(z.string()).default([]),
      allowed_origins: z.array(z.string()).default([]),
      tokens: z.array(httpTokenSchema).default([]).describe('Bearer tokens (by env var name) with their role and tenant'),
      promote_wait_ms: z.number().int().min(0).max(3_600_000).default(30_000).describe('How long POST /api/releases/promote waits for the promotion before answering 202 with a status URL'),
      legacy_sessions: z
        .strictObject({
          max: z.number().int().min(1).max(100_000).default(1000).describe('Open MCP sessions of 2025-era clients at most; a new one past this gets 503'),
          idle_minutes: z.number().min(0.01).max(7 * 24 * 60).default(30).describe('A 2025-era MCP session with no request for this long (and none running) is closed'),
        })
        .prefault({})
        .describe('2026-07-28 clients need no session; these bound the sessions of 2025-era clients'),
    })
    .prefault({}),
  environments: z
    .array(environmentSchema)
    .min(1)
    .default(DEFAULT_ENVIRONMENTS)
    .refine((envs) => new Set(envs.map((e) => e.name)).size === envs.length, 'environment names must be unique')
    .describe('Ordered: a release moves from one environment to the next'),
  releases: z
    .strictObject({
      default_tenant: z.string().min(1).default('primary').describe('Tenant of the local (stdio) user and of the single --http-token'),
      hotfix_paths: z
        .array(z.tuple([z.string(), z.string()]))
        .default([['dev', 'prod']])
        .describe('[from, to] pairs a release marked hotfix may take, skipping environments between them'),
      watch_minutes: z.number().min(0).max(720).default(15).describe('Minutes release_runbook watches alerts after a promotion (0: no watch)'),
      watch_interval_seconds: z.number().min(0.05).max(600).default(30).describe('Seconds between alert polls during the watch'),
      repo: z.string().default('app').describe('Name in `repositories` of the checkout release_runbook tags (vYYYY.MM.DD-<short>) and pushes the tag from'),
      gitlab_project: z.string().optional().describe('GitLab project whose pipelines release_runbook checks and triggers; default repositories[releases.repo].gitlab_project'),
      deploy_ref: z.string().optional().describe('Ref of the deploy pipeline release_runbook triggers with deploy_via "pipeline"; default the repository\'s default_branch'),
      lock_timeout_ms: z.number().int().min(0).max(600_000).default(5_000).describe('lock_timeout set for every migration on a PostgreSQL target (0 disables it, which the safety check reports)'),
      statement_timeout_ms: z.number().int().min(0).max(86_400_000).default(600_000).describe('statement_timeout set for every migration on a PostgreSQL target (0 disables it, which the safety check reports)'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;

/** Secrets are read from the environment only, never from config.json. */
export const SECRET_ENV_VARS = [
  'GITLAB_TOKEN',
  'JIRA_TOKEN',
  'JIRA_EMAIL',
  'QUAY_TOKEN',
  'KUBECONFIG',
  'PROMETHEUS_TOKEN',
  'SLACK_WEBHOOK_URL',
  'RELEASE_MCP_HTTP_TOKEN',
  // The key that seals approval request states (at least 32 bytes); replicas behind one address share it.
  'RELEASE_MCP_STATE_KEY',
  // Not a secret (like KUBECONFIG): a CA bundle Node trusts, which tls.ca_file must not drop.
  'NODE_EXTRA_CA_CERTS',
] as const;

export type SecretName = (typeof SECRET_ENV_VARS)[number];
export type Secrets = Partial<Record<SecretName, string>> & {
  /** Passwords of PostgreSQL target databases, by the variable that holds them (password_env, PGPASSWORD). */
  target_passwords?: Record<string, string>;
};

/** The variables environments[].password_env name, and PGPASSWORD, read from the environment. */
export function readTargetPasswords(config: Config, env: NodeJS.ProcessEnv): Record<string, string> {
  const names = new Set(['PGPASSWORD', ...config.environments.flatMap((e) => (e.password_env ? [e.password_env] : []))]);
  const passwords: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value) passwords[name] = value;
  }
  return passwords;
}

export function readSecrets(env: NodeJS.ProcessEnv): Secrets {
  const secrets: Secrets = {};
  for (const name of SECRET_ENV_VARS) {
    const value = env[name];
    if (value) secrets[name] = value;
  }
  return secrets;
}

/** Values that must never reach output, logs or memory (KUBECONFIG and JIRA_EMAIL are not secret). */
export function secretValues(secrets: Secrets, config?: Config): string[] {
  // Jira Cloud sends base64(email:token) as Basic credentials: that encoding is a secret too.
  const jiraBasic = secrets.JIRA_EMAIL && secrets.JIRA_TOKEN ? Buffer.from(`${secrets.JIRA_EMAIL}:${secrets.JIRA_TOKEN}`).toString('base64') : undefined;
  const values = [jiraBasic, secrets.GITLAB_TOKEN, secrets.JIRA_TOKEN, secrets.QUAY_TOKEN, secrets.PROMETHEUS_TOKEN, secrets.SLACK_WEBHOOK_URL, secrets.RELEASE_MCP_HTTP_TOKEN, secrets.RELEASE_MCP_STATE_KEY, config?.slack.webhook_url, ...Object.values(secrets.target_passwords ?? {})];
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.join('\n')}` : message);
  }
}

export interface LoadedConfig {
  config: Config;
  /** The file it came from; undefined when none was found and defaults apply. */
  path: string | undefined;
}

export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'release-mcp');
}

export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'release-mcp');
}

/** Where a config file is looked for when neither --config nor RELEASE_MCP_CONFIG names one. */
export function configSearchPlaces(env: NodeJS.ProcessEnv, cwd: string): string[] {
  return [resolve(cwd, 'config.json'), join(userConfigDir(env), 'config.json')];
}

/** `--config`, then RELEASE_MCP_CONFIG, then ./config.json, then the user's config directory. */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (explicit) return resolve(cwd, explicit);
  if (env.RELEASE_MCP_CONFIG) return resolve(cwd, env.RELEASE_MCP_CONFIG);
  return configSearchPlaces(env, cwd).find((place) => existsSync(place));
}

export function parseConfig(raw: unknown, baseDir: string): Config {
  // Parsed once per process: compiling zod's fast path for it would cost more than it saves.
  const parsed = configSchema.safeParse(raw, { jitless: true });
  if (!parsed.success) throw new ConfigError('invalid config:', formatIssues(parsed.error.issues));
  const config = withDefaultHotfixPaths(parsed.data, raw);
  const problems = crossReferenceProblems(config);
  if (problems.length) throw new ConfigError('invalid config:', problems);
  const resolved = resolvePaths(config, baseDir);
  const shared = sharedDatabaseProblems(resolved);
  if (shared.length) throw new ConfigError('invalid config:', shared);
  return resolved;
}

/**
 * An environment database belongs to one tenant: a release of one tenant migrates and backs up
 * that file, so a file named for two tenants would let one change the other's data.
 */
function sharedDatabaseProblems(config: Config): string[] {
  const owners = new Map<string, { tenant: string; where: string }>();
  const problems: string[] = [];
  config.environments.forEach((env, i) => {
    const entries: Array<[string, string, string]> = Object.entries(env.databases).map(([tenant, path]) => [tenant, path, `environments.${i}.databases.${tenant}`]);
    if (env.database && env.databases[config.releases.default_tenant] === undefined) entries.unshift([config.releases.default_tenant, env.database, `environments.${i}.database`]);
    for (const [tenant, path, where] of entries) {
      const owner = owners.get(path);
      if (owner && owner.tenant !== tenant) problems.push(`${where}: ${path} is already the database of tenant "${owner.tenant}" (${owner.where}); each tenant needs its own file`);
      else if (!owner) owners.set(path, { tenant, where });
    }
  });
  return problems;
}

/** The default hotfix path (dev -> prod) applies only where both environments exist. */
function withDefaultHotfixPaths(config: Config, raw: unknown): Config {
  const given = (raw as { releases?: { hotfix_paths?: unknown } } | undefined)?.releases?.hotfix_paths;
  if (given !== undefined) return config;
  const names = new Set(config.environments.map((e) => e.name));
  return { ...config, releases: { ...config.releases, hotfix_paths: config.releases.hotfix_paths.filter(([a, b]) => names.has(a) && names.has(b)) } };
}

/** Names that one section uses from another must exist there. */
function crossReferenceProblems(config: Config): string[] {
  const problems: string[] = [];
  const envNames = new Set(config.environments.map((e) => e.name));
  config.releases.hotfix_paths.forEach(([from, to], i) => {
    for (const name of [from, to]) if (!envNames.has(name)) problems.push(`releases.hotfix_paths.${i}: unknown environment "${name}" (environments: ${[...envNames].join(', ')})`);
  });
  config.environments.forEach((env, i) => {
    if (env.alerts_environment && !config.prometheus.environments[env.alerts_environment]) {
      problems.push(`environments.${i}.alerts_environment: "${env.alerts_environment}" is not in prometheus.environments`);
    }
  });
  return problems;
}

export function loadConfig(options: { path?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const path = findConfigFile(options.path, env, cwd);
  if (!path) return { config: parseConfig({}, cwd), path: undefined };
  if (!existsSync(path)) throw new ConfigError(`config file not found: ${path}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return { config: parseConfig(raw, dirname(path)), path };
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`invalid config ${path}:`, error.problems);
    throw error;
  }
}

export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** Relative paths in config are relative to the config file, so a checked-in config works from any cwd. */
function resolvePaths(config: Config, baseDir: string): Config {
  const abs = (p: string) => (isAbsolute(expandHome(p)) ? expandHome(p) : resolve(baseDir, p));
  const target = (db: string) => (isPostgresUrl(db) ? db : abs(db));
  return {
    ...config,
    repositories: Object.fromEntries(Object.entries(config.repositories).map(([name, repo]) => [name, { ...repo, path: abs(repo.path) }])),
    workspace_roots: config.workspace_roots.map(abs),
    skills_dirs: config.skills_dirs.map(abs),
    knowledge_dirs: config.knowledge_dirs.map(abs),
    memory: { ...config.memory, ...(config.memory.path ? { path: abs(config.memory.path) } : {}) },
    konflux: { ...config.konflux, ...(config.konflux.kubeconfig ? { kubeconfig: abs(config.konflux.kubeconfig) } : {}) },
    tls: { ...config.tls, ...(config.tls.ca_file ? { ca_file: abs(config.tls.ca_file) } : {}) },
    environments: config.environments.map((env) => ({
      ...env,
      database: env.database ? target(env.database) : join(userDataDir(), 'environments', `${env.name}.db`),
      databases: Object.fromEntries(Object.entries(env.databases).map(([tenant, path]) => [tenant, target(path)])),
    })),
  };
}

/** Config as skills see it: no secret-bearing fields. */
export function publicConfig(config: Config): Record<string, unknown> {
  const { slack, ...rest } = config;
  const { webhook_url: _omit, ...publicSlack } = slack;
  return { ...rest, slack: publicSlack };
}

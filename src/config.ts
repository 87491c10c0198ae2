import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
// zod/mini: the config schema is built at every start, and its functional API builds a schema
// about 3x faster than classic zod (no methods bound to every schema); the checks are the same.
// Field descriptions are comments: nothing reads them at run time.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { formatIssues } from './validation.js';

// zod/mini leaves messages to a locale ("Invalid input" without one): the English one, as classic zod sets it.
z.config(en());

const url = () => z.url({ error: 'expected a URL' });
const positiveInt = () => z.number().check(z.int(), z.positive());
const positiveMs = (fallback: number) => z._default(positiveInt(), fallback);
const nonEmpty = () => z.string().check(z.minLength(1));
const optionalString = () => z.optional(z.string());
const strings = () => z._default(z.array(z.string()), []);
const intBetween = (min: number, max: number, fallback: number) => z._default(z.number().check(z.int(), z.gte(min), z.lte(max)), fallback);
const numberBetween = (min: number, max: number, fallback: number) => z._default(z.number().check(z.gte(min), z.lte(max)), fallback);
const ENV_VAR_NAME = /^[A-Z_][A-Z0-9_]*$/;

const repositorySchema = z.strictObject({
  // Local checkout, relative to the config file or absolute.
  path: nonEmpty(),
  // Remote that release branches are pushed to.
  remote: z._default(z.string(), 'origin'),
  // Remote that holds the canonical history.
  upstream: z._default(z.string(), 'upstream'),
  default_branch: z._default(z.string(), 'master'),
  // GitLab project path, e.g. service/app-interface.
  gitlab_project: optionalString(),
  // GitLab project that `remote` pushes to when it is a fork (e.g. jdoe/app-interface); default: read from the URL of `remote`.
  gitlab_fork: optionalString(),
});

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const labelSet = z.record(z.string(), nonEmpty()).check(
  z.superRefine((labels, ctx) => {
    for (const key of Object.keys(labels)) if (!LABEL_NAME.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'expected a Prometheus label name like "namespace" (letters, digits and _)' });
  }),
);

const prometheusEnvironmentSchema = z.strictObject({
  url: url(),
  // Namespace of the environment; alerts carrying namespace (or exported_namespace) = this value are its alerts unless match_labels says otherwise.
  namespace: nonEmpty(),
  // Labels whose values place an alert in this environment (a label also matches as exported_<label>); default {"namespace": <namespace>}; {} takes every alert of this Prometheus.
  match_labels: z.optional(labelSet),
  // A firing critical or blocking_alerts alert that lacks the match labels (absent(), cluster-wide rules): block (default, it may concern this environment) or ignore.
  unlabelled_alerts: z._default(z.enum(['block', 'ignore']), 'block'),
  // Alert names that block a deploy at any severity.
  blocking_alerts: strings(),
});

const healthUrlSchema = z.strictObject({
  url: url(),
  expect_status: intBetween(100, 599, 200),
  // Dotted path of a field in the JSON body that must be present, e.g. "status" or "db.ok".
  json_field: z.optional(nonEmpty()),
  // Value json_field must equal.
  expect_value: z.optional(z.union([z.string(), z.number(), z.boolean()])),
});

const smokeCheckSchema = z.extend(healthUrlSchema, {
  // What the check proves, e.g. "catalog lists items".
  name: z.string().check(z.trim(), z.minLength(1)),
});

const flagValue = z.union([z.boolean(), z.string()]);

/** A postgresql:// URL names a PostgreSQL target; anything else is a SQLite file. */
export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

const targetDatabase = nonEmpty().check(
  z.superRefine((value, ctx) => {
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
  }),
);

const environmentSchema = z.strictObject({
  name: z.string().check(z.regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case name like "staging"')),
  // Database of the environment for the default tenant (releases.default_tenant): a SQLite file relative to the config file, or a postgresql:// URL without password; default <data dir>/environments/<name>.db.
  database: z.optional(targetDatabase),
  // Database of the environment per tenant (tenant -> SQLite path or postgresql:// URL); a tenant without one cannot release to this environment. A database belongs to one tenant only.
  databases: z._default(z.record(nonEmpty(), targetDatabase), {}),
  // Environment variable holding the password of its postgresql:// databases (default PGPASSWORD); the password never goes in config.json.
  password_env: z.optional(z.string().check(z.regex(ENV_VAR_NAME, 'expected the NAME of an environment variable holding the password'))),
  // Flag values before any release changes them.
  feature_flags: z._default(z.record(z.string(), flagValue), {}),
  // URLs http_health_check may call for this environment.
  health_urls: z._default(z.array(healthUrlSchema), []),
  // Named GET checks (status, optional JSON field and value) that http_health_check runs with kind "smoke".
  smoke_checks: z._default(z.array(smokeCheckSchema), []),
  // Skill run by release_promote after the migrations (through skill_run).
  promotion_skill: optionalString(),
  // Name in prometheus.environments watched after a promotion.
  alerts_environment: optionalString(),
});

export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type HealthUrlConfig = z.infer<typeof healthUrlSchema>;
export type SmokeCheckConfig = z.infer<typeof smokeCheckSchema>;

const DEFAULT_ENVIRONMENTS = ['dev', 'staging', 'prod'].map((name) => ({ name, databases: {}, feature_flags: {}, health_urls: [], smoke_checks: [] }));

const httpTokenSchema = z.strictObject({
  // Environment variable holding the token (the token itself never goes in config).
  env: z.string().check(z.regex(ENV_VAR_NAME, 'expected the NAME of an environment variable holding the token')),
  role: z.enum(['admin', 'operator', 'viewer']),
  // Tenant whose releases the token sees; default releases.default_tenant.
  tenant: z.optional(nonEmpty()),
});

const healActionSchema = z.strictObject({
  // Tool to call as the heal action.
  tool: optionalString(),
  args: z._default(z.record(z.string(), z.unknown()), {}),
  // argv of a command to run as the heal action (no shell).
  command: z.optional(z.array(z.string()).check(z.minLength(1))),
  timeout_ms: positiveMs(60_000),
});

/** A config section whose fields all have defaults: absent, it is parsed as {}. */
const section = <Shape extends z.core.$ZodLooseShape>(shape: Shape) => {
  const object = z.strictObject(shape);
  // Every field of a section has a default, so {} is valid input; TypeScript cannot see that of a generic shape.
  return z.prefault(object, {} as z.input<typeof object>);
};

export const configSchema = z.strictObject({
  default_persona: z._default(z.string(), 'release'),
  repositories: z._default(z.record(z.string(), repositorySchema), {}),
  // Folders whose git repositories tools may use.
  workspace_roots: strings(),
  git: section({
    allow_any_path: z._default(z.boolean(), false),
    user_name: optionalString(),
    user_email: optionalString(),
    timeout_ms: positiveMs(120_000),
    diff_max_bytes: positiveMs(50_000),
  }),
  commit_format: section({
    template: z._default(z.string(), '{type}({scope}): {subject}\n\n{issue_key}'),
    types: z._default(z.array(z.string()), ['feat', 'fix', 'chore', 'docs', 'refactor', 'test', 'ci', 'build', 'perf', 'revert']),
    issue_key_pattern: z._default(z.string(), '[A-Z][A-Z0-9]+-\\d+'),
  }),
  app_interface: section({
    // Name in `repositories` of the app-interface checkout.
    repo: z._default(z.string(), 'app-interface'),
    deploy_file: z._default(z.string(), 'data/services/insights/tower-analytics/cicd/deploy-clowder.yml'),
    prod_namespace: z._default(z.string(), 'tower-analytics-prod'),
    billing_namespace: z._default(z.string(), 'tower-analytics-prod-billing'),
    target_branch: z._default(z.string(), 'master'),
    gitlab_project: z._default(z.string(), 'service/app-interface'),
    // argv, e.g. ["make", "bundle", "validate"].
    validate_command: z.optional(z.array(z.string()).check(z.minLength(1))),
    validate_timeout_ms: positiveMs(600_000),
    branch_prefix: z._default(z.string(), 'aa-release-'),
  }),
  quay: section({
    url: z._default(url(), 'https://quay.io'),
    // Short names for Quay repositories (namespace/repo).
    repositories: z._default(z.record(z.string(), z.string()), {}),
    timeout_ms: positiveMs(30_000),
    cve_list_limit: z._default(positiveInt(), 50),
  }),
  jira: section({
    url: z.optional(url()),
    // cloud: JIRA_EMAIL + JIRA_TOKEN; server: JIRA_TOKEN as a personal access token.
    flavor: z._default(z.enum(['cloud', 'server']), 'cloud'),
    project: z._default(z.string(), 'AAP'),
    default_issue_type: z._default(z.string(), 'Story'),
    timeout_ms: positiveMs(30_000),
  }),
  gitlab: section({
    url: z.optional(url()),
    default_target_branch: z._default(z.string(), 'master'),
    timeout_ms: positiveMs(30_000),
  }),
  konflux: section({
    // Path of a kubeconfig; KUBECONFIG, then in-cluster, when null or absent.
    kubeconfig: z.nullish(z.string()),
    // kubeconfig context to use; the current context when null or absent.
    context: z.nullish(z.string()),
    namespace: z._default(z.string(), 'aap-aa-tenant'),
    release_plan: optionalString(),
    login_hint: z._default(z.string(), 'log in to the Konflux cluster again (oc login) and retry'),
    timeout_ms: positiveMs(30_000),
    poll_interval_ms: positiveMs(10_000),
    // Items per page when listing (Kubernetes `limit`).
    list_page_size: intBetween(1, 5000, 500),
    // Pages a list follows (`continue`) before it gives up.
    list_max_pages: intBetween(1, 1000, 20),
  }),
  prometheus: section({
    environments: z._default(z.record(z.string(), prometheusEnvironmentSchema), {}),
    timeout_ms: positiveMs(15_000),
  }),
  tls: section({
    // PEM file of extra CA certificates (a private CA) that every HTTPS client trusts, besides the public ones and NODE_EXTRA_CA_CERTS; relative to the config file; null: none.
    ca_file: z.nullish(nonEmpty()),
  }),
  slack: section({
    // Prefer SLACK_WEBHOOK_URL: the webhook URL is a secret.
    webhook_url: z.optional(url()),
    channel_label: optionalString(),
    timeout_ms: positiveMs(10_000),
  }),
  namespaces: z._default(z.record(z.string(), z.string()), {}),
  memory: section({
    path: optionalString(),
    // Largest item memory_append stores, in bytes of its JSON.
    item_max_bytes: intBetween(64, 16 * 1024 * 1024, 64 * 1024),
    // How long a write waits for another writer before failing with a conflict.
    busy_timeout_ms: intBetween(0, 10_000, 500),
    // PostgreSQL database for the memory, shared by several server processes (RELEASE_MCP_DATABASE_URL overrides it); without it the memory is the SQLite file memory.path.
    url: z.optional(z.string().check(z.regex(/^postgres(ql)?:\/\//, 'expected a postgresql:// URL'))),
    // Environment variable holding the PostgreSQL password when the URL has none (default PGPASSWORD).
    password_env: z.optional(z.string().check(z.regex(ENV_VAR_NAME, 'expected an environment variable name'))),
  }),
  skills_dirs: strings(),
  knowledge_dirs: strings(),
  skills: section({
    expression_timeout_ms: positiveMs(1_000),
    expression_memory_mb: z._default(positiveInt(), 32),
    step_timeout_ms: positiveMs(600_000),
    // A running run renews its lease this often x3; a run whose lease expired and whose process is gone is interrupted.
    lease_ms: positiveMs(30_000),
    // How deep skill_run steps may nest.
    max_depth: intBetween(1, 50, 5),
    // How long a 2026-07-28 client may take to answer a confirm step asked in an input_required result.
    approval_ttl_minutes: numberBetween(0.01, 24 * 60, 10),
  }),
  // Heal action per error class, for on_error: auto_heal.
  heal: z._default(z.record(z.string(), healActionSchema), {}),
  http: section({
    host: z._default(z.string(), '127.0.0.1'),
    port: intBetween(0, 65535, 3000),
    allowed_hosts: strings(),
    allowed_origins: strings(),
    // Bearer tokens (by env var name) with their role and tenant.
    tokens: z._default(z.array(httpTokenSchema), []),
    // How long POST /api/releases/promote waits for the promotion before answering 202 with a status URL.
    promote_wait_ms: intBetween(0, 3_600_000, 30_000),
    // 2026-07-28 clients need no session; these bound the sessions of 2025-era clients.
    legacy_sessions: section({
      // Open MCP sessions of 2025-era clients at most; a new one past this gets 503.
      max: intBetween(1, 100_000, 1000),
      // A 2025-era MCP session with no request for this long (and none running) is closed.
      idle_minutes: numberBetween(0.01, 7 * 24 * 60, 30),
    }),
  }),
  // Ordered: a release moves from one environment to the next.
  environments: z._default(
    z.array(environmentSchema).check(
      z.minLength(1),
      z.refine((envs) => new Set(envs.map((e) => e.name)).size === envs.length, 'environment names must be unique'),
    ),
    DEFAULT_ENVIRONMENTS,
  ),
  releases: section({
    // Tenant of the local (stdio) user and of the single --http-token.
    default_tenant: z._default(nonEmpty(), 'primary'),
    // [from, to] pairs a release marked hotfix may take, skipping environments between them.
    hotfix_paths: z._default(z.array(z.tuple([z.string(), z.string()])), [['dev', 'prod']]),
    // Minutes release_runbook watches alerts after a promotion (0: no watch).
    watch_minutes: numberBetween(0, 720, 15),
    // Seconds between alert polls during the watch.
    watch_interval_seconds: numberBetween(0.05, 600, 30),
    // Name in `repositories` of the checkout release_runbook tags (vYYYY.MM.DD-<short>) and pushes the tag from.
    repo: z._default(z.string(), 'app'),
    // GitLab project whose pipelines release_runbook checks and triggers; default repositories[releases.repo].gitlab_project.
    gitlab_project: optionalString(),
    // Ref of the deploy pipeline release_runbook triggers with deploy_via "pipeline"; default the repository's default_branch.
    deploy_ref: optionalString(),
    // lock_timeout set for every migration on a PostgreSQL target (0 disables it, which the safety check reports).
    lock_timeout_ms: intBetween(0, 600_000, 5_000),
    // statement_timeout set for every migration on a PostgreSQL target (0 disables it, which the safety check reports).
    statement_timeout_ms: intBetween(0, 86_400_000, 600_000),
  }),
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

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SECRET_ENV_VARS } from '../../src/config.js';
import { GitlabEmulator } from '../emulators/gitlab.js';
import { JiraEmulator } from '../emulators/jira.js';
import { KubeEmulator } from '../emulators/kube.js';
import { PrometheusEmulator } from '../emulators/prometheus.js';
import { QuayEmulator } from '../emulators/quay.js';
import { SlackEmulator } from '../emulators/slack.js';
import type { QuaySecurityReport } from '../../src/integrations/quay.js';
import { commitFile, git, publishTo, write } from './git-fixture.js';
import { tempDir } from './harness.js';

/**
 * A whole release world on this machine: a backend repository with history, an app-interface
 * checkout with a realistic deploy-clowder.yml and bare `upstream` / `origin` remotes, the
 * GitLab, Jira, Slack, Quay, Konflux (Kubernetes) and Prometheus emulators, and a config.json
 * that points at all of them. Used by the end-to-end tests and by `npm run demo`.
 */

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const DEPLOY_FILE = 'data/services/insights/tower-analytics/cicd/deploy-clowder.yml';
export const NAMESPACE_DIR = 'data/services/insights/tower-analytics/namespaces';
export const PROD_REPO = 'redhat-services-prod/aap-aa-tenant/aap-aa-main/automation-analytics-backend-main';
export const STAGING_REPO = 'redhat-user-workloads/aap-aa-tenant/aap-aa-main/automation-analytics-backend-main';
export const KONFLUX_NAMESPACE = 'aap-aa-tenant';
export const APPLICATION = 'aap-aa-main';
export const COMPONENT = 'automation-analytics-backend-main';
export const RELEASE_PLAN = 'aap-aa-main-prod';
export const GITLAB_PROJECT = 'service/app-interface';
/** The release bot's fork of app-interface: the checkout's `origin`, where release branches are pushed. */
export const GITLAB_FORK = 'release-bot/app-interface';
export const TOKENS = { gitlab: 'gitlab-test-token', jira: 'jira-test-token', quay: 'quay-test-token', kube: 'kube-test-token' } as const;

const FIXTURE = fileURLToPath(new URL('../fixtures/deploy-clowder.yml', import.meta.url));
const FIXTURE_PROD_REF = '0123456789abcdef0123456789abcdef01234567';
const FIXTURE_BILLING_REF = 'fedcba9876543210fedcba9876543210fedcba98';
const NAMESPACES = ['stage', 'prod', 'stage-billing', 'prod-billing', 'ephemeral'];

export interface BackendCommits {
  /** In production now (deploy-clowder.yml), with an image. */
  production: string;
  /** Newer commits: `missingImage` has no image in Quay; `previous` and `release` have images, scanned clean. */
  missingImage: string;
  previous: string;
  release: string;
}

export interface ReleaseEnv {
  root: string;
  configPath: string;
  memoryPath: string;
  config: Record<string, unknown>;
  /** Secrets for the server (tokens, KUBECONFIG, SLACK_WEBHOOK_URL). */
  secrets: Record<string, string>;
  commits: BackendCommits;
  backend: { work: string; upstream: string };
  appInterface: { work: string; upstream: string; origin: string; other: string };
  gitlab: GitlabEmulator;
  jira: JiraEmulator;
  slack: SlackEmulator;
  quay: QuayEmulator;
  kube: KubeEmulator;
  prometheus: PrometheusEmulator;
  /** Digests of the staging images by commit. */
  stagingDigests: Record<string, string>;
  /** The environment a server or CLI child process gets: this process's, minus any real secrets, plus ours. */
  processEnv(): NodeJS.ProcessEnv;
  /** The deploy file as committed on a ref of app-interface (e.g. `origin/aa-release-2026-02-02`). */
  deployFileAt(ref: string): string;
  /** Merge a production ref change into app-interface upstream, as a merged release MR would. */
  mergeToUpstream(sha: string): void;
  /** Play the Konflux release service: every new Release succeeds shortly after it is created. */
  startReleaseController(): () => void;
  close(): Promise<void>;
}

function backendRepo(root: string): { work: string; upstream: string; commits: BackendCommits } {
  const upstream = join(root, 'backend-upstream.git');
  const work = join(root, 'backend');
  git(root, 'init', '-q', work);
  const production = commitFile(work, 'api/app.py', 'VERSION = "1.0"\n', 'feat: tenant-aware report API');
  const missingImage = commitFile(work, 'api/filters.py', 'FILTERS = ["org"]\n', 'feat(reports): filter by organization');
  const previous = commitFile(work, 'api/empty.py', 'def empty(): return []\n', 'fix(reports): empty report no longer 500s');
  const release = commitFile(work, 'requirements.txt', 'django==5.1.4\n', 'chore(deps): bump django to 5.1.4');
  publishTo(work, { upstream });
  return { work, upstream, commits: { production, missingImage, previous, release } };
}

function appInterfaceRepo(root: string, production: string): ReleaseEnv['appInterface'] {
  const upstream = join(root, 'app-interface-upstream.git');
  const origin = join(root, 'app-interface-origin.git');
  const work = join(root, 'app-interface');
  const other = join(root, 'app-interface-teammate');
  git(root, 'init', '-q', work);
  const deploy = readFileSync(FIXTURE, 'utf8').replace(FIXTURE_PROD_REF, production).replace(FIXTURE_BILLING_REF, production);
  write(work, DEPLOY_FILE, deploy);
  for (const ns of NAMESPACES) write(work, `${NAMESPACE_DIR}/tower-analytics-${ns}.yml`, `---\n$schema: /openshift/namespace-1.yml\nname: tower-analytics-${ns}\n`);
  write(work, 'README.md', '# app-interface (test copy)\n');
  git(work, 'add', '--all');
  git(work, 'commit', '-q', '-m', 'tower-analytics: deploy with Clowder');
  publishTo(work, { upstream, origin });
  git(work, 'branch', '-q', '--set-upstream-to=upstream/master', 'master');
  git(root, 'clone', '-q', '-o', 'upstream', upstream, other);
  return { work, upstream, origin, other };
}

/** Build the repositories, start the emulators, write config.json. Close it with `close()`. */
export async function createReleaseEnv(options: { prefix?: string } = {}): Promise<ReleaseEnv> {
  const tmp = tempDir(options.prefix ?? 'release-env-');
  const root = tmp.path;
  const backend = backendRepo(root);
  const { commits } = backend;
  const appInterface = appInterfaceRepo(root, commits.production);

  const gitlab = new GitlabEmulator();
  const jira = new JiraEmulator({ flavor: 'server', token: TOKENS.jira, username: 'release-bot' });
  const slack = new SlackEmulator();
  const quay = new QuayEmulator();
  const kube = new KubeEmulator();
  const prometheus = new PrometheusEmulator();
  await Promise.all([gitlab.start(), jira.start(), slack.start(), quay.start(), kube.start(), prometheus.start()]);

  gitlab.addToken(TOKENS.gitlab, 'release-bot');
  // GitLab knows the branches pushed to each project: the upstream and the fork are backed by the bare remotes.
  gitlab.addProject(GITLAB_PROJECT, { repository: appInterface.upstream });
  gitlab.addProject(GITLAB_FORK, { forked_from: GITLAB_PROJECT, repository: appInterface.origin });
  jira.addProject('AAP');

  // Production images for every commit but one; staging images, scanned clean, for the two newest.
  const clean: QuaySecurityReport = { status: 'scanned', data: { Layer: { Features: [] } } };
  for (const sha of [commits.production, commits.previous, commits.release]) quay.pushTag(PROD_REPO, sha);
  const stagingDigests: Record<string, string> = {};
  for (const sha of [commits.previous, commits.release]) {
    stagingDigests[sha] = quay.pushTag(STAGING_REPO, sha);
    quay.setSecurity(STAGING_REPO, stagingDigests[sha]!, clean);
  }

  kube.seed('applications', { metadata: { name: APPLICATION }, spec: { displayName: 'Automation Analytics' } });
  kube.seed('components', {
    metadata: { name: COMPONENT },
    spec: { componentName: COMPONENT, application: APPLICATION, source: { git: { url: 'https://github.com/RedHatInsights/tower-analytics-backend', revision: 'master' } }, containerImage: `quay.io/${STAGING_REPO}` },
    status: { lastBuiltCommit: commits.release },
  });
  kube.seed('releaseplans', { metadata: { name: RELEASE_PLAN, labels: { 'release.appstudio.openshift.io/auto-release': 'false' } }, spec: { application: APPLICATION, target: 'rhtap-releng-tenant' } });
  for (const sha of [commits.previous, commits.release]) {
    kube.seed('snapshots', {
      metadata: { name: `${APPLICATION}-${sha.slice(0, 7)}`, labels: { 'appstudio.openshift.io/application': APPLICATION } },
      spec: {
        application: APPLICATION,
        components: [{ name: COMPONENT, containerImage: `quay.io/${STAGING_REPO}@${stagingDigests[sha]}`, source: { git: { url: 'https://github.com/RedHatInsights/tower-analytics-backend', revision: sha } } }],
      },
    });
  }

  const memoryPath = join(root, 'memory.db');
  const configPath = join(root, 'config.json');
  const config = {
    default_persona: 'release',
    repositories: {
      backend: { path: backend.work, remote: 'upstream', upstream: 'upstream', default_branch: 'master' },
      'app-interface': { path: appInterface.work, remote: 'origin', upstream: 'upstream', default_branch: 'master', gitlab_project: GITLAB_PROJECT, gitlab_fork: GITLAB_FORK },
    },
    git: { user_name: 'Release Bot', user_email: 'release-bot@example.com', timeout_ms: 30_000 },
    app_interface: { repo: 'app-interface', deploy_file: DEPLOY_FILE, gitlab_project: GITLAB_PROJECT },
    quay: { url: quay.url, repositories: { backend: PROD_REPO }, timeout_ms: 5_000 },
    jira: { url: jira.url, flavor: 'server', project: 'AAP', timeout_ms: 5_000 },
    gitlab: { url: gitlab.url, timeout_ms: 5_000 },
    konflux: { namespace: KONFLUX_NAMESPACE, release_plan: RELEASE_PLAN, timeout_ms: 5_000, poll_interval_ms: 50 },
    prometheus: { environments: { production: { url: prometheus.url, namespace: 'tower-analytics-prod' } }, timeout_ms: 5_000 },
    slack: { channel_label: '#aa-releases', timeout_ms: 5_000 },
    memory: { path: memoryPath },
    skills: { step_timeout_ms: 60_000 },
  };
  mkdirSync(root, { recursive: true });
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const secrets: Record<string, string> = {
    GITLAB_TOKEN: TOKENS.gitlab,
    JIRA_TOKEN: TOKENS.jira,
    QUAY_TOKEN: TOKENS.quay,
    KUBECONFIG: kube.kubeconfigFor(TOKENS.kube, KONFLUX_NAMESPACE),
    SLACK_WEBHOOK_URL: slack.webhookUrl,
  };

  const controllers = new Set<NodeJS.Timeout>();
  return {
    root,
    configPath,
    memoryPath,
    config,
    secrets,
    commits,
    backend: { work: backend.work, upstream: backend.upstream },
    appInterface,
    gitlab,
    jira,
    slack,
    quay,
    kube,
    prometheus,
    stagingDigests,
    processEnv() {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const name of SECRET_ENV_VARS) delete env[name];
      for (const name of Object.keys(env)) if (name.startsWith('RELEASE_MCP_')) delete env[name];
      return { ...env, ...secrets, NO_COLOR: '1' };
    },
    deployFileAt(ref) {
      return git(appInterface.work, 'show', `${ref}:${DEPLOY_FILE}`);
    },
    mergeToUpstream(sha) {
      const other = appInterface.other;
      git(other, 'pull', '-q', '--ff-only', 'upstream', 'master');
      const text = readFileSync(join(other, DEPLOY_FILE), 'utf8');
      const current = /tower-analytics-prod\.yml[\s\S]*?ref: ([0-9a-f]{40})/.exec(text)?.[1];
      if (!current) throw new Error('no production ref in the deploy file');
      commitFile(other, DEPLOY_FILE, text.replace(current, sha), `release ${sha.slice(0, 7)} to production`);
      git(other, 'push', '-q', 'upstream', 'HEAD:master');
    },
    startReleaseController() {
      const timer = setInterval(() => {
        for (const release of kube.all('releases', KONFLUX_NAMESPACE)) {
          if ((release.status?.conditions as unknown[] | undefined)?.length) continue;
          kube.setReleaseCondition(
            KONFLUX_NAMESPACE,
            release.metadata.name,
            { type: 'Released', status: 'True', reason: 'Succeeded', message: 'The release pipeline succeeded' },
            { startTime: new Date().toISOString(), completionTime: new Date().toISOString(), target: 'rhtap-releng-tenant' },
          );
        }
      }, 25);
      controllers.add(timer);
      return () => {
        clearInterval(timer);
        controllers.delete(timer);
      };
    },
    async close() {
      for (const timer of controllers) clearInterval(timer);
      await Promise.all([gitlab.stop(), jira.stop(), slack.stop(), quay.stop(), kube.stop(), prometheus.stop()]);
      tmp.cleanup();
    },
  };
}

export interface ServerClient {
  client: Client;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** skill_run; the result is returned whether or not it is an error. */
  runSkill(name: string, inputs: Record<string, unknown>, extra?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/**
 * An MCP client talking to `node dist/cli.js serve` over stdio with this environment's config.
 * With `approve`, the client supports elicitation and accepts every confirmation.
 */
export async function connectServer(env: ReleaseEnv, options: { approve?: boolean } = {}): Promise<ServerClient> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', env.configPath], env: env.processEnv() as Record<string, string>, stderr: 'pipe' });
  const client = new Client({ name: 'release-e2e', version: '1.0.0' }, { capabilities: options.approve ? { elicitation: {} } : {} });
  if (options.approve) client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { confirm: true } }));
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
  return {
    client,
    call,
    runSkill: (name, inputs, extra = {}) => call('skill_run', { name, inputs, ...extra }),
    close: () => client.close(),
  };
}

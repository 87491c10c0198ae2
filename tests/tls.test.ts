import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GitlabEmulator } from './emulators/gitlab.js';
import { JiraEmulator } from './emulators/jira.js';
import { KubeEmulator } from './emulators/kube.js';
import { PrometheusEmulator } from './emulators/prometheus.js';
import { QuayEmulator } from './emulators/quay.js';
import { SlackEmulator } from './emulators/slack.js';
import { connect, errorOf, tempDir, testRuntime } from './helpers/harness.js';
import { makeCa, selfSigned, type TestCa } from './helpers/tls-certs.js';

// Every HTTPS client against services whose certificates a self-made private CA signed: each
// fails with a certificate error naming tls.ca_file without the CA, and works with it.

const NS = 'aap-aa-tenant';
const GITLAB_TOKEN = 'glpat-tls-test';
const JIRA_TOKEN = 'jira-pat-tls-test';
const dir = tempDir('release-mcp-tls-');
let ca: TestCa;
let otherCa: TestCa;
const quay = new QuayEmulator();
const gitlab = new GitlabEmulator();
const jira = new JiraEmulator({ flavor: 'server', token: JIRA_TOKEN });
const kube = new KubeEmulator();
const prom = new PrometheusEmulator();
const slack = new SlackEmulator();
/** Signed by the other CA: trusted only through NODE_EXTRA_CA_CERTS in the stdio test. */
const promOtherCa = new PrometheusEmulator();
/** A certificate for another host name, signed by the trusted CA. */
const promWrongHost = new PrometheusEmulator();
const promSelfSigned = new PrometheusEmulator();
let kubeconfig: string;

/** A kubeconfig that verifies the server (no insecure-skip-tls-verify) and names no CA of its own. */
function writeKubeconfig(): string {
  const path = join(dir.path, 'kubeconfig');
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:', '- name: c', '  cluster:', `    server: ${kube.url}`, 'users:', '- name: u', '  user:', '    token: kube-test-token'];
  writeFileSync(path, [...lines, 'contexts:', '- name: c', '  context:', '    cluster: c', '    user: u', `    namespace: ${NS}`, 'current-context: c', ''].join('\n'));
  return path;
}

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    quay: { url: quay.url, timeout_ms: 5000 },
    gitlab: { url: gitlab.url, timeout_ms: 5000 },
    jira: { url: jira.url, flavor: 'server', timeout_ms: 5000 },
    konflux: { kubeconfig, namespace: NS, timeout_ms: 5000 },
    prometheus: {
      environments: {
        production: { url: prom.url, namespace: NS },
        other_ca: { url: promOtherCa.url, namespace: NS },
        wrong_host: { url: promWrongHost.url, namespace: NS },
        self_signed: { url: promSelfSigned.url, namespace: NS },
      },
      timeout_ms: 5000,
    },
    environments: [{ name: 'prod', health_urls: [{ url: `${prom.url}/api/v1/alerts`, expect_status: 200, json_field: 'status', expect_value: 'success' }] }],
    ...extra,
  };
}

const SECRETS = { GITLAB_TOKEN, JIRA_TOKEN, QUAY_TOKEN: 'quay-test-token', SLACK_WEBHOOK_URL: '' };

/** One call per HTTPS client: the service as the error names it, the tool, its arguments, and what a success returns. */
const CALLS: Array<{ service: string; tool: string; args: Record<string, unknown>; expected: Record<string, unknown> }> = [
  { service: 'Quay', tool: 'quay_get_tag', args: { repository: 'team/app', tag: 'v1' }, expected: { tag: 'v1' } },
  { service: 'GitLab', tool: 'gitlab_mr_list', args: { project: 'group/app' }, expected: {} },
  { service: 'Jira', tool: 'jira_get_issue', args: { issue_key: 'AAP-1' }, expected: { key: 'AAP-1' } },
  { service: 'Konflux', tool: 'konflux_list_applications', args: {}, expected: {} },
  { service: 'Prometheus', tool: 'prometheus_pre_deploy_check', args: { environment: 'production' }, expected: { ok: true } },
  { service: 'Slack', tool: 'notify_team', args: { template: 'custom', data: { text: 'over TLS' } }, expected: { sent: true } },
];

beforeAll(async () => {
  ca = makeCa('release-mcp test private CA');
  otherCa = makeCa('release-mcp second test CA');
  const leaf = ca.issue(['IP:127.0.0.1', 'DNS:localhost']);
  await Promise.all([quay, gitlab, jira, kube, prom, slack].map((e) => e.start({ tls: leaf })));
  await promOtherCa.start({ tls: otherCa.issue(['IP:127.0.0.1']) });
  await promWrongHost.start({ tls: ca.issue(['DNS:prometheus.internal.example']) });
  await promSelfSigned.start({ tls: selfSigned() });
  quay.pushTag('team/app', 'v1');
  gitlab.addToken(GITLAB_TOKEN, 'releaser');
  gitlab.addProject('group/app');
  jira.addProject('AAP');
  jira.addIssue('AAP', { summary: 'release over TLS' });
  kube.seed('applications', { metadata: { name: 'aa-main' }, spec: { displayName: 'AA' } });
  SECRETS.SLACK_WEBHOOK_URL = slack.webhookUrl;
  kubeconfig = writeKubeconfig();
});

afterAll(async () => {
  await Promise.all([quay, gitlab, jira, kube, prom, slack, promOtherCa, promWrongHost, promSelfSigned].map((e) => e.stop()));
  ca?.cleanup();
  otherCa?.cleanup();
  dir.cleanup();
});

describe('tls.ca_file: every HTTPS client trusts a private CA', () => {
  it('without the CA each client fails with a certificate failure whose hint names tls.ca_file', async () => {
    const mcp = await connect(testRuntime({ config: config(), env: SECRETS }), { persona: 'all' });
    try {
      for (const call of CALLS) {
        const error = errorOf(await mcp.call(call.tool, call.args));
        expect(error.code, call.tool).toBe('network');
        expect(error.message, call.tool).toMatch(new RegExp(`^certificate failure: ${call.service} presented a TLS certificate that cannot be verified \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE`));
        expect(error.hint, call.tool).toContain('tls.ca_file');
      }
      const health = await mcp.call('http_health_check', { environment: 'prod', retries: 0, fail_on_unhealthy: false });
      expect(health.structuredContent).toMatchObject({ ok: false, checks: [{ status: null, error: expect.stringMatching(/^certificate failure: .*UNABLE_TO_VERIFY_LEAF_SIGNATURE.*tls\.ca_file/) }] });
    } finally {
      await mcp.close();
    }
  });

  it('with tls.ca_file each client verifies the server and gets its answer', async () => {
    const mcp = await connect(testRuntime({ config: config({ tls: { ca_file: ca.caFile } }), env: SECRETS }), { persona: 'all' });
    try {
      for (const call of CALLS) {
        const result = await mcp.call(call.tool, call.args);
        expect(result.isError, `${call.tool}: ${JSON.stringify(result.content)}`).toBeFalsy();
        expect(result.structuredContent).toMatchObject(call.expected);
      }
      expect((await mcp.call('konflux_list_applications', {})).structuredContent).toMatchObject({ applications: [expect.objectContaining({ name: 'aa-main' })] });
      expect(slack.payloads.at(-1)?.payload).toMatchObject({ text: expect.stringContaining('over TLS') });
      const health = await mcp.call('http_health_check', { environment: 'prod', retries: 0 });
      expect(health.structuredContent).toMatchObject({ ok: true, checks: [{ status: 200, json_value: 'success' }] });
      // The CA file adds to the public roots and does not vouch for other CAs, host names or self-signed servers.
      const other = errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'other_ca' }));
      expect(other.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      const wrongHost = errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'wrong_host' }));
      expect(wrongHost).toMatchObject({ code: 'network', message: expect.stringMatching(/^certificate failure: .*ERR_TLS_CERT_ALTNAME_INVALID: it is not issued for this host name/) });
      expect(wrongHost.hint).toContain('host name');
      const selfSignedError = errorOf(await mcp.call('prometheus_pre_deploy_check', { environment: 'self_signed' }));
      expect(selfSignedError.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      await mcp.close();
    }
  });

  it('a kubeconfig with its own certificate-authority keeps it: tls.ca_file does not replace the cluster CA', async () => {
    const path = join(dir.path, 'kubeconfig-other-ca');
    writeFileSync(path, readFileSync(kubeconfig, 'utf8').replace(`    server: ${kube.url}`, `    server: ${kube.url}\n    certificate-authority: ${otherCa.caFile}`));
    const mcp = await connect(testRuntime({ config: config({ tls: { ca_file: ca.caFile }, konflux: { kubeconfig: path, namespace: NS, timeout_ms: 5000 } }), env: SECRETS }), { persona: 'all' });
    try {
      const error = errorOf(await mcp.call('konflux_list_applications', {}));
      expect(error.message).toMatch(/^certificate failure: Konflux/);
      expect(error.hint).toContain("kubeconfig's certificate-authority(-data)");
    } finally {
      await mcp.close();
    }
  });

  it('a certificate failure is not retried by a skill step, does not trigger a network heal, and stops an alert watch at once', async () => {
    const skills = join(dir.path, 'skills-cert');
    mkdirSync(skills, { recursive: true });
    writeFileSync(join(skills, 'tag_over_tls.yaml'), [
      'name: tag_over_tls',
      'description: reads a tag with retries',
      'steps:',
      '  - name: tag',
      '    tool: quay_get_tag',
      '    args: { repository: team/app, tag: v1 }',
      '    retry: { attempts: 4, delay: 10ms }',
      '    on_error: auto_heal',
      '',
    ].join('\n'));
    const mcp = await connect(testRuntime({ config: config({ skills_dirs: [skills], heal: { network: { command: ['sh', '-c', 'echo healed'] } } }), env: SECRETS }), { persona: 'all' });
    const tagRequests = () => quay.server.requests.filter((r) => r.path.includes('/tag/')).length;
    try {
      const before = tagRequests();
      const run = (await mcp.call('skill_run', { name: 'tag_over_tls' })).structuredContent as { status: string; steps: Array<{ attempts: number; note?: string; error?: { message: string } }> };
      expect(run.status).toBe('failed');
      expect(run.steps[0]!.attempts).toBe(1);
      expect(run.steps[0]!.note).toContain('no heal action for error class "certificate"');
      expect(run.steps[0]!.error!.message).toMatch(/^certificate failure: Quay/);
      expect(tagRequests() - before).toBe(0); // the TLS handshake failed: no request reached the server

      const started = Date.now();
      const watch = errorOf(await mcp.call('prometheus_watch_alerts', { environment: 'self_signed', window_minutes: 0.2, interval_seconds: 0.5 }));
      expect(watch.message).toMatch(/^certificate failure: Prometheus/);
      expect(Date.now() - started).toBeLessThan(6000); // stopped at the first poll, not after 12 s of failed polls
      expect(promSelfSigned.server.requests.length).toBe(0);
    } finally {
      await mcp.close();
    }
  });

  it('a missing or non-PEM tls.ca_file is a config error naming the setting, and nothing is called', async () => {
    const missing = await connect(testRuntime({ config: config({ tls: { ca_file: join(dir.path, 'nope.pem') } }), env: SECRETS }), { persona: 'all' });
    const notPem = join(dir.path, 'not.pem');
    writeFileSync(notPem, 'not a certificate\n');
    const garbage = await connect(testRuntime({ config: config({ tls: { ca_file: notPem } }), env: SECRETS }), { persona: 'all' });
    const before = prom.server.requests.length;
    try {
      const a = errorOf(await missing.call('prometheus_pre_deploy_check', { environment: 'production' }));
      expect(a).toMatchObject({ code: 'config', message: expect.stringContaining('tls.ca_file') });
      expect(a.message).toContain('ENOENT');
      const b = errorOf(await garbage.call('jira_get_issue', { issue_key: 'AAP-1' }));
      expect(b).toMatchObject({ code: 'config', message: expect.stringMatching(/tls\.ca_file .* holds no PEM certificate/) });
      expect(prom.server.requests.length).toBe(before);
    } finally {
      await missing.close();
      await garbage.close();
    }
  });
});

describe('NODE_EXTRA_CA_CERTS (read by Node at start) in the server process', () => {
  async function serve(env: Record<string, string>, configJson: Record<string, unknown>) {
    const configPath = join(dir.path, `config-${Object.keys(env).join('-') || 'none'}-${Date.now()}.json`);
    writeFileSync(configPath, JSON.stringify(configJson));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(process.cwd(), 'dist', 'cli.js'), 'serve', '--config', configPath, '--memory', join(dir.path, `memory-${Date.now()}.db`), '--persona', 'all'],
      env: { ...getDefaultEnvironment(), ...SECRETS, ...env },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'tls-test', version: '1.0.0' });
    await client.connect(transport);
    return client;
  }
  const call = async (client: Client, tool: string, args: Record<string, unknown>) => (await client.callTool({ name: tool, arguments: args })) as CallToolResult;

  it('is honoured by every client when tls.ca_file is not set', async () => {
    const client = await serve({ NODE_EXTRA_CA_CERTS: ca.caFile }, config());
    try {
      for (const c of CALLS) {
        const result = await call(client, c.tool, c.args);
        expect(result.isError, `${c.tool}: ${JSON.stringify(result.content)}`).toBeFalsy();
      }
    } finally {
      await client.close();
    }
  });

  it('is kept beside tls.ca_file: a server of each CA is trusted in the same process', async () => {
    const client = await serve({ NODE_EXTRA_CA_CERTS: otherCa.caFile }, config({ tls: { ca_file: ca.caFile } }));
    try {
      for (const environment of ['production', 'other_ca']) {
        const result = await call(client, 'prometheus_pre_deploy_check', { environment });
        expect(result.isError, `${environment}: ${JSON.stringify(result.content)}`).toBeFalsy();
      }
      expect((await call(client, 'jira_get_issue', { issue_key: 'AAP-1' })).isError).toBeFalsy();
      expect((await call(client, 'konflux_list_applications', {})).isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });
});

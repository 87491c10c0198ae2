import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real Prometheus and Alertmanager (Debian packages `prometheus`, `prometheus-alertmanager`)
 * started as throw-away processes on free loopback ports, with temp config, rules and storage.
 * `.ci/run` installs the packages; on a developer machine without them the tests that need them
 * are skipped, in CI they fail.
 */

export interface RealServer {
  url: string;
  version: string;
  stop(): Promise<void>;
}
export type RealPrometheus = RealServer;
export type RealAlertmanager = RealServer;

function onPath(names: readonly string[]): string | undefined {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return undefined;
}

export const prometheusBinary = () => onPath(['prometheus']);
/** Debian names it prometheus-alertmanager; upstream alertmanager. */
export const alertmanagerBinary = () => onPath(['prometheus-alertmanager', 'alertmanager']);

/**
 * Whether tests against the real servers run here: skipped only when a binary is missing and
 * this is not CI. In CI (CI set) a missing binary throws, so the file fails loudly.
 */
export function realPrometheusAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  const missing = [prometheusBinary() ? undefined : 'prometheus', alertmanagerBinary() ? undefined : 'prometheus-alertmanager'].filter(Boolean);
  if (!missing.length) return true;
  if (env.CI) throw new Error(`${missing.join(' and ')} not installed, and CI is set: .ci/run installs the Debian packages prometheus and prometheus-alertmanager; these tests must run in CI`);
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Call `attempt` every 200 ms until it returns a value; past the deadline fail with what the server said. */
export async function poll<T>(what: string, deadlineMs: number, attempt: () => Promise<T | undefined>, log: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${deadlineMs} ms\n${log()}`);
    await sleep(200);
  }
}

/** Run `binary` with the args for a port (given the temp dir) and wait for its /-/ready. */
async function startServer(name: string, binary: string | undefined, files: Record<string, string>, args: (dir: string, port: number) => string[], readyTimeoutMs = 30_000): Promise<RealServer> {
  if (!binary) throw new Error(`${name} is not installed`);
  const dir = mkdtempSync(join(tmpdir(), `real-${name}-`));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!.trim();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(binary, args(dir, port), { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await poll(`${name} /-/ready`, readyTimeoutMs, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
      return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
    }, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, version, stop };
}

/** Alertmanager with one receiver that sends nothing; clustering off (no gossip port). */
export function startAlertmanager(): Promise<RealAlertmanager> {
  const config = ['route:', '  receiver: nowhere', '  group_wait: 0s', '  group_interval: 1s', 'receivers:', '  - name: nowhere', ''].join('\n');
  return startServer('alertmanager', alertmanagerBinary(), { 'alertmanager.yml': config }, (dir, port) => [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
}

/** Prometheus evaluating `rules` (a rules YAML document) every second, sending its alerts to `alertmanager` when given. */
export function startPrometheus(rules: string, options: { alertmanager?: RealAlertmanager } = {}): Promise<RealPrometheus> {
  const lines = ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'rule_files:', '  - rules.yml'];
  if (options.alertmanager) lines.push('alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: ['${new URL(options.alertmanager.url).host}']`);
  return startServer('prometheus', prometheusBinary(), { 'prometheus.yml': `${lines.join('\n')}\n`, 'rules.yml': rules }, (dir, port) => [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // The first send can come before the Alertmanager is discovered (dropped); resend each second, not each minute.
    '--rules.alert.resend-delay=1s',
    '--log.level=warn',
  ]);
}

/** Wait until every named alert is firing in Prometheus's own /api/v1/alerts (bounded). */
export async function waitForFiring(prometheus: RealPrometheus, names: readonly string[], timeoutMs = 20_000): Promise<void> {
  let seen: string[] = [];
  await poll(`alerts ${names.join(', ')} firing`, timeoutMs, async () => {
    const body = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ state: string; labels: Record<string, string> }> } };
    seen = body.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname!);
    return names.every((n) => seen.includes(n)) ? true : undefined;
  }, () => `firing: ${seen.join(', ') || 'none'}`);
}

/** Silence an alert by name in Alertmanager (API v2) for an hour; returns the silence id. */
export async function silenceAlert(alertmanager: RealAlertmanager, alertname: string): Promise<string> {
  const now = Date.now();
  const response = await fetch(`${alertmanager.url}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: [{ name: 'alertname', value: alertname, isRegex: false, isEqual: true }],
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
      createdBy: 'release-mcp tests',
      comment: 'known noise',
    }),
  });
  if (!response.ok) throw new Error(`Alertmanager refused the silence: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { silenceID: string }).silenceID;
}

/** An alert's state in Alertmanager (`active`, `suppressed`, ...) and the silences on it; undefined when Alertmanager has not received it. */
export async function alertmanagerAlert(alertmanager: RealAlertmanager, alertname: string): Promise<{ state: string; silencedBy: string[] } | undefined> {
  const alerts = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string>; status: { state: string; silencedBy: string[] } }>;
  return alerts.find((a) => a.labels.alertname === alertname)?.status;
}

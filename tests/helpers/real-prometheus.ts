import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real Prometheus (the Debian package `prometheus`) started as a throw-away process on a free
 * loopback port, with a temp config, rules file and storage. `.ci/run` installs the package; on
 * a developer machine without it the tests that need it are skipped, in CI they fail.
 */

export interface RealPrometheus {
  url: string;
  version: string;
  stop(): Promise<void>;
}

/** Path of the prometheus binary on PATH, or undefined. */
export function prometheusBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : undefined;
}

/**
 * Whether tests against the real Prometheus run here: skipped only when the binary is missing and
 * this is not CI. In CI (CI set) a missing binary throws, so the file fails loudly.
 */
export function realPrometheusAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (prometheusBinary()) return true;
  if (env.CI) throw new Error('prometheus is not installed, and CI is set: .ci/run installs the Debian package "prometheus"; these tests must run in CI');
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function poll<T>(what: string, deadlineMs: number, attempt: () => Promise<T | undefined>, log: () => string): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`real Prometheus: ${what} not reached within ${deadlineMs} ms\n${log()}`);
    await sleep(200);
  }
}

/** Start Prometheus evaluating `rules` (a rules YAML document) every second, and wait until it is ready. */
export async function startPrometheus(rules: string, options: { readyTimeoutMs?: number } = {}): Promise<RealPrometheus> {
  const binary = prometheusBinary();
  if (!binary) throw new Error('prometheus is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'real-prometheus-'));
  writeFileSync(join(dir, 'rules.yml'), rules);
  writeFileSync(join(dir, 'prometheus.yml'), ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'rule_files:', '  - rules.yml', ''].join('\n'));
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!.trim();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
    await poll('/-/ready', options.readyTimeoutMs ?? 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}`);
      return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
    }, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, version, stop };
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

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/**
 * A real PostgreSQL server (Debian package `postgresql`) started as a throw-away cluster: initdb
 * in a temp dir, `postgres` on a free loopback port, password authentication, no system service.
 * `.ci/run` installs the package; on a developer machine without it the tests that need it are
 * skipped, in CI they fail. As root, the cluster runs as the `postgres` user (initdb refuses root).
 */

export interface RealPostgres {
  /** Superuser URL of the `postgres` database, password included. */
  url: string;
  /** The password alone, to check it is masked wherever the URL could leak. */
  password: string;
  version: string;
  /** A fresh empty database on this server; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Debian keeps the server binaries out of PATH, under /usr/lib/postgresql/<major>/bin. */
export function postgresBinDir(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) {
    const real = spawnSync('readlink', ['-f', onPath.stdout.trim()], { encoding: 'utf8' }).stdout.trim();
    const dir = real.replace(/\/initdb$/, '');
    if (existsSync(join(dir, 'postgres'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const dir = join(root, major, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  return undefined;
}

/** Whether tests against a real PostgreSQL run here: skipped only off CI; in CI a missing server throws. */
export function realPostgresAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (postgresBinDir()) return true;
  if (env.CI) throw new Error('PostgreSQL is not installed, and CI is set: .ci/run installs the Debian package postgresql; these tests must run in CI');
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The uid/gid to run the server as: ourselves, or `postgres` when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const entry = spawnSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).stdout.trim();
  if (!entry) throw new Error('running as root needs a `postgres` user to run the server as (the Debian package creates it)');
  const [, , uid, gid] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Start a throw-away cluster. Takes 1-3 s. */
export async function startPostgres(): Promise<RealPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed');
  const as = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'real-postgres-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (as) {
    chownSync(dir, as.uid, as.gid);
    chownSync(pwfile, as.uid, as.gid);
  }
  const ids = as ? { uid: as.uid, gid: as.gid } : {};
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync'], { encoding: 'utf8', ...ids });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  }
  const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'], { stdio: ['ignore', 'pipe', 'pipe'], ...ids });
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT'); // fast shutdown
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${output}`);
      }
      await sleep(100);
    }
  }
  return { url, password, version, createDatabase: (prefix) => createDatabaseOn(url, prefix), stop };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's shared server; empty when PostgreSQL is not installed (off CI). */
    postgresUrl: string;
  }
}

/** A fresh database on a server, by its superuser URL. */
export async function createDatabaseOn(url: string, prefix = 'test'): Promise<string> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * The run's one server, started by tests/global-setup.ts and handed over through vitest's
 * provide/inject; undefined when PostgreSQL is not installed here (never in CI: setup throws).
 * Use with `describe.skipIf(!pgServer)`; each test makes its own database with `createDatabase`.
 */
export function sharedPostgres(): { url: string; password: string; createDatabase(prefix?: string): Promise<string> } | undefined {
  const url = inject('postgresUrl');
  if (!url) return undefined;
  return { url, password: decodeURIComponent(new URL(url).password), createDatabase: (prefix) => createDatabaseOn(url, prefix) };
}

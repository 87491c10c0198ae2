import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { realPostgresAvailable, startPostgres } from './helpers/real-postgres.js';

/**
 * Tests that spawn `node dist/cli.js` need a fresh build of the current sources; tests against
 * PostgreSQL share one throw-away server for the run (each makes its own database).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (!realPostgresAvailable()) {
    project.provide('postgresUrl', '');
    return async () => undefined;
  }
  const server = await startPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}

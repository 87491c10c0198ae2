import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sharedPostgres } from './helpers/real-postgres.js';

const server = sharedPostgres();

describe.skipIf(!server)('the run\'s real PostgreSQL server', () => {
  it('gives each test its own empty database, behind a password', async () => {
    const a = await server!.createDatabase('a');
    const b = await server!.createDatabase('b');
    expect(a).not.toBe(b);
    const client = new pg.Client({ connectionString: a });
    await client.connect();
    await client.query('CREATE TABLE t (x int)');
    const version = await client.query('SHOW server_version');
    await client.end();
    expect(Number(String(version.rows[0].server_version).split('.')[0])).toBeGreaterThanOrEqual(13);
    const wrong = new URL(b);
    wrong.password = 'not-the-password';
    const refused = new pg.Client({ connectionString: wrong.toString() });
    await expect(refused.connect()).rejects.toThrow(/password authentication failed/);
    await refused.end().catch(() => undefined);
  });
});

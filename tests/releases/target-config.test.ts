import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, readTargetPasswords, secretValues } from '../../src/config.js';
import { parsePg } from '../../src/releases/migration-safety.js';

const URL_OK = 'postgresql://release@db.internal:5432/app';

describe('PostgreSQL target settings', () => {
  it('keeps a postgresql:// URL as it is (no path resolution) and resolves SQLite paths against the config file', () => {
    const config = parseConfig({ environments: [{ name: 'dev', database: 'dev.db' }, { name: 'staging', database: URL_OK, password_env: 'STAGING_DB_PASSWORD', databases: { payments: 'postgres://pay@db.internal/payments' } }] }, '/etc/release-mcp');
    expect(config.environments[0]!.database).toBe('/etc/release-mcp/dev.db');
    expect(config.environments[1]).toMatchObject({ database: URL_OK, databases: { payments: 'postgres://pay@db.internal/payments' }, password_env: 'STAGING_DB_PASSWORD' });
    expect(config.releases).toMatchObject({ lock_timeout_ms: 5_000, statement_timeout_ms: 600_000 });
  });

  it('refuses a password in the URL, a URL without database, and a password_env that is not a variable name, naming the field', () => {
    const problems = (environment: Record<string, unknown>) => {
      try {
        parseConfig({ environments: [{ name: 'staging', ...environment }] }, '/tmp');
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      throw new Error('expected the config to be refused');
    };
    expect(problems({ database: 'postgresql://release:s3cret@db.internal/app' })).toMatch(/environments\.0\.database: a postgresql:\/\/ URL must not carry the password: name the variable holding it in password_env/);
    expect(problems({ databases: { payments: 'postgresql://release@db.internal' } })).toMatch(/environments\.0\.databases\.payments: expected a postgresql:\/\/user@host\[:port\]\/database URL/);
    expect(problems({ database: URL_OK, password_env: 'not a name' })).toMatch(/environments\.0\.password_env: expected the NAME of an environment variable/);
  });

  it('reads the passwords from the variables named, and masks them', () => {
    const config = parseConfig({ environments: [{ name: 'staging', database: URL_OK, password_env: 'STAGING_DB_PASSWORD' }] }, '/tmp');
    const passwords = readTargetPasswords(config, { STAGING_DB_PASSWORD: 'staging-pw-123', PGPASSWORD: 'pg-pw-456', OTHER: 'x' });
    expect(passwords).toEqual({ STAGING_DB_PASSWORD: 'staging-pw-123', PGPASSWORD: 'pg-pw-456' });
    expect(secretValues({ target_passwords: passwords })).toEqual(expect.arrayContaining(['staging-pw-123', 'pg-pw-456']));
  });

  it('parses PostgreSQL with the real parser, and names the position of a syntax error', async () => {
    const [stmt] = await parsePg('CREATE INDEX CONCURRENTLY i ON t (a)');
    expect(stmt).toMatchObject({ IndexStmt: { idxname: 'i', concurrent: true } });
    await expect(parsePg('ALTER TABLE t ADD COLUMN')).rejects.toThrow(/not valid PostgreSQL: syntax error at end of input at character \d+/);
  });
});

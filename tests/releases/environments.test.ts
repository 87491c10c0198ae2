import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { checkPromotionPath } from '../../src/releases/index.js';

describe('environments config', () => {
  it('defaults to dev, staging, prod with databases in the data directory and a dev -> prod hotfix path', () => {
    const config = parseConfig({}, '/tmp');
    expect(config.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    expect(config.environments[2]!.database).toMatch(/release-mcp\/environments\/prod\.db$/);
    expect(config.releases.hotfix_paths).toEqual([['dev', 'prod']]);
  });

  it('resolves database paths relative to the config file and drops the default hotfix path where it does not fit', () => {
    const config = parseConfig({ environments: [{ name: 'qa', database: 'db/qa.db' }, { name: 'live' }] }, '/srv/release');
    expect(config.environments[0]!.database).toBe('/srv/release/db/qa.db');
    expect(config.releases.hotfix_paths).toEqual([]);
  });

  it('names every bad cross-reference', () => {
    const bad = () => parseConfig({ environments: [{ name: 'dev' }, { name: 'prod', alerts_environment: 'production' }], releases: { hotfix_paths: [['dev', 'staging']] } }, '/tmp');
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/releases\.hotfix_paths\.0: unknown environment "staging"/);
    expect(bad).toThrow(/environments\.1\.alerts_environment: "production" is not in prometheus\.environments/);
    expect(() => parseConfig({ environments: [{ name: 'dev' }, { name: 'dev' }] }, '/tmp')).toThrow(/unique/);
    expect(() => parseConfig({ http: { tokens: [{ env: 'secret-value-here', role: 'admin' }] } }, '/tmp')).toThrow(/NAME of an environment variable/);
  });

  it('allows the next environment, a hotfix on a hotfix path, and nothing else', () => {
    const config = parseConfig({ environments: [{ name: 'dev' }, { name: 'staging' }, { name: 'canary' }, { name: 'prod' }], releases: { hotfix_paths: [['staging', 'prod']] } }, '/tmp');
    expect(() => checkPromotionPath(config, 'dev', 'staging', false)).not.toThrow();
    expect(() => checkPromotionPath(config, 'staging', 'prod', false)).toThrow(/skips canary/);
    expect(() => checkPromotionPath(config, 'staging', 'prod', true)).not.toThrow();
    expect(() => checkPromotionPath(config, 'dev', 'prod', true)).toThrow(/skips staging, canary/);
    expect(() => checkPromotionPath(config, 'prod', 'prod', false)).toThrow(/does not come after/);
  });
});

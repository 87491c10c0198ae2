import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, findConfigFile, loadConfig, parseConfig, publicConfig } from '../src/config.js';
import { tempDir } from './helpers/harness.js';

describe('config', () => {
  it('loads the example config.json of the repository as it is', () => {
    const { config, path } = loadConfig({ path: 'config.json', env: {} });
    expect(path).toMatch(/config\.json$/);
    expect(config.default_persona).toBe('release');
    expect(config.app_interface.deploy_file).toBe('data/services/insights/tower-analytics/cicd/deploy-clowder.yml');
  });

  it('reports one line per problem, each naming the field path', () => {
    try {
      parseConfig({ jira: { url: 'not a url' }, gitlab: { timeout_ms: -1 }, bogus: 1 }, '/');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toContain('jira.url: expected a URL');
      expect(problems.some((p) => p.startsWith('gitlab.timeout_ms:'))).toBe(true);
      expect(problems).toContain('(root): unknown key "bogus"');
    }
  });

  it('finds the file by flag, then RELEASE_MCP_CONFIG, then ./config.json, then the user config dir', () => {
    const dir = tempDir();
    const xdg = join(dir.path, 'xdg');
    expect(findConfigFile('a.json', {}, dir.path)).toBe(join(dir.path, 'a.json'));
    expect(findConfigFile(undefined, { RELEASE_MCP_CONFIG: 'b.json' }, dir.path)).toBe(join(dir.path, 'b.json'));
    expect(findConfigFile(undefined, { XDG_CONFIG_HOME: xdg }, dir.path)).toBeUndefined();
    writeFileSync(join(dir.path, 'config.json'), '{}');
    expect(findConfigFile(undefined, { XDG_CONFIG_HOME: xdg }, dir.path)).toBe(join(dir.path, 'config.json'));
    dir.cleanup();
  });

  it('resolves relative paths against the config file, and keeps secrets out of the public view', () => {
    const dir = tempDir();
    const file = join(dir.path, 'config.json');
    writeFileSync(file, JSON.stringify({ repositories: { be: { path: 'repos/be' } }, slack: { webhook_url: 'https://hooks.example.com/services/T/B/secret' } }));
    const { config } = loadConfig({ path: file, env: {} });
    expect(config.repositories.be!.path).toBe(join(dir.path, 'repos/be'));
    expect(JSON.stringify(publicConfig(config))).not.toContain('secret');
    dir.cleanup();
  });

  it('checks prometheus match_labels and unlabelled_alerts, and resolves tls.ca_file against the config file', () => {
    const prometheus = (env: Record<string, unknown>) => ({ prometheus: { environments: { production: { url: 'https://prom.example.com', namespace: 'ns', ...env } } } });
    try {
      parseConfig(prometheus({ match_labels: { 'bad-label': 'x', cluster: '' }, unlabelled_alerts: 'maybe' }), '/');
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems.some((p) => p.startsWith('prometheus.environments.production.match_labels.bad-label') && p.includes('expected a Prometheus label name'))).toBe(true);
      expect(problems.some((p) => p.startsWith('prometheus.environments.production.match_labels.cluster'))).toBe(true);
      expect(problems.some((p) => p.startsWith('prometheus.environments.production.unlabelled_alerts'))).toBe(true);
    }
    const defaults = parseConfig(prometheus({}), '/').prometheus.environments.production!;
    expect(defaults).toMatchObject({ unlabelled_alerts: 'block' });
    expect(defaults.match_labels).toBeUndefined();

    const dir = tempDir();
    const file = join(dir.path, 'config.json');
    writeFileSync(file, JSON.stringify({ tls: { ca_file: 'certs/ca.pem' } }));
    expect(loadConfig({ path: file, env: {} }).config.tls.ca_file).toBe(join(dir.path, 'certs/ca.pem'));
    dir.cleanup();
  });

  it('says which file is not JSON', () => {
    const dir = tempDir();
    const file = join(dir.path, 'config.json');
    writeFileSync(file, '{ nope');
    expect(() => loadConfig({ path: file, env: {} })).toThrow(/is not valid JSON/);
    dir.cleanup();
  });
});

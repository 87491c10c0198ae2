import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { isResourceKindVisible } from '../../src/personas/index.js';
import { parseResourceUri, prefixMatches, RESOURCE_KINDS, resourceUris, tenantEnvironments } from '../../src/resources/index.js';
import { firstSentence } from '../../src/resources/skill-files.js';

describe('resource URIs', () => {
  it('parses what resourceUris builds, encoded names included', () => {
    expect(parseResourceUri(resourceUris.run('20261201-143801-065acd'))).toEqual({ kind: 'runs', key: '20261201-143801-065acd' });
    expect(parseResourceUri(resourceUris.release('rel_20240115_1200_2'))).toEqual({ kind: 'releases', key: 'rel_20240115_1200_2' });
    expect(parseResourceUri(resourceUris.skill('a b'))).toEqual({ kind: 'skills', key: 'a b' });
    expect(parseResourceUri(resourceUris.knowledge('aa-backend/release.yaml'))).toEqual({ kind: 'knowledge', key: 'aa-backend/release.yaml' });
    expect(parseResourceUri(resourceUris.audit())).toEqual({ kind: 'audit', key: '' });
  });

  it('refuses other schemes, kinds, empty or escaping segments, and extra segments', () => {
    for (const uri of [
      'file:///etc/passwd',
      'release-mcp://other/x',
      'release-mcp://runs',
      'release-mcp://runs/',
      'release-mcp://runs/a/b',
      'release-mcp://runs/a%2Fb',
      'release-mcp://audit/x',
      'release-mcp://knowledge/../x.yaml',
      'release-mcp://knowledge/a//b.yaml',
      'release-mcp://knowledge/%2E%2E/x.yaml',
      'release-mcp://knowledge/a%5Cb.yaml',
      'release-mcp://skills/%E0%A4%A',
    ]) {
      expect(parseResourceUri(uri), uri).toBeUndefined();
    }
  });
});

describe('resource kind visibility', () => {
  it('follows the tools a session sees', () => {
    expect(isResourceKindVisible(RESOURCE_KINDS.releases, [{ name: 'release_list' }])).toBe(true);
    expect(isResourceKindVisible(RESOURCE_KINDS.releases, [{ name: 'skill_run' }, { name: 'knowledge_query' }])).toBe(false);
    expect(isResourceKindVisible(RESOURCE_KINDS.runs, [{ name: 'skill_plan' }])).toBe(true);
  });
});

describe('completion matching', () => {
  it('matches by prefix, keeps order, drops duplicates, caps at 100 with the total', () => {
    expect(prefixMatches(['rel_2', 'rel_1', 'run_1', 'rel_2'], 'rel_')).toEqual({ values: ['rel_2', 'rel_1'], total: 2, hasMore: false });
    const many = Array.from({ length: 150 }, (_, i) => `v${i}`);
    expect(prefixMatches(many, 'v')).toMatchObject({ total: 150, hasMore: true });
    expect(prefixMatches(many, 'v').values).toHaveLength(100);
    expect(prefixMatches(many, 'v1')).toMatchObject({ total: 61, hasMore: false });
  });

  it("gives a tenant the environments it has a database in; the default tenant has them all", () => {
    const config = parseConfig(
      {
        environments: [
          { name: 'dev', databases: { other: '/tmp/o-dev.db' } },
          { name: 'staging', databases: {} },
          { name: 'prod', databases: { other: '/tmp/o-prod.db' } },
        ],
      },
      '/tmp',
    );
    expect(tenantEnvironments(config, 'primary')).toEqual(['dev', 'staging', 'prod']);
    expect(tenantEnvironments(config, 'other')).toEqual(['dev', 'prod']);
    expect(tenantEnvironments(config, 'nobody')).toEqual([]);
  });
});

describe('skill summaries', () => {
  it('take the first sentence on one line', () => {
    expect(firstSentence('Create a release that pushes the image. Checks\n  first: the image.')).toBe('Create a release that pushes the image.');
    expect(firstSentence('No full stop\nhere')).toBe('No full stop here');
    expect(firstSentence('Version 1.2 of it. Then')).toBe('Version 1.2 of it.');
  });
});

import { describe, expect, it } from 'vitest';
import { newestFirst, pipelineRunsOf, releaseState, snapshotsForCommit } from '../src/integrations/konflux-status.js';
import type { KubeObject } from '../src/integrations/kube.js';

const release = (conditions: Array<Record<string, string>>, extra: Record<string, unknown> = {}): KubeObject => ({ metadata: { name: 'r' }, status: { conditions, ...extra } });

describe('releaseState', () => {
  it('reads the Released condition', () => {
    expect(releaseState(release([{ type: 'Released', status: 'True', reason: 'Succeeded' }])).status).toBe('Succeeded');
    expect(releaseState(release([{ type: 'Released', status: 'True', reason: 'Skipped' }])).status).toBe('Succeeded');
    expect(releaseState(release([{ type: 'Released', status: 'False', reason: 'Failed', message: 'boom' }]))).toEqual({ status: 'Failed', reason: 'Failed', message: 'boom' });
    expect(releaseState(release([{ type: 'Released', status: 'False', reason: 'Progressing' }])).status).toBe('Progressing');
    expect(releaseState(release([{ type: 'Released', status: 'Unknown', reason: 'Whatever' }])).status).toBe('Progressing');
    expect(releaseState(release([{ type: 'Validated', status: 'True', reason: 'Succeeded' }])).status).toBe('Unknown');
    expect(releaseState({ metadata: { name: 'new' } }).status).toBe('Unknown');
  });

  it('collects pipeline run references from every processing stage', () => {
    const r = release([], { managedProcessing: { pipelineRun: 'm/run', startTime: 't1' }, tenantProcessing: { pipelineRun: 't/run' }, target: 'x' });
    expect(pipelineRunsOf(r).map((p) => p.pipeline_run)).toEqual(['m/run', 't/run']);
  });
});

describe('snapshotsForCommit', () => {
  const snap = (name: string, app: string, rev: string, created: string): KubeObject => ({
    metadata: { name, creationTimestamp: created },
    spec: { application: app, components: [{ name: 'c', containerImage: 'img', source: { git: { revision: rev } } }] },
  });
  it('keeps snapshots of the application with the commit, newest first', () => {
    const all = [snap('a', 'app', 'x', '2026-01-01T00:00:00Z'), snap('b', 'app', 'x', '2026-01-03T00:00:00Z'), snap('c', 'other', 'x', '2026-01-04T00:00:00Z'), snap('d', 'app', 'y', '2026-01-05T00:00:00Z')];
    expect(snapshotsForCommit(all, 'X', 'app').map((s) => s.metadata.name)).toEqual(['b', 'a']);
    expect(newestFirst(all).map((s) => s.metadata.name)).toEqual(['d', 'c', 'b', 'a']);
  });
});

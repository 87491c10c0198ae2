import type { KubeObject } from './kube.js';

export type ReleaseState = 'Succeeded' | 'Failed' | 'Progressing' | 'Unknown';

export interface KubeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface PipelineRunRef {
  stage: string;
  pipeline_run: string;
  start_time: string | null;
  completion_time: string | null;
}

export interface ReleaseSummary {
  name: string;
  namespace: string;
  snapshot: string;
  release_plan: string;
  status: ReleaseState;
  reason: string | null;
  message: string | null;
  created: string | null;
  start_time: string | null;
  completion_time: string | null;
  target: string | null;
}

export const SNAPSHOT_LABEL = 'release.appstudio.openshift.io/snapshot';
export const RELEASE_PLAN_LABEL = 'release.appstudio.openshift.io/releasePlan';
export const APPLICATION_LABEL = 'appstudio.openshift.io/application';

/** A non-empty string field of a Kubernetes object, else null. */
export const str = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);

export function conditionsOf(obj: KubeObject): KubeCondition[] {
  const conditions = obj.status?.conditions;
  return Array.isArray(conditions) ? conditions.filter((c): c is KubeCondition => !!c && typeof c.type === 'string') : [];
}

/**
 * The state of a release from its Released condition: True is Succeeded (reason Succeeded or
 * Skipped), reason Failed is Failed, reason Progressing or status Unknown is Progressing; no
 * Released condition yet is Unknown.
 */
export function releaseState(release: KubeObject): { status: ReleaseState; reason: string | null; message: string | null } {
  const released = conditionsOf(release).find((c) => c.type === 'Released');
  if (!released) return { status: 'Unknown', reason: null, message: null };
  const reason = str(released.reason);
  const message = str(released.message);
  let status: ReleaseState;
  if (released.status === 'True') status = 'Succeeded';
  else if (reason === 'Failed') status = 'Failed';
  else if (reason === 'Progressing' || released.status === 'Unknown') status = 'Progressing';
  else if (released.status === 'False') status = reason ? 'Failed' : 'Progressing';
  else status = 'Unknown';
  return { status, reason, message };
}

export function isFinal(state: ReleaseState): boolean {
  return state === 'Succeeded' || state === 'Failed';
}

export function summarizeRelease(release: KubeObject): ReleaseSummary {
  const spec = release.spec ?? {};
  const status = release.status ?? {};
  const state = releaseState(release);
  return {
    name: release.metadata.name,
    namespace: release.metadata.namespace ?? '',
    snapshot: str(spec.snapshot) ?? '',
    release_plan: str(spec.releasePlan) ?? '',
    status: state.status,
    reason: state.reason,
    message: state.message,
    created: str(release.metadata.creationTimestamp),
    start_time: str(status.startTime),
    completion_time: str(status.completionTime),
    target: str(status.target),
  };
}

/** Pipeline runs a release started: every `status.<stage>.pipelineRun` (managedProcessing, tenantProcessing, ...). */
export function pipelineRunsOf(release: KubeObject): PipelineRunRef[] {
  const runs: PipelineRunRef[] = [];
  for (const [stage, value] of Object.entries(release.status ?? {})) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const v = value as Record<string, unknown>;
    const run = str(v.pipelineRun);
    if (run) runs.push({ stage, pipeline_run: run, start_time: str(v.startTime), completion_time: str(v.completionTime) });
  }
  return runs;
}

/** Newest first by creationTimestamp (then name, for a stable order). */
export function newestFirst<T extends KubeObject>(items: readonly T[]): T[] {
  const time = (o: KubeObject) => Date.parse(o.metadata.creationTimestamp ?? '') || 0;
  return [...items].sort((a, b) => time(b) - time(a) || b.metadata.name.localeCompare(a.metadata.name));
}

export interface SnapshotComponent {
  name: string;
  containerImage: string;
  revision: string;
  url: string | null;
}

export function snapshotComponents(snapshot: KubeObject): SnapshotComponent[] {
  const components = snapshot.spec?.components;
  if (!Array.isArray(components)) return [];
  return components.map((c: Record<string, unknown>) => {
    const git = ((c.source as Record<string, unknown> | undefined)?.git ?? {}) as Record<string, unknown>;
    return { name: str(c.name) ?? '', containerImage: str(c.containerImage) ?? '', revision: str(git.revision) ?? '', url: str(git.url) };
  });
}

/** Snapshots of `application` (when given) having a component built from `sha`, newest first. */
export function snapshotsForCommit(snapshots: readonly KubeObject[], sha: string, application?: string): KubeObject[] {
  const wanted = sha.toLowerCase();
  return newestFirst(
    snapshots.filter((s) => (!application || s.spec?.application === application) && snapshotComponents(s).some((c) => c.revision.toLowerCase() === wanted)),
  );
}

import { APPLICATION_LABEL, conditionsOf, str } from './konflux-status.js';
import type { KubeObject } from './kube.js';

/** Labels Konflux (Pipelines as Code) puts on a component's build PipelineRuns. */
export const COMPONENT_LABEL = 'appstudio.openshift.io/component';
export const PAC_SHA_LABEL = 'pipelinesascode.tekton.dev/sha';
export const PAC_EVENT_LABEL = 'pipelinesascode.tekton.dev/event-type';
export const PIPELINE_TYPE_LABEL = 'pipelines.appstudio.openshift.io/type';

export type BuildState = 'Succeeded' | 'Failed' | 'Running' | 'Pending';

export interface BuildSummary {
  name: string;
  component: string | null;
  application: string | null;
  commit_sha: string | null;
  event_type: string | null;
  status: BuildState;
  reason: string | null;
  message: string | null;
  created: string | null;
  start_time: string | null;
  completion_time: string | null;
  image_url: string | null;
  image_digest: string | null;
}

/** The label selector of build PipelineRuns, narrowed to a component, commit and application when given. */
export function buildSelector(filter: { component?: string | undefined; commitSha?: string | undefined; application?: string | undefined }): string {
  return [
    `${PIPELINE_TYPE_LABEL}=build`,
    ...(filter.component ? [`${COMPONENT_LABEL}=${filter.component}`] : []),
    ...(filter.commitSha ? [`${PAC_SHA_LABEL}=${filter.commitSha}`] : []),
    ...(filter.application ? [`${APPLICATION_LABEL}=${filter.application}`] : []),
  ].join(',');
}

/**
 * A PipelineRun's state from Tekton's Succeeded condition: True succeeded, False failed (reason
 * Failed, PipelineRunTimeout, Cancelled...), Unknown still running (PipelineRunPending: pending);
 * no condition yet: pending.
 */
export function buildState(run: KubeObject): { status: BuildState; reason: string | null; message: string | null } {
  const succeeded = conditionsOf(run).find((c) => c.type === 'Succeeded');
  if (!succeeded) return { status: 'Pending', reason: null, message: null };
  const reason = str(succeeded.reason);
  const message = str(succeeded.message);
  if (succeeded.status === 'True') return { status: 'Succeeded', reason, message };
  if (succeeded.status === 'False') return { status: 'Failed', reason, message };
  return { status: reason === 'PipelineRunPending' ? 'Pending' : 'Running', reason, message };
}

/** A named result of a PipelineRun (tekton.dev/v1 `status.results`, v1beta1 `status.pipelineResults`). */
function result(run: KubeObject, name: string): string | null {
  const results = run.status?.results ?? run.status?.pipelineResults;
  if (!Array.isArray(results)) return null;
  const found = results.find((r: { name?: unknown }) => r && r.name === name) as { value?: unknown } | undefined;
  return str(found?.value);
}

export function summarizeBuild(run: KubeObject): BuildSummary {
  const labels = run.metadata.labels ?? {};
  return {
    name: run.metadata.name,
    component: labels[COMPONENT_LABEL] ?? null,
    application: labels[APPLICATION_LABEL] ?? null,
    commit_sha: labels[PAC_SHA_LABEL] ?? null,
    event_type: labels[PAC_EVENT_LABEL] ?? null,
    ...buildState(run),
    created: run.metadata.creationTimestamp ?? null,
    start_time: str(run.status?.startTime),
    completion_time: str(run.status?.completionTime),
    image_url: result(run, 'IMAGE_URL'),
    image_digest: result(run, 'IMAGE_DIGEST'),
  };
}

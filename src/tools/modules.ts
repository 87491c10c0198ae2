import type { ToolModules } from './registry.js';

/**
 * Every tool module, in the order tools are listed. A server imports one (its zod schemas,
 * handlers and the client libraries they use) when one of its tools is first called; until then
 * it answers from the build's manifest (manifest.ts). The bundle splits each into its own chunk.
 */
export const TOOL_MODULES = {
  meta: async () => (await import('./meta.js')).metaTools,
  memory: async () => (await import('./memory.js')).memoryTools,
  skills: async () => (await import('./skills.js')).skillTools,
  git: async () => (await import('./git.js')).gitTools,
  appinterface: async () => (await import('./appinterface.js')).appinterfaceTools,
  gitlab: async () => (await import('./gitlab.js')).gitlabTools,
  jira: async () => (await import('./jira.js')).jiraTools,
  notify: async () => (await import('./notify.js')).notifyTools,
  quay: async () => (await import('./quay.js')).quayTools,
  konflux: async () => (await import('./konflux.js')).konfluxTools,
  prometheus: async () => (await import('./prometheus.js')).prometheusTools,
  releases: async () => (await import('./releases.js')).releaseTools,
  http: async () => (await import('./http.js')).httpTools,
} satisfies ToolModules;

import { ToolError, type ToolErrorJSON } from '../errors.js';
import type { ReleaseManifest } from './ledger.js';
import type { PromotionSkillRunner } from './service.js';

/** How a promotion skill is started: a tool call to skill_run (the registry's callTool). */
export type CallTool = (name: string, args: Record<string, unknown>) => Promise<{ ok: true; data: Record<string, unknown> } | { ok: false; error: ToolErrorJSON }>;

const SKILL_FAILED = new Set(['failed', 'error', 'awaiting_approval', 'paused', 'cancelled']);

/**
 * The environment's promotion skill, run through skill_run (by the tools, the REST API and the
 * CLI alike), so a server without the skill engine says so plainly.
 */
export function promotionSkillRunner(callTool: CallTool): PromotionSkillRunner {
  return async (skill: string, release: ReleaseManifest, env: { name: string }) => {
    const inputs = { release_id: release.id, environment: env.name, from_env: release.from_env, commit_sha: release.bundle.commit_sha, images: release.bundle.images };
    const outcome = await callTool('skill_run', { name: skill, inputs });
    if (!outcome.ok) {
      if (outcome.error.code === 'not_found' && outcome.error.message.includes('skill_run')) {
        throw new ToolError('config', `skill_run is not available, so the promotion skill ${skill} of environment ${env.name} cannot run`, {
          hint: `remove promotion_skill from environments "${env.name}" in config.json, or run a release-mcp with the skill engine`,
        });
      }
      throw new ToolError(outcome.error.code, `promotion skill ${skill} failed: ${outcome.error.message}`, outcome.error.hint ? { hint: outcome.error.hint } : {});
    }
    const status = outcome.data.status;
    if (typeof status === 'string' && SKILL_FAILED.has(status)) throw new ToolError('precondition', `promotion skill ${skill} ended ${status}`, { details: { run_id: outcome.data.run_id } });
  };
}

import { execFile } from 'node:child_process';
import type { Config } from '../config.js';
import { isCertificateFailure, type ToolErrorJSON } from '../errors.js';
import type { ToolContext } from '../tools/registry.js';

/**
 * auto_heal: the class of a failure picks a heal action from config `heal` (a command or a tool
 * call); the action must itself succeed before the step is tried again.
 */

const CLASSES: ReadonlyArray<[string, RegExp]> = [
  ['auth', /\b401\b|unauthori[sz]ed|token (has )?expired|not logged in|log in again|authentication/i],
  ['network', /no route to host|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|socket hang up|\bvpn\b/i],
  ['timeout', /timed? ?out|ETIMEDOUT/i],
  ['rate_limited', /\b429\b|rate.?limit/i],
];

/** The error's class: a clearer reading of its text first, its code otherwise. */
export function classifyError(error: Pick<ToolErrorJSON, 'code' | 'message' | 'details'>): string {
  // A heal for the network (a VPN, say) does not make an untrusted certificate trusted.
  if (isCertificateFailure(error)) return 'certificate';
  if (['auth', 'network', 'timeout', 'rate_limited'].includes(error.code)) return error.code;
  for (const [name, pattern] of CLASSES) if (pattern.test(error.message)) return name;
  return error.code;
}

export interface HealOutcome {
  ok: boolean;
  /** What ran and how it ended, for the step note and memory. */
  detail: string;
}

type HealAction = Config['heal'][string];

export function describeHeal(action: HealAction): string {
  return action.tool ? `tool ${action.tool}` : action.command ? `command ${action.command.join(' ')}` : 'nothing';
}

export async function runHeal(action: HealAction, ctx: Pick<ToolContext, 'callTool' | 'signal'>): Promise<HealOutcome> {
  if (action.tool) {
    const outcome = await ctx.callTool(action.tool, action.args, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(action.timeout_ms)]) });
    return outcome.ok ? { ok: true, detail: `${describeHeal(action)} succeeded` } : { ok: false, detail: `${describeHeal(action)} failed: ${outcome.error.message}` };
  }
  if (action.command) {
    const [file, ...args] = action.command;
    return new Promise((resolve) => {
      execFile(file!, args, { timeout: action.timeout_ms, signal: ctx.signal, maxBuffer: 1024 * 1024 }, (error, _stdout, stderr) => {
        if (!error) resolve({ ok: true, detail: `${describeHeal(action)} succeeded` });
        else resolve({ ok: false, detail: `${describeHeal(action)} failed: ${String(stderr).trim().split('\n').pop() || error.message}` });
      });
    });
  }
  return { ok: false, detail: 'the heal action names neither a tool nor a command' };
}

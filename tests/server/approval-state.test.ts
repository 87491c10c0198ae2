import { describe, expect, it } from 'vitest';
import { ToolError } from '../../src/errors.js';
import { claimedBy, envStateKey, newNonce, openApproval, sealApproval, type ApprovalClaim } from '../../src/server/approval-state.js';

const key = Buffer.alloc(32, 7);
const claim: ApprovalClaim = { run: 'run-1', step: 'gate', round: 2, tool: 'skill_run', tenant: 'primary', subject: 'token:A', role: 'operator', exp: 1_800_000_000_000, nonce: newNonce() };

describe('sealed approval request states', () => {
  it('opens what it sealed, and only with the same key', () => {
    const state = sealApproval(key, claim);
    expect(state).toMatch(/^ra1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(openApproval(key, state)).toEqual(claim);
    expect(openApproval(Buffer.alloc(32, 8), state)).toBeUndefined();
  });

  it('refuses any change to the claim, the tag or the shape', () => {
    const state = sealApproval(key, claim);
    const [v, body, tag] = state.split('.') as [string, string, string];
    const reSealedBody = Buffer.from(JSON.stringify({ ...claim, exp: claim.exp + 3_600_000 })).toString('base64url');
    const flipped = `${tag.slice(0, -2)}${tag.at(-2) === 'A' ? 'B' : 'A'}${tag.at(-1)}`;
    for (const bad of [`${v}.${reSealedBody}.${tag}`, `${v}.${body}.${flipped}`, `${v}.${body}.${tag.slice(0, 20)}`, `ra2.${body}.${tag}`, `${v}.${body}`, '', 'not a state', `${v}.${body}.${tag}.x`]) {
      expect(openApproval(key, bad)).toBeUndefined();
    }
    // A well-signed body that is not a claim is refused too.
    const junk = Buffer.from(JSON.stringify({ run: 1 })).toString('base64url');
    const signedJunk = sealApproval(key, { run: 1 } as unknown as ApprovalClaim).split('.')[2]!;
    expect(openApproval(key, `${v}.${junk}.${signedJunk}`)).toBeUndefined();
  });

  it('binds to tenant, subject and role', () => {
    expect(claimedBy(claim, { tenant: 'primary', subject: 'token:A', role: 'operator' })).toBe(true);
    expect(claimedBy(claim, { tenant: 'other', subject: 'token:A', role: 'operator' })).toBe(false);
    expect(claimedBy(claim, { tenant: 'primary', subject: 'token:B', role: 'operator' })).toBe(false);
    expect(claimedBy(claim, { tenant: 'primary', subject: 'token:A', role: 'admin' })).toBe(false);
  });

  it('takes RELEASE_MCP_STATE_KEY of 32 bytes or more, and names the variable otherwise', () => {
    expect(envStateKey('k'.repeat(32)).length).toBe(32);
    const error = (() => {
      try {
        envStateKey('k'.repeat(31));
      } catch (e) {
        return e as ToolError;
      }
      throw new Error('expected a refusal');
    })();
    expect(error).toBeInstanceOf(ToolError);
    expect(error.code).toBe('config');
    expect(error.message).toBe('RELEASE_MCP_STATE_KEY is 31 bytes: the key that seals approval requests must be at least 32 bytes');
  });
});

import { ToolError } from '../errors.js';
import { cryptoModule } from '../lazy-crypto.js';
import type { Principal, Role } from '../principal.js';

/**
 * What a sealed approval request state says: which run and confirm step it asks about (and in
 * which round of the run, so an old question cannot answer a new one), for which principal and
 * tool call, until when, under which single-use nonce. Signed, not encrypted: the client can read
 * it, so it holds nothing secret.
 */
export interface ApprovalClaim {
  run: string;
  step: string;
  round: number;
  tool: string;
  tenant: string;
  subject: string;
  role: Role;
  /** Expiry, epoch ms. */
  exp: number;
  nonce: string;
}

/** The least key length RELEASE_MCP_STATE_KEY may have. */
export const MIN_STATE_KEY_BYTES = 32;

const VERSION = 'ra1';
// Domain separation: this key signs nothing else, but a future use must not be confusable with this one.
const MAC_LABEL = 'release-mcp approval state v1\0';

function mac(key: Buffer, body: string): Buffer {
  return cryptoModule().createHmac('sha256', key).update(MAC_LABEL).update(body).digest();
}

export function newNonce(): string {
  return cryptoModule().randomBytes(16).toString('base64url');
}

/** The wire string: `ra1.<base64url JSON claim>.<base64url HMAC-SHA256>`. */
export function sealApproval(key: Buffer, claim: ApprovalClaim): string {
  const body = Buffer.from(JSON.stringify(claim)).toString('base64url');
  return `${VERSION}.${body}.${mac(key, body).toString('base64url')}`;
}

/** The claim of a state this key sealed; undefined for anything else (malformed, altered, another key). */
export function openApproval(key: Buffer, state: string): ApprovalClaim | undefined {
  const parts = state.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return undefined;
  const [, body, tag] = parts as [string, string, string];
  const given = Buffer.from(tag, 'base64url');
  const expected = mac(key, body);
  if (given.length !== expected.length || !cryptoModule().timingSafeEqual(given, expected)) return undefined;
  try {
    const claim = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as ApprovalClaim;
    const fields = [claim.run, claim.step, claim.tool, claim.tenant, claim.subject, claim.role, claim.nonce];
    if (fields.some((f) => typeof f !== 'string') || !Number.isInteger(claim.round) || !Number.isFinite(claim.exp)) return undefined;
    return claim;
  } catch {
    return undefined;
  }
}

export function claimedBy(claim: ApprovalClaim, principal: Principal): boolean {
  return claim.tenant === principal.tenant && claim.subject === principal.subject && claim.role === principal.role;
}

/** RELEASE_MCP_STATE_KEY as key bytes, refused when too short to be a key. */
export function envStateKey(value: string): Buffer {
  const key = Buffer.from(value, 'utf8');
  if (key.length < MIN_STATE_KEY_BYTES) {
    throw new ToolError('config', `RELEASE_MCP_STATE_KEY is ${key.length} bytes: the key that seals approval requests must be at least ${MIN_STATE_KEY_BYTES} bytes`, {
      hint: 'set it to a random value, e.g. the output of `openssl rand -base64 48`, the same on every server process behind this address; or unset it to use the key kept in the memory',
    });
  }
  return key;
}

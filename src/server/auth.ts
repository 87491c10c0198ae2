import { userInfo } from 'node:os';
import type { Config } from '../config.js';
import { cryptoModule } from '../lazy-crypto.js';
import type { Logger } from '../logger.js';
import type { Principal } from '../principal.js';

/** A bearer token and who holds it. */
export interface TokenEntry {
  token: string;
  principal: Principal;
}

/** The local user (stdio, CLI, and HTTP without tokens on loopback): admin of the default tenant. */
export function localPrincipal(config: Config): Principal {
  let subject = 'local';
  try {
    subject = userInfo().username || subject;
  } catch {
    // no passwd entry (some containers): keep "local"
  }
  return { role: 'admin', tenant: config.releases.default_tenant, subject };
}

/**
 * Tokens of config http.tokens, read from the environment variables they name. A named variable
 * that is unset is skipped: that token simply does not exist (the HTTP server warns about it).
 */
export function readHttpTokens(config: Config, env: NodeJS.ProcessEnv): TokenEntry[] {
  const entries: TokenEntry[] = [];
  for (const spec of config.http.tokens) {
    const token = env[spec.env];
    if (!token) continue;
    entries.push({ token, principal: { role: spec.role, tenant: spec.tenant ?? config.releases.default_tenant, subject: `token:${spec.env}` } });
  }
  return entries;
}

/** The single --http-token / RELEASE_MCP_HTTP_TOKEN: admin of the default tenant. */
export function singleTokenEntry(config: Config, token: string): TokenEntry {
  return { token, principal: { role: 'admin', tenant: config.releases.default_tenant, subject: 'token:RELEASE_MCP_HTTP_TOKEN' } };
}

function sameSecret(given: Buffer, expected: string): boolean {
  const b = Buffer.from(expected);
  return given.length === b.length && cryptoModule().timingSafeEqual(given, b);
}

/** The principal of an Authorization header; every token is compared, in constant time each. */
export function authenticate(header: string | undefined, entries: readonly TokenEntry[]): Principal | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const given = Buffer.from(match[1]!.trim());
  let found: Principal | undefined;
  for (const entry of entries) {
    if (sameSecret(given, entry.token) && !found) found = entry.principal;
  }
  return found;
}

export function samePrincipal(a: Principal, b: Principal): boolean {
  return a.subject === b.subject && a.role === b.role && a.tenant === b.tenant;
}

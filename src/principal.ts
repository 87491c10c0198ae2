/** Who is calling: a role and the tenant whose releases it sees. */
export type Role = 'admin' | 'operator' | 'viewer';

export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

export interface Principal {
  role: Role;
  tenant: string;
  /** A name for the audit trail: the OS user on stdio, the token's env var name over HTTP. */
  subject: string;
}

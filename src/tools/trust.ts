import { loadHttpsTrust, type HttpsTrust } from '../integrations/https-trust.js';
import type { ToolContext } from './registry.js';

/** The CAs every HTTPS client of this server trusts: tls.ca_file is read once, on first use. */
export function httpsTrust(ctx: Pick<ToolContext, 'clients' | 'config' | 'secrets'>): HttpsTrust {
  return ctx.clients.get('https-trust', () => loadHttpsTrust(ctx.config.tls.ca_file, ctx.secrets.NODE_EXTRA_CA_CERTS));
}

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const TOKENS = {
  ADMIN_TOKEN: 'admin-token-0123456789',
  OPERATOR_TOKEN: 'operator-token-0123456789',
  VIEWER_TOKEN: 'viewer-token-0123456789',
  OTHER_ADMIN_TOKEN: 'other-admin-token-0123456789',
};

export const TOKEN_CONFIG = [
  { env: 'ADMIN_TOKEN', role: 'admin', tenant: 'primary' },
  { env: 'OPERATOR_TOKEN', role: 'operator', tenant: 'primary' },
  { env: 'VIEWER_TOKEN', role: 'viewer' },
  { env: 'OTHER_ADMIN_TOKEN', role: 'admin', tenant: 'other' },
];

export interface HttpClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** A real MCP client over Streamable HTTP with a bearer token. */
export async function httpClient(url: string, token: string): Promise<HttpClient> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: () => client.close(),
  };
}

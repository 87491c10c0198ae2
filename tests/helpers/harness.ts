import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parseConfig, type Config } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { McpSession, type SessionOptions } from '../../src/server/mcp.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/server/runtime.js';
import type { RunResult, StepResult } from '../../src/tools/index.js';

export function tempDir(prefix = 'release-mcp-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A runtime on a throw-away memory file, with a config built from a partial raw config. */
export function testRuntime(options: { config?: Record<string, unknown>; env?: NodeJS.ProcessEnv; memoryPath?: string } & Partial<Omit<RuntimeOptions, 'config' | 'env'>> = {}): Runtime {
  const { config: raw, env, ...rest } = options;
  const config: Config = parseConfig(raw ?? {}, process.cwd());
  return createRuntime({ config, env: env ?? {}, memoryPath: options.memoryPath ?? ':memory:', logger: silentLogger, ...rest });
}

export interface ConnectedClient {
  client: Client;
  session: McpSession;
  /** Call a tool and return the raw result (no throw on isError). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** A real MCP client talking to a real McpSession over the SDK's in-memory transport pair. */
export async function connect(runtime: Runtime, options: SessionOptions & { capabilities?: Record<string, unknown> } = {}): Promise<ConnectedClient> {
  const session = new McpSession(runtime, options);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  await Promise.all([session.server.connect(serverTransport), client.connect(clientTransport)]);
  return {
    client,
    session,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await session.close();
    },
  };
}

/** The structured error of a failed call. */
export function errorOf(result: CallToolResult): { code: string; message: string; hint?: string } {
  if (!result.isError) throw new Error(`expected an error, got ${JSON.stringify(result.structuredContent)}`);
  return (result._meta as Record<string, { code: string; message: string; hint?: string }>)['release-mcp/error']!;
}

/** The skill run record a skill_run/skill_plan result carries (also when it failed); its report is the text (textOf). */
export function runOf(result: CallToolResult): Omit<RunResult, 'report'> {
  return result.structuredContent as unknown as Omit<RunResult, 'report'>;
}

/** The last record of a step in a run result; a missing step fails the test with the list of steps. */
export function stepOf(result: CallToolResult, name: string): StepResult {
  const found = runOf(result).steps.filter((s) => s.name === name).at(-1);
  if (!found) throw new Error(`no step ${name} in ${runOf(result).steps.map((s) => s.name).join(', ')}`);
  return found;
}

/** All text content of a result (its report; resource links and other blocks are left out). */
export function textOf(result: CallToolResult): string {
  return result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
}

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliHttpServer, type CliHttpServer } from './helpers/cli-server.js';
import { pythonMcpClient, runPython } from './helpers/python-mcp.js';

/**
 * release-mcp as the official Python MCP client (`mcp` on PyPI) sees it, over stdio and
 * Streamable HTTP. The scripts in tests/python/ only record what the client observed and print
 * it as JSON; every assertion is here.
 */

const CLI = join(process.cwd(), 'dist', 'cli.js');
const SCRIPTS = join(process.cwd(), 'tests', 'python');
const PEER_TIMEOUT_MS = 120_000;
// Must match START_PERSONA / NEXT_PERSONA / HIDDEN_AFTER_SWITCH / UNKNOWN_TOOL in tests/python/peer_checks.py.
const START_PERSONA = 'developer';
const NEXT_PERSONA = 'devops';
const HIDDEN_AFTER_SWITCH = 'git_status';
const UNKNOWN_TOOL = 'no_such_tool';

interface WireResult {
  content?: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}
interface Failure {
  error: { type: string; message: string; leaves: Array<{ type: string; message: string; code: number | null }> };
}
type Step<T> = T | Failure;
interface Call {
  tool: string;
  arguments: Record<string, unknown>;
  result: WireResult;
}
interface Observed {
  mode: 'legacy' | 'auto';
  connect_error?: Failure['error'];
  negotiation?: {
    protocol_version: string;
    era: 'handshake' | 'modern';
    handshake: 'initialize' | 'server/discover' | null;
    server_supported_versions: string[] | null;
    server_info: { name: string; version: string } | null;
    tools_list_changed: boolean;
  };
  tools?: Step<string[]>;
  read_only_call?: Step<Call>;
  bad_input_call?: Step<Call>;
  persona_switch?: {
    from: string;
    to: string;
    tools_before: Step<string[]>;
    result: Step<Call>;
    list_changed_received: boolean;
    tools_after: Step<string[]>;
    hidden_call: Step<Call>;
    unknown_call: Step<Call>;
  };
  notifications: string[];
  transport_errors: string[];
}
interface PeerReport {
  transport: 'stdio' | 'http';
  legacy: Observed;
  auto: Observed;
  client: { package: string; version: string; python: string };
}
interface RawResponse {
  status: number;
  www_authenticate: string | null;
  session_id: string | null;
  body: string;
}
interface HttpPeerReport extends PeerReport {
  without_token: { raw: RawResponse; client: Observed };
  wrong_token: { raw: RawResponse };
}

/** The value of a recorded step, or a test failure that says what the client raised. */
function ok<T>(step: Step<T> | undefined, what: string): T {
  expect(step, `${what}: not recorded`).toBeDefined();
  if (step && typeof step === 'object' && 'error' in step) throw new Error(`${what}: the Python client raised ${JSON.stringify((step as Failure).error)}`);
  return step as T;
}

const textOf = (result: WireResult) => (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text ?? '').join('\n');

/** A refused call as the client saw it: an isError result or a JSON-RPC error, its message with the tool name taken out. */
function refusal(step: Step<Call>, tool: string): string {
  const message = 'error' in step ? step.error.leaves.map((l) => l.message).join('; ') : step.result.isError ? textOf(step.result) : undefined;
  expect(message, `${tool} was not refused: ${JSON.stringify(step)}`).toBeDefined();
  return message!.split(tool).join('<tool>');
}

/** The tools a persona provides, as the command line lists them: what tools/list must show. */
function personaTools(config: string, persona: string): string[] {
  const run = spawnSync(process.execPath, [CLI, 'tools', 'list', '--config', config, '--persona', persona, '--json'], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as Array<{ name: string }>).map((t) => t.name).sort();
}

function parseReport<T>(run: { status: number | null; stdout: string; stderr: string }): T {
  expect(run.status, `the Python peer failed; its stderr:\n${run.stderr}`).toBe(0);
  const lines = run.stdout.trim().split('\n');
  expect(lines, `expected one JSON line on stdout, got:\n${run.stdout}\nstderr:\n${run.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0]!) as T;
}

/** The checks both transports share, in both negotiation modes. */
function expectServedWell(observed: Observed, expected: { startTools: string[]; nextTools: string[] }): void {
  const label = `${observed.mode}`;
  expect(observed.connect_error, `${label}: connect failed`).toBeUndefined();
  const negotiation = observed.negotiation!;
  // The initialize handshake always names the server; on the modern path the name is optional.
  if (negotiation.era === 'handshake' || negotiation.server_info) expect(negotiation.server_info?.name).toBe('release-mcp');
  // The version the client settled on is one the server offers: from its own list on the
  // modern (server/discover) path, from the SDK's handshake versions otherwise.
  if (negotiation.era === 'modern') {
    expect(negotiation.handshake).toBe('server/discover');
    expect(negotiation.server_supported_versions).toContain(negotiation.protocol_version);
  } else {
    expect(negotiation.handshake).toBe('initialize');
    expect(SUPPORTED_PROTOCOL_VERSIONS).toContain(negotiation.protocol_version);
  }
  if (observed.mode === 'legacy') expect(negotiation.era).toBe('handshake');

  expect(ok(observed.tools, `${label} tools/list`)).toEqual(expected.startTools);

  const readOnly = ok(observed.read_only_call, `${label} skill_describe`).result;
  expect(readOnly.isError ?? false, textOf(readOnly)).toBe(false);
  expect(readOnly.structuredContent).toMatchObject({ name: 'release_to_prod', persona: 'release' });
  expect((readOnly.structuredContent!.steps as unknown[]).length).toBeGreaterThan(0);
  expect(textOf(readOnly)).toContain('release_to_prod');

  // Bad input: an error the model can act on, naming the field and what was expected.
  const bad = ok(observed.bad_input_call, `${label} skill_describe with a number`).result;
  expect(bad.isError).toBe(true);
  expect(bad.structuredContent).toBeUndefined();
  expect(textOf(bad)).toMatch(/\bname\b: expected string/);
  expect(bad._meta?.['release-mcp/error']).toMatchObject({ code: 'invalid_input' });

  expect(observed.transport_errors).toEqual([]);
}

/** persona_load as the client sees it: the switch, the notification, the new list, the hidden tools refused. */
function expectPersonaSwitch(observed: Observed, expected: { startTools: string[]; nextTools: string[] }): void {
  const switched = observed.persona_switch!;
  expect(switched, 'persona switch not recorded').toBeDefined();
  // The server says at the handshake that it sends tools/list_changed.
  expect(observed.negotiation?.tools_list_changed).toBe(true);
  expect(ok(switched.tools_before, 'tools/list before persona_load')).toEqual(expected.startTools);
  const loaded = ok(switched.result, 'persona_load').result;
  expect(loaded.isError ?? false, textOf(loaded)).toBe(false);
  expect(loaded.structuredContent).toMatchObject({ persona: NEXT_PERSONA, previous: START_PERSONA });
  expect(switched.list_changed_received, `no notifications/tools/list_changed; notifications seen: ${observed.notifications.join(', ') || 'none'}`).toBe(true);
  expect(observed.notifications).toContain('notifications/tools/list_changed');
  const after = ok(switched.tools_after, 'tools/list after persona_load');
  expect(after).toEqual(expected.nextTools);
  expect(after).toEqual([...(loaded.structuredContent!.tools as string[])].sort());
  expect(after).not.toEqual(expected.startTools);

  expect(expected.startTools).toContain(HIDDEN_AFTER_SWITCH);
  expect(after).not.toContain(HIDDEN_AFTER_SWITCH);
  expect(refusal(switched.hidden_call, HIDDEN_AFTER_SWITCH)).toBe(refusal(switched.unknown_call, UNKNOWN_TOOL));
}

const peer = pythonMcpClient();

describe('python client availability', () => {
  it('skips off CI when no Python with mcp is found, and fails in CI instead', () => {
    const empty = mkdtempSync(join(tmpdir(), 'release-mcp-nopython-'));
    try {
      expect(pythonMcpClient({}, empty)).toBeUndefined();
      expect(() => pythonMcpClient({ CI: 'true' }, empty)).toThrow(/Python MCP client is missing and CI is set.*\.ci\/run/);
      expect(() => pythonMcpClient({ RELEASE_MCP_PYTHON: join(empty, 'python3') }, empty)).toThrow(/RELEASE_MCP_PYTHON=.*cannot import the mcp package/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!peer)('the official Python MCP client (mcp on PyPI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'release-mcp-python-'));
  const config = join(dir, 'config.json');
  let expected: { startTools: string[]; nextTools: string[] };

  beforeAll(() => {
    writeFileSync(config, JSON.stringify({ http: { tokens: [{ env: 'RELEASE_MCP_PY_PEER_TOKEN', role: 'operator' }] } }));
    expected = { startTools: personaTools(config, START_PERSONA), nextTools: personaTools(config, NEXT_PERSONA) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'over stdio: negotiates, lists tools, calls, refuses bad input naming the field, and follows persona_load',
    async () => {
      mkdirSync(join(dir, 'stdio'));
      const run = await runPython(peer!.python, [join(SCRIPTS, 'stdio_peer.py'), process.execPath, CLI, config, join(dir, 'stdio', 'memory.db')], { timeoutMs: PEER_TIMEOUT_MS });
      const report = parseReport<PeerReport>(run);
      expect(report.transport).toBe('stdio');
      expect(report.client).toMatchObject({ package: 'mcp', version: peer!.mcpVersion });
      expectServedWell(report.legacy, expected);
      expectPersonaSwitch(report.legacy, expected);
      expectServedWell(report.auto, expected);
    },
    PEER_TIMEOUT_MS + 10_000,
  );

  describe('over Streamable HTTP with a bearer token', () => {
    const token = randomBytes(24).toString('hex');
    let server: CliHttpServer;
    beforeAll(async () => {
      mkdirSync(join(dir, 'http'));
      server = await startCliHttpServer(CLI, ['--config', config, '--memory', join(dir, 'http', 'memory.db'), '--persona', START_PERSONA], { RELEASE_MCP_PY_PEER_TOKEN: token });
    });
    afterAll(async () => server?.stop());

    it(
      'serves the client that sends the token, refuses with 401 the one that does not, and never shows the token',
      async () => {
        const run = await runPython(peer!.python, [join(SCRIPTS, 'http_peer.py'), server.url], { env: { RELEASE_MCP_TEST_TOKEN: token }, timeoutMs: PEER_TIMEOUT_MS });
        const report = parseReport<HttpPeerReport>(run);
        expect(report.transport).toBe('http');
        expectServedWell(report.legacy, expected);
        expectPersonaSwitch(report.legacy, expected);
        expectServedWell(report.auto, expected);

        for (const [what, raw] of [['no token', report.without_token.raw], ['a wrong token', report.wrong_token.raw]] as const) {
          expect(raw.status, `${what}: ${raw.body}`).toBe(401);
          expect(raw.www_authenticate, what).toMatch(/^Bearer /);
          expect(raw.session_id, what).toBeNull();
        }
        const refused = report.without_token.client;
        expect(refused.connect_error, 'the client without a token connected').toBeDefined();
        expect(refused.connect_error!.leaves.map((l) => l.message).join('; ')).toMatch(/bearer token/i);
        expect(refused.negotiation).toBeUndefined();
        expect(refused.tools).toBeUndefined();

        expect(run.stdout).not.toContain(token);
        expect(run.stderr).not.toContain(token);
        expect(server.stderr()).not.toContain(token);
      },
      PEER_TIMEOUT_MS + 10_000,
    );
  });
});

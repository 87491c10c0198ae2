import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun, MemoryDb, recentSessionLog, runApprovals } from '../../src/memory/index.js';
import type { RunResult } from '../../src/tools/index.js';
import { startCliHttpServer, type CliHttpServer } from '../helpers/cli-server.js';
import { tempDir } from '../helpers/harness.js';

/**
 * Confirm steps on the 2026-07-28 era, through the SDK v2 client and by hand on the wire, against
 * real server processes (dist/cli.js serve, stdio and --http): the run asks with input_required,
 * the retry carries the answer and the sealed request state.
 */

const CLI = join(process.cwd(), 'dist', 'cli.js');
const MODERN = '2026-07-28';

const GATED = `name: gated
description: a journal entry behind an approval
inputs:
  text: { type: string, default: shipped }
steps:
  - name: approve
    confirm: "Record {{ inputs.text }}?"
  - name: record
    tool: memory_session_log
    args: { action: "{{ inputs.text }}" }
`;

const TOKENS = { ALICE_TOKEN: 'alice-token-0123456789abcdef', BOB_TOKEN: 'bob-token-0123456789abcdef' };
const STATE_KEY = 'state-key-for-the-expiry-server-0123456789';

type Answer = { action: 'accept'; content: { confirm: boolean } } | { action: 'decline' } | { action: 'cancel' };
type InputRequired = { resultType: 'input_required'; inputRequests: Record<string, { method: string; params: { message: string; mode?: string; requestedSchema: unknown } }>; requestState: string };

const dir = tempDir('release-mcp-approvals-');
const skillsDir = join(dir.path, 'skills');

function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir.path, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      skills_dirs: [skillsDir],
      http: { tokens: [{ env: 'ALICE_TOKEN', role: 'operator' }, { env: 'BOB_TOKEN', role: 'operator' }] },
      ...extra,
    }),
  );
  return path;
}

beforeAll(() => {
  mkdirSync(skillsDir);
  writeFileSync(join(skillsDir, 'gated.yaml'), GATED);
});
afterAll(() => dir.cleanup());

/** The run, its approvals and the journal as the store has them (the server processes write the same file). */
async function stored(memoryPath: string, runId: string) {
  const memory = new MemoryDb({ path: memoryPath });
  try {
    const found = await getRun(memory, 'primary', runId);
    return { run: found?.run, steps: found?.steps ?? [], approvals: await runApprovals(memory, runId), journal: (await recentSessionLog(memory, 'primary', { limit: 50 })).map((e) => e.action) };
  } finally {
    await memory.close();
  }
}

const runOf = (result: CallToolResult) => result.structuredContent as unknown as RunResult;
/** The run's report: the text of the result (the structured record carries the data only). */
const reportOf = (result: CallToolResult) => (result.content as Array<{ type: string; text?: string }>).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const errorOf = (result: { _meta?: Record<string, unknown> }) => (result._meta as Record<string, { code: string; message: string; hint?: string }>)['release-mcp/error']!;

function modernClient(capabilities: Record<string, unknown>, answer?: () => Answer): Client {
  const client = new Client({ name: 'approvals-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } }, capabilities });
  if (answer) client.setRequestHandler('elicitation/create', async () => answer());
  return client;
}

describe('approvals on the 2026-07-28 era over stdio (dist/cli.js serve)', () => {
  const memoryPath = join(dir.path, 'stdio.db');
  let config: string;
  let client: Client;
  let stderr = '';
  let answer: Answer = { action: 'accept', content: { confirm: true } };
  const questions: string[] = [];

  beforeAll(async () => {
    config = writeConfig('stdio');
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', config, '--memory', memoryPath], stderr: 'pipe' });
    transport.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    client = modernClient({ elicitation: {} });
    client.setRequestHandler('elicitation/create', async (request) => {
      questions.push((request.params as { message: string }).message);
      return answer;
    });
    await client.connect(transport);
  });
  afterAll(() => client.close());

  /** The first round by hand: the input_required result as the client received it. */
  const ask = async (text: string) => (await client.callTool({ name: 'skill_run', arguments: { name: 'gated', inputs: { text } } }, { allowInputRequired: true })) as unknown as InputRequired;
  const retry = (text: string, state: string, response: Answer) =>
    client.callTool({ name: 'skill_run', arguments: { name: 'gated', inputs: { text } }, inputResponses: { confirm: response }, requestState: state } as never) as Promise<CallToolResult>;

  it('asks the confirm question; an accepted confirm: true resumes the run as approved and records who approved', async () => {
    answer = { action: 'accept', content: { confirm: true } };
    const result = await client.callTool({ name: 'skill_run', arguments: { name: 'gated', inputs: { text: 'approved over stdio' } } });
    expect(result.isError).toBeFalsy();
    const run = runOf(result);
    expect(run.status).toBe('succeeded');
    expect(questions.at(-1)).toBe('Record approved over stdio?');
    expect(run.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['approve:succeeded', 'record:succeeded']);
    const who = userInfo().username;
    expect(run.steps[0]!.note).toMatch(new RegExp(`^Record approved over stdio\\? \\(approved by ${who} \\(admin, tenant primary\\) at \\S+ through input_required \\(2026-07-28\\)\\)$`));
    const store = await stored(memoryPath, run.run_id);
    expect(store.run!.status).toBe('succeeded');
    expect(store.approvals).toEqual([expect.objectContaining({ step: 'approve', decision: 'approved', subject: who, role: 'admin', tenant: 'primary', era: 'modern', via: 'input_required' })]);
    expect(store.journal).toContain('approved over stdio');
  });

  it('an accept without confirm: true is no approval', async () => {
    const asked = await ask('unticked');
    const result = await retry('unticked', asked.requestState, { action: 'accept', content: { confirm: false } });
    expect(runOf(result).status).toBe('declined');
    expect((await stored(memoryPath, runOf(result).run_id)).journal).not.toContain('unticked');
  });

  it('a decline is final: the run is declined and recorded, and replaying the state to approve it is refused', async () => {
    const asked = await ask('declined over stdio');
    expect(asked.resultType).toBe('input_required');
    const runId = (JSON.parse(Buffer.from(asked.requestState.split('.')[1]!, 'base64url').toString()) as { run: string }).run;
    const declined = await retry('declined over stdio', asked.requestState, { action: 'decline' });
    expect(declined.isError).toBe(true);
    expect(runOf(declined)).toMatchObject({ run_id: runId, status: 'declined' });
    expect(errorOf(declined).code).toBe('precondition');

    const replay = await retry('declined over stdio', asked.requestState, { action: 'accept', content: { confirm: true } });
    expect(replay.isError).toBe(true);
    expect(errorOf(replay)).toMatchObject({ code: 'conflict' });
    expect(errorOf(replay).message).toBe(`the approval request for run ${runId} (step approve) was already answered: a request state is single-use (run ${runId} is declined now)`);
    expect(errorOf(replay).hint).toContain(`skill_runs with {"run_id": "${runId}"}`);

    // Nor does a resume with approve turn the decline into a yes.
    const resumed = await client.callTool({ name: 'skill_run', arguments: { resume: runId, approve: true } });
    expect(errorOf(resumed).code).toBe('precondition');
    expect(errorOf(resumed).message).toMatch(new RegExp(`^run ${runId} was declined at its confirm step approve .*: a declined approval is final$`));

    const store = await stored(memoryPath, runId);
    expect(store.run!.status).toBe('declined');
    expect(store.approvals.map((a) => `${a.decision}:${a.era}:${a.via}`)).toEqual(['declined:modern:input_required']);
    expect(store.journal).not.toContain('declined over stdio');
  });

  it('a cancel leaves the run awaiting approval; a later resume asks again', async () => {
    const asked = await ask('cancelled over stdio');
    const cancelled = await retry('cancelled over stdio', asked.requestState, { action: 'cancel' });
    expect(cancelled.isError).toBeFalsy();
    const run = runOf(cancelled);
    expect(run.status).toBe('awaiting_approval');
    expect(reportOf(cancelled)).toContain(`"resume": "${run.run_id}", "approve": true`);
    expect((await stored(memoryPath, run.run_id)).approvals).toEqual([]);

    answer = { action: 'accept', content: { confirm: true } };
    const resumed = await client.callTool({ name: 'skill_run', arguments: { resume: run.run_id } });
    expect(runOf(resumed)).toMatchObject({ run_id: run.run_id, status: 'succeeded' });
    expect((await stored(memoryPath, run.run_id)).journal).toContain('cancelled over stdio');
  });

  it('refuses a state that was altered, and changes nothing', async () => {
    const asked = await ask('altered');
    const [version, body, tag] = asked.requestState.split('.') as [string, string, string];
    const claim = JSON.parse(Buffer.from(body, 'base64url').toString()) as { run: string; subject: string };
    const forged = `${version}.${Buffer.from(JSON.stringify({ ...claim, subject: 'someone-else' })).toString('base64url')}.${tag}`;
    const refused = await retry('altered', forged, { action: 'accept', content: { confirm: true } });
    expect(errorOf(refused).code).toBe('invalid_input');
    expect(errorOf(refused).message).toMatch(/^requestState: not an approval request this server issued/);
    const store = await stored(memoryPath, claim.run);
    expect(store.run!.status).toBe('awaiting_approval');
    expect(store.approvals).toEqual([]);
  });

  it('keeps the key it made in the store, and never in the log', async () => {
    const memory = new MemoryDb({ path: memoryPath });
    const row = await memory.get<{ value: string }>('SELECT value FROM server_keys WHERE name = ?', 'approval_state');
    await memory.close();
    expect(Buffer.from(row!.value, 'base64').length).toBe(32);
    expect(stderr).toContain('approval asked');
    expect(stderr).not.toContain(row!.value);
  });
});

describe('a 2026-07-28 client without the elicitation capability (stdio)', () => {
  it('gets awaiting_approval with the run id, as before', async () => {
    const memoryPath = join(dir.path, 'no-elicitation.db');
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', writeConfig('no-elicitation'), '--memory', memoryPath], stderr: 'pipe' });
    const client = modernClient({});
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'skill_run', arguments: { name: 'gated', inputs: { text: 'not asked' } } }, { allowInputRequired: true });
      expect('resultType' in result).toBe(false);
      const run = runOf(result as CallToolResult);
      expect(run.status).toBe('awaiting_approval');
      expect(run.run_id).toMatch(/\S/);
      expect(reportOf(result as CallToolResult)).toContain(`Approve with skill_run { "resume": "${run.run_id}", "approve": true }`);
      const done = runOf((await client.callTool({ name: 'skill_run', arguments: { resume: run.run_id, approve: true } })) as CallToolResult);
      expect(done.status).toBe('succeeded');
      expect((await stored(memoryPath, run.run_id)).approvals).toEqual([expect.objectContaining({ decision: 'approved', era: 'modern', via: 'approve_flag' })]);
    } finally {
      await client.close();
    }
  });
});

type HttpServer = CliHttpServer;

/** `serve --http` of this file's config and memory, with its tokens and no state key unless given. */
function startHttp(config: string, memoryPath: string, env: Record<string, string> = {}): Promise<HttpServer> {
  return startCliHttpServer(CLI, ['--config', config, '--memory', memoryPath], { ...TOKENS, RELEASE_MCP_STATE_KEY: '', ...env });
}

/** One JSON-RPC tools/call on the 2026-07-28 wire, by hand: the envelope in _meta, the standard headers. */
async function rawCall(url: string, token: string, params: Record<string, unknown>, capabilities: Record<string, unknown> = { elicitation: {} }): Promise<{ status: number; body: { result?: Record<string, unknown>; error?: unknown } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': String(params.name),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientInfo': { name: 'by-hand', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': capabilities,
        },
      },
    }),
  });
  return { status: response.status, body: (await response.json()) as { result?: Record<string, unknown> } };
}

const ACCEPT: Answer = { action: 'accept', content: { confirm: true } };
const askParams = (text: string) => ({ name: 'skill_run', arguments: { name: 'gated', inputs: { text } } });
const stateClaim = (state: string) => JSON.parse(Buffer.from(state.split('.')[1]!, 'base64url').toString()) as { run: string; step: string; subject: string; exp: number };

describe('approvals on the 2026-07-28 era over HTTP (serve --http --port 0)', () => {
  const memoryPath = join(dir.path, 'http.db');
  let a: HttpServer;
  let b: HttpServer;

  beforeAll(async () => {
    const config = writeConfig('http');
    // Two replicas on one store, without RELEASE_MCP_STATE_KEY: they share the key kept in the store.
    a = await startHttp(config, memoryPath);
    b = await startHttp(config, memoryPath);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('answers the raw wire with an input_required result: one form elicitation and an opaque request state', async () => {
    const { status, body } = await rawCall(a.url, TOKENS.ALICE_TOKEN, askParams('raw wire'));
    expect(status).toBe(200);
    const result = body.result as unknown as InputRequired;
    expect(result.resultType).toBe('input_required');
    expect(Object.keys(result.inputRequests)).toEqual(['confirm']);
    expect(result.inputRequests.confirm).toEqual({
      method: 'elicitation/create',
      params: {
        mode: 'form',
        message: 'Record raw wire?',
        requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: 'Proceed', description: 'Proceed with this step' } }, required: ['confirm'] },
      },
    });
    expect(result.requestState).toMatch(/^ra1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(stateClaim(result.requestState)).toMatchObject({ step: 'approve', subject: 'token:ALICE_TOKEN' });
    expect(result).not.toHaveProperty('content');

    // The retry by hand, on the other replica: the run goes on there.
    const retried = await rawCall(b.url, TOKENS.ALICE_TOKEN, { ...askParams('raw wire'), inputResponses: { confirm: ACCEPT }, requestState: result.requestState });
    expect(retried.status).toBe(200);
    expect(retried.body.result).toMatchObject({ structuredContent: { status: 'succeeded' } });
    expect(retried.body.result).not.toHaveProperty('resultType', 'input_required');
    const store = await stored(memoryPath, stateClaim(result.requestState).run);
    expect(store.approvals).toEqual([expect.objectContaining({ decision: 'approved', subject: 'token:ALICE_TOKEN', role: 'operator', era: 'modern', via: 'input_required' })]);
  });

  it('approves through the SDK v2 client, which answers input_required by itself', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(a.url), { requestInit: { headers: { Authorization: `Bearer ${TOKENS.BOB_TOKEN}` } } });
    const client = modernClient({ elicitation: {} }, () => ACCEPT);
    await client.connect(transport);
    try {
      const run = runOf((await client.callTool({ name: 'skill_run', arguments: { name: 'gated', inputs: { text: 'approved over http' } } })) as CallToolResult);
      expect(run.status).toBe('succeeded');
      const store = await stored(memoryPath, run.run_id);
      expect(store.approvals).toEqual([expect.objectContaining({ decision: 'approved', subject: 'token:BOB_TOKEN', via: 'input_required' })]);
      expect(store.journal).toContain('approved over http');
    } finally {
      await client.close();
    }
  });

  it('refuses a state minted for another principal and changes nothing; its own principal can still answer it', async () => {
    const asked = (await rawCall(a.url, TOKENS.ALICE_TOKEN, askParams('alice only'))).body.result as unknown as InputRequired;
    const runId = stateClaim(asked.requestState).run;
    const before = await stored(memoryPath, runId);

    const bob = await rawCall(a.url, TOKENS.BOB_TOKEN, { ...askParams('alice only'), inputResponses: { confirm: ACCEPT }, requestState: asked.requestState });
    expect(bob.body.result).toMatchObject({ isError: true });
    expect(errorOf(bob.body.result as never)).toMatchObject({
      code: 'forbidden',
      message: `the approval request for run ${runId} (step approve) was issued to another caller: it can only be answered with the credentials it was asked with`,
    });
    const after = await stored(memoryPath, runId);
    expect(after.run).toMatchObject({ status: 'awaiting_approval', resumes: before.run!.resumes });
    expect(after.steps.length).toBe(before.steps.length);
    expect(after.approvals).toEqual([]);
    expect(after.journal).not.toContain('alice only');
    const memory = new MemoryDb({ path: memoryPath });
    const audit = await memory.all<{ actor: string; details: string }>("SELECT actor, details FROM release_events WHERE event = 'access.refused'");
    await memory.close();
    expect(audit.map((e) => ({ actor: e.actor, details: JSON.parse(e.details) as unknown }))).toContainEqual({
      actor: 'token:BOB_TOKEN',
      details: expect.objectContaining({ tool: 'skill_run', reason: `an approval request for run ${runId} (step approve) issued to token:ALICE_TOKEN was answered with other credentials` }),
    });

    const alice = await rawCall(b.url, TOKENS.ALICE_TOKEN, { ...askParams('alice only'), inputResponses: { confirm: ACCEPT }, requestState: asked.requestState });
    expect(alice.body.result).toMatchObject({ structuredContent: { status: 'succeeded' } });
  });

  it('refuses a replayed state on any replica, and the run stays as the first answer left it', async () => {
    const asked = (await rawCall(a.url, TOKENS.ALICE_TOKEN, askParams('replayed'))).body.result as unknown as InputRequired;
    const runId = stateClaim(asked.requestState).run;
    const first = await rawCall(a.url, TOKENS.ALICE_TOKEN, { ...askParams('replayed'), inputResponses: { confirm: ACCEPT }, requestState: asked.requestState });
    expect(first.body.result).toMatchObject({ structuredContent: { status: 'succeeded' } });
    const after = await stored(memoryPath, runId);

    const again = await rawCall(b.url, TOKENS.ALICE_TOKEN, { ...askParams('replayed'), inputResponses: { confirm: ACCEPT }, requestState: asked.requestState });
    expect(errorOf(again.body.result as never)).toMatchObject({ code: 'conflict', message: `the approval request for run ${runId} (step approve) was already answered: a request state is single-use (run ${runId} is succeeded now)` });
    const later = await stored(memoryPath, runId);
    expect(later.run).toMatchObject({ status: 'succeeded', resumes: after.run!.resumes, updated_at: after.run!.updated_at });
    expect(later.approvals.length).toBe(1);
    expect(later.journal.filter((a) => a === 'replayed')).toHaveLength(1);
  });

  it('a retry without the answer is refused and leaves the state usable', async () => {
    const asked = (await rawCall(a.url, TOKENS.ALICE_TOKEN, askParams('unanswered'))).body.result as unknown as InputRequired;
    const bare = await rawCall(a.url, TOKENS.ALICE_TOKEN, { ...askParams('unanswered'), requestState: asked.requestState });
    expect(errorOf(bare.body.result as never)).toMatchObject({ code: 'invalid_input' });
    expect(errorOf(bare.body.result as never).message).toMatch(/^inputResponses\.confirm: expected the answer/);
    const answered = await rawCall(a.url, TOKENS.ALICE_TOKEN, { ...askParams('unanswered'), inputResponses: { confirm: ACCEPT }, requestState: asked.requestState });
    expect(answered.body.result).toMatchObject({ structuredContent: { status: 'succeeded' } });
  });

  it('without the elicitation capability on the envelope the run waits for approval with its run id', async () => {
    const { body } = await rawCall(a.url, TOKENS.ALICE_TOKEN, askParams('no capability'), {});
    expect(body.result).not.toHaveProperty('resultType', 'input_required');
    expect(body.result).toMatchObject({ structuredContent: { status: 'awaiting_approval', run_id: expect.any(String) } });
  });

  it('keeps the generated key out of every log line', async () => {
    const memory = new MemoryDb({ path: memoryPath });
    const row = await memory.get<{ value: string }>('SELECT value FROM server_keys WHERE name = ?', 'approval_state');
    await memory.close();
    expect(Buffer.from(row!.value, 'base64').length).toBe(32);
    expect(a.stderr() + b.stderr()).not.toContain(row!.value);
  });
});

describe('approval expiry and the key from RELEASE_MCP_STATE_KEY (HTTP)', () => {
  const memoryPath = join(dir.path, 'expiry.db');
  let server: HttpServer;
  let other: HttpServer;

  beforeAll(async () => {
    server = await startHttp(writeConfig('expiry', { skills: { approval_ttl_minutes: 0.05 } }), memoryPath, { RELEASE_MCP_STATE_KEY: STATE_KEY });
    // Another server with a key of its own (from its store): it cannot read the first one's states.
    other = await startHttp(writeConfig('other-key'), join(dir.path, 'other-key.db'));
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), other?.stop()]);
  });

  it('refuses an expired state with the run id and what to do; the run still waits', async () => {
    const asked = (await rawCall(server.url, TOKENS.ALICE_TOKEN, askParams('too late'))).body.result as unknown as InputRequired;
    const claim = stateClaim(asked.requestState);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, claim.exp - Date.now()) + 200));
    const late = await rawCall(server.url, TOKENS.ALICE_TOKEN, { ...askParams('too late'), inputResponses: { confirm: ACCEPT }, requestState: asked.requestState });
    const error = errorOf(late.body.result as never);
    expect(error.code).toBe('precondition');
    expect(error.message).toBe(`the approval request for run ${claim.run} (step approve) expired at ${new Date(claim.exp).toISOString()} (skills.approval_ttl_minutes 0.05); the run still waits for approval`);
    expect(error.hint).toBe(`call skill_run with {"resume": "${claim.run}"} to be asked again`);
    const store = await stored(memoryPath, claim.run);
    expect(store.run!.status).toBe('awaiting_approval');
    expect(store.approvals).toEqual([]);
    expect(store.journal).not.toContain('too late');

    // Asked again, answered in time.
    const again = (await rawCall(server.url, TOKENS.ALICE_TOKEN, { name: 'skill_run', arguments: { resume: claim.run } })).body.result as unknown as InputRequired;
    const done = await rawCall(server.url, TOKENS.ALICE_TOKEN, { name: 'skill_run', arguments: { resume: claim.run }, inputResponses: { confirm: ACCEPT }, requestState: again.requestState });
    expect(done.body.result).toMatchObject({ structuredContent: { status: 'succeeded' } });
  });

  it('a server with another key refuses the state; the key itself never shows', async () => {
    const asked = (await rawCall(server.url, TOKENS.ALICE_TOKEN, askParams('other key'))).body.result as unknown as InputRequired;
    const refused = await rawCall(other.url, TOKENS.ALICE_TOKEN, { ...askParams('other key'), inputResponses: { confirm: ACCEPT }, requestState: asked.requestState });
    expect(errorOf(refused.body.result as never).code).toBe('invalid_input');
    expect(JSON.stringify(asked) + JSON.stringify(refused.body) + server.stderr() + other.stderr()).not.toContain(STATE_KEY);
    // Not stored either: the key from the environment is never written to the memory.
    const memory = new MemoryDb({ path: memoryPath });
    expect(await memory.get('SELECT value FROM server_keys')).toBeUndefined();
    await memory.close();
  });

  it('refuses to start sealing with a key shorter than 32 bytes, naming the variable', async () => {
    const short = await startHttp(writeConfig('short-key'), join(dir.path, 'short-key.db'), { RELEASE_MCP_STATE_KEY: 'too-short' });
    try {
      const result = (await rawCall(short.url, TOKENS.ALICE_TOKEN, askParams('short key'))).body.result!;
      expect(errorOf(result as never)).toMatchObject({ code: 'config', message: 'RELEASE_MCP_STATE_KEY is 9 bytes: the key that seals approval requests must be at least 32 bytes' });
      expect(JSON.stringify(result)).not.toContain('too-short');
    } finally {
      await short.stop();
    }
  });
});

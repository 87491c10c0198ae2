import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { secretValues } from '../src/config.js';
import { ToolError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { MASK, redactSecrets, redactValue } from '../src/masking.js';
import { ALL_TOOLS, defineTool } from '../src/tools/index.js';
import { connect, errorOf, tempDir, testRuntime, textOf } from './helpers/harness.js';

const TOKEN = 'glpat-AbCdEfGhIjKlMnOpQrSt0123';
const WEBHOOK = 'https://hooks.slack.com/services/T0001AAAA/B0002BBBB/abcdefghijklmnopqrstuvwx';

describe('redactSecrets', () => {
  it('masks a secret cut at the end of a body, or where the body was clipped, or cut at its start', () => {
    expect(redactSecrets(`{"error":"bad token ${TOKEN.slice(0, 14)}`, [TOKEN])).toBe(`{"error":"bad token ${MASK}`);
    expect(redactSecrets(`upstream said: token=${TOKEN.slice(0, 20)}… (HTTP 400)`, [TOKEN])).toBe(`upstream said: token=${MASK}… (HTTP 400)`);
    expect(redactSecrets(`…${TOKEN.slice(9)} was refused`, [TOKEN])).toBe(`…${MASK} was refused`);
    expect(redactSecrets(`whole ${TOKEN} and twice ${TOKEN}`, [TOKEN])).toBe(`whole ${MASK} and twice ${MASK}`);
    // A short piece is not masked: it matches ordinary words ("operator" of an operator token).
    expect(redactSecrets('tokens look like glpat-…', [TOKEN])).toBe('tokens look like glpat-…');
    expect(redactSecrets('you are operator', ['operator-token-0123456789'])).toBe('you are operator');
    // A webhook URL is masked whole; its scheme and host alone are no secret.
    expect(redactSecrets('MR at http://127.0.0.1:4600/group/p/-/merge_requests/1', ['http://127.0.0.1:4600/hooks/T1/B2/xyz'])).toBe('MR at http://127.0.0.1:4600/group/p/-/merge_requests/1');
  });

  it('masks Basic credentials and Slack webhook paths whoever they belong to', () => {
    expect(redactSecrets('Authorization: Basic ZGV2QGV4YW1wbGUuY29tOnNlY3JldA==', [])).toBe(`Authorization: Basic ${MASK}`);
    expect(redactSecrets('Basic checks passed; basic authentication failed', [])).toBe('Basic checks passed; basic authentication failed');
    // user:pass in base64 has no digit, + or /: it still decodes to a credential.
    expect(redactSecrets('Authorization: Basic dXNlcjpwYXNz', [])).toBe(`Authorization: Basic ${MASK}`);
    expect(redactSecrets('Basic connectivity restored', [])).toBe('Basic connectivity restored');
    expect(redactSecrets(`posting to ${WEBHOOK} failed`, [])).toBe(`posting to https://hooks.slack.com/services/${MASK} failed`);
    expect(redactSecrets('hooks.slack.com/services/T0001AAAA/B00', [])).toBe(`hooks.slack.com/services/${MASK}`);
  });

  it('masks every shape in any case, and a secret inside a longer one whole, in each string and key of a nested value', () => {
    const secrets = ['inner-secret-value', 'outer-inner-secret-value-xyz'];
    const value = {
      plain: ['release', 'core', { tools: ['persona_list'] }],
      webhook: 'posted to HTTPS://HOOKS.SLACK.COM/services/T1/B2/zzzzzzzzzzzz',
      url: 'clone https://bot:hunter2pass@git.example.com/repo',
      basic: 'Authorization: basic dXNlcjpwYXNzd29yZA==',
      nested: [{ 'key outer-inner-secret-value-xyz': 'inner-secret-value and outer-inner-secret-value-xyz' }],
    };
    const out = redactValue(value, secrets);
    expect(out).toEqual({
      plain: ['release', 'core', { tools: ['persona_list'] }],
      webhook: `posted to HTTPS://HOOKS.SLACK.COM/services/${MASK}`,
      url: `clone https://bot:${MASK}@git.example.com/repo`,
      basic: `Authorization: basic ${MASK}`,
      nested: [{ [`key ${MASK}`]: `${MASK} and ${MASK}` }],
    });
    // Each string alone masks the same as inside the value.
    expect(redactSecrets(value.webhook, secrets)).toBe(out.webhook);
  });

  it('masks what the string-by-string walk masks when one check of every string decides, and leaves a clean value as it is', () => {
    const clean = { tools: ['persona_list', 'skill_run'], count: 2, nested: [{ 'a key': 'a value' }] };
    expect(redactValue(clean, [TOKEN, 'short'])).toBe(clean);
    // Only a piece of a secret, in a key: the one-pass check must still send it to the walk.
    expect(redactValue({ [`tok ${TOKEN.slice(0, 13)}`]: 1 }, [TOKEN])).toEqual({ [`tok ${MASK}`]: 1 });
    expect(redactValue({ deep: [[{ x: `…${TOKEN.slice(-13)}` }]] }, [TOKEN])).toEqual({ deep: [[{ x: `…${MASK}` }]] });
    // A secret JSON writes escaped (a quote, a backslash, a newline) is looked for string by string.
    for (const odd of ['pa"ss', 'back\\sl', 'line\nbr', '"0123456789abcdef"']) {
      expect(redactValue({ said: `got ${odd} back`, list: [odd] }, [odd])).toEqual({ said: `got ${MASK} back`, list: [MASK] });
    }
    // A quote before a secret in the same string does not hide it.
    expect(redactValue({ said: `"quoted" ${TOKEN}` }, [TOKEN])).toEqual({ said: `"quoted" ${MASK}` });
    // Secrets are looked for as text, not as patterns: brackets and dots neither break the check nor match other text.
    const patterned = ['(open[paren', 'a.b*c+d?e|f^g$h{1}-0123456789'];
    expect(redactValue({ plain: 'axb', list: ['(open[paren]'] }, patterned)).toEqual({ plain: 'axb', list: [`${MASK}]`] });
    expect(redactValue({ cut: `…${patterned[1]!.slice(-12)}` }, patterned)).toEqual({ cut: `…${MASK}` });
    // The secrets can change between calls (a runtime adds to its list): the check follows them.
    const growing = ['first-secret-0000'];
    expect(redactValue({ x: 'later-secret-1111' }, growing)).toEqual({ x: 'later-secret-1111' });
    growing.push('later-secret-1111');
    expect(redactValue({ x: 'later-secret-1111' }, growing)).toEqual({ x: MASK });
  });

  it('counts the base64 Jira Cloud credential among the secrets', () => {
    const values = secretValues({ JIRA_EMAIL: 'dev@example.com', JIRA_TOKEN: 'jira-token-0123456789' });
    expect(values).toContain(Buffer.from('dev@example.com:jira-token-0123456789').toString('base64'));
  });
});

describe('masking in results, logs and memory', () => {
  it('masks a cut token, Basic credentials and a webhook path in a failed call, the log and memory', async () => {
    const cutBody = `{"message":"401 Unauthorized: token ${TOKEN.slice(0, 18)}`;
    const leaky = defineTool({
      name: 'test_leak',
      family: 'test',
      title: 'Leak',
      description: 'fails with an upstream body that quotes credentials',
      input: z.object({}),
      output: z.object({}),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: (_args, ctx) => {
        ctx.logger.warn(`upstream refused: ${cutBody}`, { header: 'Basic ZGV2QGV4YW1wbGUuY29tOnNlY3JldA==' });
        throw new ToolError('internal', `${cutBody} (sent Authorization: Basic ZGV2QGV4YW1wbGUuY29tOnNlY3JldA== to ${WEBHOOK})`);
      },
    });
    const lines: string[] = [];
    const env = { GITLAB_TOKEN: TOKEN };
    const skills = tempDir();
    writeFileSync(join(skills.path, 'leak.yaml'), 'name: leak\ndescription: calls a tool that fails\nsteps:\n  - name: call\n    tool: test_leak\n');
    const runtime = testRuntime({
      tools: [...ALL_TOOLS, leaky],
      env,
      config: { skills_dirs: [skills.path] },
      logger: createLogger({ secrets: secretValues({ GITLAB_TOKEN: TOKEN }), write: (l) => lines.push(l) }),
    });
    const mcp = await connect(runtime);
    // Skills call tools through the registry, whatever the persona: the failed step carries the error.
    const result = await mcp.call('skill_run', { name: 'leak' });
    const error = errorOf(result);
    const stored = JSON.stringify(runtime.memory.db.prepare('SELECT * FROM run_steps').all()) + JSON.stringify(runtime.memory.db.prepare('SELECT * FROM skill_runs').all());
    const everything = JSON.stringify(result) + lines.join('\n') + stored;
    expect(error.message).toContain(`token ${MASK}`);
    expect(stored).toContain(`token ${MASK}`);
    expect(everything).not.toContain(TOKEN.slice(0, 12));
    expect(everything).not.toContain('ZGV2QGV4YW1wbGUuY29tOnNlY3JldA');
    expect(everything).not.toContain('B0002BBBB');
    expect(textOf(result)).toContain(`hooks.slack.com/services/${MASK}`);
    expect(lines.join('\n')).toContain(`token ${MASK}`);

    await mcp.call('memory_session_log', { action: 'jira refused', details: `${cutBody} via ${WEBHOOK}` });
    const rows = runtime.memory.db.prepare('SELECT action, details FROM session_log').all();
    expect(JSON.stringify(rows)).not.toContain(TOKEN.slice(0, 12));
    expect(JSON.stringify(rows)).not.toContain('B0002BBBB');
    await mcp.close();
    skills.cleanup();
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { renderNotification } from '../src/integrations/notify-templates.js';
import { SlackEmulator } from './emulators/slack.js';
import { connect, errorOf, testRuntime, type ConnectedClient } from './helpers/harness.js';

const ok = (result: CallToolResult) => {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return result.structuredContent as Record<string, unknown>;
};

const release = {
  sha: '0123456789abcdef0123456789abcdef01234567',
  component: 'automation-analytics-backend',
  jira_key: 'AAP-42',
  jira_url: 'https://issues.example.com/browse/AAP-42',
  mr_url: 'https://gitlab.example.com/service/app-interface/-/merge_requests/7',
  mr_iid: 7,
};

describe('notification templates', () => {
  it('renders a release_started message with links and the short SHA', () => {
    const message = renderNotification('release_started', release, '#aa-releases');
    expect(message.text).toBe('Release started: automation-analytics-backend');
    const fields = (message.blocks[1] as { fields: Array<{ text: string }> }).fields.map((f) => f.text);
    expect(fields).toContain('*Commit:* `01234567`');
    expect(fields).toContain('*Jira:* <https://issues.example.com/browse/AAP-42|AAP-42>');
    expect(fields).toContain('*Merge request:* <https://gitlab.example.com/service/app-interface/-/merge_requests/7|!7>');
    expect(JSON.stringify(message.blocks.at(-1))).toContain('#aa-releases');
  });

  it('puts the error, the failed step and known fixes in release_failed, escaped for Slack', () => {
    const message = renderNotification('release_failed', { ...release, step: 'check_image', error: 'image <missing> & unscanned', fixes: ['wait for the build', 'rerun the pipeline'] });
    expect(message.text).toBe('Release failed: automation-analytics-backend at step check_image');
    const body = JSON.stringify(message.blocks);
    expect(body).toContain('image &lt;missing&gt; &amp; unscanned');
    expect(body).toContain('• wait for the build');
  });

  it('needs data.text for custom', () => {
    expect(() => renderNotification('custom', {})).toThrow(/data.text/);
    expect(renderNotification('custom', { text: 'hello *team*' }).blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'hello *team*' } }]);
  });
});

describe('notify_team against the Slack webhook emulator', () => {
  const slack = new SlackEmulator();
  let mcp: ConnectedClient;
  const results: CallToolResult[] = [];

  beforeAll(async () => {
    await slack.start();
    mcp = await connect(testRuntime({ config: { slack: { channel_label: '#aa-releases', timeout_ms: 1500 } }, env: { SLACK_WEBHOOK_URL: slack.webhookUrl } }));
  });

  afterAll(async () => {
    await mcp?.close();
    await slack.stop();
  });

  beforeEach(() => {
    slack.server.clearFaults();
    slack.payloads.length = 0;
    slack.server.requests.length = 0;
  });

  const call = async (args: Record<string, unknown>, client = mcp) => {
    const result = await client.call('notify_team', args);
    results.push(result);
    return result;
  };

  it('posts the formatted blocks to the webhook', async () => {
    const result = ok(await call({ template: 'release_done', data: release }));
    expect(result).toMatchObject({ sent: true, dry_run: false, channel: '#aa-releases' });
    expect(slack.payloads).toHaveLength(1);
    expect(slack.payloads[0]!.payload).toEqual(result.message);
    expect(slack.payloads[0]!.payload.text).toBe('Release done: automation-analytics-backend');
  });

  it('returns the message without sending on dry_run', async () => {
    const result = ok(await call({ template: 'custom', data: { text: 'deploy window opens at 14:00' }, dry_run: true }));
    expect(result).toMatchObject({ sent: false, dry_run: true, message: { text: 'deploy window opens at 14:00' } });
    expect(slack.server.requests.filter((r) => r.method === 'POST' && r.status === 200)).toHaveLength(0);
  });

  it('fails invalid_input for custom without text, sending nothing', async () => {
    expect(errorOf(await call({ template: 'custom', data: {} })).code).toBe('invalid_input');
    expect(slack.payloads).toHaveLength(0);
  });

  it('maps a removed webhook (404 no_service) to not_found with a hint, without the URL', async () => {
    const gone = await connect(testRuntime({ env: { SLACK_WEBHOOK_URL: `${slack.server.url}/services/T000/B999/secretpart` } }));
    try {
      const result = await call({ template: 'release_started', data: release }, gone);
      const error = errorOf(result);
      expect(error.code).toBe('not_found');
      expect(error.message).toContain('no_service');
      expect(error.hint).toContain('SLACK_WEBHOOK_URL');
      expect(JSON.stringify(result)).not.toContain('secretpart');
    } finally {
      await gone.close();
    }
  });

  it('maps 500 to upstream, waits Retry-After on 429, and maps a slow answer to timeout', async () => {
    slack.server.inject({ status: 500, body: 'internal_error' });
    expect(errorOf(await call({ template: 'release_started', data: release })).code).toBe('upstream');
    slack.server.inject({ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } });
    const started = Date.now();
    ok(await call({ template: 'release_started', data: release }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.server.requests.map((r) => r.status)).toEqual([500, 429, 200]);
    expect(slack.payloads).toHaveLength(1);
    slack.server.inject({ delayMs: 2500 });
    expect(errorOf(await call({ template: 'release_started', data: release })).code).toBe('timeout');
  }, 10_000);

  it('asks for SLACK_WEBHOOK_URL when no webhook is configured, but still allows dry_run', async () => {
    const none = await connect(testRuntime({}));
    try {
      const error = errorOf(await none.call('notify_team', { template: 'release_done', data: release }));
      expect(error.code).toBe('config');
      expect(error.message).toContain('SLACK_WEBHOOK_URL');
      ok(await none.call('notify_team', { template: 'release_done', data: release, dry_run: true }));
    } finally {
      await none.close();
    }
  });

  it('never shows the webhook URL in a result', () => {
    for (const result of results) expect(JSON.stringify(result)).not.toContain('/services/T000/B000/XXXX');
  });
});

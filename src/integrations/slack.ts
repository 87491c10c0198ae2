import type { Config, Secrets } from '../config.js';
import { ToolError } from '../errors.js';
import { requestFailureToToolError, statusToToolError, tokenHint, withRateLimitRetry } from './http-errors.js';

const SERVICE = 'Slack';

export interface SlackSettings {
  webhookUrl: string;
  timeoutMs: number;
  channelLabel?: string;
}

/** The webhook from SLACK_WEBHOOK_URL (preferred: it is a secret) or config slack.webhook_url. */
export function slackSettings(config: Config, secrets: Secrets): SlackSettings {
  const webhookUrl = secrets.SLACK_WEBHOOK_URL ?? config.slack.webhook_url;
  if (!webhookUrl) {
    throw new ToolError('config', 'no Slack webhook is configured: SLACK_WEBHOOK_URL is not set', {
      hint: 'export SLACK_WEBHOOK_URL with the incoming-webhook URL (or set slack.webhook_url in config.json); use dry_run to preview without one',
    });
  }
  return { webhookUrl, timeoutMs: config.slack.timeout_ms, ...(config.slack.channel_label ? { channelLabel: config.slack.channel_label } : {}) };
}

export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

/** Slack's webhook errors are plain text codes: invalid_payload, no_service, channel_not_found... */
function slackHint(status: number, body: string): string | undefined {
  if (body === 'no_service' || body === 'no_active_hooks' || status === 404) return 'the webhook was removed or disabled; create a new incoming webhook and update SLACK_WEBHOOK_URL';
  if (body === 'invalid_token' || status === 403) return 'the webhook URL is wrong or revoked; update SLACK_WEBHOOK_URL';
  if (body === 'invalid_payload') return 'the message was rejected as malformed; this is a bug in the template';
  return undefined;
}

/** Post a message to the incoming webhook; the URL never appears in an error. */
export async function postToWebhook(settings: SlackSettings, message: SlackMessage, signal?: AbortSignal, trustedFetch: typeof fetch = fetch): Promise<void> {
  const deadline = Date.now() + settings.timeoutMs;
  await withRateLimitRetry(async () => {
    let response: Response;
    try {
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      response = await trustedFetch(settings.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
    } catch (error) {
      throw requestFailureToToolError(error, { service: SERVICE, timeoutMs: settings.timeoutMs });
    }
    const body = (await response.text()).trim();
    if (response.ok) return;
    const error = statusToToolError(response.status, {
      service: SERVICE,
      what: 'incoming webhook',
      body: body.slice(0, 100),
      retryAfter: response.headers.get('retry-after'),
      authHint: tokenHint('SLACK_WEBHOOK_URL', SERVICE),
    });
    const hint = slackHint(response.status, body);
    throw hint ? new ToolError(error.code, error.message, { hint, details: { status: response.status }, ...(error.retryAfter !== undefined ? { retryAfter: error.retryAfter } : {}) }) : error;
  }, { deadline, ...(signal ? { signal } : {}) });
}

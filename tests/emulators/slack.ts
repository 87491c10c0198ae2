import { ServiceEmulator } from './base.js';

/**
 * Slack incoming webhooks: POST /services/T.../B.../secret with a JSON message. Answers as
 * Slack does, in plain text: 200 "ok", 404 "no_service" for an unknown hook, 400
 * "invalid_payload" for a body without text or blocks. Accepted payloads are recorded.
 */
export class SlackEmulator extends ServiceEmulator {
  readonly payloads: Array<{ hook: string; payload: Record<string, unknown> }> = [];
  private readonly hooks = new Set<string>(['T000/B000/XXXX']);

  constructor() {
    super('slack');
    this.server.route('POST', '/services/:team/:bot/:secret', (req) => {
      const hook = `${req.params.team}/${req.params.bot}/${req.params.secret}`;
      if (!this.hooks.has(hook)) return { status: 404, body: 'no_service' };
      const payload = req.body;
      if (!payload || typeof payload !== 'object') return { status: 400, body: 'invalid_payload' };
      const { text, blocks } = payload as { text?: unknown; blocks?: unknown };
      if ((typeof text !== 'string' || !text) && !(Array.isArray(blocks) && blocks.length)) return { status: 400, body: 'invalid_payload' };
      this.payloads.push({ hook, payload: payload as Record<string, unknown> });
      return { status: 200, body: 'ok' };
    });
  }

  /** The URL of the default hook. */
  get webhookUrl(): string {
    return `${this.server.url}/services/T000/B000/XXXX`;
  }

  addHook(path: string): string {
    this.hooks.add(path);
    return `${this.server.url}/services/${path}`;
  }
}

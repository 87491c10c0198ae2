import { ToolError } from '../errors.js';
import type { SlackMessage } from './slack.js';

export const NOTIFY_TEMPLATES = ['release_started', 'release_done', 'release_failed', 'custom'] as const;
export type NotifyTemplate = (typeof NOTIFY_TEMPLATES)[number];

/** Slack mrkdwn needs &, < and > escaped in text that is not a link. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : typeof value === 'number' ? String(value) : undefined);
const isUrl = (value: string | undefined): value is string => !!value && /^https?:\/\/\S+$/.test(value);
const link = (url: string | undefined, label: string | undefined): string | undefined => {
  if (isUrl(url)) return `<${url}|${escapeMrkdwn(label ?? url).replace(/\|/g, '¦')}>`;
  return label ? escapeMrkdwn(label) : undefined;
};

const HEADINGS: Record<Exclude<NotifyTemplate, 'custom'>, { emoji: string; verb: string }> = {
  release_started: { emoji: ':rocket:', verb: 'Release started' },
  release_done: { emoji: ':white_check_mark:', verb: 'Release done' },
  release_failed: { emoji: ':x:', verb: 'Release failed' },
};

/** The facts of a release as `label: value` pairs, from whatever `data` carries. */
function releaseFields(data: Record<string, unknown>): string[] {
  const sha = str(data.sha);
  const short = str(data.short) ?? sha?.slice(0, 8);
  const fields: Array<[string, string | undefined]> = [
    ['Component', str(data.component) ? escapeMrkdwn(str(data.component)!) : undefined],
    ['Environment', str(data.environment) ? escapeMrkdwn(str(data.environment)!) : undefined],
    ['Commit', short ? `\`${escapeMrkdwn(short)}\`` : undefined],
    ['Jira', link(str(data.jira_url), str(data.jira_key))],
    ['Merge request', link(str(data.mr_url), str(data.mr_iid) ? `!${str(data.mr_iid)}` : str(data.mr_url))],
    ['Release', link(str(data.release_url), str(data.release_name))],
    ['Step', str(data.step) ? escapeMrkdwn(str(data.step)!) : undefined],
  ];
  return fields.filter((f): f is [string, string] => f[1] !== undefined).map(([label, value]) => `*${label}:* ${value}`);
}

/**
 * A Block Kit message for a template: `text` is the notification fallback, `blocks` the body.
 * `custom` sends data.text (required) as one section.
 */
export function renderNotification(template: NotifyTemplate, data: Record<string, unknown>, channelLabel?: string): SlackMessage {
  if (template === 'custom') {
    const text = str(data.text);
    if (!text) throw new ToolError('invalid_input', 'the custom template needs data.text', { hint: 'pass data: { "text": "message in Slack mrkdwn" }' });
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }] };
  }
  const { emoji, verb } = HEADINGS[template];
  const subject = str(data.title) ?? str(data.component) ?? str(data.short) ?? str(data.sha)?.slice(0, 8);
  const heading = `${verb}${subject ? `: ${subject}` : ''}`;
  const blocks: Array<Record<string, unknown>> = [{ type: 'header', text: { type: 'plain_text', text: `${heading}`.slice(0, 150), emoji: true } }];
  const fields = releaseFields(data);
  if (fields.length) blocks.push({ type: 'section', fields: fields.slice(0, 10).map((text) => ({ type: 'mrkdwn', text })) });
  const error = str(data.error);
  if (template === 'release_failed' && error) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Error:*\n\`\`\`${escapeMrkdwn(error).slice(0, 2800)}\`\`\`` } });
  const fixes = Array.isArray(data.fixes) ? data.fixes.map(str).filter((f): f is string => !!f) : [];
  if (fixes.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*What fixed this before:*\n${fixes.slice(0, 5).map((f) => `• ${escapeMrkdwn(f)}`).join('\n')}` } });
  const note = str(data.note);
  if (note) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(note).slice(0, 3000) } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${emoji} release-mcp${channelLabel ? ` · ${escapeMrkdwn(channelLabel)}` : ''}` }] });
  const text = `${verb}${subject ? `: ${subject}` : ''}${template === 'release_failed' && str(data.step) ? ` at step ${str(data.step)}` : ''}`;
  return { text, blocks };
}

import { z } from 'zod';
import { NOTIFY_TEMPLATES, renderNotification } from '../integrations/notify-templates.js';
import { postToWebhook, slackSettings } from '../integrations/slack.js';
import { defineTool } from './registry.js';
import { httpsTrust } from './trust.js';

export const notifyTeam = defineTool({
  name: 'notify_team',
  family: 'notify',
  title: 'Notify the team in Slack',
  description:
    'Post a release message to the team Slack webhook. Templates: release_started, release_done, release_failed (data: sha, component, environment, jira_key, mr_url, release_name, step, error...), custom (data.text). dry_run only renders it.',
  input: z.object({
    template: z.enum(NOTIFY_TEMPLATES),
    data: z.record(z.string(), z.unknown()).default({}).describe('Facts for the template, e.g. { "sha": "...", "jira_key": "AAP-1", "jira_url": "...", "mr_url": "..." }'),
    dry_run: z.boolean().default(false).describe('Build and return the message without sending it'),
  }),
  output: z.object({
    sent: z.boolean(),
    dry_run: z.boolean(),
    template: z.string(),
    channel: z.string().nullable().describe('config slack.channel_label, for display'),
    message: z.object({ text: z.string(), blocks: z.array(z.record(z.string(), z.unknown())) }),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  handler: async ({ template, data, dry_run: dryRun }, ctx) => {
    const channel = ctx.config.slack.channel_label ?? null;
    const message = renderNotification(template, data, channel ?? undefined);
    if (!dryRun) await postToWebhook(slackSettings(ctx.config, ctx.secrets), message, ctx.signal, httpsTrust(ctx).fetch);
    return { sent: !dryRun, dry_run: dryRun, template, channel, message };
  },
  summarize: (r) => `${r.dry_run ? 'dry run, not sent' : 'sent'}: ${r.message.text}`,
});

export const notifyTools = [notifyTeam] as const;

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ledgerConfig } from '../releases/fixtures.js';

/** A skill of the test library: one memory_append, and inputs the completions know by name. */
export const NOTE_SKILL = `name: note_release
description: |
  Record a release note for a ticket.
  Second line of the description.
inputs:
  ticket: { type: string, required: true, pattern: "^AAP-[0-9]+$", description: Jira ticket }
  environment: { type: string, description: Environment the note is about }
  persona: { type: string }
  release_id: { type: string }
  run_id: { type: string }
  urgent: { type: boolean, default: false }
  level: { type: string, enum: [low, high], default: low }
  count: { type: integer, default: 1 }
steps:
  - name: record
    tool: memory_append
    args: { key: notes, list: released, item: "{{ inputs.ticket }}" }
`;

/** Token values: also secrets, masked wherever they would appear. */
export const TOKENS = {
  A_ADMIN: 'tenant-a-admin-token-0123456789',
  A_VIEWER: 'tenant-a-viewer-token-0123456789',
  B_ADMIN: 'tenant-b-admin-token-0123456789',
};
export const TOKEN_CONFIG = [
  { env: 'A_ADMIN', role: 'admin', tenant: 'primary' },
  { env: 'A_VIEWER', role: 'viewer', tenant: 'primary' },
  { env: 'B_ADMIN', role: 'admin', tenant: 'other' },
];

export const KNOWLEDGE = `gotchas:
  quay: images are tagged with the full SHA
  token: ${TOKENS.A_ADMIN}
`;

/** A config with the test skill, knowledge files (`extraKnowledge` more of them) and three environments. */
export function contentConfig(dir: string, options: { extraKnowledge?: number } = {}): Record<string, unknown> {
  const skills = join(dir, 'skills');
  const knowledge = join(dir, 'knowledge');
  mkdirSync(skills, { recursive: true });
  mkdirSync(join(knowledge, 'aa-backend'), { recursive: true });
  writeFileSync(join(skills, 'note_release.yaml'), NOTE_SKILL);
  writeFileSync(join(knowledge, 'aa-backend', 'release.yaml'), KNOWLEDGE);
  writeFileSync(join(dir, 'outside.yaml'), 'secret: outside the knowledge folder\n');
  if (options.extraKnowledge) {
    mkdirSync(join(knowledge, 'bulk'), { recursive: true });
    for (let i = 0; i < options.extraKnowledge; i++) writeFileSync(join(knowledge, 'bulk', `k${String(i).padStart(3, '0')}.yaml`), `n: ${i}\n`);
  }
  return ledgerConfig(dir, { skills_dirs: [skills], knowledge_dirs: [knowledge], http: { tokens: TOKEN_CONFIG } });
}

/** Every resource URI of a client, following the cursor. */
export async function allResourceUris(client: Client): Promise<string[]> {
  const uris: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listResources(cursor ? { cursor } : {});
    uris.push(...page.resources.map((r) => r.uri));
    cursor = page.nextCursor;
  } while (cursor);
  return uris;
}

/** The text of a resource (one text content expected). */
export async function readText(client: Client, uri: string): Promise<{ text: string; mimeType: string | undefined }> {
  const { contents } = await client.readResource({ uri });
  if (contents.length !== 1 || !('text' in contents[0]!)) throw new Error(`expected one text content for ${uri}, got ${JSON.stringify(contents)}`);
  return { text: contents[0].text as string, mimeType: contents[0].mimeType };
}

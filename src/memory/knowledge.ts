import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml } from '../lazy-yaml.js';
import { z } from 'zod';
import { FILE_CAPS, readFileSafely } from '../safe-read.js';
import { formatIssues } from '../validation.js';
import { yamlFiles } from '../yaml-files.js';
import { replaceKnownIssues } from './fixes.js';
import type { MemoryDb } from './store.js';

const knownIssueSchema = z.strictObject({
  topic: z.string().min(1),
  pattern: z.string().min(1),
  meaning: z.string().min(1),
  fix: z.string().min(1),
});
const knownIssuesFileSchema = z.object({ known_issues: z.array(knownIssueSchema).default([]) }).loose();

/**
 * Load `known_issues:` lists from every YAML file under the knowledge folders into memory.
 * A file whose size and mtime are unchanged since the last sync is not read again, so a
 * server start pays a stat per file, not a parse.
 */
export async function syncKnownIssues(mem: MemoryDb, dirs: readonly string[]): Promise<{ files: number; loaded: number }> {
  const known = new Map((await mem.all<{ source: string; signature: string }>('SELECT source, signature FROM knowledge_sources')).map((r) => [r.source, r.signature]));
  const present = new Set<string>();
  let loaded = 0;
  for (const dir of dirs) {
    for (const file of yamlFiles(dir)) {
      const source = `knowledge:${file}`;
      const stat = statSync(file, { throwIfNoEntry: false });
      // Gone since the folder was listed: treated as removed (its known issues go below).
      if (!stat) continue;
      const signature = `${stat.size}:${stat.mtimeMs}`;
      present.add(source);
      if (known.get(source) === signature) continue;
      const parsed = knownIssuesFileSchema.safeParse(parseYaml(readFileSafely(file, { roots: [dir], maxBytes: FILE_CAPS.knowledge })) ?? {});
      if (!parsed.success) throw new Error(`invalid knowledge file ${file}:\n${formatIssues(parsed.error.issues).join('\n')}`);
      await replaceKnownIssues(mem, source, parsed.data.known_issues);
      await mem.run('INSERT INTO knowledge_sources (source, signature) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET signature = excluded.signature', source, signature);
      loaded += parsed.data.known_issues.length;
    }
  }
  for (const source of known.keys()) {
    if (present.has(source)) continue;
    await replaceKnownIssues(mem, source, []);
    await mem.run('DELETE FROM knowledge_sources WHERE source = ?', source);
  }
  return { files: present.size, loaded };
}

/** `<dir>/<project>/<persona>.yaml`, first folder that has it wins. */
export function findKnowledgeFile(dirs: readonly string[], project: string, persona: string): string | undefined {
  for (const dir of dirs) {
    for (const ext of ['yaml', 'yml']) {
      const path = join(dir, project, `${persona}.${ext}`);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/** Walk a dot path (`gotchas.quay`) into a parsed document; undefined when any part is missing. */
export function selectSection(document: unknown, section: string | undefined): unknown {
  if (!section) return document;
  let node: unknown = document;
  for (const part of section.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) && /^\d+$/.test(part) ? node[Number(part)] : (node as Record<string, unknown>)[part];
  }
  return node;
}

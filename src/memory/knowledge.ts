import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
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

/** Load `known_issues:` lists from every YAML file under the knowledge folders into memory. */
export function syncKnownIssues(mem: MemoryDb, dirs: readonly string[]): number {
  let count = 0;
  for (const dir of dirs) {
    for (const file of yamlFiles(dir)) {
      const parsed = knownIssuesFileSchema.safeParse(parse(readFileSync(file, 'utf8')) ?? {});
      if (!parsed.success) throw new Error(`invalid knowledge file ${file}:\n${formatIssues(parsed.error.issues).join('\n')}`);
      replaceKnownIssues(mem, `knowledge:${relative(dir, file)}`, parsed.data.known_issues);
      count += parsed.data.known_issues.length;
    }
  }
  return count;
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

import { relative, sep } from 'node:path';
import type { Config } from '../config.js';
import { FILE_CAPS, readFileSafely } from '../safe-read.js';
import { yamlFiles } from '../yaml-files.js';

export interface KnowledgeFile {
  /** Path under its knowledge folder, with `/` (project/persona.yaml). */
  path: string;
  file: string;
  dir: string;
}

/** Every knowledge file of config knowledge_dirs; a path found in two folders is the first folder's, as knowledge_query reads it. */
export function knowledgeFiles(config: Config): KnowledgeFile[] {
  const seen = new Map<string, KnowledgeFile>();
  for (const dir of config.knowledge_dirs) {
    for (const file of yamlFiles(dir)) {
      const path = relative(dir, file).split(sep).join('/');
      if (!seen.has(path)) seen.set(path, { path, file, dir });
    }
  }
  return [...seen.values()];
}

/**
 * The text of a listed knowledge file; undefined for any other path. Only listed files are read,
 * so `..` or an absolute path never reaches the file system.
 */
export function knowledgeText(config: Config, path: string): string | undefined {
  const found = knowledgeFiles(config).find((k) => k.path === path);
  if (!found) return undefined;
  return readFileSafely(found.file, { roots: [found.dir], maxBytes: FILE_CAPS.knowledge });
}

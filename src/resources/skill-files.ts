import type { Config } from '../config.js';
import { ToolError } from '../errors.js';
import { FILE_CAPS, readFileSafely } from '../safe-read.js';
import { BUILTIN_SKILLS_DIR, loadSkills, SkillLoadError, type LoadedSkill } from '../skills/loader.js';

/** The skill library (builtin and config skills_dirs), read now: skill files are never cached. */
export function skillLibrary(config: Config): Map<string, LoadedSkill> {
  try {
    return loadSkills(config.skills_dirs);
  } catch (error) {
    if (error instanceof SkillLoadError) throw new ToolError('config', `cannot load skills:\n${error.message}`, { hint: 'fix the named files (release-mcp skill lint shows every problem)' });
    throw error;
  }
}

/** The YAML text of a library skill; undefined when there is no skill of that name. */
export function skillText(config: Config, name: string): string | undefined {
  const loaded = skillLibrary(config).get(name);
  if (!loaded) return undefined;
  return readFileSafely(loaded.file, { roots: [BUILTIN_SKILLS_DIR, ...config.skills_dirs], maxBytes: FILE_CAPS.skill });
}

/** A skill description's first sentence on one line, for lists and the prompt message. */
export function firstSentence(description: string): string {
  const text = description.replace(/\s+/g, ' ').trim();
  const end = text.search(/[.!?](\s|$)/);
  return end === -1 ? text : text.slice(0, end + 1);
}

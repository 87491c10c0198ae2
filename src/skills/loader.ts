import { existsSync } from 'node:fs';
import { yamlModule } from '../lazy-yaml.js';
import { assetPath } from '../paths.js';
import { FILE_CAPS, readFileSafely } from '../safe-read.js';
import { formatIssues } from '../validation.js';
import { yamlFiles } from '../yaml-files.js';
import { skillSchema, type Skill } from './schema.js';

/** dist/skills/builtin when built (the CLI is one bundled file, so not relative to this module), src/skills/builtin from sources. */
export const BUILTIN_SKILLS_DIR = assetPath('skills/builtin');

export interface LoadedSkill {
  skill: Skill;
  /** The file it came from. */
  file: string;
}

export class SkillFileError extends Error {
  override readonly name = 'SkillFileError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid skill file ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** `steps.4.args.repo` → `steps[4].args.repo`. */
function bracketPath(line: string): string {
  return line.replace(/^([^:]*):/, (_m, path: string) => `${path.replace(/\.(\d+)(?=\.|$)/g, '[$1]')}:`);
}

/**
 * Parse and validate one skill file; every problem is reported with its path inside the file.
 * With `roots`, the file must lie inside one of them once symlinks are resolved; in any case it
 * must be a regular file of at most FILE_CAPS.skill bytes.
 */
export function loadSkillFile(file: string, roots?: readonly string[]): LoadedSkill {
  let text: string;
  try {
    text = readFileSafely(file, { maxBytes: FILE_CAPS.skill, ...(roots ? { roots } : {}) });
  } catch (error) {
    throw new SkillFileError(file, [`cannot read: ${(error as Error).message}`]);
  }
  const document = yamlModule().parseDocument(text, { prettyErrors: true });
  if (document.errors.length) throw new SkillFileError(file, document.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  const parsed = skillSchema.safeParse(document.toJS());
  if (!parsed.success) throw new SkillFileError(file, formatIssues(parsed.error.issues).map(bracketPath));
  return { skill: parsed.data, file };
}

/** The skills of the builtin folder and the configured folders, and every file that failed, each with its problems. */
export interface SkillLibrary {
  skills: Map<string, LoadedSkill>;
  /** Files that do not load, each with its problems by path. */
  files: SkillFileError[];
  /** Problems of no single file's content: a missing folder, a name defined twice. */
  problems: string[];
}

/** Read every skill file; a bad file is kept with its problems, the others still load (for lint). */
export function readSkillLibrary(dirs: readonly string[]): SkillLibrary {
  const library: SkillLibrary = { skills: new Map(), files: [], problems: [] };
  for (const dir of [BUILTIN_SKILLS_DIR, ...dirs]) {
    if (dir !== BUILTIN_SKILLS_DIR && !existsSync(dir)) {
      library.problems.push(`skills_dirs: folder ${dir} does not exist`);
      continue;
    }
    for (const file of yamlFiles(dir)) {
      try {
        // A file of a skills folder is read only if it stays inside it (no symlink out).
        const loaded = loadSkillFile(file, [dir]);
        const previous = library.skills.get(loaded.skill.name);
        if (previous) library.problems.push(`skill "${loaded.skill.name}" is defined twice: ${previous.file} and ${file}`);
        else library.skills.set(loaded.skill.name, loaded);
      } catch (error) {
        if (error instanceof SkillFileError) library.files.push(error);
        else library.problems.push((error as Error).message);
      }
    }
  }
  return library;
}

/**
 * Every skill of the builtin folder and the configured folders. A bad file or a name defined
 * twice is an error naming the files; nothing is skipped quietly.
 */
export function loadSkills(dirs: readonly string[]): Map<string, LoadedSkill> {
  const { skills, files, problems } = readSkillLibrary(dirs);
  if (files.length || problems.length) throw new SkillLoadError([...files.map((f) => f.message), ...problems], files);
  return skills;
}

export class SkillLoadError extends Error {
  override readonly name = 'SkillLoadError';
  constructor(
    readonly problems: string[],
    readonly files: readonly SkillFileError[] = [],
  ) {
    super(problems.join('\n'));
  }
}

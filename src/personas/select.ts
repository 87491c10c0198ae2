import type { ToolListing } from '../tools/registry.js';
import type { Persona } from './schema.js';

export interface ToolFilter {
  core: Persona;
  persona: Persona;
  readOnly: boolean;
}

/**
 * The one filter: which tools a session sees. Used for tools/list and again at call time, so a
 * hidden tool is refused exactly like an unknown one.
 */
export function isToolVisible(tool: Pick<ToolListing, 'name' | 'family' | 'annotations'>, filter: ToolFilter): boolean {
  if (filter.readOnly && !tool.annotations.readOnlyHint) return false;
  const { core, persona } = filter;
  return (
    core.tools.includes(tool.name) ||
    core.families.includes(tool.family) ||
    persona.tools.includes(tool.name) ||
    persona.families.includes(tool.family)
  );
}

export function selectTools<T extends Pick<ToolListing, 'name' | 'family' | 'annotations'>>(tools: readonly T[], filter: ToolFilter): T[] {
  return tools.filter((tool) => isToolVisible(tool, filter));
}

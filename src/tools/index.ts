import { appinterfaceTools } from './appinterface.js';
import { gitTools } from './git.js';
import { memoryTools } from './memory.js';
import { metaTools } from './meta.js';
import type { AnyToolDefinition } from './registry.js';

/** Every tool of release-mcp, one flat list; personas and read-only mode filter it. */
export const ALL_TOOLS: readonly AnyToolDefinition[] = [...metaTools, ...memoryTools, ...gitTools, ...appinterfaceTools];

export * from './registry.js';

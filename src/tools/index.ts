import { httpTools } from './http.js';
import { memoryTools } from './memory.js';
import { metaTools } from './meta.js';
import type { AnyToolDefinition } from './registry.js';
import { releaseTools } from './releases.js';

/** Every tool of release-mcp, one flat list; personas and read-only mode filter it. */
export const ALL_TOOLS: readonly AnyToolDefinition[] = [...metaTools, ...memoryTools, ...releaseTools, ...httpTools];

export * from './registry.js';

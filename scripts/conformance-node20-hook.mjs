// Module hook that lets @modelcontextprotocol/conformance 0.2.0-alpha (installed as
// @modelcontextprotocol/conformance-next) load on Node 20. Its bundled dist imports `globSync`
// from "fs", which Node 20 does not export (added in Node 22), so the import fails before any
// code runs. The suite's server mode never calls globSync (only the client/tier-check commands
// read files by pattern), so the hook drops that one name from the import and declares a local
// function under the same name that throws a clear error if it is ever reached.
// Registered by conformance-node20-register.mjs (`node --import`).
const SUITE_DIST = '/@modelcontextprotocol/conformance-next/dist/';
const FS_IMPORT = /import\{([^}]*)\}from"(?:node:)?fs";/;

/** Rewrites `import{…,globSync as X,…}from"fs";` into the import without it plus `function X(){throw …}`. */
export function withoutFsGlobSync(source) {
  return source.replace(FS_IMPORT, (statement, names) => {
    const specifiers = names.split(',');
    const glob = specifiers.find((s) => /^\s*globSync(\s|$)/.test(s));
    if (!glob) return statement;
    const local = glob.split(/\s+as\s+/)[1]?.trim() ?? 'globSync';
    const kept = specifiers.filter((s) => s !== glob).join(',');
    const module = kept ? `import{${kept}}from"fs";` : '';
    return `${module}function ${local}(pattern){throw new Error("fs.globSync needs Node 22; the conformance suite's server mode should not call it (pattern: "+String(pattern)+")")}`;
  });
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.includes(SUITE_DIST) || result.format !== 'module') return result;
  return { ...result, source: withoutFsGlobSync(String(result.source)) };
}

// `npm run bench`: every benchmark, in order. Each figure is printed as
// `name: value unit (baseline X unit, ratio R)`, measured beside its baseline in the same run.
import { benchColdStart } from './cold-start.js';
import { benchContext } from './context.js';
import { benchEngine } from './engine.js';
import { benchHttp } from './http.js';
import { benchKnownIssues } from './known-issues.js';
import { benchMemoryLists } from './memory-lists.js';
import { benchReleases } from './releases.js';

await benchColdStart();
console.log();
await benchHttp();
console.log();
await benchKnownIssues();
console.log();
await benchMemoryLists();
console.log();
await benchEngine();
console.log();
await benchContext();
console.log();
await benchReleases();

// `npm run bench`: every benchmark, in order; each prints its numbers and its ratio to a baseline.
import { benchColdStart } from './cold-start.js';
import { benchEngine } from './engine.js';
import { benchKnownIssues } from './known-issues.js';

await benchColdStart();
console.log();
benchKnownIssues();
console.log();
await benchEngine();

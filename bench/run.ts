// Every benchmark, in order. Run with `npm run bench`.
import { benchEngine } from './engine.js';

await benchEngine();

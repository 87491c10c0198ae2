import { ExpressionSandbox } from './src/skills/expressions.ts';
const sb = await ExpressionSandbox.create({ timeoutMs: 200, memoryMb: 32 });
for (const src of ['(function f(){return f()})()', '(function f(n){return n ? f(n-1)+1 : 0})(400)', 'JSON.stringify(JSON.parse("[".repeat(100000)))', '[[[[[[1]]]]]].flat(Infinity)', 'JSON.stringify(Array.from({length:3000}).reduce((a)=>[a],[])).length', '"ok"']) {
  try { console.log(src.slice(0,40), '=>', sb.evaluate('expression', src)); } catch (e) { console.log(src.slice(0,40), '!!', (e as Error).name, (e as Error).message); }
}
try { sb.set('deep', JSON.parse('['.repeat(5000)+']'.repeat(5000))); sb.evaluate('expression', 'deep.length') } catch (e) { console.log('deep set', (e as Error).name, (e as Error).message); }
console.log(sb.evaluate('expression', '1+1'));

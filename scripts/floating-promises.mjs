#!/usr/bin/env node
// Reports promises nobody waits for: an expression statement whose value is a Promise (a call
// to an async store function without await, return or `void`). The core of typescript-eslint's
// no-floating-promises, with the TypeScript compiler the project already has.
// Usage: node scripts/floating-promises.mjs [tsconfig.json]   (exit 1 when any is found)
import ts from 'typescript';
import { relative } from 'node:path';

const configPath = process.argv[2] ?? 'tsconfig.json';
const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
const program = ts.createProgram(config.fileNames, config.options);
const checker = program.getTypeChecker();

function isPromise(type) {
  if (type.isUnion()) return type.types.some(isPromise);
  const symbol = type.getSymbol() ?? type.aliasSymbol;
  if (symbol && (symbol.getName() === 'Promise' || symbol.getName() === 'PromiseLike')) return true;
  const then = type.getProperty('then');
  return then !== undefined && symbol?.getName() !== 'Thenable';
}

const found = [];
for (const file of program.getSourceFiles()) {
  if (file.isDeclarationFile || file.fileName.includes('node_modules')) continue;
  const visit = (node) => {
    if (ts.isExpressionStatement(node)) {
      let expr = node.expression;
      while (ts.isParenthesizedExpression(expr)) expr = expr.expression;
      const ignored = ts.isVoidExpression(expr) || ts.isAwaitExpression(expr) || (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.EqualsToken);
      if (!ignored && (ts.isCallExpression(expr) || ts.isNewExpression(expr)) && isPromise(checker.getTypeAtLocation(expr))) {
        const handled = ts.isCallExpression(expr) && ts.isPropertyAccessExpression(expr.expression) && ['catch', 'then', 'finally'].includes(expr.expression.name.text) && expr.arguments.length >= (expr.expression.name.text === 'then' ? 2 : 1);
        if (!handled) {
          const { line, character } = file.getLineAndCharacterOfPosition(expr.getStart());
          found.push(`${relative(process.cwd(), file.fileName)}:${line + 1}:${character + 1}: promise not awaited: ${expr.getText().slice(0, 100)}`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}
for (const line of found) console.log(line);
if (found.length) {
  console.error(`${found.length} floating promise(s)`);
  process.exit(1);
}

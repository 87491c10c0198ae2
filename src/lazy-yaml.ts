import { createRequire } from 'node:module';

type YamlModule = typeof import('yaml');

let yaml: YamlModule | undefined;

/**
 * The yaml package, loaded on first use: the server's start path reads only prebuilt JSON, and
 * loading the parser there would cost a visible share of cold start.
 */
export function yamlModule(): YamlModule {
  yaml ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yaml;
}

export function parseYaml(text: string): unknown {
  return yamlModule().parse(text);
}

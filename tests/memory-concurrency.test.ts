import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { tempDir } from './helpers/harness.js';

const CLI = join(process.cwd(), 'dist', 'cli.js');

async function startServer(memoryPath: string): Promise<Client> {
  const client = new Client({ name: 'writer', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', join(process.cwd(), 'config.json'), '--memory', memoryPath, '--persona', 'developer'], stderr: 'pipe' }));
  return client;
}

describe('memory shared by two server processes', () => {
  it('loses nothing when both append 500 entries to one file at the same time', async () => {
    const dir = tempDir();
    const memoryPath = join(dir.path, 'shared.db');
    const [a, b] = await Promise.all([startServer(memoryPath), startServer(memoryPath)]);
    const writeMany = async (client: Client, writer: string) => {
      // Several calls in flight at once, so the two processes really interleave.
      for (let batch = 0; batch < 50; batch++) {
        const calls = Array.from({ length: 10 }, (_, i) =>
          client.callTool({ name: 'memory_append', arguments: { key: 'stress', list: 'entries', item: { writer, n: batch * 10 + i } } }),
        );
        for (const result of await Promise.all(calls)) expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      }
    };
    await Promise.all([writeMany(a, 'a'), writeMany(b, 'b')]);
    await Promise.all([a.close(), b.close()]);

    const db = new Database(memoryPath, { readonly: true });
    const rows = db.prepare("SELECT item FROM kv_items WHERE key = 'stress'").all() as Array<{ item: string }>;
    db.close();
    const items = rows.map((r) => JSON.parse(r.item) as { writer: string; n: number });
    expect(items).toHaveLength(1000);
    for (const writer of ['a', 'b']) {
      const ns = items.filter((i) => i.writer === writer).map((i) => i.n).sort((x, y) => x - y);
      expect(ns).toEqual(Array.from({ length: 500 }, (_, i) => i));
    }
    dir.cleanup();
  }, 60_000);
});

/**
 * `log.filePath` through the real proxy process: the application log goes to the file (its
 * folder made first), not to stderr, as Traefik's getLogWriter does (cmd/traefik/logger.go).
 * Rotation itself is tested at unit level (src/core/log-file.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startProxy } from '../helpers/proxy-process.ts';

/** The file's JSON lines once one of them satisfies `pred` (polled: the file is written synchronously). */
async function linesUntil(
  path: string,
  pred: (l: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>[]> {
  const end = Date.now() + 30_000;
  for (;;) {
    let lines: Record<string, unknown>[] = [];
    try {
      lines = readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      // Not there yet.
    }
    if (lines.some(pred)) return lines;
    if (Date.now() > end) assert.fail(`no such line in ${path}: ${JSON.stringify(lines.slice(-5))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('log.filePath', () => {
  it('writes the application log to the file instead of stderr', async () => {
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO, filePath: logs/traffic.log, maxSize: 5, maxBackups: 3, maxAge: 7, compress: true, noColor: true }
http:
  routers:
    r: { rule: "Path(\`/x\`)", service: noop@internal }
`,
      entryPoints: 0,
      waitForConfig: false,
    });
    const path = join(proxy.dir, 'logs', 'traffic.log');
    try {
      const lines = await linesUntil(path, (l) => l['msg'] === 'configuration applied');
      const listening = lines.find((l) => l['msg'] === 'entry point listening');
      assert.ok(listening, JSON.stringify(lines));
      const port = Number(String(listening['address']).split(':').pop());
      const r = await fetch(`http://127.0.0.1:${port}/x`);
      assert.equal(r.status, 418, 'the proxy serves');
      assert.deepEqual(proxy.logs, [], 'nothing on stderr');
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });
});

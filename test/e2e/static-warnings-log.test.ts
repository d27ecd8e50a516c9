/**
 * The static file's warnings go through the proxy's logger, as Traefik's runCmd sets its logger
 * up before the static configuration's checks warn through it (cmd/traefik/traefik.go): a line
 * at WARN in the configured format and destination (JSON, `common` text, `log.filePath`), with
 * the warning's `file:line:col` and key in the message and as fields, under `log.level` like any
 * other; once, by the control plane, with `workers`. A static file with an error still stops
 * `run` with its issues on stderr as plain lines (no logger is set up for it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { positionOf } from '../helpers/text-position.ts';
import { killWorkers, startWorkers } from '../helpers/workers.ts';

const WARNED = `global:
  notAppendXForwardedFor: true
entryPoints:
  web:
    address: "127.0.0.1:0"
`;

const isWarning = (m: unknown): boolean => /warning: global\.notAppendXForwardedFor: /.test(String(m));

describe('static configuration warnings (e2e)', () => {
  it('are JSON log lines at WARN, located in the message and in fields', async () => {
    const text = `log: { level: INFO }\n${WARNED}`;
    const proxy = await startProxy({ config: text, waitForConfig: false });
    try {
      const w = await proxy.waitForLog((l) => isWarning(l.msg));
      const at = positionOf(proxy.configPath, text, 'true');
      assert.equal(w.level, 'warn');
      assert.match(String(w['time']), /^\d{4}-\d\d-\d\dT/);
      assert.ok(String(w.msg).startsWith(`${at}: warning: global.notAppendXForwardedFor: `), String(w.msg));
      const [line, col] = at.split(':').slice(-2).map(Number);
      assert.deepEqual(
        [w['file'], w['line'], w['col'], w['key']],
        [proxy.configPath, line, col, 'global.notAppendXForwardedFor'],
      );
      assert.deepEqual(
        proxy.logs.filter((l) => l.level === 'raw'),
        [],
        'every line on stderr is structured',
      );
    } finally {
      await proxy.stop();
    }
  });

  it('follow log.format common', async () => {
    const proxy = await startProxy({
      config: `log: { level: INFO, format: common }\n${WARNED}`,
      entryPoints: 0,
      waitForConfig: false,
    });
    try {
      const w = await proxy.waitForLog((l) => isWarning(l.msg));
      assert.equal(w.level, 'raw', 'a text line');
      assert.match(
        String(w.msg),
        /^time=\S+ level=warn msg=".*warning: global\.notAppendXForwardedFor: .*key=global\.notAppendXForwardedFor/,
      );
    } finally {
      await proxy.stop();
    }
  });

  it('go to log.filePath, not stderr', async () => {
    const proxy = await startProxy({
      config: `log: { level: INFO, filePath: traffic.log }\n${WARNED}`,
      entryPoints: 0,
      waitForConfig: false,
    });
    const path = join(proxy.dir, 'traffic.log');
    try {
      const end = Date.now() + 30_000;
      let lines: Record<string, unknown>[] = [];
      while (!lines.some((l) => l['msg'] === 'entry point listening')) {
        assert.ok(Date.now() < end, `no listening line in ${path}`);
        await new Promise((r) => setTimeout(r, 50));
        try {
          lines = readFileSync(path, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        } catch {
          // Not there yet.
        }
      }
      const w = lines.find((l) => isWarning(l['msg']));
      assert.equal(w?.['level'], 'warn', JSON.stringify(lines));
      assert.deepEqual(proxy.logs, [], 'nothing on stderr');
    } finally {
      await proxy.stop();
    }
  });

  it('are held back by log.level ERROR, as any warning', async () => {
    // A dynamic error logged after them (the providers start once the static lines are out).
    const proxy = await startProxy({
      config: `log: { level: ERROR }\n${WARNED}http:\n  routers:\n    r: { rule: "Path(\`/x\`)", service: nowhere }\n`,
      entryPoints: 0,
      waitForConfig: false,
    });
    try {
      await proxy.waitForLog((l) => l.msg === 'configuration error');
      assert.deepEqual(
        proxy.logs.filter((l) => l.level !== 'error'),
        [],
        'only the error',
      );
    } finally {
      await proxy.stop();
    }
  });

  // Traefik's getLogLevel logs it with log.Error(), at the ERROR level it falls back to.
  it('an unreadable log.level is logged at ERROR, which it runs at', async () => {
    const text = `log: { level: WARNING }\n${WARNED}http:\n  routers:\n    r: { rule: "Path(\`/x\`)", service: nowhere }\n`;
    const proxy = await startProxy({ config: text, entryPoints: 0, waitForConfig: false });
    try {
      const e = await proxy.waitForLog((l) => /log\.level: invalid log level "WARNING"/.test(String(l.msg)));
      assert.equal(e.level, 'error');
      assert.ok(
        String(e.msg).startsWith(`${positionOf(proxy.configPath, text, 'WARNING')}: log.level: `),
        String(e.msg),
      );
      assert.equal(e['key'], 'log.level');
      await proxy.waitForLog((l) => l.msg === 'configuration error');
      assert.ok(!proxy.logs.some((l) => isWarning(l.msg)), 'the other warnings are below ERROR');
    } finally {
      await proxy.stop();
    }
  });

  it('are said once with workers, by the control plane', async () => {
    let proxy: ProxyProcess | undefined;
    try {
      // Both workers serve: each has loaded the static file by then.
      proxy = await startWorkers({ config: `workers: 2\nlog: { level: INFO }\n${WARNED}` });
      const warned = proxy.logs.filter((l) => isWarning(l.msg));
      assert.equal(warned.length, 1, JSON.stringify(warned));
      assert.equal(warned[0]!.level, 'warn');
      assert.equal(warned[0]!['worker'], undefined);
    } finally {
      await killWorkers(proxy);
    }
  });
});

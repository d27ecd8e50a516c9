/**
 * Traefik's official Grafana dashboard works on our metrics: a real Prometheus (Debian's) scrapes
 * the real proxy's /metrics while real traffic goes through it (200s, 503s, 404s, a POST with a
 * body, one request slower than 1.2 s), then every query of the dashboard
 * (test/fixtures/grafana-traefik-queries.json: the v2 and v3 revisions) is evaluated by that
 * Prometheus, with the dashboard's template variables filled in as Grafana fills them for "All"
 * from the dashboard's own variable queries. Each query must return data: a name, a label or a
 * label value the dashboard relies on that we do not expose makes its panel empty, and fails here.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { freePort } from '../helpers/pebble.ts';
import { type ProxyProcess, ROOT, startProxy } from '../helpers/proxy-process.ts';
import { requireTools, toolPath } from '../helpers/tools.ts';
import { within } from '../helpers/wait.ts';

interface Revision {
  readonly name: string;
  readonly source: string;
  readonly variables: { readonly entrypoint: string; readonly service: string };
  readonly serviceRegex: string;
  readonly queries: readonly { readonly panel: string; readonly expr: string }[];
}

const FIXTURE = JSON.parse(
  readFileSync(join(ROOT, 'test', 'fixtures', 'grafana-traefik-queries.json'), 'utf8'),
) as { revisions: Revision[] };

interface PromResult {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** A Prometheus server on loopback scraping `target` every second. */
async function startPrometheus(
  dir: string,
  target: string,
): Promise<{ url: string; output: () => string; close(): Promise<void> }> {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: traefik
    static_configs: [{ targets: ["${target}"] }]
`,
  );
  const child: ChildProcess = spawn(
    toolPath('prometheus'),
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => {
      output += c;
      if (output.includes('Server is ready to receive web requests')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`prometheus exited (${code}):\n${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await within(ready, 'prometheus ready', 30_000);
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe("Traefik's official Grafana dashboard against our metrics, evaluated by Prometheus", () => {
  let dir: string;
  let ok: Backend;
  let failing: Backend;
  let slow: Backend;
  let proxy: ProxyProcess;
  let prom: Awaited<ReturnType<typeof startPrometheus>>;
  const rows: string[] = [];

  async function query(expr: string): Promise<PromResult[]> {
    const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error ?? ''}`);
    return body.data?.result ?? [];
  }

  /** Resolves once Prometheus has scraped a total of at least `n` requests on `web`. */
  async function scraped(n: number): Promise<void> {
    for (;;) {
      const r = await query('sum(traefik_entrypoint_requests_total{entrypoint="web"})');
      if (Number(r[0]?.value[1] ?? 0) >= n) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function traffic(): Promise<number> {
    const base = `http://127.0.0.1:${proxy.ports['web']}`;
    let n = 0;
    for (let i = 0; i < 6; i++, n++) assert.equal((await fetch(`${base}/ok`)).status, 200);
    for (let i = 0; i < 3; i++, n++) assert.equal((await fetch(`${base}/fail`)).status, 503);
    for (let i = 0; i < 2; i++, n++) assert.equal((await fetch(`${base}/ok/missing`)).status, 404);
    const post = await fetch(`${base}/ok`, { method: 'POST', body: 'x'.repeat(2048) });
    assert.equal(post.status, 200);
    await post.text();
    n++;
    assert.equal((await fetch(`${base}/slow`)).status, 200);
    n++;
    return n;
  }

  before(async () => {
    requireTools('prometheus');
    dir = mkdtempSync(join(tmpdir(), 'grafana-dashboard-'));
    ok = await startBackend((req, res) => {
      req.resume();
      res.statusCode = req.url === '/ok/missing' ? 404 : 200;
      res.end('hello');
    });
    failing = await startBackend((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    // Slower than the dashboard's 1.2 s objective, so that its SLO panels have something to show.
    slow = await startBackend((_req, res) => {
      setTimeout(() => res.end('late'), 1300);
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  prometheus: {}
http:
  routers:
    ok: { rule: "PathPrefix(\`/ok\`)", service: app-ok }
    fail: { rule: "PathPrefix(\`/fail\`)", service: app-fail }
    slow: { rule: "PathPrefix(\`/slow\`)", service: app-slow }
  services:
    app-ok: { loadBalancer: { servers: [{ url: "${ok.url}" }] } }
    app-fail: { loadBalancer: { servers: [{ url: "${failing.url}" }] } }
    app-slow: { loadBalancer: { servers: [{ url: "${slow.url}" }] } }
`,
    });
    prom = await startPrometheus(dir, `127.0.0.1:${proxy.ports['traefik']}`);
    // Two scrapes with traffic between them: every rate() over the window then has data.
    const first = await traffic();
    await within(scraped(first), 'the first traffic scraped', 30_000);
    const second = await traffic();
    await within(scraped(first + second), 'the second traffic scraped', 30_000);
  });

  after(async () => {
    if (rows.length > 0)
      console.log(`\n| revision | panel | series |\n| --- | --- | --- |\n${rows.join('\n')}`);
    await prom?.close();
    await proxy?.stop();
    await Promise.all([ok?.close(), failing?.close(), slow?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Grafana's "All" for a regex matcher: the values, regex-escaped, as one alternation. */
  function all(values: readonly string[]): string {
    return `(${values.map((v) => v.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')).join('|')})`;
  }

  /** `label_values(metric, label)`, through the variable's regex (its capture group) as Grafana applies it. */
  async function variable(definition: string, regex?: string): Promise<string[]> {
    const m = /^label_values\((\w+), (\w+)\)$/.exec(definition);
    assert.ok(m, definition);
    const res = await fetch(`${prom.url}/api/v1/series?match[]=${encodeURIComponent(m[1]!)}`);
    const body = (await res.json()) as { data: Record<string, string>[] };
    const values = [...new Set(body.data.map((s) => s[m[2]!]).filter((v): v is string => v !== undefined))];
    if (regex === undefined) return values.sort();
    const re = new RegExp(`^${regex}$`);
    return [
      ...new Set(values.map((v) => re.exec(v)?.[1]).filter((v): v is string => v !== undefined)),
    ].sort();
  }

  for (const revision of FIXTURE.revisions) {
    describe(`revision ${revision.name}`, () => {
      let vars: Record<string, string>;

      before(async () => {
        const entrypoints = await variable(revision.variables.entrypoint);
        const services = await variable(revision.variables.service, revision.serviceRegex);
        // The variable reads the open-connections gauge, which counts the connections of every
        // entry point, `traefik` too where Prometheus scrapes (as Traefik's does).
        assert.deepEqual(
          entrypoints,
          ['traefik', 'web'],
          'the $entrypoint drop-down lists the entry points that have had connections',
        );
        assert.deepEqual(
          services,
          revision.name === 'v2'
            ? ['app-fail@file', 'app-ok@file', 'app-slow@file']
            : ['app-fail', 'app-ok', 'app-slow'],
          'the $service drop-down lists the services',
        );
        vars = { entrypoint: all(entrypoints), service: all(services), interval: '1m' };
      });

      for (const q of revision.queries) {
        it(`"${q.panel}" has data`, async () => {
          const expr = q.expr.replace(/\$(entrypoint|service|interval)\b/g, (_, v: string) => vars[v]!);
          const result = await query(expr);
          const names = [...new Set(q.expr.match(/traefik_[a-z_]+/g) ?? [])].join(', ');
          rows.push(`| ${revision.name} | ${q.panel} | ${result.length} (${names}) |`);
          assert.ok(result.length > 0, `no data for ${expr}\n${prom.output().slice(-2000)}`);
          for (const r of result)
            assert.ok(Number.isFinite(Number(r.value[1])), `${JSON.stringify(r)} for ${expr}`);
        });
      }
    });
  }

  it('exposes every request family with exact codes for what the dashboard filters on', async () => {
    const codes = await query('sum by (code) (traefik_service_requests_total)');
    assert.deepEqual(codes.map((r) => r.metric['code']).sort(), ['200', '404', '503']);
    const methods = await query('sum by (method, protocol) (traefik_entrypoint_requests_total)');
    assert.deepEqual(methods.map((r) => `${r.metric['method']} ${r.metric['protocol']}`).sort(), [
      'GET http',
      'POST http',
    ]);
    const up = await query('traefik_service_server_up');
    assert.equal(up.length, 3);
    assert.ok(up.every((r) => r.value[1] === '1' && r.metric['url']?.startsWith('http://127.0.0.1:')));
    const reload = await query('time() - traefik_config_last_reload_success');
    assert.ok(Number(reload[0]?.value[1]) >= 0 && Number(reload[0]?.value[1]) < 3600);
  });
});

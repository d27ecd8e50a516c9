/**
 * `api.debug`, as Traefik's DebugHandler (pkg/api/debug.go) and its `debug` router
 * (pkg/provider/traefik/internal.go apiConfiguration: PathPrefix(`/debug`) to api@internal):
 * `/debug/vars` answers expvar's JSON (`cmdline`, `memstats`, `Goroutines2`) on the API's entry
 * point.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('api.debug: /debug/vars', () => {
  let proxy: ProxyProcess;
  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: { debug: true }
`,
    });
  });
  after(() => proxy?.stop());

  it('answers expvar-shaped JSON on the API entry point', async () => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/debug/vars`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    const vars = (await r.json()) as {
      cmdline: string[];
      memstats: Record<string, number>;
      Goroutines2: number;
    };
    assert.ok(vars.cmdline.includes('run'), JSON.stringify(vars.cmdline));
    assert.ok(vars.memstats['Alloc']! > 0);
    assert.ok(vars.memstats['Sys']! >= vars.memstats['Alloc']!);
    assert.equal(typeof vars.Goroutines2, 'number');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMetrics, readMemory } from './process-probe.ts';

// The families as the proxy writes them (names and labels from a real scrape, values made up).
const SCRAPE = `# HELP traefik_open_connections How many connections are open, by entry point and protocol.
# TYPE traefik_open_connections gauge
traefik_open_connections{entrypoint="web",protocol="TCP"} 12
traefik_open_connections{entrypoint="traefik",protocol="TCP"} 1
# TYPE traefik_entrypoint_open_connections gauge
traefik_entrypoint_open_connections{entrypoint="web",protocol="TCP"} 12
traefik_entrypoint_open_connections{entrypoint="traefik",protocol="TCP"} 1
# TYPE traefik_service_open_connections gauge
traefik_service_open_connections{service="main@file",protocol="http"} 5
# TYPE traffic_upstream_pool_connections gauge
traffic_upstream_pool_connections{server="http://127.0.0.1:1",state="idle"} 3
traffic_upstream_pool_connections{server="http://127.0.0.1:1",state="busy"} 2
# TYPE traffic_tunnels_open gauge
traffic_tunnels_open{router="ws@file",service="main@file"} 4
# TYPE nodejs_heap_size_used_bytes gauge
nodejs_heap_size_used_bytes 20971520
nodejs_heap_size_total_bytes 41943040
# TYPE nodejs_external_memory_bytes gauge
nodejs_external_memory_bytes 3145728
# TYPE nodejs_heap_space_size_used_bytes gauge
nodejs_heap_space_size_used_bytes{space="old"} 15000000
nodejs_heap_space_size_used_bytes{space="code"} 1000000
nodejs_heap_space_size_used_bytes{space="trusted"} 2000000
nodejs_heap_space_size_used_bytes{space="code_large_object"} 300000
nodejs_heap_space_size_used_bytes{space="large_object"} 400000
# TYPE nodejs_heap_space_size_total_bytes gauge
nodejs_heap_space_size_total_bytes{space="code"} 9000000
`;

describe('parseMetrics', () => {
  it('counts client connections once, from the entry points, not from v2 names or services', () => {
    assert.deepEqual(parseMetrics(SCRAPE), {
      heapUsed: 20 * 2 ** 20,
      heapTotal: 40 * 2 ** 20,
      openConnections: 13,
      upstreamConnections: 5,
      tunnels: 4,
      // code + trusted + code_large_object; not old, large_object or the spaces' totals.
      codeHeap: 3_300_000,
      external: 3 * 2 ** 20,
    });
  });

  it('reads the older `<prefix>_open_connections` family when Traefik names are off', () => {
    const ours = 'traffic_open_connections{entrypoint="web"} 7\ntraffic_open_connections{entrypoint="x"} 1\n';
    assert.equal(parseMetrics(ours).openConnections, 8);
  });
});

describe('readMemory', () => {
  it("splits this process's RSS into anonymous and file-backed pages, as /proc counts them", () => {
    const m = readMemory(process.pid);
    // Node's binary is mapped and partly resident; V8's heap is anonymous.
    assert.ok(m.file > 1024 * 1024, `file-backed ${m.file}`);
    assert.ok(m.anon > 1024 * 1024, `anonymous ${m.anon}`);
    // The three fields are read one after another from one status text: they add up.
    assert.equal(m.rss, m.anon + m.file);
  });
});

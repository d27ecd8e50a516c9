/**
 * Keeps the dependency direction of docs/architecture.md true: each module may import only the
 * modules listed for it (type-only imports count too: a type cycle is still a design cycle).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** module → modules it may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  config: ['core'],
  http1: ['core'],
  router: ['core', 'config'],
  balancer: ['core'],
  // The auth middlewares reach servers of their own: forwardAuth through an upstream pool, the
  // Redis rate limit with upstream's TLS; encodedCharacters reuses the entry point's escape table.
  middleware: ['core', 'config', 'resilience', 'upstream', 'http1'],
  // Local plugins (docs/plugins.md): the middleware module knows them only as an interface.
  plugins: ['core', 'config', 'middleware', 'providers'],
  resilience: ['core', 'config'],
  health: ['core', 'config', 'http1'],
  tls: ['core', 'config'],
  // Stores shared by several instances (clustered ACME): the Redis provider's RESP client.
  cluster: ['core', 'config', 'providers', 'tls'],
  // The upstream pool speaks HTTP/1.1 as a client: it is the other half of the codec.
  upstream: ['core', 'config', 'http1'],
  providers: ['core', 'config'],
  observability: ['core', 'config'],
  // The overload manager: pressure signals, connection caps, the request-body budget.
  overload: ['core', 'config', 'observability'],
  runtime: [
    'core',
    'config',
    'router',
    'balancer',
    'middleware',
    'upstream',
    'providers',
    'health',
    'resilience',
    'observability',
    'tls',
  ],
  proxy: [
    'core',
    'config',
    'http1',
    'middleware',
    'upstream',
    'runtime',
    'observability',
    'balancer',
    'resilience',
    'overload',
  ],
  // HTTP/2 downstream: node:http2 sessions whose streams run the proxy's exchanges.
  http2: ['core', 'config', 'http1', 'proxy', 'runtime', 'observability', 'upstream'],
  listeners: [
    'core',
    'config',
    'http1',
    'http2',
    'proxy',
    'runtime',
    'observability',
    'tls',
    'router',
    'overload',
  ],
  // `traffic explain` builds as the proxy does: SPIFFE transports need a Workload API source set.
  cli: ['core', 'config', 'providers', 'router', 'runtime', 'admin', 'tls', 'plugins', 'upstream'],
  // The API's certificate views (Traefik v3.7 /api/certificates) read the TLS store's entries.
  admin: [
    'core',
    'config',
    'runtime',
    'router',
    'providers',
    'observability',
    'middleware',
    'balancer',
    'tls',
  ],
  // Data-plane workers (docs/performance.md): they build snapshots and merge metrics expositions,
  // and keep copies of the control plane's ACME certificates, challenges and OCSP responses.
  workers: ['core', 'config', 'runtime', 'observability', 'upstream', 'tls'],
  // The configuration process (docs/architecture.md): the file provider's reading and checks, the
  // rule compilers (runtime/rule-checks), run in a child that the serving process forks.
  'config-process': ['core', 'config', 'providers', 'runtime'],
};

/**
 * Files of another module a module may import beyond the table (e.g. our own HTTP/2 client for
 * upstreams (upstream/own-h2-*) reuses the frame codec, HPACK, send queue, write scheduler and
 * control-frame budget of the own server engine): files that import nothing outside their module
 * but what the importer may import itself (checked below), so no cycle comes of it.
 */
const SHARED_FILES: Record<string, readonly string[]> = {
  upstream: [
    'http2/frames.ts',
    'http2/frame-reader.ts',
    'http2/frame-writer.ts',
    'http2/hpack-decoder.ts',
    'http2/hpack-encoder.ts',
    'http2/hpack-huffman.ts',
    'http2/hpack-table.ts',
    'http2/own-fields.ts',
    'http2/own-limits.ts',
    'http2/own-send-queue.ts',
    'http2/own-socket-reader.ts',
    'http2/own-write-scheduler.ts',
    'http2/preface.ts',
    'http2/stream-map.ts',
  ],
};

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

function moduleOf(file: string): string {
  return relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '');
}

describe('module dependencies', () => {
  it('follow the dependency direction of docs/architecture.md', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const from = moduleOf(file);
      if (from === 'main') continue; // the composition root may import everything
      const allowed = ALLOWED[from];
      assert.ok(allowed, `module ${from} is not in the dependency table of test/architecture.test.ts`);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = resolve(dirname(file), m[1]!);
        if (!target.startsWith(SRC)) continue;
        const to = moduleOf(target);
        if (SHARED_FILES[from]?.includes(relative(SRC, target)) === true) continue;
        if (to !== from && !allowed.includes(to)) violations.push(`${relative(SRC, file)} imports ${to}`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it('shares only files that import nothing outside their module but what the importer may', () => {
    for (const [importer, shared] of Object.entries(SHARED_FILES)) {
      for (const rel of shared) {
        const file = join(SRC, rel);
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
          const target = resolve(dirname(file), m[1]!);
          const to = moduleOf(target);
          const ok = to === moduleOf(file) || ALLOWED[importer]!.includes(to);
          assert.ok(ok, `${rel} imports ${relative(SRC, target)}`);
        }
      }
    }
  });
});

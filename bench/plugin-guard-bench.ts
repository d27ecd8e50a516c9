/**
 * What the plugin guard (src/plugins/adapter.ts) costs per request, in process: the request and
 * response phases of the `headers` middleware (a request header, a response header) against the
 * same work done by a plugin (bench/plugins/stamp.ts), called bare and through the guard. 5 rounds
 * of N requests over a few realistic heads (8 request fields); prints ns per request per round.
 *
 *   ./node_modules/.bin/node bench/plugin-guard-bench.ts [requestsPerRound]
 *
 * A benchmark, not a test: run it on a quiet machine and read the medians. Whole-proxy numbers:
 * `npm run bench -- --only ours,hdr,plugin --variant hdr=bench/configs/bench-headers.yaml
 * --variant plugin=bench/configs/bench-plugin.yaml`.
 */
import { HeadersSchema } from '../src/config/dynamic/middlewares.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { RequestHead, ResponseHead } from '../src/core/request.ts';
import { headersFactory } from '../src/middleware/headers/index.ts';
import type { Middleware, RequestControl } from '../src/middleware/middleware.ts';
import { makeRequest, makeResponse, testContext } from '../src/middleware/test-request.ts';
import { PluginGuard } from '../src/plugins/adapter.ts';
import { validateOptions } from '../src/plugins/options.ts';
import type { Middleware as PluginMiddleware } from '../types/plugin.d.ts';
import { plugin } from './plugins/stamp.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 5;
const CTL: RequestControl = { resume: () => {}, onEnd: () => {}, transformBody: () => {} };

const builtIn = headersFactory.create(
  HeadersSchema.parse({
    customRequestHeaders: { 'X-Bench': '1' },
    customResponseHeaders: { 'X-Served-By': 'traffic' },
  }),
  testContext(),
) as Middleware;
const options = validateOptions(plugin.schema, {
  request: { 'X-Bench': '1' },
  response: { 'X-Served-By': 'traffic' },
});
if (!('value' in options)) throw new Error('bad options');
const bare = plugin.create(options.value as never, {} as never) as PluginMiddleware;
const guarded = new PluginGuard(bare, 'stamp', 'hdr@file', silentLogger).middleware();

const heads: { req: RequestHead; res: ResponseHead }[] = Array.from({ length: 64 }, (_, i) => ({
  req: makeRequest(`http://app${i}.example.com/api/v1/items?page=${i}`, {
    headers: [
      ['User-Agent', 'wrk'],
      ['Accept', '*/*'],
      ['Accept-Encoding', 'gzip'],
      ['X-Forwarded-For', '10.0.0.1'],
      ['X-Forwarded-Proto', 'http'],
      ['X-Forwarded-Host', `app${i}.example.com`],
      ['X-Real-Ip', '10.0.0.1'],
    ],
  }),
  res: makeResponse(200, [
    ['Content-Type', 'text/plain'],
    ['Content-Length', '12'],
  ]),
}));

/** The stamp plugin answers synchronously: its phases are called as a built-in's are. */
function run(m: Middleware): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const h = heads[i & 63]!;
    m.onRequest?.(h.req, CTL);
    m.onResponse?.(h.req, h.res);
  }
  return Number(process.hrtime.bigint() - t) / N;
}

const results: Record<string, number[]> = {
  'headers (built-in)': [],
  'plugin, bare': [],
  'plugin, guarded': [],
};
for (let r = 0; r < ROUNDS; r++) {
  results['headers (built-in)']!.push(run(builtIn));
  results['plugin, bare']!.push(run(bare as unknown as Middleware));
  results['plugin, guarded']!.push(run(guarded));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(results)) {
  console.log(
    `${name.padEnd(20)} ${xs.map((x) => x.toFixed(0).padStart(5)).join(' ')}  median ${median(xs).toFixed(0)} ns/request`,
  );
}

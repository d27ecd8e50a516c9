import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { httpProviderSchema } from '../../config/static/providers.ts';
import { UpdateReader } from '../provider.contract.ts';
import { HttpProvider } from './http-provider.ts';

async function endpoint(
  t: TestContext,
  answer: (req: IncomingMessage) => { status?: number; body: string; hold?: boolean },
): Promise<string> {
  const server = createServer((req, res) => {
    const a = answer(req);
    if (a.hold === true) return; // never answers: the poll times out
    res.writeHead(a.status ?? 200).end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/dynamic`;
}

function watch(t: TestContext, input: Record<string, unknown>): UpdateReader {
  const p = new HttpProvider(httpProviderSchema.parse({ pollInterval: '20ms', ...input }), {});
  const ctl = new AbortController();
  t.after(() => ctl.abort());
  return new UpdateReader(p.watch(ctl.signal), 5000);
}

/** The error the watch fails with (what the supervisor sees). */
async function failure(t: TestContext, input: Record<string, unknown>): Promise<Error> {
  const p = new HttpProvider(httpProviderSchema.parse({ pollInterval: '20ms', ...input }), {});
  const ctl = new AbortController();
  t.after(() => ctl.abort());
  try {
    for await (const _ of p.watch(ctl.signal)) {
      // a failure is expected before any update
    }
  } catch (e) {
    return e as Error;
  }
  throw new Error('the watch ended without failing');
}

describe('HttpProvider', () => {
  it('sends the configured headers, a Host entry as the request host', async (t) => {
    const seen: IncomingMessage['headers'][] = [];
    const url = await endpoint(t, (req) => {
      seen.push(req.headers);
      return { body: 'http: {}' };
    });
    const reader = watch(t, { endpoint: url, headers: { Host: 'config.internal', 'X-Token': 's3cret' } });
    await reader.next();
    assert.equal(seen[0]?.host, 'config.internal');
    assert.equal(seen[0]?.['x-token'], 's3cret');
  });

  it("refuses a body with an empty map, as Traefik's file decoder (paerser) refuses it", async (t) => {
    const url = await endpoint(t, () => ({ body: 'http:\n  routers: {}\n' }));
    const update = await watch(t, { endpoint: url }).next();
    assert.equal(update.config, undefined);
    assert.ok(
      update.issues.some((i) => i.message.includes('`routers` cannot be a standalone element')),
      JSON.stringify(update.issues),
    );
  });

  it('reports a body that does not parse with its line, once, then takes the fixed body', async (t) => {
    let body = 'http:\n  routers: [\n';
    let polls = 0;
    const url = await endpoint(t, () => {
      polls++;
      return { body };
    });
    const reader = watch(t, { endpoint: url });
    const bad = await reader.next();
    assert.equal(bad.config, undefined);
    assert.equal(bad.issues[0]?.file, url);
    assert.equal(bad.issues[0]?.line, 3);
    const before = polls;
    body = 'http:\n  routers:\n    a: { rule: "Path(`/a`)", service: b@file }\n';
    const good = await reader.next();
    assert.ok(polls > before);
    assert.deepEqual(Object.keys(good.config?.http.routers ?? {}), []);
    assert.match(
      good.issues[0]?.message ?? '',
      /provider `file` is not available|provider is not enabled|not supported yet/,
    );
  });

  it('fails its watch on a status other than 200', async (t) => {
    const url = await endpoint(t, () => ({ status: 404, body: 'no such config' }));
    assert.match((await failure(t, { endpoint: url })).message, /status 404: no such config/);
  });

  it('fails its watch on a body over maxResponseBodySize', async (t) => {
    const url = await endpoint(t, () => ({ body: `# ${'x'.repeat(100)}\nhttp: {}\n` }));
    assert.match(
      (await failure(t, { endpoint: url, maxResponseBodySize: 64 })).message,
      /larger than 64 bytes/,
    );
  });

  it('fails its watch when the endpoint does not answer within pollTimeout', async (t) => {
    const url = await endpoint(t, () => ({ body: '', hold: true }));
    assert.match(
      (await failure(t, { endpoint: url, pollTimeout: '100ms' })).message,
      /no complete answer within 100 ms/,
    );
  });
});

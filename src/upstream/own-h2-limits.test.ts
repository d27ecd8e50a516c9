/**
 * What our own HTTP/2 client refuses to do for a backend or a middleware, against a real server
 * on loopback that sends whatever frames a test scripts (test-raw-h2.ts): answer a flood of
 * PING/SETTINGS/empty DATA frames (the session ends with ENHANCE_YOUR_CALM, counted), send a head
 * larger than the server's SETTINGS_MAX_HEADER_LIST_SIZE (431, never sent), or send a field that
 * is malformed in HTTP/2 (500, never sent; surrounding whitespace is trimmed instead).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Ticker } from '../core/ticker.ts';
import {
  E_CANCEL,
  E_ENHANCE_YOUR_CALM,
  F_GOAWAY,
  F_RST_STREAM,
  S_INITIAL_WINDOW_SIZE,
  S_MAX_HEADER_LIST_SIZE,
} from '../http2/frames.ts';
import { H2Pool } from './h2-pool.ts';
import { h2PoolOptions, RecordingUser, type SentRequest } from './test-h2.ts';
import { type RawPeer, startRawH2Server } from './test-raw-h2.ts';

const ticker = new Ticker(20);
after(() => ticker.stop());

function ownPool(port: number): H2Pool {
  return new H2Pool(h2PoolOptions(port, { maxConns: 1 }), ticker, null, 'own');
}

async function send(pool: H2Pool, req: SentRequest = {}): Promise<RecordingUser> {
  const u = new RecordingUser(req);
  pool.acquire(u, req.method ?? 'GET');
  await u.done;
  return u;
}

function ok(p: RawPeer, id: number): void {
  p.headers(id, [':status', '200'], false);
  p.writer.data(id, Buffer.from('ok'), 0, 2, true);
}

const MANY_WINDOW_CHANGES: readonly number[] = Array.from({ length: 33 }, (_, i) => [
  S_INITIAL_WINDOW_SIZE,
  65_535 + (i % 2),
]).flat();

describe('own HTTP/2 client: a backend that floods control frames', () => {
  const PING = Buffer.from('12345678');
  for (const [what, flood] of [
    ['PING', (p: RawPeer) => p.writer.ping(PING, 0)],
    ['SETTINGS', (p: RawPeer) => p.writer.settings([])],
    ['empty DATA', (p: RawPeer, id: number) => p.writer.data(id, Buffer.alloc(0), 0, 0, false)],
    // One frame of 33 window changes: more entries than nghttp2 takes (Go CVE-2026-78669).
    ['SETTINGS entries', (p: RawPeer) => p.writer.settings(MANY_WINDOW_CHANGES)],
  ] as const) {
    it(`ends the session with GOAWAY(ENHANCE_YOUR_CALM) after 5000 ${what} frames at once, and counts it`, async (t) => {
      let goaway = -1;
      let sawGoaway!: () => void;
      const gotGoaway = new Promise<void>((r) => {
        sawGoaway = r;
      });
      const srv = await startRawH2Server(
        (p, id) => {
          if (what === 'empty DATA') p.headers(id, [':status', '200'], false);
          for (let i = 0; i < 5000; i++) flood(p, id);
          if (what === 'empty DATA') p.writer.data(id, Buffer.from('ok'), 0, 2, true);
          else ok(p, id);
        },
        [],
        (type, _flags, _id, payload) => {
          if (type !== F_GOAWAY) return;
          goaway = payload.readUInt32BE(4);
          sawGoaway();
        },
      );
      const pool = ownPool(srv.port);
      t.after(async () => {
        pool.close();
        await srv.close();
      });
      const u = await send(pool);
      assert.equal(u.ended, false, 'the flooded stream did not end cleanly');
      assert.equal(u.error?.err.code, 'UPSTREAM_BAD_RESPONSE');
      assert.match(u.error.err.message, new RegExp(`${what} flood`));
      await gotGoaway;
      assert.equal(goaway, E_ENHANCE_YOUR_CALM);
      assert.equal(pool.streams.floods, 1);
    });
  }
});

describe('own HTTP/2 client: request heads it will not send', () => {
  it("refuses a head over the server's SETTINGS_MAX_HEADER_LIST_SIZE with 431, unsent; the session serves on", async (t) => {
    const seen: string[] = [];
    const srv = await startRawH2Server(
      (p, id, fields) => {
        seen.push(fields[fields.indexOf(':path') + 1]!);
        ok(p, id);
      },
      [S_MAX_HEADER_LIST_SIZE, 400],
    );
    const pool = ownPool(srv.port);
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    // The first request learns the server's SETTINGS.
    assert.equal((await send(pool, { target: '/first' })).body, 'ok');
    const big = await send(pool, { target: '/big', headers: [['x-big', 'v'.repeat(400)]] });
    assert.equal(big.error?.err.code, 'HEADERS_TOO_LARGE');
    assert.equal(big.error.err.status, 431);
    assert.match(big.error.err.message, /SETTINGS_MAX_HEADER_LIST_SIZE of 400/);
    assert.equal((await send(pool, { target: '/after' })).body, 'ok');
    assert.deepEqual(seen, ['/first', '/after']);
  });

  it('refuses a field with CR, LF, NUL or an invalid name with 500, unsent; trims surrounding whitespace; sends a non-latin1 value as UTF-8', async (t) => {
    const seen: string[][] = [];
    const srv = await startRawH2Server((p, id, fields) => {
      seen.push(fields);
      ok(p, id);
    });
    const pool = ownPool(srv.port);
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    for (const [name, value] of [
      ['x-a', 'a\r\nx-injected: 1'],
      ['x-a', 'a\nb'],
      ['x-a', 'a\0b'],
      ['x a', 'value'],
      ['x-\u00e9', 'value'],
    ] as const) {
      const u = await send(pool, { target: '/bad', headers: [[name, value]] });
      assert.equal(u.error?.err.code, 'INTERNAL', `${JSON.stringify([name, value])} refused`);
      assert.equal(u.error.err.status, 500);
      assert.equal(u.error.phase, 'connect');
      assert.equal(u.error.err.message.includes(value), false, 'the value stays out of the message');
    }
    const trimmed = await send(pool, { target: '/pad', headers: [['x-pad', ' \tv w \t']] });
    assert.equal(trimmed.body, 'ok');
    // U+010A: its latin1 byte would be LF; its UTF-8 bytes are C4 8A, as Go sends a string.
    const wide = await send(pool, { target: '/wide', headers: [['x-a', 'a\u010ab']] });
    assert.equal(wide.body, 'ok');
    assert.equal(seen.length, 2, 'only the valid requests reached the server');
    const f = seen[0]!;
    assert.equal(f[f.indexOf(':path') + 1], '/pad');
    assert.equal(f[f.indexOf('x-pad') + 1], 'v w');
    const g = seen[1]!;
    assert.equal(g[g.indexOf('x-a') + 1], 'a\xc4\x8ab');
  });
});

describe('own HTTP/2 client: request trailers get the checks of the head', () => {
  /** A server that answers once the request's trailers (its second HEADERS) arrive. */
  async function trailerServer(settings: number[] = []) {
    const trailers: string[][] = [];
    const resets: number[] = [];
    let sawReset!: () => void;
    const reset = new Promise<void>((r) => {
      sawReset = r;
    });
    const srv = await startRawH2Server(
      (p, id, fields, endStream) => {
        if (fields.includes(':path')) return;
        trailers.push(fields);
        if (endStream) ok(p, id);
      },
      settings,
      (type, _flags, _id, payload) => {
        if (type !== F_RST_STREAM) return;
        resets.push(payload.readUInt32BE(0));
        sawReset();
      },
    );
    return { srv, trailers, resets, reset };
  }

  it('refuses a trailer with CR or LF: RST_STREAM(CANCEL), 500, the trailers never sent', async (t) => {
    const { srv, trailers, resets, reset } = await trailerServer();
    const pool = ownPool(srv.port);
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    const u = await send(pool, { body: [Buffer.from('x')], trailers: [['x-t', 'a\r\nx-injected: 1']] });
    assert.equal(u.error?.err.code, 'INTERNAL');
    assert.equal(u.error.err.status, 500);
    assert.equal(u.error.err.message.includes('injected'), false, 'the value stays out of the message');
    await reset;
    assert.deepEqual(resets, [E_CANCEL]);
    assert.deepEqual(trailers, []);
  });

  it("refuses trailers over the server's SETTINGS_MAX_HEADER_LIST_SIZE with 431, never sent", async (t) => {
    const { srv, trailers, reset } = await trailerServer([S_MAX_HEADER_LIST_SIZE, 400]);
    const pool = ownPool(srv.port);
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    // The first request learns the server's SETTINGS.
    const first = await send(pool, { body: [Buffer.from('x')], trailers: [['x-t', 'small']] });
    assert.equal(first.body, 'ok');
    const big = await send(pool, { body: [Buffer.from('x')], trailers: [['x-big', 'v'.repeat(400)]] });
    assert.equal(big.error?.err.code, 'HEADERS_TOO_LARGE');
    assert.match(big.error.err.message, /trailer list/);
    await reset;
    assert.deepEqual(trailers, [['x-t', 'small']]);
  });

  it('sends a trailer value past U+00FF as its UTF-8 bytes', async (t) => {
    const { srv, trailers } = await trailerServer();
    const pool = ownPool(srv.port);
    t.after(async () => {
      pool.close();
      await srv.close();
    });
    const u = await send(pool, { body: [Buffer.from('x')], trailers: [['x-t', 'caf\u00e9 \u010d\u010a']] });
    assert.equal(u.body, 'ok');
    assert.deepEqual(trailers, [['x-t', 'caf\xc3\xa9 \xc4\x8d\xc4\x8a']]);
  });
});

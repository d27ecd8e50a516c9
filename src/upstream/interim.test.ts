import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { ProxyError } from '../core/errors.ts';
import { Ticker } from '../core/ticker.ts';
import type { ParsedResponse } from '../http1/response-head.ts';
import type { UpstreamConnection } from './connection.ts';
import { UpstreamPool } from './pool.ts';
import type { UpstreamUser } from './stream.ts';
import { poolOptions } from './test-pool.ts';

/**
 * Interim (1xx) responses from an upstream, and the empty line some servers send after
 * `100 Continue` before the final head (RFC 9112 §2.2 robustness; HAProxy and Caddy relay the
 * final response). Each origin answers the request with `writes`, one socket write each.
 */
async function exchange(
  writes: readonly string[],
): Promise<{ statuses: number[]; body: string; error: string | null }> {
  const server = createServer((s: Socket) => {
    s.on('error', () => {});
    s.once('data', async () => {
      for (const w of writes) {
        // One write per TCP segment: the codec must handle a gap split anywhere.
        await new Promise<void>((r) => s.write(w, 'latin1', () => r()));
        await new Promise((r) => setImmediate(r));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const ticker = new Ticker();
  const pool = new UpstreamPool(poolOptions(port, { maxIdle: 1, maxResponseHeaderBytes: 1024 }), ticker);
  const statuses: number[] = [];
  let body = '';
  try {
    const error = await new Promise<string | null>((resolve) => {
      const user: UpstreamUser = {
        onUpstreamReady(conn: UpstreamConnection) {
          conn.socket.write(
            'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n',
          );
        },
        onUpstreamInterim(res: ParsedResponse) {
          statuses.push(res.status);
        },
        onUpstreamHead(res: ParsedResponse, b: Buffer | null, s: number, e: number) {
          statuses.push(res.status);
          if (b !== null) body += b.toString('latin1', s, e);
        },
        onUpstreamData(b: Buffer, s: number, e: number) {
          body += b.toString('latin1', s, e);
        },
        onUpstreamEnd: () => resolve(null),
        onUpstreamError: (err: ProxyError) => resolve(`${err.code}: ${err.message}`),
        onInternalError: (e: unknown) => resolve(`internal: ${String(e)}`),
        onUpstreamDrain() {},
        onUpstreamUpgrade() {},
      };
      pool.acquire(user, 'POST');
    });
    return { statuses, body, error };
  } finally {
    pool.close();
    ticker.stop();
    server.close();
  }
}

const FINAL = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

describe('upstream interim responses', () => {
  it('relays the final response after 100 Continue', async () => {
    assert.deepEqual(await exchange([CONTINUE + FINAL]), { statuses: [100, 200], body: 'ok', error: null });
  });

  it('skips a stray CRLF between 100 Continue and the final response', async () => {
    assert.deepEqual(await exchange([`${CONTINUE}\r\n${FINAL}`]), {
      statuses: [100, 200],
      body: 'ok',
      error: null,
    });
  });

  it('skips the stray CRLF when it arrives alone, or split between its CR and LF', async () => {
    for (const writes of [
      [CONTINUE, '\r\n', FINAL],
      [`${CONTINUE}\r`, `\n${FINAL}`],
      [CONTINUE, '\r', '\n', 'HT', FINAL.slice(2)],
    ]) {
      assert.deepEqual(
        await exchange(writes),
        { statuses: [100, 200], body: 'ok', error: null },
        writes.join('|'),
      );
    }
  });

  it('skips empty lines after each of several interim responses', async () => {
    const early = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n';
    assert.deepEqual(await exchange([`${CONTINUE}\r\n${early}\r\n\r\n${FINAL}`]), {
      statuses: [100, 103, 200],
      body: 'ok',
      error: null,
    });
  });

  it('still refuses a bare LF, a bare CR or other bytes after 100 Continue (502)', async () => {
    for (const gap of ['\n', '\r\r\n', '\rX', ' \r\n', '\r\n\n']) {
      const r = await exchange([`${CONTINUE}${gap}${FINAL}`]);
      assert.match(r.error ?? '', /^UPSTREAM_BAD_RESPONSE/, JSON.stringify(gap));
      assert.deepEqual(r.statuses, [100], JSON.stringify(gap));
    }
  });

  it('still refuses an empty line before a first response that followed no interim one', async () => {
    const r = await exchange([`\r\n${FINAL}`]);
    assert.match(r.error ?? '', /^UPSTREAM_BAD_RESPONSE/);
    assert.deepEqual(r.statuses, []);
  });

  it('refuses more empty lines than the response head limit allows', async () => {
    const r = await exchange([`${CONTINUE}${'\r\n'.repeat(600)}${FINAL}`]);
    assert.match(r.error ?? '', /^UPSTREAM_BAD_RESPONSE: upstream response head too large/);
  });
});

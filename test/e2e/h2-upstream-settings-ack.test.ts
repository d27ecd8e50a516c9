/**
 * An h2c backend that never acknowledges our SETTINGS (RFC 9113 §6.5.3): the own HTTP/2 client
 * gives it `pingTimeout` (the time a server has to answer a control frame of ours), then ends the
 * session with GOAWAY(SETTINGS_TIMEOUT), and the request waiting on it fails with 502. Before,
 * nothing bounded the wait: with no responseHeaderTimeout (the default) the request hung on a
 * backend that read nothing. The server side holds clients to the same rule (readHeaderTimeout).
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { frame, GOAWAY, parseFrames, SETTINGS } from '../helpers/h2-frames.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const E_SETTINGS_TIMEOUT = 0x4;

describe('own HTTP/2 client: a backend that never acknowledges our SETTINGS', () => {
  let backend: Server;
  const sockets: Socket[] = [];
  let proxy: ProxyProcess;
  /** GOAWAY error codes the backend received. */
  const goaways: number[] = [];
  let sawGoaway!: () => void;
  const gotGoaway = new Promise<void>((r) => {
    sawGoaway = r;
  });

  before(async () => {
    backend = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
      // Its own SETTINGS (the preface a client waits for), then silence: no ACK, no answer.
      s.write(frame(SETTINGS, 0, 0));
      let got = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        const start = got.indexOf('\r\n\r\nSM\r\n\r\n') + 10;
        for (const f of parseFrames(got.subarray(start))) {
          if (f.type === GOAWAY && goaways.length === 0) {
            goaways.push(f.payload.readUInt32BE(4));
            sawGoaway();
          }
        }
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
experimental: { http2Engine: own }
http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: be }
  serversTransports:
    quick:
      forwardingTimeouts: { pingTimeout: 300ms }
  services:
    be:
      loadBalancer:
        serversTransport: quick
        servers: [{ url: "h2c://127.0.0.1:${port}" }]
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    for (const s of sockets) s.destroy();
    await new Promise((r) => backend?.close(r));
  });

  it('ends the session with GOAWAY(SETTINGS_TIMEOUT) and answers the waiting request 502', async () => {
    // --max-time bounds the test if the session waited forever (as before): curl fails then.
    const r = await curl(['--max-time', '20', `http://127.0.0.1:${proxy.ports['web']!}/`]);
    assert.equal(r.status, 502);
    await gotGoaway;
    assert.deepEqual(goaways, [E_SETTINGS_TIMEOUT]);
  });
});

/**
 * forwardAuth's failed calls in Go's words, as Traefik's forward.go logs them
 * (`logger.Debug().Err(forwardErr).Msgf("Error calling %s", fa.address)`; "Error reading body %s"
 * for its body) with Go's http.Client error: `Get "<address>": dial tcp 127.0.0.1:P: connect:
 * connection refused`, `EOF`, a reset, Client.Timeout's `context deadline exceeded (…)`, the
 * body's `unexpected EOF`; `Post` with preserveRequestMethod. Each auth server is a real socket on
 * loopback; the lines are read from the proxy's log.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** A TCP server that does `onRequest` with each connection once it has read a request's head. */
async function rawServer(onRequest: (s: Socket) => void): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let head = '';
    s.on('data', (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        head = '';
        onRequest(s);
      }
    });
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { port: typeof a === 'object' && a !== null ? a.port : 0, server };
}

describe('forwardAuth failures in Go words (e2e)', () => {
  let proxy: ProxyProcess;
  let dead = 0;
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  const peers: Record<string, string> = {};

  before(async () => {
    dead = await freePort();
    const start = async (name: string, onRequest: (s: Socket) => void) => {
      const s = await rawServer(onRequest);
      servers.push(s.server);
      ports[name] = s.port;
    };
    await start('eof', (s) => s.end());
    await start('reset', (s) => {
      // The proxy's end of the connection, which Go's read error names first.
      peers['reset'] = `${s.remoteAddress}:${s.remotePort}`;
      s.resetAndDestroy();
    });
    await start('silent', () => {});
    await start('cut', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc'));
    const auth = (name: string, address: string, extra = '') =>
      `    ${name}: { forwardAuth: { address: "${address}"${extra} } }\n`;
    proxy = await startProxy({
      config: `log: { level: DEBUG }
entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
${['refused', 'post', 'eof', 'reset', 'silent', 'cut']
  .map((n) => `    ${n}: { rule: "Path(\`/${n}\`)", service: noop@internal, middlewares: [${n}] }\n`)
  .join('')}  middlewares:
${auth('refused', `http://127.0.0.1:${dead}/auth`)}${auth('post', `http://u:secret@127.0.0.1:${dead}/auth?x=1`, ', preserveRequestMethod: true')}${auth('eof', `http://127.0.0.1:${ports['eof']}/auth`)}${auth('reset', `http://127.0.0.1:${ports['reset']}/auth`)}${auth('silent', `http://127.0.0.1:${ports['silent']}/auth`, ', timeout: 300ms')}${auth('cut', `http://127.0.0.1:${ports['cut']}/auth`)}`,
    });
  });

  after(async () => {
    await proxy?.stop();
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  /** The proxy's status for `/name` (sent with `method`) and its debug line about the call. */
  const call = async (name: string, what: string, address: string, method = 'GET'): Promise<LogLine> => {
    const r = await fetch(`http://127.0.0.1:${proxy.port}/${name}`, { method });
    await r.arrayBuffer();
    assert.equal(r.status, 500, name);
    return proxy.waitForLog((l) => l.msg === `${what} ${address}` && l.level === 'debug');
  };

  it("connection refused: Go's dial error in a url.Error", async () => {
    const address = `http://127.0.0.1:${dead}/auth`;
    const l = await call('refused', 'Error calling', address);
    assert.equal(l['error'], `Get "${address}": dial tcp 127.0.0.1:${dead}: connect: connection refused`);
    assert.equal(l['middleware'], 'refused@file');
  });

  it("preserveRequestMethod: the request's method, the URL's password hidden as Go's", async () => {
    const address = `http://u:secret@127.0.0.1:${dead}/auth?x=1`;
    const l = await call('post', 'Error calling', address, 'POST');
    assert.equal(
      l['error'],
      `Post "http://u:***@127.0.0.1:${dead}/auth?x=1": dial tcp 127.0.0.1:${dead}: connect: connection refused`,
    );
  });

  it('a server that closes before answering: EOF', async () => {
    const address = `http://127.0.0.1:${ports['eof']}/auth`;
    assert.equal((await call('eof', 'Error calling', address))['error'], `Get "${address}": EOF`);
  });

  it("a reset before the answer: read: connection reset by peer, naming both ends as Go's net.OpError", async () => {
    const address = `http://127.0.0.1:${ports['reset']}/auth`;
    const l = await call('reset', 'Error calling', address);
    assert.equal(
      l['error'],
      `Get "${address}": read tcp ${peers['reset']}->127.0.0.1:${ports['reset']}: read: connection reset by peer`,
    );
  });

  it("no answer within the timeout: Client.Timeout's context deadline exceeded", async () => {
    const address = `http://127.0.0.1:${ports['silent']}/auth`;
    assert.equal(
      (await call('silent', 'Error calling', address))['error'],
      `Get "${address}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    );
  });

  it('a body cut short: Error reading body, unexpected EOF', async () => {
    const address = `http://127.0.0.1:${ports['cut']}/auth`;
    assert.equal((await call('cut', 'Error reading body', address))['error'], 'unexpected EOF');
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/helpers/free-port.ts';

const RELAY = join(import.meta.dirname, 'node-relay.ts');

/**
 * The first connection that the relay (just spawned) accepts, retried while it starts. Not a
 * probe and then a connection: the relay opens a backend connection for every client one.
 */
async function connectWhenUp(port: number): Promise<Socket> {
  for (let i = 0; ; i++) {
    const s = connect({ host: '127.0.0.1', port });
    const up = await once(s, 'connect').then(
      () => true,
      () => false,
    );
    if (up) return s;
    if (i === 100) throw new Error(`the relay never listened on ${port}`);
    await sleep(50);
  }
}

describe('node-relay (the node-net row of --mode http)', () => {
  it('relays keep-alive requests on one backend connection per client, and closes both together', async (t) => {
    const backendSockets: unknown[] = [];
    const backend = createHttpServer((req, res) => res.end(`hello ${req.url}\n`));
    backend.on('connection', (s) => backendSockets.push(s));
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    t.after(() => backend.close());
    const backendPort = (backend.address() as AddressInfo).port;
    const port = await freePort();
    const relay = spawn(process.execPath, [RELAY, String(port), String(backendPort)], { stdio: 'ignore' });
    t.after(() => relay.kill('SIGKILL'));

    const client = await connectWhenUp(port);
    let got = '';
    client.on('data', (d) => {
      got += d.toString('latin1');
    });
    for (const path of ['/a', '/b', '/c']) {
      client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      for (let i = 0; i < 200 && !got.includes(`hello ${path}\n`); i++) await sleep(10);
      assert.ok(got.includes(`hello ${path}\n`), `answer to ${path}: ${got}`);
    }
    assert.equal(backendSockets.length, 1, 'one backend connection for the client connection');
    const closed = once(client, 'close');
    backend.closeAllConnections();
    await Promise.race([closed, sleep(5_000).then(() => assert.fail('the client connection stayed open'))]);
  });

  it('refuses bad arguments', async () => {
    const child = spawn(process.execPath, [RELAY, 'x', '0'], { stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
  });
});

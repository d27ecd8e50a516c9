/**
 * TCP routers across a reload and a shutdown, through the real proxy: a connection opened before
 * a reload keeps its server; new connections follow the new configuration; SIGTERM closes what
 * is left (FIN to both sides) and the process exits 0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { currentGeneration, waitApplied } from '../helpers/wait.ts';

const dynamic = (address: string): string => `tcp:
  routers:
    r: { rule: "HostSNI(\`*\`)", service: s }
  services:
    s: { loadBalancer: { servers: [{ address: "${address}" }] } }
`;

/** Opens a connection and resolves once the greeting of its server arrived. */
async function openTo(port: number): Promise<{ socket: Socket; greeting: string }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.setEncoding('latin1');
  const [greeting] = (await once(socket, 'data')) as [string];
  return { socket, greeting };
}

describe('TCP across reloads and shutdown', () => {
  let a: TcpBackend;
  let b: TcpBackend;
  let proxy: ProxyProcess;

  before(async () => {
    a = await startEchoServer('A\n');
    b = await startEchoServer('B\n');
    proxy = await startProxy({
      config: `entryPoints:
  tcp:
    address: "127.0.0.1:0"
log: { level: DEBUG }
providers:
  file: { filename: dyn.yaml }
`,
      files: { 'dyn.yaml': dynamic(a.address) },
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await Promise.all([a?.close(), b?.close()]);
  });

  it('keeps an open connection on its server through a reload; new ones go to the new server', async () => {
    const port = proxy.ports['tcp']!;
    const old = await openTo(port);
    assert.equal(old.greeting, 'A\n');
    const g = currentGeneration(proxy);
    proxy.writeFile('dyn.yaml', dynamic(b.address));
    await waitApplied(proxy, g + 1);
    const fresh = await tcpExchange(port, null, { untilData: '\n' });
    assert.equal(fresh.data.toString(), 'B\n');
    // The old connection still works, on A.
    old.socket.write('still here');
    const [echo] = (await once(old.socket, 'data')) as [string];
    assert.equal(echo, 'still here');
    old.socket.destroy();
  });

  it('closes open TCP connections on SIGTERM and exits 0', async () => {
    const open = await openTo(proxy.ports['tcp']!);
    const closed = once(open.socket, 'close');
    const code = await proxy.stop('SIGTERM', 15_000);
    await closed;
    assert.equal(code, 0);
    // The server side gets its FIN too (its close may follow the client's by a moment).
    for (let i = 0; i < 100 && b.open.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(b.open.size, 0, 'the server side was closed too');
  });
});

/**
 * A real WebSocket backend (the `ws` package on a node:http server) for e2e tests: echoes every
 * message back with its type, answers pings (ws does), closes with the code and reason a client
 * closed with, and records the handshakes it accepted.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface WsBackend {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /** Handshake requests accepted, in order. */
  readonly handshakes: IncomingMessage[];
  /** Raw TCP sockets of open WebSocket connections (to kill them in chaos tests). */
  readonly sockets: Set<Socket>;
  /** Open WebSocket connections. */
  openCount(): number;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><title>waiting</title><script>
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/browser');
ws.onopen = () => ws.send('from the browser');
ws.onmessage = (e) => { document.title = 'echo: ' + e.data; ws.close(1000); };
ws.onerror = () => { document.title = 'error'; };
</script>`;

export async function startWsBackend(
  opts: { readonly protocols?: readonly string[] } = {},
): Promise<WsBackend> {
  const handshakes: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (req.url === '/page') {
      // A page whose script talks to us over a WebSocket of the same origin (browser tests).
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(PAGE);
      return;
    }
    // A plain request to a WebSocket endpoint, as a real app answers it.
    res.writeHead(426, { upgrade: 'websocket', connection: 'upgrade' });
    res.end(`plain ${req.method} ${req.url}`);
  });
  const wss = new WebSocketServer({
    server,
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) => {
      for (const p of opts.protocols ?? []) if (offered.has(p)) return p;
      return false;
    },
  });
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    const sock = req.socket;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code, reason) => {
      // Echo the close (ws answers a close frame by itself; this keeps the code for the record).
      void code;
      void reason;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    handshakes,
    sockets,
    openCount: () => wss.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// The WebSocket backend of `--mode ws`, run as its own process pinned beside the proxy:
// `node bench/lib/ws-echo-server.ts <port>`. Every message comes back as it came (the `ws`
// package, the reference implementation for node); a plain GET answers 200 (readiness).
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? '9002');
const server = createServer((_req, res) => res.end('ws echo\n'));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(port, '127.0.0.1');

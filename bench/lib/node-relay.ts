// The `node-net` row of `--mode http` and `--mode latency`: the floor of Node's own I/O for this
// benchmark, not a proxy. `node bench/lib/node-relay.ts <listen port> <backend port>` (127.0.0.1
// both) gives each client connection its own backend connection and copies bytes both ways with
// net's 'data' events and `write`: no HTTP parsing, routing, pooling or header rewriting. Whatever a Node
// proxy costs per request beyond this row is its own code; what this row costs beyond nginx is
// Node's (docs/performance.md, "Node's floor"). It works only because the benchmark's clients
// keep one connection per request stream and the backend is a single keep-alive HTTP/1.1 server.
import { connect, createServer } from 'node:net';

const [listenText = '8080', backendText = '9001'] = process.argv.slice(2);
const listenPort = Number(listenText);
const backendPort = Number(backendText);
if (!(listenPort > 0) || !(backendPort > 0)) {
  process.stderr.write('usage: node-relay.ts <listen port> <backend port>\n');
  process.exit(2);
}

createServer({ noDelay: true }, (client) => {
  const backend = connect({ host: '127.0.0.1', port: backendPort, noDelay: true });
  client.on('data', (d) => backend.write(d));
  backend.on('data', (d) => client.write(d));
  client.on('close', () => backend.destroy());
  backend.on('close', () => client.destroy());
  // A reset on either side closes both ('close' follows): nothing else to do.
  client.on('error', () => {});
  backend.on('error', () => {});
}).listen(listenPort, '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));

// The backend of --mode grpc, run as its own process (`node bench/lib/grpc-backend.ts [port]`):
// a node:http2 cleartext (h2c) server that answers every request as a gRPC unary call would be
// answered: HEADERS (200, application/grpc), one DATA frame holding one 12-byte message, and
// trailers with grpc-status 0. It reads the request to its end first, as a gRPC server reads the
// call's message. It allows 1000 concurrent streams per connection, so that a proxy that
// multiplexes can carry all its streams on one connection.
import { createServer, type ServerHttp2Stream } from 'node:http2';

const port = Number(process.argv[2] ?? 9003);
const MESSAGE = Buffer.from('hello world\n');
/** One uncompressed gRPC message: flag 0, 4-byte length, the message. */
export const GRPC_REPLY = Buffer.concat([Buffer.from([0, 0, 0, 0, MESSAGE.length]), MESSAGE]);
const HEAD = { ':status': 200, 'content-type': 'application/grpc' };
const WAIT = { waitForTrailers: true };
const TRAILERS = { 'grpc-status': '0' };

function sendTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(TRAILERS);
}

function answer(this: ServerHttp2Stream): void {
  if (this.destroyed) return;
  this.respond(HEAD, WAIT);
  this.end(GRPC_REPLY);
}

function ignore(): void {}

if (import.meta.main) {
  const server = createServer({ settings: { maxConcurrentStreams: 1000 } });
  server.on('session', (s) => s.on('error', ignore));
  server.on('stream', (s: ServerHttp2Stream) => {
    s.on('error', ignore);
    s.on('wantTrailers', sendTrailers);
    s.on('end', answer);
    s.resume();
  });
  server.listen(port, '127.0.0.1', () => console.log(`grpc backend on 127.0.0.1:${port}`));
}

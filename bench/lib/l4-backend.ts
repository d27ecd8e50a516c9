// The backend of the layer-4 modes (`--mode tcp-bulk,tcp-conn,udp`), run as its own process
// pinned beside the proxies as the nginx backend is:
//   node bench/lib/l4-backend.ts <echoPort> <sinkPort> <udpPort>
// TCP <echoPort> echoes every byte and closes after the client's FIN; TCP <sinkPort> reads and
// drops everything, then answers the byte count and closes after the client's FIN (bulk
// transfers: what crossed the proxy is checked, not trusted); UDP <udpPort> echoes datagrams.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const [echoPort = '9006', sinkPort = '9008', udpPort = '9007'] = process.argv.slice(2);

createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
  s.on('error', () => {});
  s.on('data', (d: Buffer) => s.write(d));
  s.on('end', () => s.end());
}).listen(Number(echoPort), '127.0.0.1');

createServer({ allowHalfOpen: true }, (s) => {
  let n = 0;
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    n += d.length;
  });
  s.on('end', () => s.end(`${n}\n`));
}).listen(Number(sinkPort), '127.0.0.1');

const udp = createSocket('udp4');
udp.on('message', (msg, r) => udp.send(msg, r.port, r.address));
udp.bind(Number(udpPort), '127.0.0.1');

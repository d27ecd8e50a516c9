/**
 * A DNS server's questions relayed from port 53 of a loopback address of the test's own: miekg's
 * resolv.conf reader (Traefik's hostResolver) always asks port 53, and BIND (test/helpers/named.ts)
 * listens on a free port of 127.0.0.1, the only address lo has. The datagrams pass through
 * unchanged.
 */
import { createSocket, type Socket } from 'node:dgram';

/** A loopback address no other test uses (127.53.x.y), for a DNS server on port 53. */
export function dnsAddress(): string {
  const r = (n: number) => 1 + Math.floor(Math.random() * n);
  return `127.53.${r(250)}.${r(250)}`;
}

export interface DnsRelay {
  /** Questions relayed so far. */
  readonly questions: number;
  close(): void;
}

/** Relays datagrams from `address`:53 to `to` (BIND on 127.0.0.1) and its answers back. */
export async function dnsRelay(address: string, to: number): Promise<DnsRelay> {
  const front: Socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.bind(53, address, () => resolve());
  });
  const state = {
    questions: 0,
    close: () => front.close(),
  };
  front.on('message', (msg, rinfo) => {
    state.questions++;
    const back = createSocket('udp4');
    back.on('message', (answer) => {
      front.send(answer, rinfo.port, rinfo.address);
      back.close();
    });
    back.on('error', () => back.close());
    back.send(msg, to, '127.0.0.1');
  });
  return state;
}

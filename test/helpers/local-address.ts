/**
 * A non-loopback IPv4 address of this machine, for tests that need a client the proxy does not
 * see as loopback: curl `--interface <it>` to 127.0.0.1 keeps the traffic on this machine while
 * the proxy sees <it> as the peer.
 */
import { networkInterfaces } from 'node:os';

export function nonLoopbackAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error(
    'this test needs a non-loopback IPv4 address on this machine (a network interface such as eth0) ' +
      'to act as a remote client; none was found',
  );
}

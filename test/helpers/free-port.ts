import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 a moment ago, for programs that cannot listen on port 0 (HAProxy,
 * Pebble, etcd, an OCSP responder…), chosen below the kernel's ephemeral range.
 *
 * Why not port 0's answer: the port is released before the program binds it, and in that window
 * the kernel may hand the same port to any socket of a concurrent test that binds port 0. When
 * both bind with SO_REUSEPORT (HAProxy does by default; so do our data-plane workers), both get
 * it and the kernel splits the connections between them: a test's curl then met another test's
 * listener ("Received HTTP/0.9", failed once in a full run). Ports below
 * `ip_local_port_range` are never given out by port 0, so only another caller of this function
 * could take the same one, one chance in thousands, and not silently. Tests that want a port
 * nobody listens on (connection refused) use it as `closedPort` for the same reason.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  const from = Math.max(1024, low - 12_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${from} and ${low - 1} on 127.0.0.1 after 50 tries`);
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) return low;
  } catch {
    // not Linux: the usual default
  }
  return 32_768;
}

async function canListen(port: number): Promise<boolean> {
  const s = createServer();
  s.listen(port, '127.0.0.1');
  try {
    await Promise.race([once(s, 'listening'), once(s, 'error').then(([e]) => Promise.reject(e))]);
  } catch {
    return false;
  }
  await new Promise<void>((r) => s.close(() => r()));
  return true;
}

import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess } from './process-group.ts';

/**
 * One GET with its own connection; resolves to undefined on a 2xx, else to what went wrong. An
 * https URL is the bench's self-signed certificate: not verified here (the TLS probe checks it).
 */
export function probe(
  url: string,
  timeoutMs: number,
  headers: readonly string[] = [],
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const tls = url.startsWith('https:');
    const send = tls ? httpsRequest : request;
    const fields: Record<string, string> = {};
    for (const h of headers) {
      const colon = h.indexOf(':');
      fields[h.slice(0, colon)] = h.slice(colon + 1).trim();
    }
    const options = tls
      ? { agent: false, timeout: timeoutMs, rejectUnauthorized: false, headers: fields }
      : { agent: false, timeout: timeoutMs, headers: fields };
    const req = send(url, options, (res) => {
      res.resume();
      res.once('end', () => {
        const status = res.statusCode ?? 0;
        resolve(status >= 200 && status < 300 ? undefined : `HTTP ${status}`);
      });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (err) => resolve(err.message));
    req.end();
  });
}

/**
 * Polls `url` until it answers 2xx. Throws when the deadline passes or when `proc` exits first
 * (a proxy that died on a bad config should fail in milliseconds, not after the timeout).
 */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  proc: ManagedProcess,
  headers: readonly string[] = [],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not tried';
  while (Date.now() < deadline) {
    const exit = proc.exitInfo;
    if (exit !== undefined) {
      throw new Error(`${proc.name} exited (${exit.signal ?? `code ${exit.code}`}) before answering ${url}`);
    }
    const problem = await probe(url, Math.min(1000, Math.max(1, deadline - Date.now())), headers);
    if (problem === undefined) return;
    last = problem;
    await sleep(100);
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms (last: ${last})`);
}

/** True when a listener could bind host:port right now. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function waitPortFree(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portFree(host, port))) {
    if (Date.now() >= deadline) throw new Error(`${host}:${port} is still in use after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** One TCP connect to host:port; resolves to undefined when it opens, else to what went wrong. */
function probeTcp(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(`no connection within ${timeoutMs} ms`);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      resolve(e.message);
    });
  });
}

/** One datagram to host:port; resolves to undefined when a reply comes (an echo behind it). */
function probeUdp(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(`no reply within ${timeoutMs} ms`);
    }, timeoutMs);
    s.once('message', () => {
      clearTimeout(timer);
      s.close();
      resolve(undefined);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      s.close();
      resolve(e.message);
    });
    s.send('ready?', port, host);
  });
}

/** Polls a TCP port until it accepts a connection (the layer-4 backend, a TCP proxy). */
export async function waitForTcp(
  host: string,
  port: number,
  timeoutMs: number,
  proc: ManagedProcess,
): Promise<void> {
  await waitFor(`tcp://${host}:${port}`, timeoutMs, proc, (ms) => probeTcp(host, port, ms));
}

/** Polls a UDP port until a datagram gets its echo back (a UDP proxy in front of the echo server). */
export async function waitForUdp(
  host: string,
  port: number,
  timeoutMs: number,
  proc: ManagedProcess,
): Promise<void> {
  await waitFor(`udp://${host}:${port}`, timeoutMs, proc, (ms) => probeUdp(host, port, ms));
}

/** `http(s)://`, `tcp://` or `udp://`: the readiness check of a proxy's URL. */
export async function waitReady(
  url: string,
  timeoutMs: number,
  proc: ManagedProcess,
  headers?: readonly string[],
): Promise<void> {
  const m = /^(tcp|udp):\/\/([^:]+):(\d+)$/.exec(url);
  if (m === null) return waitForHttp(url, timeoutMs, proc, headers);
  const [, scheme, host, port] = m as unknown as [string, string, string, string];
  return scheme === 'tcp'
    ? waitForTcp(host, Number(port), timeoutMs, proc)
    : waitForUdp(host, Number(port), timeoutMs, proc);
}

async function waitFor(
  what: string,
  timeoutMs: number,
  proc: ManagedProcess,
  probeOnce: (ms: number) => Promise<string | undefined>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not tried';
  while (Date.now() < deadline) {
    const exit = proc.exitInfo;
    if (exit !== undefined)
      throw new Error(`${proc.name} exited (${exit.signal ?? `code ${exit.code}`}) before ${what} answered`);
    const problem = await probeOnce(Math.min(1000, Math.max(1, deadline - Date.now())));
    if (problem === undefined) return;
    last = problem;
    await sleep(100);
  }
  throw new Error(`${proc.name}: ${what} did not answer within ${timeoutMs} ms (last: ${last})`);
}

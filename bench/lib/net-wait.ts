import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
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

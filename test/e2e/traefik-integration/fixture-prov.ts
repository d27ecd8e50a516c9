/**
 * Helpers of the provider ports (file-rest, kv, docker): Traefik's fixtures that read the API on
 * its default `traefik` entry point (`[api] insecure`, Traefik's :8080), and waits bounded in
 * attempts, as Go's `try.GetRequest` polls.
 */
import { request } from 'node:http';
import type { HttpReply } from '../../helpers/http-request.ts';
import type { ProxyProcess, StartOptions } from '../../helpers/proxy-process.ts';
import { startFixture } from './fixture.ts';

/**
 * startFixture, keeping the fixture's `[api] insecure` on its `traefik` entry point: declared at
 * Traefik's :8080 when the fixture leaves it to the default (adaptFixture then keeps `[api]`),
 * then moved to 127.0.0.1:0 like every entry point (`ports.traefik`).
 */
export function startFixtureWithApi(
  text: string,
  vars: Readonly<Record<string, string>> = {},
  opts: Partial<StartOptions> = {},
): Promise<ProxyProcess> {
  const t = /^\s*\[entryPoints\.traefik\]/im.test(text)
    ? text
    : `${text}\n[entryPoints.traefik]\n  address = ":8080"\n`;
  return startFixture(t, vars, opts);
}

/**
 * GET `path` on `port` (with `host` as Host) on a connection of its own, closed after: each
 * request is dispatched afresh, as the configuration of the moment says (a kept-alive connection
 * stays with the HTTP side that took it).
 */
export function get(port: number, path: string, host?: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: host === undefined ? {} : { Host: host } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `probe` every 100 ms until `ok` holds, at most `attempts` times (Go's try.GetRequest
 * with a timeout); the last value, whatever it is, so the caller's assertion shows it.
 */
export async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, attempts = 100): Promise<T> {
  let v = await probe();
  for (let i = 1; i < attempts && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await probe();
  }
  return v;
}

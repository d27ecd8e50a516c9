/**
 * Traefik's integration fixtures (integration/fixtures/*.toml in traefik/traefik) run by our proxy:
 * the Go template's fields filled in, every entry point moved to 127.0.0.1:0 (the bound ports are
 * read back by entry point name), an `[api]` table with `insecure = true` dropped whole when the
 * fixture declares no `traefik` entry point (it would open Traefik's :8080), and the file provider
 * pointed at the static file itself, as Traefik's `{{ .SelfFilename }}` does.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ProxyProcess, type StartOptions, startProxy } from '../../helpers/proxy-process.ts';

export const CONFIG_NAME = 'traffic.toml';

export function adaptFixture(text: string, vars: Readonly<Record<string, string>> = {}): string {
  const adapted = text
    .replace(/\{\{ *\.SelfFilename *\}\}/g, CONFIG_NAME)
    .replace(/\{\{ *\.(\w+) *\}\}/g, (_, name: string) => {
      const v = vars[name];
      if (v === undefined) throw new Error(`fixture field ${name} not given`);
      return v;
    })
    .split('\n')
    .map(entryPointAddress())
    .join('\n');
  if (TRAEFIK_ENTRY_POINT.test(adapted)) return adapted;
  return adapted.replace(API_TABLE, (table: string, _header: string, keys: string) =>
    INSECURE.test(keys) ? '' : table,
  );
}

/**
 * The `[api]` table: its header, then its lines up to the next table header (`[x]` or `[[x]]`)
 * or the end, whatever the order of its keys (TOML).
 */
const API_TABLE = /^(\s*\[\s*api\s*\][ \t]*(?:#.*)?\n)((?:(?!\s*\[).*(?:\n|$))*)/gim;
/** A fixture's own `traefik` entry point (moved to 127.0.0.1:0 like the others). */
const TRAEFIK_ENTRY_POINT = /^\s*\[\s*entryPoints\.traefik\s*[\].]/im;
const INSECURE = /^\s*insecure\s*=\s*true\s*(?:#.*)?$/m;

/** A line mapper that moves the addresses of `[entryPoints.*]` tables (only) to 127.0.0.1:0. */
function entryPointAddress(): (line: string) => string {
  let inEntryPoint = false;
  return (line) => {
    const table = /^\s*\[([^\]]+)\]/.exec(line);
    if (table) inEntryPoint = /^entrypoints\./i.test(table[1]!.trim());
    return inEntryPoint ? line.replace(/^(\s*address\s*=\s*)"[^"]*:\d+"/, '$1"127.0.0.1:0"') : line;
  };
}

/** Starts the proxy on an adapted fixture (TOML), waiting for each of its entry points. */
export function startFixture(
  text: string,
  vars: Readonly<Record<string, string>> = {},
  opts: Partial<StartOptions> = {},
): Promise<ProxyProcess> {
  const config = adaptFixture(text, vars);
  return startProxy({
    config,
    configName: CONFIG_NAME,
    entryPoints: (config.match(/^\s*address\s*=\s*"127\.0\.0\.1:0"/gm) ?? []).length,
    ...opts,
  });
}

export interface Whoami {
  readonly url: string;
  readonly name: string;
  /** Requests served. */
  count: number;
  close(): Promise<void>;
}

/**
 * A stand-in for traefik/whoami: answers 200 with its name and the request as it arrived (request
 * line, then the header fields), so tests can look for what the proxy forwarded. A path that Go's
 * ServeMux would clean (`..`, `.`, `//`) is answered 301 to the cleaned path, as whoami's mux does.
 */
export async function startWhoami(name: string, onRequest?: (req: IncomingMessage) => void): Promise<Whoami> {
  const w = { url: '', name, count: 0, close: async () => {} } as Whoami;
  const server: Server = createServer((req, res) => {
    w.count++;
    onRequest?.(req);
    const raw = req.url ?? '/';
    const path = raw.split('?')[0] ?? '/';
    const cleaned = cleanPath(path);
    if (cleaned !== path) {
      res.writeHead(301, { Location: cleaned });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const lines = [
        `Hostname: ${name}`,
        `${req.method} ${raw} HTTP/${req.httpVersion}`,
        `Host: ${req.headers.host ?? ''}`,
      ];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if (req.rawHeaders[i]!.toLowerCase() !== 'host')
          lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${lines.join('\r\n')}\r\n`);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(w, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return w;
}

/** Go's path.Clean as net/http's ServeMux applies it (a trailing slash kept). */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let c = `/${out.join('/')}`;
  if (p.endsWith('/') && c !== '/') c += '/';
  return c;
}

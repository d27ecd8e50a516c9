/**
 * A plugin catalog with the API of plugins.traefik.io (Traefik's pkg/plugins downloader.go), on
 * 127.0.0.1: `GET /public/download/<moduleName>/<version>` answers the archive (304 when the
 * request's X-Plugin-Hash is its SHA-256), `GET /public/validate/<moduleName>/<version>` 200 when
 * X-Plugin-Hash is the SHA-256 of the archive served, else 403. The proxy finds it through
 * TM_PLUGINS_URL.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { listenLoopback } from './fake-api.ts';

export interface FakeCatalog {
  /** `http://127.0.0.1:<port>/public/`. */
  readonly url: string;
  /** `moduleName@version` → the archive served. */
  readonly archives: Map<string, Buffer>;
  /** Archives whose integrity check fails (the catalog's hash differs). */
  readonly tampered: Set<string>;
  /** Requests seen: method, path and the X-Plugin-Hash sent. */
  readonly seen: { readonly path: string; readonly hash: string | undefined }[];
  close(): Promise<void>;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export async function startFakeCatalog(): Promise<FakeCatalog> {
  const archives = new Map<string, Buffer>();
  const tampered = new Set<string>();
  const seen: { path: string; hash: string | undefined }[] = [];
  const server = createServer((req, res) => {
    const hash = req.headers['x-plugin-hash'];
    const path = req.url ?? '/';
    seen.push({ path, hash: typeof hash === 'string' ? hash : undefined });
    const m = /^\/public\/(download|validate)\/(.+)\/([^/]+)$/.exec(path);
    const key = m === null ? '' : `${m[2]}@${m[3]}`;
    const zip = archives.get(key);
    if (m === null || zip === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('plugin not found');
      return;
    }
    if (m[1] === 'download') {
      if (hash === sha256(zip)) res.writeHead(304).end();
      else res.writeHead(200, { 'content-type': 'application/zip' }).end(zip);
      return;
    }
    res.writeHead(hash === sha256(zip) && !tampered.has(key) ? 200 : 403).end();
  });
  const l = await listenLoopback(server);
  return { url: `http://127.0.0.1:${l.port}/public/`, archives, tampered, seen, close: l.close };
}

/**
 * A real PowerDNS Authoritative (Debian's pdns-server, SQLite back end from
 * pdns-backend-sqlite3) on loopback for the pdns tests: DNS on a free port (UDP and TCP), its
 * HTTP API with a key on another, a database made from the package's schema with node:sqlite,
 * the zones created through the API itself. Its caches are off, so that what the API changed is
 * what the next question sees.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { digShort, MissingToolError, requireTools, toolPath } from './tools.ts';

const SQLITE_SCHEMA = '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql';

export interface PowerDns {
  /** `127.0.0.1:<port>`: its DNS server. */
  readonly address: string;
  /** `http://127.0.0.1:<port>`: what PDNS_API_URL takes. */
  readonly apiUrl: string;
  readonly apiKey: string;
  /** The TXT values at `name`, asked with dig. */
  txt(name: string): Promise<string[]>;
  /** A call to the API with the key: status and parsed body. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export async function startPowerDns(zones: readonly string[], kind = 'Native'): Promise<PowerDns> {
  requireTools('pdns_server', 'dig');
  if (!existsSync(SQLITE_SCHEMA)) throw new MissingToolError(['pdns-backend-sqlite3']);
  const dir = mkdtempSync(join(tmpdir(), 'pdns-'));
  const db = join(dir, 'pdns.sqlite3');
  const { DatabaseSync } = await import('node:sqlite');
  const sqlite = new DatabaseSync(db);
  sqlite.exec(readFileSync(SQLITE_SCHEMA, 'utf8'));
  sqlite.close();
  const [dnsPort, apiPort] = await Promise.all([freePort(), freePort()]);
  const apiKey = 'pdns-test-key';
  writeFileSync(
    join(dir, 'pdns.conf'),
    [
      'launch=gsqlite3',
      `gsqlite3-database=${db}`,
      'local-address=127.0.0.1',
      `local-port=${dnsPort}`,
      'api=yes',
      `api-key=${apiKey}`,
      'webserver=yes',
      'webserver-address=127.0.0.1',
      `webserver-port=${apiPort}`,
      'webserver-allow-from=127.0.0.1',
      `socket-dir=${dir}`,
      'guardian=no',
      'daemon=no',
      'disable-syslog=yes',
      'security-poll-suffix=',
      'cache-ttl=0',
      'negquery-cache-ttl=0',
      'query-cache-ttl=0',
      'zone-cache-refresh-interval=0',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(toolPath('pdns_server'), [`--config-dir=${dir}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (b: Buffer): void => {
    output += b.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const api = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        `${apiUrl}${path}`,
        {
          method,
          agent: false,
          headers: {
            'x-api-key': apiKey,
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const fail = (why: string): never => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${why}:\n${output}`);
  };
  // "Done launching threads" precedes nothing we can wait on: ask the API until it answers.
  for (let i = 0; ; i++) {
    const r = await api('GET', '/api').catch(() => undefined);
    if (r?.status === 200) break;
    if (child.exitCode !== null || i >= 200) fail('pdns_server did not start');
    await new Promise((res) => setTimeout(res, 25));
  }
  for (const zone of zones) {
    const r = await api('POST', '/api/v1/servers/localhost/zones', {
      name: `${zone}.`,
      kind,
      nameservers: [`ns1.${zone}.`],
    });
    if (r.status !== 201) fail(`zone ${zone}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const dig = (name: string, type: string): Promise<string> => digShort(dnsPort, name, type);
  return {
    address: `127.0.0.1:${dnsPort}`,
    apiUrl,
    apiKey,
    api,
    txt: async (name) =>
      (await dig(name, 'TXT'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as string),
    close: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

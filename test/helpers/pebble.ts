/**
 * Pebble (Let's Encrypt's test CA) and pebble-challtestsrv (its fake DNS) on loopback, for ACME
 * tests. Every name resolves to 127.0.0.1 through challtestsrv, so pebble's validator connects to
 * the test's own challenge servers on `httpPort` (http-01) and `tlsPort` (tls-alpn-01).
 *
 *   const ca = await startPebble({ httpPort: httpServer.port, tlsPort: tlsServer.port });
 *   t.after(() => ca.close());
 *   // ACME client: directory ca.directoryUrl, trusting ca.serverCaPem
 *   // issued chains verify against await ca.rootCertificate()
 *
 * `stop()` / `start()` take the CA down and bring it back on the same ports; pebble keeps no state,
 * so a restarted pebble has a new root and has forgotten every account.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { requireTools, toolPath } from './tools.ts';
import { within } from './wait.ts';

export const PEBBLE = 'pebble';
export const CHALLTESTSRV = 'pebble-challtestsrv';

/**
 * pebble-challtestsrv with only its DNS server (`dnsPort`, UDP and TCP) and its management API
 * (`managementPort`), on loopback: no HTTP-01, HTTPS or TLS-ALPN-01 responders, and no AAAA
 * answers (the test servers listen on 127.0.0.1 only).
 */
export function challTestSrvArgs(dnsPort: number, managementPort: number): string[] {
  return [
    '-dns01',
    `127.0.0.1:${dnsPort}`,
    '-management',
    `127.0.0.1:${managementPort}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-defaultIPv6',
    '',
  ];
}

/**
 * Never skips (kept for the suites that pass it as `skip`): a missing pebble fails startPebble at
 * once with the install command (test/helpers/tools.ts), on every machine. A skipped ACME suite
 * would let a broken ACME pass, and a suite waiting for a CA that never starts would hang.
 */
export const PEBBLE_SKIP: false | string = false;

export interface PebbleOptions {
  /** Where the validator connects for http-01 (default: a free port nobody listens on). */
  readonly httpPort?: number;
  /** Where the validator connects for tls-alpn-01. */
  readonly tlsPort?: number;
  /** PEBBLE_WFE_NONCEREJECT: percentage of good nonces rejected as bad. Default 0 (pebble's own default is 5). */
  readonly nonceReject?: number;
  /** Lifetime of issued certificates in seconds (pebble's `certificateValidityPeriod`). */
  readonly certificateValidityPeriod?: number;
  /**
   * PEBBLE_AUTHZREUSE: percentage of valid authorizations reused in new orders (pebble's default
   * 50). 0 is not never: pebble 2.4 makes a new authorization when `rand.Intn(100) > percent`,
   * so it still reuses one order in 100. Only a restarted pebble (no valid authorizations) or
   * another account is sure to validate again.
   */
  readonly authzReuse?: number;
  /**
   * Key identifier → MAC key (base64url): pebble then requires external account binding
   * (`externalAccountBindingRequired`, RFC 8555 §7.3.4) with one of these.
   */
  readonly externalAccountMACKeys?: Readonly<Record<string, string>>;
  /**
   * PEBBLE_ALTERNATE_ROOTS: this many more roots, each with its own intermediate; a certificate
   * download then links the same leaf under each (`Link: rel="alternate"`, RFC 8555 §7.4.2).
   */
  readonly alternateRoots?: number;
  /**
   * `ip:port` of the DNS server pebble's validator asks (`-dnsserver`) instead of challtestsrv:
   * a real authoritative server (BIND, PowerDNS) that a DNS provider writes to.
   */
  readonly dnsServer?: string;
}

export interface Pebble {
  /** `https://127.0.0.1:<port>/dir` */
  readonly directoryUrl: string;
  /** `https://127.0.0.1:<port>` (roots, intermediates, certificate status). */
  readonly managementUrl: string;
  /** PEM of pebble's own HTTPS certificate (self-signed): what an ACME client must trust. */
  readonly serverCaPem: string;
  /** `http://127.0.0.1:<port>`: challtestsrv's management API (`/set-txt`, `/clear-txt`). */
  readonly dnsManagementUrl: string;
  /** `127.0.0.1:<port>`: challtestsrv's DNS server (UDP and TCP), which pebble's validator asks. */
  readonly dnsAddress: string;
  /** Pebble's and challtestsrv's output so far, for failure messages. */
  readonly output: () => string;
  readonly running: () => boolean;
  /**
   * The root that issued chains chain up to (changes with every pebble start); `index` > 0: an
   * alternate root (with `alternateRoots`).
   */
  rootCertificate(index?: number): Promise<string>;
  /** Kills pebble (challtestsrv stays): the CA is down, its ports refuse connections. */
  stop(): Promise<void>;
  /** Starts pebble again on the same ports. */
  start(): Promise<void>;
  /** Stops everything and removes the temporary folder. */
  close(): Promise<void>;
}

export { freePort };

export async function startPebble(opts: PebbleOptions = {}): Promise<Pebble> {
  requireTools(PEBBLE, CHALLTESTSRV, 'openssl');
  const dir = mkdtempSync(join(tmpdir(), 'pebble-'));
  const [acmePort, mgmtPort, dnsPort, dnsMgmtPort, spareHttp, spareTls] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    toolPath('openssl'),
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: certFile,
      privateKey: keyFile,
      httpPort: opts.httpPort ?? spareHttp,
      tlsPort: opts.tlsPort ?? spareTls,
      ocspResponderURL: '',
      externalAccountBindingRequired: opts.externalAccountMACKeys !== undefined,
      ...(opts.externalAccountMACKeys === undefined
        ? {}
        : { externalAccountMACKeys: opts.externalAccountMACKeys }),
      ...(opts.certificateValidityPeriod === undefined
        ? {}
        : { certificateValidityPeriod: opts.certificateValidityPeriod }),
    },
  };
  const configFile = join(dir, 'pebble.json');
  writeFileSync(configFile, JSON.stringify(config));
  const serverCaPem = readFileSync(certFile, 'utf8');

  let output = '';
  const collect = (child: ChildProcess, tag: string): void => {
    const add = (b: Buffer): void => {
      output += b
        .toString()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => `[${tag}] ${l}\n`)
        .join('');
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
  };

  const dns = spawn(toolPath(CHALLTESTSRV), challTestSrvArgs(dnsPort, dnsMgmtPort), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  collect(dns, 'challtestsrv');

  let pebble: ChildProcess | undefined;
  const env = {
    ...process.env,
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: String(opts.nonceReject ?? 0),
    ...(opts.authzReuse === undefined ? {} : { PEBBLE_AUTHZREUSE: String(opts.authzReuse) }),
    ...(opts.alternateRoots === undefined ? {} : { PEBBLE_ALTERNATE_ROOTS: String(opts.alternateRoots) }),
  };
  const killAll = (): void => {
    pebble?.kill('SIGKILL');
    dns.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const start = async (): Promise<void> => {
    const child = spawn(
      toolPath(PEBBLE),
      ['-config', configFile, '-dnsserver', opts.dnsServer ?? `127.0.0.1:${dnsPort}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      },
    );
    pebble = child;
    collect(child, 'pebble');
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer): void => {
        if (b.toString().includes('ACME directory available')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`pebble exited (${code}):\n${output}`)));
    });
    await within(ready, `pebble to listen\n${output}`, 15_000);
    // "directory available" is logged just before the listener accepts: wait until it answers,
    // and the management listener too (rootCertificate asks it; it may open a moment later).
    await retryGet(`https://127.0.0.1:${acmePort}/dir`, serverCaPem, 5_000, 'pebble /dir');
    await retryGet(`https://127.0.0.1:${mgmtPort}/roots/0`, serverCaPem, 5_000, 'pebble management');
  };

  const stop = async (): Promise<void> => {
    const child = pebble;
    pebble = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };

  try {
    await retryGet(`http://127.0.0.1:${dnsMgmtPort}/`, undefined, 10_000, 'challtestsrv management');
    await start();
  } catch (e) {
    killAll();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    managementUrl: `https://127.0.0.1:${mgmtPort}`,
    serverCaPem,
    dnsManagementUrl: `http://127.0.0.1:${dnsMgmtPort}`,
    dnsAddress: `127.0.0.1:${dnsPort}`,
    output: () => output,
    running: () => pebble !== undefined,
    rootCertificate: async (index = 0) => {
      const res = await get(`https://127.0.0.1:${mgmtPort}/roots/${index}`, serverCaPem);
      if (res.status !== 200) throw new Error(`pebble /roots/${index} answered ${res.status}`);
      return res.body;
    },
    stop,
    start,
    close: async () => {
      await stop();
      const exited = new Promise<void>((resolve) => {
        if (dns.exitCode !== null || dns.signalCode !== null) resolve();
        else dns.once('exit', () => resolve());
      });
      dns.kill('SIGKILL');
      await exited;
      process.removeListener('exit', killAll);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function get(url: string, ca: string | undefined): Promise<{ status: number; body: string }> {
  const mod = url.startsWith('https:') ? { request: httpsRequest } : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...(ca === undefined ? {} : { ca }), agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * GETs `url` until something answers (any status): a program's "listening" line may precede its
 * accept loop. Rejects after `ms`.
 */
async function retryGet(url: string, ca: string | undefined, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await get(url, ca);
      return;
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(`${what} did not answer within ${ms} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

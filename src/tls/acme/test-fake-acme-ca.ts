/**
 * A small ACME CA on loopback for what Debian's pebble 2.4 cannot show: the ACME profiles draft
 * (`meta.profiles` in the directory, `profile` in newOrder; pebble has it from 2.7) and what a CSR
 * carries beyond DNS names and IPs (pebble issues its own template and drops the rest).
 *
 * It speaks RFC 8555 over HTTPS as far as our client needs (directory, nonces, newAccount,
 * newOrder, POST-as-GET of orders, finalize, certificate download) and records every payload.
 * Orders come `ready` at once (no authorization to solve; RFC 8555 §7.1.3 lets a server reuse
 * valid ones), finalize signs the CSR with `openssl x509 -req -copy_extensions copy`, so the
 * certificate holds exactly the extensions the CSR asked for. JWS signatures are not checked.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from '../../../test/helpers/tools.ts';
import { selfSignedCertificate } from '../x509/index.ts';

export interface FakeAcmeCa {
  readonly directoryUrl: string;
  /** The PEM of the CA's own HTTPS certificate: what the client must trust. */
  readonly serverCaPem: string;
  /** The decoded payloads of the newOrder requests, in order. */
  readonly orders: Record<string, unknown>[];
  /** The CSRs (PEM) sent to finalize, in order. */
  readonly csrs: string[];
  close(): Promise<void>;
}

export interface FakeAcmeCaOptions {
  /** The directory's `meta.profiles` (name → description); a newOrder naming another is refused. */
  readonly profiles?: Readonly<Record<string, string>>;
}

export async function startFakeAcmeCa(opts: FakeAcmeCaOptions = {}): Promise<FakeAcmeCa> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-acme-'));
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.pem');
  const openssl = toolPath('openssl');
  execFileSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caCert,
      '-days',
      '2',
      '-subj',
      '/CN=Fake ACME Root',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ],
    { stdio: 'ignore' },
  );
  const caPem = readFileSync(caCert, 'utf8');
  const tls = selfSignedCertificate(['127.0.0.1']);
  const orders: Record<string, unknown>[] = [];
  const csrs: string[] = [];
  const certificates: string[] = [];
  let nonce = 0;
  let base = '';

  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        res.writeHead(status, {
          'replay-nonce': `n${++nonce}`,
          'content-type': typeof body === 'string' ? 'application/pem-certificate-chain' : 'application/json',
          ...headers,
        });
        res.end(text);
      };
      const url = req.url ?? '';
      if (url === '/dir') {
        send(200, {
          newNonce: `${base}/nonce`,
          newAccount: `${base}/acct`,
          newOrder: `${base}/order`,
          ...(opts.profiles === undefined ? {} : { meta: { profiles: opts.profiles } }),
        });
        return;
      }
      if (url === '/nonce') {
        send(200, '');
        return;
      }
      let payload: Record<string, unknown> = {};
      try {
        const jws = JSON.parse(Buffer.concat(chunks).toString()) as { payload: string };
        if (jws.payload !== '') payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString());
      } catch {
        send(400, { type: 'urn:ietf:params:acme:error:malformed', detail: 'not a JWS' });
        return;
      }
      const order = (n: number): Record<string, unknown> => {
        const o = orders[n - 1] ?? {};
        const done = certificates[n - 1] !== undefined;
        return {
          status: done ? 'valid' : 'ready',
          identifiers: o.identifiers,
          authorizations: [],
          finalize: `${base}/finalize/${n}`,
          ...(o.profile === undefined ? {} : { profile: o.profile }),
          ...(done ? { certificate: `${base}/cert/${n}` } : {}),
        };
      };
      const m = /^\/(acct|order|finalize|cert)(?:\/(\d+))?$/.exec(url);
      const n = Number(m?.[2] ?? 0);
      if (m?.[1] === 'acct') {
        send(201, { status: 'valid', contact: payload.contact ?? [] }, { location: `${base}/acct/1` });
      } else if (m?.[1] === 'order' && n === 0) {
        const profile = payload.profile;
        if (profile !== undefined && (opts.profiles === undefined || !(String(profile) in opts.profiles))) {
          send(400, {
            type: 'urn:ietf:params:acme:error:invalidProfile',
            detail: `profile ${JSON.stringify(profile)} is not offered`,
          });
          return;
        }
        orders.push(payload);
        send(201, order(orders.length), { location: `${base}/order/${orders.length}` });
      } else if (m?.[1] === 'order' && orders[n - 1] !== undefined) {
        send(200, order(n));
      } else if (m?.[1] === 'finalize' && orders[n - 1] !== undefined) {
        const der = Buffer.from(String(payload.csr), 'base64url');
        // 64-character lines, no empty one before the end (a body of a multiple of 64 had one).
        const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
        const csrPem = `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
        csrs.push(csrPem);
        const csrFile = join(dir, `${n}.csr`);
        writeFileSync(csrFile, csrPem);
        const leaf = execFileSync(
          openssl,
          [
            'x509',
            '-req',
            '-in',
            csrFile,
            '-CA',
            caCert,
            '-CAkey',
            caKey,
            '-days',
            '1',
            '-copy_extensions',
            'copy',
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
        );
        certificates[n - 1] = `${leaf}${caPem}`;
        send(200, order(n));
      } else if (m?.[1] === 'cert' && certificates[n - 1] !== undefined) {
        send(200, certificates[n - 1]!);
      } else {
        send(404, { type: 'urn:ietf:params:acme:error:malformed', detail: `no ${url}` });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    directoryUrl: `${base}/dir`,
    serverCaPem: tls.certPem,
    orders,
    csrs,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

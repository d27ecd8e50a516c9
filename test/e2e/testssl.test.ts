/**
 * testssl.sh (Debian's `testssl.sh`, command `testssl`) against a TLS entry point with the default
 * TLS options, as a second, independent scanner beside sslscan (test/e2e/tls.test.ts checks the
 * protocol and cipher lists, renegotiation, compression, Heartbleed and groups with sslscan).
 *
 * By default: protocols, cipher categories, forward secrecy, renegotiation and compression; with
 * TESTSSL_FULL=1 every check testssl has (vulnerabilities, certificate, HTTP headers), which takes
 * minutes. Nothing may be rated LOW or worse, except, in the full run, what is about the
 * certificate and the HTTP headers rather than the TLS options (listed below with the reason).
 * docs/security.md shows the results.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const TESTSSL = '/usr/bin/testssl';
const FULL = process.env['TESTSSL_FULL'] === '1';

interface Finding {
  readonly id: string;
  readonly severity: string;
  readonly finding: string;
}

/**
 * Rated below OK in a full run, and why that is not about the TLS options under test. The proxy
 * serves its generated self-signed default certificate here (no certificate is configured).
 */
const FULL_RUN_EXPECTED: Readonly<Record<string, string>> = {
  cert_chain_of_trust: 'the generated default certificate is self-signed',
  cert_trust: 'the generated default certificate does not name the scanned host',
  cert_revocation: 'a self-signed certificate has no CRL or OCSP URI',
  HSTS: 'Strict-Transport-Security is a response header for the routers to set (headers middleware)',
  security_headers: 'likewise: response headers are the application’s and the headers middleware’s',
  DNS_CAArecord: 'CAA is a DNS record of the domain, not of the server',
};

function runTestssl(port: number, out: string): Promise<Finding[]> {
  const checks = FULL ? [] : ['-p', '-s', '-f', '-R', '-C'];
  return new Promise((resolve, reject) => {
    execFile(
      TESTSSL,
      [
        '--quiet',
        '--color',
        '0',
        '--warnings',
        'off',
        '--nodns',
        'none',
        '--jsonfile',
        out,
        ...checks,
        '--ip',
        '127.0.0.1',
        `a.test:${port}`,
      ],
      { maxBuffer: 1 << 26, timeout: 15 * 60_000 },
      (err, stdout) => {
        if (!existsSync(out)) {
          reject(new Error(`testssl wrote no results (${err?.message ?? 'no error'}):\n${stdout}`));
          return;
        }
        resolve(JSON.parse(readFileSync(out, 'utf8')) as Finding[]);
      },
    );
  });
}

describe(`testssl.sh against the default TLS options (${FULL ? 'every check' : 'protocols, ciphers, forward secrecy, renegotiation, compression'})`, () => {
  let dir: string;
  let backend: Backend;
  let proxy: ProxyProcess;
  let findings: Finding[];

  before(async () => {
    assert.ok(existsSync(TESTSSL), `${TESTSSL} is missing: apt-get install testssl.sh`);
    dir = mkdtempSync(join(tmpdir(), 'tm-testssl-'));
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be, tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const byId = (id: string): Finding => {
    const f = findings.find((x) => x.id === id);
    assert.ok(f !== undefined, `testssl reported no ${id}`);
    return f;
  };

  it('runs the scan', { timeout: 20 * 60_000 }, async () => {
    findings = await runTestssl(proxy.port, join(dir, 'testssl.json'));
    assert.ok(findings.length > 10, JSON.stringify(findings));
  });

  it('finds TLS 1.2 and 1.3 only', () => {
    for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) assert.match(byId(id).finding, /^not offered/, id);
    for (const id of ['TLS1_2', 'TLS1_3']) assert.match(byId(id).finding, /^offered/, id);
  });

  it('finds no NULL, anonymous, export, LOW, 3DES/IDEA or CBC cipher; AEAD only, all with forward secrecy', () => {
    for (const id of [
      'cipherlist_NULL',
      'cipherlist_aNULL',
      'cipherlist_EXPORT',
      'cipherlist_LOW',
      'cipherlist_3DES_IDEA',
      'cipherlist_AVERAGE',
    ])
      assert.match(byId(id).finding, /^not offered/, id);
    assert.match(byId('cipherlist_STRONG').finding, /^offered/);
    assert.match(byId('PFS').finding, /^offered/);
  });

  it('finds client-initiated renegotiation refused and no TLS compression', () => {
    assert.match(byId('secure_client_renego').finding, /not vulnerable/);
    assert.match(byId('CRIME_TLS').finding, /not vulnerable/);
  });

  it('rates nothing LOW or worse (the full run: nothing but certificate and header findings)', () => {
    const bad = findings.filter(
      (f) =>
        ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(f.severity) && !(FULL && f.id in FULL_RUN_EXPECTED),
    );
    assert.deepEqual(bad, []);
  });
});

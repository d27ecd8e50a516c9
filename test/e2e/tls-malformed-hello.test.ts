/**
 * A malformed ClientHello on a TLS entry point gets the alert Go's crypto/tls server sends for
 * it. Traefik's peek (pkg/server/router/tcp/router.go clientHelloInfo) lets a ClientHello it
 * cannot parse through as TLS without a name, and the HTTPS forwarder's Go server refuses it while
 * reading it (conn.go readRecordOrCCS, readHandshake, unmarshalHandshakeMessage): a record over
 * 16 KiB is record_overflow (22), an empty record or a message that is not a parsable ClientHello
 * unexpected_message (10), a handshake length over 64 KiB internal_error (80), an SSLv2-style
 * hello protocol_version (70), all in a TLS 1.0 record (no version chosen yet); a record that is
 * not a handshake (an alert) ends it bare. The bytes below are what Go 1.19's server answered on
 * a raw socket (that code is unchanged in the Go releases Traefik v3 builds with). The proxy
 * closed the socket bare in every case.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

/** A record of `type` around `payload`. */
const record = (payload: Buffer, type = 22): Buffer =>
  Buffer.concat([Buffer.from([type, 3, 1, payload.length >> 8, payload.length & 0xff]), payload]);
/** A handshake message of `type` around `body`. */
const message = (body: Buffer, type = 1): Buffer =>
  Buffer.concat([Buffer.from([type, 0, body.length >> 8, body.length & 0xff]), body]);
const random = '00'.repeat(32);
/** version, random, no session id, one suite, null compression, extensions. */
const body = (extensions: string): Buffer => hex(`0303 ${random} 00 0002 1301 0100 ${extensions}`);

const CASES: readonly (readonly [string, Buffer, string])[] = [
  ['garbage after the record header (a length over 64 KiB)', hex('1603010005 ffffffffff'), '15030100020250'],
  ['an empty record', hex('1603010000'), '1503010002020a'],
  ['a record over 16 KiB', hex('1603014801'), '15030100020216'],
  ['a truncated ClientHello', record(message(hex(`0303 ${random} 20`))), '1503010002020a'],
  ['extensions whose length is wrong', record(message(body('0005 0000'))), '1503010002020a'],
  [
    'a server_name extension whose lengths disagree',
    record(message(body('0009 0000 0005 0003 00 0000'))),
    '1503010002020a',
  ],
  ['a handshake message that is not a ClientHello', record(message(body('0000'), 2)), '1503010002020a'],
  ['an SSLv2-style hello', hex('8046010301002d0000001000'), '15030100020246'],
  [
    'an alert record inside a split ClientHello',
    Buffer.concat([record(message(body('0000')).subarray(0, 10)), record(hex('0228'), 21)]),
    '',
  ],
];

describe('a malformed ClientHello gets the alert Go sends', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let port = 0;

  before(async () => {
    const cert = selfSignedCertificate(['a.test']);
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
http:
  routers:
    a: { rule: "Host(\`a.test\`)", service: be, tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem },
    });
    port = proxy.ports['websecure']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  for (const [what, bytes, answer] of CASES) {
    it(`${what}: ${answer === '' ? 'closed bare' : `alert ${Number.parseInt(answer.slice(-2), 16)}`}`, async () => {
      const r = await rawRequest(port, bytes, { timeoutMs: 5_000 });
      assert.notEqual(r.closedBy, 'timeout');
      assert.equal(r.data.toString('hex'), answer);
    });
  }
});

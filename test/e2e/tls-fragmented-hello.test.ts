/**
 * A ClientHello split over many TLS records (legal, RFC 8446 §5.1): the SNI is still read, so the
 * handshake gets the options of the router that asked for client certificates. Traefik before
 * v3.6.11 (CVE-2026-32305, GHSA-wvvq-wgcr-9q48) failed to extract the SNI of a fragmented
 * ClientHello and fell back to the default options, without client certificates, while the Host
 * still reached the mTLS router. A relay between a real TLS client and the proxy cuts the
 * client's first record into records of 40 bytes.
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

/** The first TLS record of `buf`, cut into handshake records of `size` bytes of payload. */
function reframe(record: Buffer, size: number): Buffer[] {
  const body = record.subarray(5);
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const part = body.subarray(i, i + size);
    const header = Buffer.from([22, 3, 1, 0, 0]);
    header.writeUInt16BE(part.length, 3);
    out.push(Buffer.concat([header, part]));
  }
  return out;
}

/** A relay to `port` that fragments each connection's first TLS record; counts records sent. */
async function fragmentingRelay(
  port: number,
): Promise<{ server: net.Server; port: number; records: number[] }> {
  const records: number[] = [];
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      if (head.length < 5) return;
      const len = head.readUInt16BE(3);
      if (head.length < 5 + len) return;
      down.off('data', onData);
      const parts = reframe(head.subarray(0, 5 + len), 40);
      records.push(parts.length);
      // One write per record: the proxy may well read them in several chunks.
      for (const p of parts) up.write(p);
      up.write(head.subarray(5 + len));
      down.pipe(up);
      up.pipe(down);
    };
    down.on('data', onData);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, records };
}

describe('a fragmented ClientHello (CVE-2026-32305)', () => {
  let pki: TestPki;
  let cert: Issued;
  let client: Issued;
  let backend: Backend;
  let proxy: ProxyProcess;
  let relay: Awaited<ReturnType<typeof fragmentingRelay>>;

  before(async () => {
    pki = new TestPki('fragmented hello CA');
    cert = pki.issue('a.test', ['a.test', 'open.test']);
    client = pki.issue('client', []);
    backend = await startBackend((req, res) => res.end(`backend ${req.url}`));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
http:
  routers:
    mtls: { rule: "Host(\`a.test\`)", service: be, tls: { options: mtls } }
    open: { rule: "Host(\`open.test\`)", service: be, tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
    mtls:
      clientAuth:
        caFiles: [ca.pem]
        clientAuthType: RequireAndVerifyClientCert
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem, 'ca.pem': pki.ca.certPem },
    });
    relay = await fragmentingRelay(proxy.ports['websecure']!);
  });

  after(async () => {
    relay?.server.close();
    await proxy?.stop('SIGTERM', 3_000);
    await backend?.close();
    pki?.remove();
  });

  const get = (servername: string, withCert: boolean): Promise<number | string> =>
    new Promise((resolve) => {
      httpsRequest(
        {
          port: relay.port,
          host: '127.0.0.1',
          path: '/x',
          servername,
          headers: { host: servername },
          ca: pki.ca.certPem,
          ...(withCert ? { cert: client.certPem, key: client.keyPem } : {}),
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      )
        .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
        .end();
    });

  it('still asks the mTLS router’s client certificate, and serves one who presents it', async () => {
    const before = relay.records.length;
    const refused = await get('a.test', false);
    assert.notEqual(refused, 200, 'served without a client certificate');
    assert.match(String(refused), /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|ECONNRESET/, `answered ${refused}`);
    assert.equal(await get('a.test', true), 200);
    // A router without client certificates, through the same relay.
    assert.equal(await get('open.test', false), 200);
    const cut = relay.records.slice(before);
    assert.equal(cut.length, 3);
    assert.ok(
      cut.every((n) => n >= 3),
      `ClientHello records: ${cut.join(', ')}`,
    );
  });
});

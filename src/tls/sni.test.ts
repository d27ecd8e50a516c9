import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { connect } from 'node:tls';
import {
  type ClientHello,
  MAX_CLIENT_HELLO_BYTES,
  parseClientHello,
  type RouterTlsNeed,
  TlsRouter,
} from './sni.ts';

function build(routers: Record<string, RouterTlsNeed>) {
  return TlsRouter.build(new Map(Object.entries(routers)));
}

describe('TlsRouter', () => {
  const { router, issues } = build({
    secure: { options: 'mtls', domains: ['secure.example'] },
    api: { options: 'modern', domains: ['api.example.com', 'API2.example.com.'] },
    wild: { options: 'mtls', domains: ['*.internal.example'] },
    plain: { options: 'default', domains: ['public.example'] },
    pathOnly: { options: 'modern', domains: [] },
  });

  it('gives a handshake the options of the router whose Host names its SNI', () => {
    assert.deepEqual(issues, []);
    assert.equal(router.optionsFor('secure.example'), 'mtls');
    assert.equal(router.optionsFor('api.example.com'), 'modern');
    assert.equal(router.optionsFor('public.example'), 'default');
  });

  it('matches SNI case-insensitively and without a trailing dot, on both sides', () => {
    assert.equal(router.optionsFor('SECURE.Example.'), 'mtls');
    assert.equal(router.optionsFor('api2.example.com'), 'modern');
  });

  it('resolves a wildcard domain for exactly one label', () => {
    assert.equal(router.optionsFor('db.internal.example'), 'mtls');
    assert.equal(router.optionsFor('internal.example'), 'default');
    assert.equal(router.optionsFor('a.b.internal.example'), 'default');
  });

  it('falls back to the default options without SNI, for unknown names and for routers without Host', () => {
    assert.equal(router.optionsFor(undefined), 'default');
    assert.equal(router.optionsFor(''), 'default');
    assert.equal(router.optionsFor('other.example'), 'default');
  });

  it('prefers an exact name over a wildcard that also covers it', () => {
    const r = build({
      a: { options: 'wide', domains: ['*.example.com'] },
      b: { options: 'narrow', domains: ['x.example.com'] },
    }).router;
    assert.equal(r.optionsFor('x.example.com'), 'narrow');
    assert.equal(r.optionsFor('y.example.com'), 'wide');
  });

  it('resolves a double wildcard (Traefik v3.8) below the exact names and single wildcards, longest first', () => {
    const r = build({
      deep: { options: 'deep', domains: ['**.example.com'] },
      deeper: { options: 'deeper', domains: ['**.b.example.com'] },
      one: { options: 'one', domains: ['*.example.com'] },
      exact: { options: 'exact', domains: ['x.example.com'] },
    }).router;
    assert.equal(r.optionsFor('x.example.com'), 'exact');
    assert.equal(r.optionsFor('y.example.com'), 'one');
    assert.equal(r.optionsFor('a.y.example.com'), 'deep');
    assert.equal(r.optionsFor('a.b.example.com'), 'deeper');
    assert.equal(r.optionsFor('z.a.b.example.com'), 'deeper');
    assert.equal(r.optionsFor('b.example.com'), 'one');
    assert.equal(r.optionsFor('example.com'), 'default');
    assert.equal(r.optionsFor('a.example.org'), 'default');
  });

  it('uses the default options for a host whose routers disagree, and warns on each of those routers', () => {
    const r = build({
      one: { options: 'a', domains: ['shared.example', 'one.example'] },
      two: { options: 'b', domains: ['shared.example'] },
      three: { options: 'a', domains: ['Shared.example'] },
    });
    assert.equal(r.router.optionsFor('shared.example'), 'default');
    assert.equal(r.router.optionsFor('one.example'), 'a');
    assert.deepEqual(
      r.issues.map((i) => `${i.severity} ${i.path.join('.')}: ${i.message}`),
      ['one', 'three', 'two'].map(
        (n) =>
          `warning http.routers.${n}.tls.options: routers on shared.example ask for different TLS options: the default TLS options are used there`,
      ),
    );
  });

  it('with core.strictTLSOptions, marks each router of a conflict with an error at its tls (Traefik v3.8, #13639)', () => {
    const r = TlsRouter.build(
      new Map(
        Object.entries({
          one: { options: 'a', domains: ['shared.example', 'one.example'] },
          two: { options: 'b', domains: ['shared.example'] },
          other: { options: 'b', domains: ['other.example'] },
        }),
      ),
      'websecure',
      true,
    );
    assert.deepEqual(
      r.issues.map((i) => `${i.severity} ${i.path.join('.')}: ${i.message}`),
      ['one', 'two'].map(
        (n) =>
          `error http.routers.${n}.tls: routers on shared.example (entry point websecure) ask for different TLS options: core.strictTLSOptions disables them`,
      ),
    );
  });

  it('keeps a host whose routers agree on its options', () => {
    const r = build({
      x: { options: 'a', domains: ['h.example'] },
      y: { options: 'a', domains: ['h.example'] },
    });
    assert.deepEqual(r.issues, []);
    assert.equal(r.router.optionsFor('h.example'), 'a');
  });

  describe('misdirected (421)', () => {
    it('refuses a Host needing client certificates on a connection whose SNI did not ask for them', () => {
      assert.equal(router.misdirected('public.example', 'secure.example'), true);
    });

    it('refuses the same with a trailing-dot or upper-case Host', () => {
      assert.equal(router.misdirected('public.example', 'secure.example.'), true);
      assert.equal(router.misdirected('public.example', 'SECURE.example'), true);
    });

    it('resolves wildcards in the check (a Host under *.internal.example needs mtls)', () => {
      assert.equal(router.misdirected('public.example', 'api.internal.example'), true);
      assert.equal(router.misdirected('db.internal.example', 'api.internal.example'), false);
    });

    it('refuses a Host with stricter options on a connection without SNI', () => {
      assert.equal(router.misdirected(undefined, 'secure.example'), true);
      assert.equal(router.misdirected(undefined, 'public.example'), false);
    });

    it('lets hosts share a connection when their options are the same (HTTP/2 coalescing)', () => {
      assert.equal(router.misdirected('secure.example', 'x.internal.example'), false);
      assert.equal(router.misdirected('public.example', 'unknown.example'), false);
      assert.equal(router.misdirected('api.example.com', 'api2.example.com'), false);
      assert.equal(router.misdirected('secure.example', 'secure.example'), false);
    });

    it('refuses a Host with weaker options on a connection made for mTLS, as Traefik does', () => {
      assert.equal(router.misdirected('secure.example', 'public.example'), true);
    });
  });
});

/** The bytes a real node client sends first. */
async function clientHelloBytes(opts: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...opts });
  client.on('error', () => {});
  const [socket] = (await once(server, 'connection')) as [Socket];
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    chunks.push(chunk);
    total += chunk.length;
    const head = Buffer.concat(chunks);
    if (total >= 5 && total >= 5 + head.readUInt16BE(3)) break;
  }
  client.destroy();
  socket.destroy();
  server.close();
  return Buffer.concat(chunks);
}

function hello(r: ClientHello): { serverName: string | undefined; alpn: readonly string[] } {
  assert.equal(r.kind, 'hello', JSON.stringify(r));
  return r.kind === 'hello'
    ? { serverName: r.serverName, alpn: r.alpn }
    : { serverName: undefined, alpn: [] };
}

/** The same handshake message re-framed into records of at most `size` bytes. */
function reframe(record: Buffer, size: number): Buffer {
  const body = record.subarray(5);
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const part = body.subarray(i, i + size);
    const header = Buffer.from([22, 3, 1, 0, 0]);
    header.writeUInt16BE(part.length, 3);
    out.push(header, part);
  }
  return Buffer.concat(out);
}

describe('parseClientHello', () => {
  it("reads the SNI and ALPN list of node's ClientHello", async () => {
    const bytes = await clientHelloBytes({
      servername: 'api.example.com',
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    assert.deepEqual(hello(parseClientHello(bytes)), {
      serverName: 'api.example.com',
      alpn: ['h2', 'http/1.1'],
    });
  });

  it('reads a ClientHello without SNI or ALPN', async () => {
    const bytes = await clientHelloBytes({ servername: '' });
    assert.deepEqual(hello(parseClientHello(bytes)), { serverName: undefined, alpn: [] });
  });

  it('asks for more bytes at every prefix, and ignores what follows the ClientHello', async () => {
    const bytes = await clientHelloBytes({ servername: 'a.example' });
    for (let n = 0; n < bytes.length; n++)
      assert.equal(parseClientHello(bytes.subarray(0, n)).kind, 'incomplete', `n=${n}`);
    assert.equal(
      hello(parseClientHello(Buffer.concat([bytes, Buffer.from([23, 3, 3, 0, 1, 0])]))).serverName,
      'a.example',
    );
  });

  it('reassembles a ClientHello split over several records', async () => {
    const bytes = reframe(await clientHelloBytes({ servername: 'split.example', ALPNProtocols: ['h2'] }), 3);
    assert.deepEqual(hello(parseClientHello(bytes)), { serverName: 'split.example', alpn: ['h2'] });
    assert.equal(parseClientHello(bytes.subarray(0, bytes.length - 1)).kind, 'incomplete');
  });

  it('recognises plain HTTP sent to a TLS port', () => {
    assert.deepEqual(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')), {
      kind: 'invalid',
      reason: 'not a TLS handshake',
      plaintextHttp: true,
      alert: 0,
    });
  });

  it('refuses malformed handshakes', async () => {
    const bytes = await clientHelloBytes({ servername: 'a.example', ALPNProtocols: ['h2'] });
    const kind = (b: Buffer) => parseClientHello(b).kind;
    assert.equal(kind(Buffer.from([22, 3, 1, 0, 0])), 'invalid'); // empty record
    assert.equal(kind(Buffer.from([22, 3, 1, 0x40, 1])), 'invalid'); // record over 16 KiB
    assert.equal(kind(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])), 'invalid'); // ServerHello
    assert.equal(kind(Buffer.from([0x80, 0x2e, 1])), 'invalid'); // SSLv2-style hello
    const truncated = Buffer.from(bytes);
    truncated.writeUInt16BE(truncated.readUInt16BE(3) - 10, 3); // record shorter than its message
    truncated.writeUIntBE(truncated.readUIntBE(6, 3) - 10, 6, 3); // message length agrees, extensions do not
    assert.equal(kind(truncated.subarray(0, truncated.length - 10)), 'invalid');
    const nul = Buffer.from(bytes);
    nul[nul.indexOf('a.example') + 1] = 0; // NUL inside the host name
    assert.equal(kind(nul), 'invalid');
  });

  // What Go 1.19's server answered to these bytes on a raw socket (conn.go, unchanged since).
  it("names Go's alert for each malformed ClientHello", async () => {
    const bytes = await clientHelloBytes({ servername: 'a.example', ALPNProtocols: ['h2'] });
    const alert = (b: Buffer): number | undefined => {
      const r = parseClientHello(b);
      return r.kind === 'invalid' ? r.alert : undefined;
    };
    assert.equal(alert(Buffer.from('1603010005ffffffffff', 'hex')), 80); // length first: over 64 KiB
    assert.equal(alert(Buffer.from([22, 3, 1, 0, 0])), 10); // empty record
    assert.equal(alert(Buffer.from([22, 3, 1, 0x48, 1])), 22); // record overflow
    assert.equal(alert(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])), 10); // a ServerHello
    assert.equal(alert(Buffer.from([0x80, 0x2e, 1])), 70); // SSLv2-style hello: protocol_version
    const nul = Buffer.from(bytes);
    nul[nul.indexOf('a.example') + 1] = 0;
    assert.equal(alert(nul), 10); // a body Go's unmarshal refuses: unexpected_message
    // A record that is not a handshake before a version is chosen: Go closes bare.
    const split = reframe(bytes, 2);
    split[split.readUInt16BE(3) + 5] = 21;
    assert.equal(alert(split), 0);
  });

  it('gives up on a handshake message larger than the limit', () => {
    const header = Buffer.from([22, 3, 1, 0, 4, 1, 0x02, 0, 0]); // ClientHello of 128 KiB
    assert.deepEqual(parseClientHello(header), {
      kind: 'invalid',
      reason: 'ClientHello too large',
      plaintextHttp: false,
      alert: 80, // Go's readHandshake: over maxHandshake (64 KiB) is internal_error
    });
    assert.ok(MAX_CLIENT_HELLO_BYTES >= 16_384);
  });
});

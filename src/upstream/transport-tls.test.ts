import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Issued, TestPki } from './test-pki.ts';
import {
  loadTlsMaterial,
  loadUpstreamTls,
  type ReadText,
  secureContextOptions,
  type TransportTlsConfig,
  tlsConnectOptions,
  type UpstreamTls,
} from './transport-tls.ts';

let pki: TestPki;
let other: TestPki;
let leaf: Issued;
let stranger: Issued;

/** A file system of named texts; anything else is missing. */
function files(map: Record<string, string>): ReadText {
  return (path) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

function load(cfg: TransportTlsConfig, read: ReadText = files({})): UpstreamTls {
  const r = loadUpstreamTls(cfg, read);
  if (!r.ok) throw new Error(`${r.path.join('.')}: ${r.message}`);
  return r.tls;
}

before(() => {
  pki = new TestPki();
  other = new TestPki('Other CA');
  leaf = pki.issue('client', ['client.test']);
  stranger = other.issue('stranger', ['stranger.test']);
});

after(() => {
  pki.remove();
  other.remove();
});

describe('loadTlsMaterial', () => {
  it('reads rootCAs and client certificates from files, and takes PEM text as is', () => {
    const read = files({ '/ca.pem': pki.ca.certPem, '/c.pem': leaf.certPem });
    const m = loadTlsMaterial(
      {
        rootCAs: ['/ca.pem', other.ca.certPem],
        certificates: [{ certFile: '/c.pem', keyFile: leaf.keyPem }],
      },
      read,
    );
    assert.deepEqual(m.ca, [pki.ca.certPem, other.ca.certPem]);
    assert.deepEqual(m.cert, [leaf.certPem]);
    assert.deepEqual(m.key, [leaf.keyPem]);
  });

  it('leaves ca undefined without rootCAs, so that Node keeps its bundled CA list', () => {
    assert.equal(loadTlsMaterial({}).ca, undefined);
    assert.equal(loadTlsMaterial({ rootCAs: [] }).ca, undefined);
  });

  it("maps Traefik's version names to Node's", () => {
    const m = loadTlsMaterial({ minVersion: 'VersionTLS12', maxVersion: 'VersionTLS13' });
    assert.equal(m.minVersion, 'TLSv1.2');
    assert.equal(m.maxVersion, 'TLSv1.3');
    assert.equal(loadTlsMaterial({ maxVersion: 'VersionTLS10' }).maxVersion, 'TLSv1');
  });
});

describe('secureContextOptions', () => {
  it('passes CAs, certificate chain, key and versions to the one SecureContext', () => {
    const o = secureContextOptions({
      ca: [pki.ca.certPem],
      cert: [leaf.certPem],
      key: [leaf.keyPem],
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
    assert.deepEqual(o, {
      ca: [pki.ca.certPem],
      cert: [leaf.certPem],
      key: [leaf.keyPem],
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
  });

  it('sets nothing that was not configured', () => {
    assert.deepEqual(
      secureContextOptions({
        ca: undefined,
        cert: [],
        key: [],
        minVersion: undefined,
        maxVersion: undefined,
      }),
      {},
    );
  });
});

describe('loadUpstreamTls', () => {
  it('reports a missing CA file at its rootCAs index', () => {
    const r = loadUpstreamTls({ rootCAs: [pki.ca.certPem, '/nope.pem'] }, files({}));
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.deepEqual(r.path, ['rootCAs', 1]);
    assert.equal(r.message, 'cannot read "/nope.pem": ENOENT');
  });

  it('refuses a CA file that holds no certificate', () => {
    const r = loadUpstreamTls({ rootCAs: ['/ca.pem'] }, files({ '/ca.pem': 'hello\n' }));
    assert.ok(!r.ok);
    assert.deepEqual(r.path, ['rootCAs', 0]);
    assert.match(r.message, /no PEM certificate/);
  });

  it('refuses a client key that does not match its certificate', () => {
    const r = loadUpstreamTls({ certificates: [{ certFile: leaf.certPem, keyFile: stranger.keyPem }] });
    assert.ok(!r.ok);
    assert.deepEqual(r.path, ['certificates', 0, 'keyFile']);
    assert.equal(r.message, 'the key does not match the certificate');
  });

  it('refuses a key file that is not a private key', () => {
    const r = loadUpstreamTls({ certificates: [{ certFile: leaf.certPem, keyFile: leaf.certPem }] });
    assert.ok(!r.ok);
    assert.deepEqual(r.path, ['certificates', 0, 'keyFile']);
    assert.match(r.message, /not a valid PEM private key/);
  });

  it('gives the same id to the same settings and contents, and another when a CA file changes', () => {
    const cfg: TransportTlsConfig = { serverName: 'api.test', rootCAs: ['/ca.pem'] };
    const a = load(cfg, files({ '/ca.pem': pki.ca.certPem }));
    const b = load(cfg, files({ '/ca.pem': pki.ca.certPem }));
    const c = load(cfg, files({ '/ca.pem': other.ca.certPem }));
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, c.id);
    assert.notEqual(a.secureContext, b.secureContext, 'each load builds its own context');
  });

  it('gives another id when serverName, insecureSkipVerify, versions or the client certificate change', () => {
    const base = load({});
    const ids = new Set([
      base.id,
      load({ serverName: 'x.test' }).id,
      load({ insecureSkipVerify: true }).id,
      load({ minVersion: 'VersionTLS13' }).id,
      load({ maxVersion: 'VersionTLS12' }).id,
      load({ certificates: [{ certFile: leaf.certPem, keyFile: leaf.keyPem }] }).id,
    ]);
    assert.equal(ids.size, 6);
    assert.equal(load({ insecureSkipVerify: false }).id, base.id, 'false is the default');
  });
});

describe('tlsConnectOptions', () => {
  it('sends the host name as SNI and verifies against it by default', () => {
    const t = load({});
    const o = tlsConnectOptions(t, 'backend.test', 8443);
    assert.deepEqual(o, {
      host: 'backend.test',
      port: 8443,
      servername: 'backend.test',
      secureContext: t.secureContext,
      rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
    });
  });

  it('sends no SNI for an IP literal (RFC 6066), IPv4 or IPv6', () => {
    const t = load({});
    assert.equal(tlsConnectOptions(t, '127.0.0.1', 443).servername, undefined);
    assert.equal(tlsConnectOptions(t, '::1', 443).servername, undefined);
    assert.ok(!('servername' in tlsConnectOptions(t, '::1', 443)));
  });

  it('uses serverName for SNI and verification, also for an IP server', () => {
    const t = load({ serverName: 'api.internal' });
    assert.equal(tlsConnectOptions(t, '10.0.0.1', 443).servername, 'api.internal');
    assert.equal(tlsConnectOptions(t, 'backend.test', 443).servername, 'api.internal');
  });

  it('turns verification off only with insecureSkipVerify', () => {
    assert.equal(
      tlsConnectOptions(load({ insecureSkipVerify: true }), 'a.test', 1).rejectUnauthorized,
      false,
    );
    assert.equal(
      tlsConnectOptions(load({ insecureSkipVerify: false }), 'a.test', 1).rejectUnauthorized,
      true,
    );
  });

  it('offers a session to resume when there is one', () => {
    const session = Buffer.from('ticket');
    assert.equal(tlsConnectOptions(load({}), 'a.test', 1, session).session, session);
    assert.ok(!('session' in tlsConnectOptions(load({}), 'a.test', 1)));
  });
});

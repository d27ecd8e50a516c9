/**
 * Traefik's integration/tls_client_headers_test.go (v3 branch) run against our proxy. Its fixture,
 * integration/fixtures/tlsclientheaders/simple.toml, is adapted by ./fixture.ts with compose's
 * whoami replaced by the loopback stand-in; server.pem and server.key are Traefik's
 * (./fixtures/tlsclientheaders/), the certificate the client presents and whose bytes the
 * header must carry. The stored root.pem is an older CA that did not sign this server.pem, so the
 * client certificate is required without verification (`RequireAnyClientCert`) rather than
 * verified against it: the header's bytes, the test's point, do not depend on it.
 *
 * Not ported: tls_client_auth_test.go (CRL checks of a v2 branch; v3's clientAuth has no CRL) and
 * ssl_client_headers_test.go (v1's URL-encoded `Forwarded-Ssl-Client-Cert`; v3 sends the
 * sanitized base64 tested here).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { startFixture, startWhoami } from './fixture.ts';
import { httpsGet } from './fixture-https.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/tlsclientheaders/${name}`, import.meta.url), 'utf8');

/** The DER of server.pem in base64, as Traefik's test expects it after the header's name. */
const SERVER_CERT_B64 =
  'MIIDNTCCAh0CFD0QQcHXUJuKwMBYDA+bBExVSP26MA0GCSqGSIb3DQEBCwUAMFYxCzAJBgNVBAYTAkZSMQ8wDQYDVQQIDAZGcmFuY2UxFTATBgNVBAoMDFRyYWVmaWsgTGFiczEQMA4GA1UECwwHdHJhZWZpazENMAsGA1UEAwwEcm9vdDAeFw0yMTAxMDgxNzQ0MjRaFw0zMTAxMDYxNzQ0MjRaMFgxCzAJBgNVBAYTAkZSMQ8wDQYDVQQIDAZGcmFuY2UxFTATBgNVBAoMDFRyYWVmaWsgTGFiczEQMA4GA1UECwwHdHJhZWZpazEPMA0GA1UEAwwGc2VydmVyMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvYK2z8gLPOfFLgXNWP2460aeJ9vrH47x/lhKLlv4amSDHDx8Cmz/6blOUM8XOfMRW1xx++AgChWN9dx/kf7G2xlA5grZxRvUQ6xj7AvFG9TQUA3muNh2hvm9c3IjaZBNKH27bRKuDIBvZBvXdX4NL/aaFy7w7v7IKxk8j4WkfB23sgyH43g4b7NqKHJugZiedFu5GALmtLbShVOFbjWcre7Wvatdw8dIBmiFJqZQT3UjIuGAgqczIShtLxo4V+XyVkIPmzfPrRV+4zoMFIFOIaj3syyxb4krPBtxhe7nz2cWvvq0wePB2y4YbAAoVY8NYpd5JsMFwZtG6Uk59ygv4QIDAQABMA0GCSqGSIb3DQEBCwUAA4IBAQDaPg69wNeFNFisfBJTrscqVCTW+B80gMhpLdxXD+KO0/Wgc5xpB/wLSirNtRQyxAa3+EEcIwJv/wdh8EyjlDLSpFm/8ghntrKhkOfIOPDFE41M5HNfx/Fuh5btKEenOL/XdapqtNUt2ZE4RrsfbL79sPYepa9kDUVi2mCbeH5ollZ0MDU68HpB2YwHbCEuQNk5W3pjYK2NaDkVnxTkfEDM1k+3QydO1lqB5JJmcrs59BEveTqaJ3eeh/0I4OOab6OkTTZ0JNjJp1573oxO+fce/bfGud8xHY5gSN9huU7U6RsgvO7Dhmal/sDNl8XC8oU90hVDVXZdA7ewh4jjaoIv';

describe('traefik integration/tls_client_headers_test.go', () => {
  it('TestTLSClientHeaders: passTLSClientCert pem sends the client certificate as one base64 line', async () => {
    const whoami = await startWhoami('whoami');
    open.push(() => whoami.close());
    const [cert, key] = [fixture('server.pem'), fixture('server.key')];
    const p = await startFixture(
      `[entryPoints]
  [entryPoints.websecure]
    address = ":8443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.route1]
    rule = "PathPrefix(\`/foo\`)"
    middlewares = ["tlsClientHeaders"]
    service = "whoami"
    [http.routers.route1.tls]

[http.middlewares]
  [http.middlewares.tlsClientHeaders.passTLSClientCert]
    pem = true

[http.services]
  [http.services.whoami.loadBalancer]
    [[http.services.whoami.loadBalancer.servers]]
      url = "{{ .Whoami }}"

[[tls.certificates]]
  certFile = """{{ .ServerCertContent }}"""
  keyFile = """{{ .ServerKeyContent }}"""

[tls.options]
  [tls.options.default.clientAuth]
    clientAuthType = "RequireAnyClientCert"
`,
      { Whoami: whoami.url, ServerCertContent: cert, ServerKeyContent: key },
    );
    open.push(() => p.stop());
    const r = await httpsGet(p.ports.websecure!, { path: '/foo', cert, key });
    assert.equal(r.status, 200);
    const line = r.body.split('\r\n').find((l) => /^x-forwarded-tls-client-cert:/i.test(l));
    assert.equal(line?.slice(line.indexOf(':') + 2), SERVER_CERT_B64);
    // Without a client certificate the handshake is refused (the middleware never runs).
    await assert.rejects(httpsGet(p.ports.websecure!, { path: '/foo' }));
  });
});

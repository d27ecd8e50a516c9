/**
 * Postgres behind TCP routers chosen by SNI, as Traefik routes it (pkg/server/router/tcp/
 * postgres.go): psql asks for TLS with an SSLRequest in cleartext, the proxy answers `S` and
 * routes the ClientHello that follows. A real PostgreSQL server with TLS on, and psql as client.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type PostgresServer, psql, startPostgres } from '../helpers/postgres.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

describe('Postgres STARTTLS through TCP routers', () => {
  let proxyPki: TestPki;
  let backendPki: TestPki;
  let termCert: Issued;
  let pg: PostgresServer;
  let proxy: ProxyProcess;
  /** A server that says it does no TLS (`N`), and what it read. */
  let noTls: Server;
  const noTlsRead: Buffer[] = [];

  before(async () => {
    noTls = createServer((s) => {
      s.on('error', () => {});
      s.once('data', (d: Buffer) => {
        noTlsRead.push(d);
        s.write('N');
      });
    });
    noTls.listen(0, '127.0.0.1');
    await once(noTls, 'listening');
    proxyPki = new TestPki('Proxy CA');
    backendPki = new TestPki('Backend CA');
    termCert = proxyPki.issue('term.test', ['term.test']);
    pg = await startPostgres(backendPki.issue('db.test', ['db.test']));
    proxy = await startProxy({
      config: `entryPoints:
  pg:
    address: "127.0.0.1:0"
log: { level: DEBUG }
tcp:
  routers:
    pass: { entryPoints: [pg], rule: "HostSNI(\`db.test\`)", service: pg, tls: { passthrough: true } }
    term: { entryPoints: [pg], rule: "HostSNI(\`term.test\`)", service: pg, tls: {} }
    notls: { entryPoints: [pg], rule: "HostSNI(\`notls.test\`)", service: notls, tls: { passthrough: true } }
  services:
    pg: { loadBalancer: { servers: [{ address: "127.0.0.1:${pg.port}" }] } }
    notls: { loadBalancer: { servers: [{ address: "127.0.0.1:${(noTls.address() as AddressInfo).port}" }] } }
tls:
  certificates:
    - { certFile: term.pem, keyFile: term.key }
`,
      files: { 'term.pem': termCert.certPem, 'term.key': termCert.keyPem },
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await pg?.stop();
    noTls?.close();
    proxyPki?.remove();
    backendPki?.remove();
  });

  const conn = (host: string, ca: string, mode = 'verify-full'): string =>
    `host=${host} hostaddr=127.0.0.1 port=${proxy.ports['pg']} user=pg dbname=postgres sslmode=${mode} sslrootcert=${ca}`;
  const SSL_SEEN = 'select ssl from pg_stat_ssl where pid = pg_backend_pid()';

  it('passes TLS through by SNI: psql verifies the server’s own certificate, the server sees TLS', async () => {
    const r = await psql(conn('db.test', backendPki.ca.certFile), SSL_SEEN);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), 't');
  });

  it('terminates TLS by SNI: psql verifies the proxy’s certificate, the server gets cleartext', async () => {
    const r = await psql(conn('term.test', proxyPki.ca.certFile), SSL_SEEN);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), 'f');
  });

  it('closes a Postgres client whose server name no TLS router takes', async () => {
    const r = await psql(conn('other.test', proxyPki.ca.certFile, 'require'), 'select 1');
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /server closed the connection|SSL SYSCALL|connection/i);
  });

  it('asks a passthrough server for TLS first and closes the client when it answers other than S', async () => {
    const r = await psql(conn('notls.test', backendPki.ca.certFile, 'require'), 'select 1');
    assert.notEqual(r.code, 0, r.out);
    assert.deepEqual(Buffer.concat(noTlsRead), Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]));
  });
});

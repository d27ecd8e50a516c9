import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { makeClientCertPki } from '../../src/middleware/test-client-cert.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';
import { runCli } from '../helpers/run-cli.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';
import { waitForFileLines, within } from '../helpers/wait.ts';

/*
 * The access log of the real proxy process: one line per request, JSON or Common Log Format,
 * to a file or to stdout, and nothing at all without an `accessLog` section.
 */

async function echoBackend(t: TestContext): Promise<Backend> {
  const be = await startBackend((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
    });
    req.on('end', () => res.end(`${req.method} ${req.url} ${n}`));
  });
  t.after(() => be.close());
  return be;
}

function config(be: Backend, accessLog: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
${accessLog}
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-access-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(t: TestContext, text: string, files?: Record<string, string>): Promise<ProxyProcess> {
  const proxy = await startProxy(files === undefined ? { config: text } : { config: text, files });
  t.after(() => proxy.stop());
  return proxy;
}

/** Three requests on one keep-alive connection: a GET with a query, a POST with a body, a 404. */
async function traffic(t: TestContext, proxy: ProxyProcess): Promise<number[]> {
  const c = await RawConn.open(proxy.port);
  t.after(() => c.destroy());
  const sizes: number[] = [];
  c.write(
    'GET /app/hello?x=1 HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: e2e-agent\r\nReferer: http://ref.test/\r\n\r\n',
  );
  let r = await c.readResponse();
  assert.equal(r.status, 200);
  sizes.push(Buffer.byteLength(r.body));
  c.write('POST /app/upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\n\r\nhello');
  r = await c.readResponse();
  assert.equal(r.body, 'POST /app/upload 5');
  sizes.push(Buffer.byteLength(r.body));
  c.write('GET /nowhere HTTP/1.1\r\nHost: shop.test\r\n\r\n');
  r = await c.readResponse();
  assert.equal(r.status, 404);
  sizes.push(Buffer.byteLength(r.body));
  return sizes;
}

/** Resolves once stdout has `n` complete lines. */
function stdoutLines(proxy: ProxyProcess, n: number): Promise<string[]> {
  const stream = proxy.child.stdout!;
  return within(
    new Promise<string[]>((resolve) => {
      const check = (): void => {
        const lines = proxy.stdout().split('\n');
        lines.pop();
        if (lines.length >= n) {
          stream.off('data', check);
          resolve(lines);
        }
      };
      stream.on('data', check);
      check();
    }),
    `${n} lines on stdout`,
  );
}

/** Stops the proxy and resolves once its stdout has been read to the end. */
async function stopAndDrain(proxy: ProxyProcess): Promise<void> {
  const stream = proxy.child.stdout!;
  const ended = stream.readableEnded ? Promise.resolve() : once(stream, 'end').then(() => {});
  assert.equal(await proxy.stop(), 0);
  await within(ended, 'stdout to end');
}

describe('access log', () => {
  it('format json writes one JSON line per request to filePath, with every field', async (t) => {
    const be = await echoBackend(t);
    const file = join(tempDir(t), 'access.json');
    const proxy = await start(t, config(be, `accessLog: { format: json, filePath: "${file}" }`));
    const sizes = await traffic(t, proxy);

    const lines = await waitForFileLines(file, 3);
    assert.equal(lines.length, 3);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // Traefik's JSON fields (pkg/middlewares/accesslog/logdata.go) and logrus's level, msg, time.
    const common = {
      ClientHost: '127.0.0.1',
      ClientUsername: '-',
      RequestAddr: 'shop.test',
      RequestHost: 'shop.test',
      RequestPort: '-',
      RequestProtocol: 'HTTP/1.1',
      RequestScheme: 'http',
      RetryAttempts: 0,
      entryPointName: 'web',
      level: 'info',
      msg: '',
    };
    const serviceAddr = new URL(be.url).host;
    const routed = {
      RouterName: 'app@file',
      ServiceName: 'be@file',
      ServiceURL: be.url,
      ServiceAddr: serviceAddr,
    };
    const expected = [
      {
        ...common,
        ...routed,
        RequestMethod: 'GET',
        RequestPath: '/app/hello?x=1',
        DownstreamStatus: 200,
        RequestContentSize: 0,
        DownstreamContentSize: sizes[0],
      },
      {
        ...common,
        ...routed,
        RequestMethod: 'POST',
        RequestPath: '/app/upload',
        DownstreamStatus: 200,
        RequestContentSize: 5,
        DownstreamContentSize: sizes[1],
      },
      {
        // No router took it: no RouterName, ServiceName, ServiceURL nor ServiceAddr.
        ...common,
        RequestMethod: 'GET',
        RequestPath: '/nowhere',
        DownstreamStatus: 404,
        RequestContentSize: 0,
        DownstreamContentSize: sizes[2],
      },
    ];
    let port: string | undefined;
    let count = 0;
    for (const [i, r] of records.entries()) {
      const {
        time,
        StartUTC,
        StartLocal,
        Duration,
        ClientAddr,
        ClientPort,
        RequestCount,
        OriginDuration,
        Overhead,
        OriginStatus,
        OriginContentSize,
        ...rest
      } = r;
      assert.deepEqual(rest, expected[i], `record ${i}`);
      // Traefik v3's AddServiceFields: the service's status, size and time; zeros without one.
      const served = i < 2;
      assert.equal(OriginStatus, served ? expected[i]!.DownstreamStatus : 0, `record ${i}`);
      assert.equal(OriginContentSize, served ? expected[i]!.DownstreamContentSize : 0, `record ${i}`);
      assert.ok(served ? Number(OriginDuration) > 0 : OriginDuration === 0, `record ${i} OriginDuration`);
      assert.equal(Number(Overhead), Number(Duration) - Number(OriginDuration), `record ${i} Overhead`);
      assert.match(String(time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/);
      assert.match(String(StartUTC), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      assert.equal(new Date(String(StartLocal)).getTime(), new Date(String(StartUTC)).getTime());
      assert.ok(Number.isInteger(Duration) && Number(Duration) >= 0, 'Duration in nanoseconds');
      // One keep-alive connection: one client port on every line.
      port ??= String(ClientPort);
      assert.match(port, /^\d+$/);
      assert.equal(ClientPort, port);
      assert.equal(ClientAddr, `127.0.0.1:${port}`);
      assert.ok(Number(RequestCount) > count, 'RequestCount grows');
      count = Number(RequestCount);
    }
    await stopAndDrain(proxy);
    assert.equal(proxy.stdout(), '', 'nothing went to stdout');
  });

  it('format json over HTTP/2 with TLS: scheme, protocol, TLS version and cipher; a failed server is a 502', async (t) => {
    const be = await echoBackend(t);
    const refused = await freePort();
    const cert = selfSignedCertificate(['shop.test']);
    const file = join(tempDir(t), 'access.json');
    const proxy = await start(
      t,
      `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
accessLog: { format: json, filePath: "${file}" }
tls:
  certificates:
    - { certFile: shop.pem, keyFile: shop.key }
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: be }
    gone: { rule: "PathPrefix(\`/gone\`)", service: gone }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
    gone: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${refused}" }] } }
`,
      { 'shop.pem': cert.certPem, 'shop.key': cert.keyPem },
    );
    const session = http2.connect(`https://127.0.0.1:${proxy.ports.websecure}`, {
      ca: cert.certPem,
      servername: 'shop.test',
    });
    t.after(() => session.close());
    const get = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const s = session.request({ ':path': path, ':authority': 'shop.test' });
        s.on('response', (h) => resolve(Number(h[':status'])));
        s.on('error', reject);
        s.resume();
      });
    assert.equal(await get('/app/h2'), 200);
    assert.equal(await get('/gone/x'), 502);
    const records = (await waitForFileLines(file, 2)).map((l) => JSON.parse(l) as Record<string, unknown>);
    const negotiated = (session.socket as TLSSocket).getProtocol()!.replace('TLSv', '');
    const cipher = (session.socket as TLSSocket).getCipher().standardName;
    for (const r of records) {
      assert.equal(r.RequestProtocol, 'HTTP/2.0');
      assert.equal(r.RequestScheme, 'https');
      assert.equal(r.TLSVersion, negotiated);
      assert.equal(r.TLSCipher, cipher);
      assert.match(String(r.TLSCipher), /^TLS_/, "Go's (IANA) cipher suite name");
      assert.equal(r.RequestHost, 'shop.test');
      assert.equal(r.entryPointName, 'websecure');
    }
    assert.deepEqual(
      records.map((r) => [r.RequestPath, r.DownstreamStatus, r.RouterName, r.ServiceName, r.ServiceURL]),
      [
        ['/app/h2', 200, 'app@file', 'be@file', be.url],
        ['/gone/x', 502, 'gone@file', 'gone@file', `http://127.0.0.1:${refused}`],
      ],
    );
    assert.equal(records[1]!.ServiceAddr, `127.0.0.1:${refused}`);
  });

  it("TLSClientSubject: the client certificate's subject as Go's Name.String() writes it, when one was sent", async (t) => {
    // Traefik's logger.go ServeHTTP: core[TLSClientSubject] = PeerCertificates[0].Subject.String().
    const be = await echoBackend(t);
    const cert = selfSignedCertificate(['shop.test']);
    const pki = makeClientCertPki();
    t.after(() => pki.remove());
    const file = join(tempDir(t), 'access.json');
    const proxy = await start(
      t,
      `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
accessLog: { format: json, filePath: "${file}" }
tls:
  certificates:
    - { certFile: shop.pem, keyFile: shop.key }
  options:
    optional:
      clientAuth: { caFiles: [client-ca.pem], clientAuthType: VerifyClientCertIfGiven }
http:
  routers:
    # The options apply by SNI to the routers' hosts (Traefik's): the rule names the host.
    app: { rule: "Host(\`shop.test\`)", service: be, tls: { options: optional } }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
      { 'shop.pem': cert.certPem, 'shop.key': cert.keyPem, 'client-ca.pem': pki.ca },
    );
    const get = (path: string, withCert: boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        const session = http2.connect(`https://127.0.0.1:${proxy.ports.websecure}`, {
          ca: cert.certPem,
          servername: 'shop.test',
          ...(withCert ? { cert: pki.client, key: readFileSync(pki.clientKeyFile) } : {}),
        });
        const s = session.request({ ':path': path, ':authority': 'shop.test' });
        s.on('response', (h) => resolve(Number(h[':status'])));
        s.on('error', reject);
        s.on('close', () => session.close());
        s.resume();
      });
    assert.equal(await get('/app/with-cert', true), 200);
    assert.equal(await get('/app/without', false), 200);
    const records = (await waitForFileLines(file, 2)).map((l) => JSON.parse(l) as Record<string, unknown>);
    const withCert = records.find((r) => r.RequestPath === '/app/with-cert')!;
    // Written by hand from Go's crypto/x509/pkix (see pass-tls-client-cert.test.ts).
    assert.equal(
      withCert.TLSClientSubject,
      'SERIALNUMBER=S-2,CN=client.example.com,OU=Unit A+OU=Unit B,O=Acme\\, Inc.+O=Société Générale,' +
        'L=Toulouse+L=Lyon,ST=Occitanie,C=FR+C=US,' +
        '1.2.840.113549.1.9.1=#0c0d78406578616d706c652e636f6d,' +
        '0.9.2342.19200300.100.1.25=#13076578616d706c65,0.9.2342.19200300.100.1.25=#1303636f6d',
    );
    // Go's JSON key order: after TLSCipher, before TLSVersion.
    const keys = Object.keys(withCert);
    assert.equal(keys.indexOf('TLSClientSubject'), keys.indexOf('TLSCipher') + 1);
    assert.equal(keys.indexOf('TLSVersion'), keys.indexOf('TLSClientSubject') + 1);
    const without = records.find((r) => r.RequestPath === '/app/without')!;
    assert.equal('TLSClientSubject' in without, false);
  });

  it('flushes the lines still buffered when the proxy stops', async (t) => {
    const be = await echoBackend(t);
    const file = join(tempDir(t), 'access.json');
    const proxy = await start(t, config(be, `accessLog: { format: json, filePath: "${file}" }`));
    const c = await RawConn.open(proxy.port);
    t.after(() => c.destroy());
    c.write('GET /app/last HTTP/1.1\r\nHost: shop.test\r\n\r\n');
    assert.equal((await c.readResponse()).status, 200);
    // Straight after the response: the line is most likely still in the writer's buffer.
    await stopAndDrain(proxy);
    const lines = await waitForFileLines(file, 1);
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0]!) as { RequestPath: string }).RequestPath, '/app/last');
  });

  it('format common writes Common Log Format lines (Traefik flavour) to stdout by default', async (t) => {
    const be = await echoBackend(t);
    // Traefik's CLF shows the referer and user agent only when the header modes keep them.
    const proxy = await start(
      t,
      config(
        be,
        'accessLog: { format: common, fields: { headers: { names: { User-Agent: keep, Referer: keep } } } }',
      ),
    );
    const sizes = await traffic(t, proxy);
    const lines = await stdoutLines(proxy, 3);
    const date = String.raw`\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]`;
    const server = be.url.replace(/\./g, '\\.');
    // <ip> - <user> [<time>] "<method> <path> <proto>" <status> <size> "<referer>" "<agent>"
    // <request count> "<router>" "<server URL>" <duration>ms (Traefik's CLF).
    const expected = [
      `^127\\.0\\.0\\.1 - - ${date} "GET /app/hello\\?x=1 HTTP/1\\.1" 200 ${sizes[0]} "http://ref\\.test/" "e2e-agent" \\d+ "app@file" "${server}" \\d+ms$`,
      `^127\\.0\\.0\\.1 - - ${date} "POST /app/upload HTTP/1\\.1" 200 ${sizes[1]} "-" "-" \\d+ "app@file" "${server}" \\d+ms$`,
      `^127\\.0\\.0\\.1 - - ${date} "GET /nowhere HTTP/1\\.1" 404 ${sizes[2]} "-" "-" \\d+ "-" "-" \\d+ms$`,
    ];
    for (const [i, line] of lines.entries()) assert.match(line, new RegExp(expected[i]!), `line ${i}`);
    assert.equal(lines.length, 3);
  });

  it('accessLog: {} writes Common Log Format to stdout, as Traefik does by default', async (t) => {
    const be = await echoBackend(t);
    const proxy = await start(t, config(be, 'accessLog: {}'));
    await traffic(t, proxy);
    const lines = await stdoutLines(proxy, 3);
    assert.match(lines[0] ?? '', /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/app\/hello\?x=1 HTTP\/1\.1" 200 /);
    // Headers are dropped by default: the referer and user agent the client sent show as "-".
    assert.match(lines[0] ?? '', / 200 \d+ "-" "-" \d+ "app@file" /);
  });

  it("format genericCLF writes the Common Log Format without Traefik's four extra fields", async (t) => {
    const be = await echoBackend(t);
    const proxy = await start(
      t,
      config(be, 'accessLog: { format: genericCLF, fields: { headers: { defaultMode: keep } } }'),
    );
    const sizes = await traffic(t, proxy);
    const lines = await stdoutLines(proxy, 3);
    assert.match(
      lines[0] ?? '',
      new RegExp(
        `^127\\.0\\.0\\.1 - - \\[[^\\]]+\\] "GET /app/hello\\?x=1 HTTP/1\\.1" 200 ${sizes[0]} "http://ref\\.test/" "e2e-agent"$`,
      ),
    );
    assert.match(lines[2] ?? '', new RegExp(`"GET /nowhere HTTP/1\\.1" 404 ${sizes[2]} "-" "-"$`));
  });

  it('writes nothing without an accessLog section', async (t) => {
    const be = await echoBackend(t);
    const proxy = await start(t, config(be, ''));
    await traffic(t, proxy);
    await stopAndDrain(proxy);
    assert.equal(proxy.stdout(), '');
  });

  it("makes the access log file's missing folders, as Traefik does (os.MkdirAll)", async (t) => {
    const be = await echoBackend(t);
    const file = join(tempDir(t), 'logs', 'traffic', 'access.json');
    const proxy = await start(t, config(be, `accessLog: { format: json, filePath: "${file}" }`));
    await traffic(t, proxy);
    const lines = await waitForFileLines(file, 3);
    assert.equal((JSON.parse(lines[0]!) as { RequestPath: string }).RequestPath, '/app/hello?x=1');
    assert.equal(statSync(dirname(file)).mode & 0o777, 0o755);
    // The file itself 0664 less the umask, as Traefik's openAccessLogFile (os.OpenFile 0o664): a
    // log shipper running as another user reads it (it was 0640).
    const probe = join(dirname(file), 'probe');
    writeFileSync(probe, '', { mode: 0o664 });
    assert.equal(statSync(file).mode & 0o777, statSync(probe).mode & 0o777);
  });

  it('refuses to start when the access log file cannot be opened', async (t) => {
    const be = await echoBackend(t);
    const dir = tempDir(t);
    const staticFile = join(dir, 'traffic.yaml');
    // A folder cannot be made under a regular file.
    writeFileSync(join(dir, 'a-file'), '');
    const missing = join(dir, 'a-file', 'access.log');
    writeFileSync(staticFile, config(be, `accessLog: { filePath: "${missing}" }`));
    const r = await runCli(['run', '--config', staticFile]);
    assert.equal(r.code, 1, r.stderr);
    const logged = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = logged.find((l) => l.msg === 'cannot open the access log');
    assert.ok(line, r.stderr);
    assert.equal(line.level, 'error');
    assert.equal(line.filePath, missing);
    assert.ok(!logged.some((l) => l.msg === 'entry point listening'), 'no entry point was opened');
  });

  it("ClientUsername from basicAuth and forwardAuth, ClientHost from a trusted peer's X-Forwarded-For, as Traefik", async (t) => {
    const be = await echoBackend(t);
    const auth = await startBackend((_req, res) => {
      res.setHeader('X-Auth-User', 'bob');
      res.end();
    });
    t.after(() => auth.close());
    const file = join(tempDir(t), 'access.json');
    const sha = createHash('sha1').update('pw').digest('base64');
    const proxy = await start(
      t,
      `entryPoints:
  web:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
log: { level: INFO }
accessLog: { format: json, filePath: "${file}" }
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: be, middlewares: [basic] }
    fa: { rule: "PathPrefix(\`/fa\`)", service: be, middlewares: [fa] }
  middlewares:
    basic: { basicAuth: { users: ["alice:{SHA}${sha}"] } }
    fa: { forwardAuth: { address: "${auth.url}", headerField: X-Auth-User } }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
    );
    const basic = (cred: string): string => `Basic ${Buffer.from(cred).toString('base64')}`;
    const get = async (path: string, headers: Record<string, string>, status: number): Promise<void> => {
      const res = await fetch(`http://127.0.0.1:${proxy.port}${path}`, { headers });
      assert.equal(res.status, status, path);
      await res.arrayBuffer();
    };
    await get(
      '/app/1',
      { authorization: basic('alice:pw'), 'x-forwarded-for': '203.0.113.5, 10.0.0.1' },
      200,
    );
    await get('/app/2', { authorization: basic('mallory:nope') }, 401);
    await get('/app/3', {}, 401);
    await get('/fa/4', {}, 200);
    const lines = await waitForFileLines(file, 4);
    const got = lines.map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      return [r['RequestPath'], r['ClientUsername'], r['ClientHost']];
    });
    // Traefik's basicAuth names the user it was given, authenticated or not ("" without one).
    assert.deepEqual(got, [
      ['/app/1', 'alice', '203.0.113.5, 10.0.0.1'],
      ['/app/2', 'mallory', '127.0.0.1'],
      ['/app/3', '', '127.0.0.1'],
      ['/fa/4', 'bob', '127.0.0.1'],
    ]);
  });
});

import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/*
 * Backends that authenticate the connection, not the request (NTLM, Negotiate/Kerberos: IIS,
 * Exchange, SharePoint): once a handshake succeeded on a TCP connection, every later request on
 * it is the authenticated user's. A proxy that pools backend connections must never hand such a
 * connection to another client. Traefik's kerberosRoundTripper (pkg/server/service/transport.go)
 * gives a client connection a transport of its own once a backend answered with a
 * `WWW-Authenticate: NTLM` or `Negotiate` challenge; GHSA-qqjf-53cj-pwvv (CVE-2026-88007) was
 * its HTTP/3 entry point forgetting to, letting another client read the victim's data.
 */

interface Reply {
  readonly status: number;
  readonly text: string;
  readonly challenge: string | undefined;
}

function get(port: number, agent: Agent, authorization?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/private',
        agent,
        headers: authorization === undefined ? {} : { authorization },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text,
            challenge: res.headers['www-authenticate'],
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A backend whose NTLM-like handshake (anonymous → type 1 → type 2 → type 3) binds the socket. */
async function connectionAuthBackend(scheme: 'NTLM' | 'Negotiate'): Promise<{
  backend: Backend;
  /** The sockets a handshake authenticated. */
  authenticated: Set<Socket>;
}> {
  const challenged = new WeakSet<Socket>();
  const authenticated = new Set<Socket>();
  const backend = await startBackend((req, res) => {
    const s = req.socket;
    const auth = req.headers.authorization ?? '';
    if (authenticated.has(s)) {
      res.end('SECRET of alice');
      return;
    }
    if (auth === `${scheme} TYPE1`) {
      challenged.add(s);
      res.writeHead(401, { 'www-authenticate': `${scheme} TYPE2` }).end();
      return;
    }
    if (auth === `${scheme} TYPE3-alice` && challenged.has(s)) {
      authenticated.add(s);
      res.end('SECRET of alice');
      return;
    }
    res.writeHead(401, { 'www-authenticate': scheme }).end();
  });
  return { backend, authenticated };
}

/** The handshake a browser does, on one keep-alive connection to the proxy. */
async function handshake(port: number, agent: Agent, scheme: string): Promise<void> {
  const anonymous = await get(port, agent);
  assert.deepEqual([anonymous.status, anonymous.challenge], [401, scheme]);
  const type2 = await get(port, agent, `${scheme} TYPE1`);
  assert.deepEqual([type2.status, type2.challenge], [401, `${scheme} TYPE2`]);
  const done = await get(port, agent, `${scheme} TYPE3-alice`);
  assert.deepEqual([done.status, done.text], [200, 'SECRET of alice']);
}

function h2Get(session: http2.ClientHttp2Session, authorization?: string): Promise<Reply> {
  const headers: http2.OutgoingHttpHeaders = { ':path': '/private' };
  if (authorization !== undefined) headers.authorization = authorization;
  return new Promise<Reply>((resolve, reject) => {
    const r = session.request(headers, { endStream: true });
    let status = 0;
    let challenge: string | undefined;
    let text = '';
    r.on('response', (h) => {
      status = Number(h[':status']);
      challenge = h['www-authenticate'] as string | undefined;
    });
    r.setEncoding('utf8');
    r.on('data', (c: string) => {
      text += c;
    });
    r.on('end', () => resolve({ status, text, challenge }));
    r.on('error', reject);
  });
}

async function h2Status(port: number): Promise<number> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return (await h2Get(session)).status;
  } finally {
    session.close();
  }
}

for (const [scheme, engine] of [
  ['NTLM', 'own'],
  ['Negotiate', 'own'],
  ...H2_ENGINES.filter((e) => e !== 'own').map((e) => ['NTLM', e] as const),
] as const) {
  describe(`a backend with connection-bound ${scheme} authentication (HTTP/2 engine ${engine})`, () => {
    let be: Awaited<ReturnType<typeof connectionAuthBackend>>;
    let proxy: ProxyProcess;

    before(async () => {
      be = await connectionAuthBackend(scheme);
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: iis }
  services:
    iis: { loadBalancer: { servers: [{ url: "${be.backend.url}" }] } }
`,
      });
    });
    after(async () => {
      await proxy?.stop();
      await be?.backend.close();
    });

    it("serves one client connection's handshake and later requests, never another client's (GHSA-qqjf-53cj-pwvv)", async () => {
      const alice = new Agent({ keepAlive: true, maxSockets: 1 });
      const mallory = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        await handshake(proxy.port, alice, scheme);
        // Alice's connection stays authenticated, as with the backend directly.
        assert.deepEqual(await get(proxy.port, alice), {
          status: 200,
          text: 'SECRET of alice',
          challenge: undefined,
        });
        // Another client, without credentials, gets the challenge, not Alice's data.
        const stolen = await get(proxy.port, mallory);
        assert.deepEqual([stolen.status, stolen.text, stolen.challenge], [401, '', scheme]);
        // Nor over HTTP/2.
        assert.equal(await h2Status(proxy.port), 401);
      } finally {
        alice.destroy();
        mallory.destroy();
      }
    });

    it('does the same for an HTTP/2 client connection: its streams share its own backend connections', async () => {
      const alice = http2.connect(`http://127.0.0.1:${proxy.port}`);
      const mallory = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        assert.deepEqual((await h2Get(alice)).challenge, scheme);
        assert.equal((await h2Get(alice, `${scheme} TYPE1`)).challenge, `${scheme} TYPE2`);
        assert.equal((await h2Get(alice, `${scheme} TYPE3-alice`)).text, 'SECRET of alice');
        assert.equal((await h2Get(alice)).text, 'SECRET of alice');
        const stolen = await get(proxy.port, mallory);
        assert.deepEqual([stolen.status, stolen.challenge], [401, scheme]);
      } finally {
        alice.close();
        mallory.destroy();
      }
    });

    it("closes a client connection's authenticated backend connection when it closes", async () => {
      const alice = new Agent({ keepAlive: true, maxSockets: 1 });
      be.authenticated.clear();
      await handshake(proxy.port, alice, scheme);
      const [authed] = [...be.authenticated];
      assert.ok(authed !== undefined && !authed.destroyed);
      const closed = new Promise<void>((resolve) => authed.once('close', () => resolve()));
      alice.destroy();
      await closed;
    });
  });
}

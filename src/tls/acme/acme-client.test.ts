import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { AcmeClient, linksOf } from './acme-client.ts';
import { AcmeProblemError, AcmeTransportError } from './acme-errors.ts';
import {
  type AcmeHttpRequest,
  type AcmeHttpResponse,
  type AcmeTransport,
  httpsTransport,
} from './acme-transport.ts';
import { AccountKey } from './jws.ts';

const CA = 'https://ca.test';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly header?: Record<string, unknown>;
  readonly payload?: unknown;
}

type Handler = (payload: unknown) => AcmeHttpResponse;

/** A scripted ACME server behind the transport interface. */
class FakeCa implements AcmeTransport {
  readonly seen: Seen[] = [];
  readonly routes = new Map<string, Handler>();
  /** POSTs rejected with badNonce before the handler runs. */
  badNonces = 0;
  #n = 0;

  nonce(): string {
    return `nonce-${++this.#n}`;
  }

  async send(req: AcmeHttpRequest): Promise<AcmeHttpResponse> {
    if (req.method === 'GET' && req.url === `${CA}/dir`) {
      this.seen.push({ method: 'GET', url: req.url });
      return ok({ newNonce: `${CA}/nonce`, newAccount: `${CA}/acct`, newOrder: `${CA}/order` });
    }
    if (req.method === 'HEAD') {
      this.seen.push({ method: 'HEAD', url: req.url });
      return { status: 200, headers: { 'replay-nonce': this.nonce() }, body: '' };
    }
    const jws = JSON.parse(req.body ?? '{}') as { protected: string; payload: string };
    const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString()) as Record<string, unknown>;
    const payload =
      jws.payload === '' ? undefined : JSON.parse(Buffer.from(jws.payload, 'base64url').toString());
    this.seen.push({ method: 'POST', url: req.url, header, payload });
    if (this.badNonces > 0) {
      this.badNonces--;
      return problem(
        400,
        { type: 'urn:ietf:params:acme:error:badNonce', detail: 'JWS has an invalid anti-replay nonce' },
        this.nonce(),
      );
    }
    const h = this.routes.get(req.url);
    if (h === undefined)
      return problem(
        404,
        { type: 'urn:ietf:params:acme:error:malformed', detail: 'no such URL' },
        this.nonce(),
      );
    const res = h(payload);
    return { ...res, headers: { 'replay-nonce': this.nonce(), ...res.headers } };
  }

  close(): void {}
}

function ok(body: unknown, headers: Record<string, string> = {}, status = 200): AcmeHttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function problem(status: number, body: unknown, nonce: string): AcmeHttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', 'replay-nonce': nonce },
    body: JSON.stringify(body),
  };
}

function newClient(ca: FakeCa, extra: Partial<ConstructorParameters<typeof AcmeClient>[0]> = {}): AcmeClient {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new AcmeClient({
    directoryUrl: `${CA}/dir`,
    accountKey: new AccountKey(privateKey),
    transport: ca,
    ...extra,
  });
}

const accountRoute = (): AcmeHttpResponse => ok({ status: 'valid' }, { location: `${CA}/acct/1` }, 201);

describe('AcmeClient', () => {
  it('signs newAccount with its jwk and every later request with the account URL as kid', async () => {
    const ca = new FakeCa();
    ca.routes.set(`${CA}/acct`, accountRoute);
    ca.routes.set(`${CA}/order`, () =>
      ok(
        {
          status: 'pending',
          identifiers: [{ type: 'dns', value: 'a.test' }],
          authorizations: [],
          finalize: `${CA}/fin`,
        },
        { location: `${CA}/order/1` },
        201,
      ),
    );
    const client = newClient(ca);
    const acct = await client.newAccount({ email: 'ops@example.com', termsOfServiceAgreed: true });
    assert.equal(acct.url, `${CA}/acct/1`);
    const order = await client.newOrder([{ type: 'dns', value: 'a.test' }]);
    assert.equal(order.url, `${CA}/order/1`);
    const posts = ca.seen.filter((s) => s.method === 'POST');
    assert.ok(posts[0]?.header?.jwk !== undefined && posts[0].header.kid === undefined);
    assert.deepEqual(posts[0]?.payload, { termsOfServiceAgreed: true, contact: ['mailto:ops@example.com'] });
    assert.equal(posts[1]?.header?.kid, `${CA}/acct/1`);
    assert.equal(posts[1]?.header?.jwk, undefined);
    assert.equal(posts[1]?.header?.url, `${CA}/order`);
  });

  it('uses each Replay-Nonce once and asks newNonce only when it has none', async () => {
    const ca = new FakeCa();
    ca.routes.set(`${CA}/acct`, accountRoute);
    const client = newClient(ca);
    await client.newAccount({ termsOfServiceAgreed: true });
    await client.newAccount({ termsOfServiceAgreed: true });
    assert.equal(ca.seen.filter((s) => s.method === 'HEAD').length, 1);
    const nonces = ca.seen.filter((s) => s.method === 'POST').map((s) => s.header?.nonce);
    assert.deepEqual(nonces, ['nonce-1', 'nonce-2']);
  });

  it('retries a request rejected with badNonce, with the nonce that came with the error', async () => {
    const ca = new FakeCa();
    ca.routes.set(`${CA}/acct`, accountRoute);
    ca.badNonces = 3;
    const client = newClient(ca);
    const acct = await client.newAccount({ termsOfServiceAgreed: true });
    assert.equal(acct.url, `${CA}/acct/1`);
    const nonces = ca.seen.filter((s) => s.method === 'POST').map((s) => s.header?.nonce);
    assert.deepEqual(nonces, ['nonce-1', 'nonce-2', 'nonce-3', 'nonce-4']);
  });

  it('gives up after maxNonceRetries and reports the badNonce problem', async () => {
    const ca = new FakeCa();
    ca.routes.set(`${CA}/acct`, accountRoute);
    ca.badNonces = 100;
    const client = newClient(ca, { maxNonceRetries: 2 });
    await assert.rejects(client.newAccount({ termsOfServiceAgreed: true }), (e: unknown) => {
      assert.ok(e instanceof AcmeProblemError && e.is('badNonce'));
      return true;
    });
    assert.equal(ca.seen.filter((s) => s.method === 'POST').length, 3);
  });

  it('surfaces a problem document with its type, detail, status, subproblems and Retry-After', async () => {
    const ca = new FakeCa();
    ca.routes.set(`${CA}/acct`, accountRoute);
    ca.routes.set(`${CA}/order`, () => ({
      ...problem(
        400,
        {
          type: 'urn:ietf:params:acme:error:rejectedIdentifier',
          detail: 'Error creating new order',
          subproblems: [
            {
              type: 'urn:ietf:params:acme:error:rejectedIdentifier',
              detail: 'bad.test is forbidden',
              identifier: { type: 'dns', value: 'bad.test' },
            },
          ],
        },
        'n',
      ),
      headers: { 'retry-after': '30' },
    }));
    const client = newClient(ca);
    await client.newAccount({ termsOfServiceAgreed: true });
    await assert.rejects(client.newOrder([{ type: 'dns', value: 'bad.test' }]), (e: unknown) => {
      assert.ok(e instanceof AcmeProblemError);
      assert.equal(e.type, 'urn:ietf:params:acme:error:rejectedIdentifier');
      assert.equal(e.detail, 'Error creating new order');
      assert.equal(e.status, 400);
      assert.equal(e.subproblems[0]?.detail, 'bad.test is forbidden');
      assert.equal(e.retryAfterMs, 30_000);
      assert.match(e.message, /bad\.test is forbidden/);
      return true;
    });
  });

  it('polls a pending authorization, waiting what Retry-After asks, else doubling from pollIntervalMs', async () => {
    for (const [retryAfter, expected] of [
      ['3', [3000, 3000]],
      [undefined, [250, 500]],
    ] as const) {
      const ca = new FakeCa();
      ca.routes.set(`${CA}/acct`, accountRoute);
      let polls = 0;
      ca.routes.set(`${CA}/authz/1`, () =>
        ok(
          {
            status: ++polls < 3 ? 'pending' : 'valid',
            identifier: { type: 'dns', value: 'a.test' },
            challenges: [{ type: 'http-01', url: `${CA}/chall/1`, status: 'pending', token: 't' }],
          },
          retryAfter === undefined ? {} : { 'retry-after': retryAfter },
        ),
      );
      const waits: number[] = [];
      const client = newClient(ca, { delay: async (ms) => void waits.push(ms) });
      await client.newAccount({ termsOfServiceAgreed: true });
      const authz = await client.waitForAuthorization(`${CA}/authz/1`);
      assert.equal(authz.status, 'valid');
      assert.deepEqual(waits, expected);
    }
  });

  it('stops polling after pollTimeoutMs with a transport error', async () => {
    const ca = new FakeCa();
    ca.routes.set(`${CA}/acct`, accountRoute);
    ca.routes.set(`${CA}/order/1`, () =>
      ok({ status: 'processing', identifiers: [], authorizations: [], finalize: `${CA}/fin` }),
    );
    const waits: number[] = [];
    const client = newClient(ca, { delay: async (ms) => void waits.push(ms), pollTimeoutMs: 2000 });
    await client.newAccount({ termsOfServiceAgreed: true });
    await assert.rejects(
      client.waitForOrder(`${CA}/order/1`, (o) => o.status === 'valid'),
      AcmeTransportError,
    );
    assert.deepEqual(waits, [250, 500, 1000]);
  });

  it('rejects an order whose status it does not know', async () => {
    const ca = new FakeCa();
    ca.routes.set(`${CA}/acct`, accountRoute);
    ca.routes.set(`${CA}/order/1`, () => ok({ status: 'exploded', finalize: `${CA}/fin` }));
    const client = newClient(ca);
    await client.newAccount({ termsOfServiceAgreed: true });
    await assert.rejects(client.getOrder(`${CA}/order/1`), /unknown status "exploded"/);
  });

  it('requires an account before signing with kid', async () => {
    const client = newClient(new FakeCa());
    await assert.rejects(client.getOrder(`${CA}/order/1`), /no ACME account yet/);
  });
});

describe('httpsTransport', () => {
  it('never sends an ACME request over plain HTTP', async () => {
    const t = httpsTransport();
    await assert.rejects(t.send({ method: 'GET', url: 'http://127.0.0.1:1/dir' }), /not https/);
    t.close();
  });
});

describe('linksOf (Link headers, RFC 8288)', () => {
  it('finds the alternate chains among repeated, relative and other links', () => {
    const header =
      '<https://ca.test/dir>;rel="index", <https://ca.test/cert/1/1>;rel="alternate", </cert/1/2> ; rel=alternate, <https://ca.test/x>;rel="up alternate"';
    assert.deepEqual(linksOf(header, 'alternate', 'https://ca.test/cert/1'), [
      'https://ca.test/cert/1/1',
      'https://ca.test/cert/1/2',
      'https://ca.test/x',
    ]);
    assert.deepEqual(linksOf(header, 'index', 'https://ca.test/cert/1'), ['https://ca.test/dir']);
    assert.deepEqual(linksOf(undefined, 'alternate', 'https://ca.test/'), []);
  });
});

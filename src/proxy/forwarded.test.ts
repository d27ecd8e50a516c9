import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { HeaderList } from '../core/headers.ts';
import { applyForwardedHeaders, isManagedForwardingField, keptConnectionFields } from './forwarded.ts';

describe('isManagedForwardingField', () => {
  it('matches every field Traefik manages, and Forwarded', () => {
    for (const n of [
      'x-forwarded-for',
      'x-forwarded-prefix',
      'x-forwarded-uri',
      'x-forwarded-method',
      'x-forwarded-scheme',
      'x-scheme',
      'x-real-ip',
      'x-forwarded-tls-client-cert-info',
      'forwarded',
    ]) {
      assert.equal(isManagedForwardingField(n), true, n);
    }
  });

  it('matches the underscore spellings that CGI-style servers fold into the same variable', () => {
    for (const n of ['x_forwarded_for', 'x-forwarded_host', 'x_forwarded-proto', 'x_real_ip', 'x_scheme']) {
      assert.equal(isManagedForwardingField(n), true, n);
    }
  });

  it('leaves other fields alone', () => {
    for (const n of ['x-forwarded-extra', 'x_custom', 'host', 'x-request-id', 'forwarded-for']) {
      assert.equal(isManagedForwardingField(n), false, n);
    }
  });
});

describe('applyForwardedHeaders', () => {
  const spoofed = (): HeaderList =>
    HeaderList.from([
      ['Host', 'a.test'],
      ['X-Forwarded-Prefix', '/admin'],
      ['X_Forwarded_For', '6.6.6.6'],
      ['X-Keep', '1'],
    ]);

  it('replaces an untrusted peer’s forwarding fields with ours, keeping the order of the rest', () => {
    const h = spoofed();
    applyForwardedHeaders(h, false, '10.0.0.1', 'http', 'a.test', '', false);
    // No X-Forwarded-For: Traefik's proxy adds the peer when it writes the request upstream.
    assert.deepEqual(h.lnames, [
      'host',
      'x-keep',
      'x-forwarded-proto',
      'x-forwarded-host',
      'x-forwarded-port',
      'x-real-ip',
      'x-forwarded-server',
    ]);
    assert.equal(h.get('x-forwarded-server'), hostname());
  });

  it('keeps a trusted peer’s fields, X-Forwarded-For without the peer', () => {
    const h = spoofed();
    h.append('X-Forwarded-For', '1.2.3.4');
    applyForwardedHeaders(h, true, '10.0.0.1', 'http', 'a.test', '', false);
    assert.equal(h.get('x-forwarded-prefix'), '/admin');
    assert.equal(h.get('x_forwarded_for'), '6.6.6.6');
    assert.equal(h.get('x-forwarded-for'), '1.2.3.4');
    // Traefik's rewrite: always this proxy's host name, whatever the trusted peer sent.
    h.append('X-Forwarded-Server', 'upstream-proxy');
    applyForwardedHeaders(h, true, '10.0.0.1', 'http', 'a.test', '', false);
    assert.deepEqual(h.getAll('x-forwarded-server'), [hostname()]);
  });

  it("sets X-Forwarded-Port as Traefik's forwardedPort: the Host's port, else 443 or 80 by the scheme", () => {
    const port = (trusted: boolean, scheme: string, hostPort: string, proto?: string): string | undefined => {
      const h = HeaderList.from(proto === undefined ? [] : [['X-Forwarded-Proto', proto]]);
      applyForwardedHeaders(h, trusted, '10.0.0.1', scheme, 'a.test', hostPort, false);
      return h.get('x-forwarded-port');
    };
    assert.equal(port(false, 'http', '8080'), '8080');
    assert.equal(port(false, 'http', ''), '80', 'never the port we listen on');
    assert.equal(port(false, 'https', ''), '443');
    assert.equal(port(false, 'wss', ''), '443');
    assert.equal(port(true, 'http', '', 'https'), '443', "a trusted proxy's X-Forwarded-Proto");
    assert.equal(port(true, 'https', '', 'http'), '443', 'the connection is TLS');
  });

  it("fills the fields a trusted peer sent empty, as Traefik's rewrite fills absent ones", () => {
    const h = HeaderList.from([
      ['X-Forwarded-Proto', ''],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', ''],
      ['X-Forwarded-Port', ''],
      ['X-Real-Ip', ''],
    ]);
    applyForwardedHeaders(h, true, '10.0.0.1', 'http', 'a.test:8080', '8080', false);
    assert.deepEqual(h.getAll('x-forwarded-proto'), ['http']);
    assert.deepEqual(h.getAll('x-forwarded-host'), ['a.test:8080']);
    assert.deepEqual(h.getAll('x-forwarded-port'), ['8080']);
    assert.deepEqual(h.getAll('x-real-ip'), ['10.0.0.1']);
    // A value that is there is kept, its first line read.
    const kept = HeaderList.from([
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Proto', ''],
    ]);
    applyForwardedHeaders(kept, true, '10.0.0.1', 'http', 'a.test', '', false);
    assert.deepEqual(kept.getAll('x-forwarded-proto'), ['https', '']);
    assert.deepEqual(kept.getAll('x-forwarded-port'), ['443']);
  });

  describe('addXForwardedSchemeHeaders (schemeHeaders true)', () => {
    it("sets X-Forwarded-Scheme and X-Scheme to an untrusted peer's scheme, its own ones dropped", () => {
      const h = HeaderList.from([
        ['X-Forwarded-Scheme', 'https'],
        ['X-Scheme', 'https'],
        ['X-Forwarded-Proto', 'https'],
      ]);
      applyForwardedHeaders(h, false, '10.0.0.1', 'ws', 'a.test', '', true);
      assert.deepEqual(h.getAll('x-forwarded-proto'), ['ws']);
      assert.deepEqual(h.getAll('x-forwarded-scheme'), ['ws']);
      assert.deepEqual(h.getAll('x-scheme'), ['ws']);
    });

    it("sets them to a trusted peer's X-Forwarded-Proto (its first line), replacing its own", () => {
      const h = HeaderList.from([
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Proto', 'http'],
        ['X-Scheme', 'gopher'],
        ['X-Scheme', 'gopher'],
      ]);
      applyForwardedHeaders(h, true, '10.0.0.1', 'http', 'a.test', '', true);
      assert.deepEqual(h.getAll('x-forwarded-scheme'), ['https']);
      assert.deepEqual(h.getAll('x-scheme'), ['https']);
      const none = HeaderList.from([]);
      applyForwardedHeaders(none, true, '10.0.0.1', 'https', 'a.test', '', true);
      assert.deepEqual(none.getAll('x-forwarded-scheme'), ['https']);
      assert.deepEqual(none.getAll('x-scheme'), ['https']);
    });

    it("leaves a trusted peer's alone and adds none without the option", () => {
      const h = HeaderList.from([['X-Scheme', 'gopher']]);
      applyForwardedHeaders(h, true, '10.0.0.1', 'http', 'a.test', '', false);
      assert.deepEqual(h.getAll('x-scheme'), ['gopher']);
      assert.equal(h.has('x-forwarded-scheme'), false);
    });
  });

  describe('X-Forwarded-For: never extended with the peer here (the upstream heads are)', () => {
    it("drops an untrusted peer's X-Forwarded-For; X-Real-Ip is the peer", () => {
      const h = spoofed();
      h.append('X-Forwarded-For', '1.2.3.4');
      applyForwardedHeaders(h, false, '10.0.0.1', 'http', 'a.test', '', false);
      assert.deepEqual(h.lnames, [
        'host',
        'x-keep',
        'x-forwarded-proto',
        'x-forwarded-host',
        'x-forwarded-port',
        'x-real-ip',
        'x-forwarded-server',
      ]);
      assert.equal(h.get('x-real-ip'), '10.0.0.1');
    });

    it("keeps a trusted peer's X-Forwarded-For as it came, its lines joined into one", () => {
      const one = HeaderList.from([['x-forwarded-for', '1.2.3.4, 10.0.0.9']]);
      applyForwardedHeaders(one, true, '10.0.0.1', 'http', 'a.test', '', false);
      assert.deepEqual(one.getAll('x-forwarded-for'), ['1.2.3.4, 10.0.0.9']);
      assert.equal(one.get('x-real-ip'), '10.0.0.1');
      const two = HeaderList.from([
        ['X-Forwarded-For', '1.2.3.4'],
        ['X-Other', 'x'],
        ['X-Forwarded-For', '10.0.0.9'],
      ]);
      applyForwardedHeaders(two, true, '10.0.0.1', 'http', 'a.test', '', false);
      assert.deepEqual(two.getAll('x-forwarded-for'), ['1.2.3.4, 10.0.0.9']);
    });

    it('adds none for a trusted peer that sent none', () => {
      const h = HeaderList.from([['Host', 'a.test']]);
      applyForwardedHeaders(h, true, '10.0.0.1', 'http', 'a.test', '', false);
      assert.equal(h.has('x-forwarded-for'), false);
      assert.equal(h.get('x-real-ip'), '10.0.0.1');
    });
  });
});

describe('keptConnectionFields', () => {
  it('lowercases the list and leaves out the X- fields Traefik manages (underscore spellings too)', () => {
    assert.deepEqual(
      [...(keptConnectionFields(['X-Keep', 'X-Forwarded-For', 'x_real_ip', 'Forwarded', 'X-Scheme']) ?? [])],
      ['x-keep', 'forwarded'],
    );
    assert.equal(keptConnectionFields(['X-Forwarded-Proto']), null);
    assert.equal(keptConnectionFields([]), null);
  });
});

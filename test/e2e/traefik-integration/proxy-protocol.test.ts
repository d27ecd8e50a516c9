/**
 * Traefik's integration/proxy_protocol_test.go (v3 branch) run against our proxy; each test names
 * the Go test it follows. The fixture is integration/fixtures/proxy-protocol/proxy-protocol.toml
 * adapted by ./fixture.ts (`http://{{.WhoamiIP}}` written `{{ .Whoami }}`, the whole URL), its whoami container ./fixture.ts's stand-in, and the PROXY headers
 * the Go test writes with go-proxyproto are written by hand (./fixture-tcp.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tcpExchange } from '../../helpers/l4.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { startFixture, startWhoami, type Whoami } from './fixture.ts';
import { proxyProtocolHeader } from './fixture-tcp.ts';

const FIXTURE = `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
  noColor = true

[entryPoints]
  [entryPoints.trust]
    address = ":8000"
    [entryPoints.trust.proxyProtocol]
      trustedIPs = ["127.0.0.1"]
  [entryPoints.nottrust]
      address = ":9000"
      [entryPoints.nottrust.proxyProtocol]
        trustedIPs = ["1.2.3.4"]

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Path(\`/whoami\`)"

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]

      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .Whoami }}"
`;

/** The Go test's proxyProtoRequest: a PROXY header from 1.2.3.4:62541, then GET /whoami; the whole answer. */
async function proxyProtoRequest(port: number, version: 1 | 2): Promise<string> {
  const header = proxyProtocolHeader(
    version,
    'tcp',
    { ip: '1.2.3.4', port: 62541 },
    { ip: '127.0.0.1', port: 8000 },
  );
  const r = await tcpExchange(
    port,
    Buffer.concat([
      header,
      Buffer.from('GET /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    ]),
  );
  assert.equal(r.how, 'end', `the answer ended with ${r.how}`);
  return r.data.toString('latin1');
}

describe('traefik integration/proxy_protocol_test.go', () => {
  let whoami: Whoami;
  let proxy: ProxyProcess;
  before(async () => {
    whoami = await startWhoami('whoami');
    proxy = await startFixture(FIXTURE, { Whoami: whoami.url });
  });
  after(async () => {
    await proxy?.stop();
    await whoami?.close();
  });

  it('TestProxyProtocolTrusted: the declared client is X-Forwarded-For (v1 and v2)', async () => {
    for (const version of [1, 2] as const) {
      const content = await proxyProtoRequest(proxy.ports.trust!, version);
      assert.match(content, /^HTTP\/1\.1 200 /);
      assert.match(content, /\r\nX-Forwarded-For: 1\.2\.3\.4\r\n/, `v${version}`);
    }
  });

  it('TestProxyProtocolNotTrusted: a header from an untrusted peer is read and ignored (v1 and v2)', async () => {
    for (const version of [1, 2] as const) {
      const content = await proxyProtoRequest(proxy.ports.nottrust!, version);
      assert.match(content, /^HTTP\/1\.1 200 /);
      assert.match(content, /\r\nX-Forwarded-For: 127\.0\.0\.1\r\n/, `v${version}`);
    }
  });
});

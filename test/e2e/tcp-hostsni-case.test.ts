/**
 * ``HostSNI(`Example.COM`)``: Traefik's v3 matcher compares the value as written with the
 * lower-cased server name (pkg/muxer/tcp/matcher.go hostSNI, NewConnData), so it never matches.
 * Ours keeps matching it (a name's case never matters), and says so: `traffic validate` and the
 * proxy's log warn, with the rule's position, that Traefik would never match it. The v2 syntax
 * lower-cases the value in Traefik too: no warning there.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTlsBackend, type TcpBackend } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { handshake, TestPki } from '../helpers/tls-certs.ts';

describe('HostSNI with upper-case letters', () => {
  let pki: TestPki;
  let backend: TcpBackend;
  let proxy: ProxyProcess;
  let dir: string;
  let config: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-sni-case-'));
    pki = new TestPki('Case CA');
    backend = await startTlsBackend(pki.issue('example.com', ['example.com']), 'echo', 'case');
    config = `entryPoints:
  tls:
    address: "127.0.0.1:0"
log: { level: INFO }
tcp:
  routers:
    shouting:
      entryPoints: [tls]
      rule: "HostSNI(\`Example.COM\`)"
      service: backend
      tls: { passthrough: true }
    old:
      entryPoints: [tls]
      rule: "HostSNI(\`Old.Example.COM\`)"
      ruleSyntax: v2
      service: backend
      tls: { passthrough: true }
  services:
    backend: { loadBalancer: { servers: [{ address: "${backend.address}" }] } }
`;
    proxy = await startProxy({ config });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    pki?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('still matches the lower-cased server name here', async () => {
    const h = await handshake({ port: proxy.ports['tls']!, servername: 'example.com', ca: pki.ca.certPem });
    assert.equal(h.ok, true);
    assert.equal(h.ok && h.subjectCN, 'example.com', "the backend's own certificate: passed through");
  });

  it('warns in the log and in `traffic validate` that Traefik never matches it (v3 syntax only)', async () => {
    const warned = (text: string): string[] =>
      text.split('\n').filter((l) => l.includes('HostSNI(`') && l.includes('never matches it'));
    const logs = proxy.logs.map((l) => JSON.stringify(l)).join('\n');
    const logged = warned(logs);
    assert.equal(logged.length, 1, logs);
    assert.match(logged[0]!, /Example\.COM/);
    const file = join(dir, 'traffic.yml');
    writeFileSync(file, config);
    const r = await runCli(['validate', '--config', file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = warned(r.stdout + r.stderr);
    assert.equal(lines.length, 1, r.stdout + r.stderr);
    assert.match(lines[0]!, /traffic\.yml:9:\d+/, 'located at the rule');
    assert.doesNotMatch(lines[0]!, /Old\.Example/);
  });
});

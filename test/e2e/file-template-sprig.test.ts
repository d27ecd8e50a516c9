/**
 * sprig v3's whole TxtFuncMap in file-provider templates, as Traefik passes it
 * (pkg/provider/file/file.go CreateConfiguration): the clock, semver, DNS and the rest, run when
 * the file is read; a router built from them routes on the wire.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startBackend } from '../helpers/backends.ts';
import { startProxy } from '../helpers/proxy-process.ts';

describe('a file-provider template with sprig date, semver, DNS and list functions', () => {
  it('renders them when the file is read, and the router they build routes', async (t) => {
    const backend = await startBackend((req, res) => res.end(`got ${req.url}`));
    t.after(() => backend.close());
    const dynamic = `http:
  routers:
    r:
      rule: 'Path(\`/{{ if semverCompare "^1.2" "1.4.0" }}v1{{ end }}/{{ mustToDate "2006-01-02" "2017-12-31" | date "2006" }}/{{ list 1 2 3 | chunk 2 | len }}\`)'
      service: s
  services:
    s:
      loadBalancer:
        servers:
          - url: "http://{{ if hasPrefix "127." (getHostByName "localhost") }}127.0.0.1{{ else }}127.0.0.1{{ end }}:${backend.port}"
`;
    const proxy = await startProxy({
      config:
        'entryPoints:\n  web:\n    address: "127.0.0.1:0"\nlog: { level: INFO }\nproviders:\n  file:\n    filename: dynamic.yaml\n',
      files: { 'dynamic.yaml': dynamic },
    });
    t.after(() => proxy.stop());
    const res = await fetch(`http://127.0.0.1:${proxy.port}/v1/2017/2`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'got /v1/2017/2');
  });

  it("refuses a template recursing past Go's 100000 template calls, with its error at its line", async (t) => {
    const proxy = await startProxy({
      config:
        'entryPoints:\n  web:\n    address: "127.0.0.1:0"\nlog: { level: INFO }\nproviders:\n  file:\n    filename: dynamic.yaml\n',
      files: {
        'dynamic.yaml': 'http: {}\n{{ define "a" }}{{ template "a" . }}{{ end }}{{ template "a" . }}\n',
      },
      waitForConfig: false,
    });
    t.after(() => proxy.stop());
    const line = await proxy.waitForLog((l) => l.msg === 'configuration rejected', 30_000);
    assert.match(
      String(line.issue),
      /dynamic\.yaml:2:\d+: template: exceeded maximum template depth \(100000\)/,
    );
  });
});

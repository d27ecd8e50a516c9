/**
 * Field names that are also names of JavaScript object members (`__proto__`, `constructor`,
 * `hasOwnProperty`): Node's req.headersDistinct threw on a `__proto__` field and took the process
 * down (CVE-2026-21710). Ours keeps fields in arrays and builds objects only with a null
 * prototype: such a request is forwarded, to HTTP/1.1 and HTTP/2 backends, with its fields, and
 * logged with them (access log headers kept), and the proxy serves on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';
import { waitForFileLines } from '../helpers/wait.ts';

const FIELDS = '__proto__: p\r\nconstructor: c\r\nhasOwnProperty: h\r\ntoString: t\r\n';

describe('request fields named like object members (CVE-2026-21710)', () => {
  let h1: Backend;
  let h2: http2.Http2Server;
  let proxy: ProxyProcess;
  const dir = mkdtempSync(join(tmpdir(), 'tm-proto-'));
  const file = join(dir, 'access.log');

  before(async () => {
    h1 = await startBackend((req, res) => res.end(JSON.stringify(req.rawHeaders)));
    h2 = http2.createServer((req, res) => {
      res.end(JSON.stringify(req.rawHeaders));
    });
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    const port = (h2.address() as AddressInfo).port;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
accessLog: { format: json, filePath: "${file}", fields: { headers: { defaultMode: keep } } }
http:
  routers:
    one: { rule: "PathPrefix(\`/h1\`)", service: h1 }
    two: { rule: "PathPrefix(\`/h2\`)", service: h2 }
  services:
    h1: { loadBalancer: { servers: [{ url: "${h1.url}" }] } }
    h2: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${port}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await h1?.close();
    await new Promise<void>((r) => h2.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const path of ['/h1', '/h2']) {
    it(`forwards them to an ${path === '/h1' ? 'HTTP/1.1' : 'HTTP/2'} backend and serves on`, async () => {
      const r = await rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: a.test\r\n${FIELDS}\r\n`, {
        responses: 1,
        timeoutMs: 5000,
      });
      assert.equal(r.responses[0]?.status, 200, r.data.toString('latin1'));
      const raw = JSON.parse(r.responses[0]!.body.toString()) as string[];
      const got = new Map<string, string>();
      for (let i = 0; i < raw.length; i += 2) got.set(raw[i]!.toLowerCase(), raw[i + 1]!);
      assert.equal(got.get('__proto__'), 'p');
      assert.equal(got.get('constructor'), 'c');
      assert.equal(got.get('hasownproperty'), 'h');
    });
  }

  it('logs them in the access log', async () => {
    const lines = await waitForFileLines(file, 2);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(entry['request___proto__'], 'p');
    assert.equal(entry['request_Constructor'], 'c');
  });
});

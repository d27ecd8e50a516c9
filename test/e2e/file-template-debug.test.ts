/**
 * Traefik's `providers.file.debugLogGeneratedTemplate` (pkg/provider/file/file.go
 * CreateConfiguration): each file's text and what its Go template rendered, logged at debug level.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startProxy } from '../helpers/proxy-process.ts';

const TEMPLATE = `http:
  routers:
    r:
      rule: 'Host(\`{{ env "TM_TEMPLATE_HOST" }}\`)'
      service: s
  services:
    s:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:1"
`;

function config(flag: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
providers:
  file:
    filename: dynamic.yaml
${flag}`;
}

describe('providers.file.debugLogGeneratedTemplate', () => {
  it("logs each file's template and what it rendered, at debug level", async (t) => {
    const proxy = await startProxy({
      config: config('    debugLogGeneratedTemplate: true\n'),
      files: { 'dynamic.yaml': TEMPLATE },
      env: { TM_TEMPLATE_HOST: 'rendered.test' },
    });
    t.after(() => proxy.stop());
    const content = await proxy.waitForLog((l) => l.msg === 'Template content');
    assert.equal(content.level, 'debug');
    assert.equal(content['content'], TEMPLATE);
    assert.match(String(content['file']), /dynamic\.yaml$/);
    const rendered = await proxy.waitForLog((l) => l.msg === 'Rendering results');
    assert.equal(rendered.level, 'debug');
    assert.equal(rendered['content'], TEMPLATE.replace('{{ env "TM_TEMPLATE_HOST" }}', 'rendered.test'));
  });

  it('logs nothing of the kind without it', async (t) => {
    const proxy = await startProxy({
      config: config(''),
      files: { 'dynamic.yaml': TEMPLATE },
      env: { TM_TEMPLATE_HOST: 'rendered.test' },
    });
    t.after(() => proxy.stop());
    // startProxy waited for the configuration to be applied: the files were read and rendered.
    assert.ok(!proxy.logs.some((l) => l.msg === 'Template content' || l.msg === 'Rendering results'));
  });
});

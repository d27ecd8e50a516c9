import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { currentGeneration, rejectedIssues, waitApplied, waitForLogFrom } from '../helpers/wait.ts';

/*
 * Configuration errors the way a Traefik user expects them, through the real proxy process: a
 * faulty object is dropped and reported while the rest applies, a broken file keeps serving its
 * last good version, and nothing a file holds can stop hot reload.
 */

async function backend(t: TestContext, name: string): Promise<Backend> {
  const b = await startBackend((_req, res) => res.end(name));
  t.after(() => b.close());
  return b;
}

function staticWith(provider: string, extra = ''): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  file:
${provider}
${extra}`;
}

/** One router `name` for `path`, to a service of its own at `url`. */
function route(name: string, path: string, url: string): string {
  return `http:
  routers:
    ${name}: { rule: "PathPrefix(\`${path}\`)", service: ${name} }
  services:
    ${name}: { loadBalancer: { servers: [{ url: "${url}" }] } }
`;
}

async function get(proxy: ProxyProcess, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${proxy.port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The "billion laughs": nine aliases of nine aliases of … nine strings. */
const ALIAS_BOMB = `${['a: &a ["x","x","x","x","x","x","x","x","x"]']
  .concat([...'bcdefg'].map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`))
  .join('\n')}\n`;

describe('a YAML alias bomb under run', () => {
  it('is refused with a clear error, the last good configuration serves, and hot reload goes on', async (t) => {
    const a = await backend(t, 'a');
    const b = await backend(t, 'b');
    const proxy = await startProxy({
      config: staticWith('    filename: dyn.yaml'),
      files: { 'dyn.yaml': route('app', '/', a.url) },
    });
    t.after(() => proxy.stop());
    assert.equal((await get(proxy, '/')).body, 'a');
    const generation = currentGeneration(proxy);

    const from = proxy.logs.length;
    const file = proxy.writeFile('dyn.yaml', ALIAS_BOMB);
    await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration rejected');
    assert.ok(
      rejectedIssues(proxy, from).some(
        (i) => i.startsWith(`${file}: `) && i.includes('YAML aliases expand too much'),
      ),
      JSON.stringify(rejectedIssues(proxy, from)),
    );
    assert.equal((await get(proxy, '/')).body, 'a', 'the last good configuration serves');

    proxy.writeFile('dyn.yaml', route('app', '/', b.url));
    await waitApplied(proxy, generation + 1);
    assert.equal((await get(proxy, '/')).body, 'b');
  });
});

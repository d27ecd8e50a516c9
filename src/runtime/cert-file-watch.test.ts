import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { emptyDynamicConfig } from '../config/dynamic/schema.ts';
import { silentLogger } from '../core/logger.ts';
import { CertFileWatch } from './cert-file-watch.ts';

/** A real folder event takes a few ms: the deadline turns a missed one into a failure. */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within 5000 ms`)), 5000);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

describe('CertFileWatch', () => {
  it('asks for a rebuild when a certificate changes, not when another file of its folder does', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'traffic-cert-watch-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const cert = join(dir, 'c.pem');
    const key = join(dir, 'k.pem');
    await writeFile(cert, 'cert 1');
    await writeFile(key, 'key 1');
    let rebuilds = 0;
    const scans: ((changed: boolean) => void)[] = [];
    const watch = new CertFileWatch(() => rebuilds++, silentLogger, {
      delayMs: 10,
      onScan: (changed) => scans.shift()?.(changed),
    });
    t.after(() => watch.close());
    const config = emptyDynamicConfig();
    config.tls.certificates.push({
      certFile: cert,
      keyFile: key,
    } as (typeof config.tls.certificates)[number]);
    watch.follow(config);
    const scan = () => within(new Promise<boolean>((resolve) => scans.push(resolve)), 'scan');

    // The dynamic configuration beside the certificates: the file provider applies it.
    let next = scan();
    await writeFile(join(dir, 'dynamic.yaml'), 'http: {}\n');
    assert.equal(await next, false);
    assert.equal(rebuilds, 0);
    // The same bytes written again: nothing to rebuild.
    next = scan();
    await writeFile(cert, 'cert 1');
    assert.equal(await next, false);
    assert.equal(rebuilds, 0);
    // Rotated by a rename over it, as certbot and secret managers do. A late scan of an earlier
    // event may come first: wait for the one that sees the change.
    next = scan();
    await writeFile(join(dir, 'c.pem.new'), 'cert 2');
    await rename(join(dir, 'c.pem.new'), cert);
    while (!(await next)) next = scan();
    assert.equal(rebuilds, 1);
  });
});

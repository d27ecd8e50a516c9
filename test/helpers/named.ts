/**
 * A real BIND 9 (Debian's bind9: `named`) on loopback for the rfc2136 tests: its own folder,
 * a free port (UDP and TCP), primary zones that accept DNS UPDATE signed with a TSIG key made by
 * BIND's own `tsig-keygen`, no recursion. Questions are asked with `dig` (dnsutils).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { digShort, requireTools, runProcess, toolPath } from './tools.ts';

export interface NamedZone {
  /** Without the final dot. */
  readonly name: string;
  /** Extra records in zone-file syntax (`www IN A 127.0.0.1`). */
  readonly records?: readonly string[];
}

export interface Named {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  readonly port: number;
  /** The key file tsig-keygen wrote (RFC2136_TSIG_FILE), and what is in it. */
  readonly keyFile: string;
  readonly key: { readonly name: string; readonly algorithm: string; readonly secret: string };
  /** The TXT values at `name`, asked with dig. */
  txt(name: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startNamed(zones: readonly NamedZone[], keyName = 'acme-update'): Promise<Named> {
  requireTools('named', 'tsig-keygen', 'dig');
  const dir = mkdtempSync(join(tmpdir(), 'named-'));
  const keygen = await runProcess(toolPath('tsig-keygen'), ['-a', 'hmac-sha256', keyName]);
  if (keygen.code !== 0) throw new Error(`tsig-keygen failed: ${keygen.out}`);
  const keyFile = join(dir, 'update.key');
  writeFileSync(keyFile, keygen.out);
  const secret = /secret\s+"([^"]+)"/.exec(keygen.out)?.[1] ?? '';
  const port = await freePort();
  for (const z of zones) {
    writeFileSync(
      join(dir, `${z.name}.zone`),
      [
        '$TTL 60',
        `@ IN SOA ns1.${z.name}. hostmaster.${z.name}. 1 3600 600 86400 60`,
        `@ IN NS ns1.${z.name}.`,
        'ns1 IN A 127.0.0.1',
        ...(z.records ?? []),
        '',
      ].join('\n'),
    );
  }
  writeFileSync(
    join(dir, 'named.conf'),
    `include "${keyFile}";
options {
  directory "${dir}";
  pid-file "${join(dir, 'named.pid')}";
  session-keyfile "${join(dir, 'session.key')}";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
};
controls { };
${zones
  .map(
    (z) => `zone "${z.name}" {
  type primary;
  file "${join(dir, `${z.name}.zone`)}";
  allow-update { key "${keyName}"; };
};
`,
  )
  .join('')}`,
  );
  const child: ChildProcess = spawn(toolPath('named'), ['-g', '-4', '-c', join(dir, 'named.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `127.0.0.1:${port}`;
  const dig = (name: string, type: string): Promise<string> => digShort(port, name, type);
  // "running" is logged once every zone is loaded and the listeners are open.
  for (let i = 0; !output.includes('running'); i++) {
    if (child.exitCode !== null || i >= 400) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`named did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  // "running" may come just before the UDP listeners answer: ask until the first zone's SOA comes.
  for (let i = 0; zones[0] !== undefined; i++) {
    const soa = await dig(zones[0].name, 'SOA').catch(() => '');
    if (soa.trim() !== '') break;
    if (child.exitCode !== null || i >= 50) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`named does not answer for ${zones[0].name}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address,
    port,
    keyFile,
    key: { name: keyName, algorithm: 'hmac-sha256', secret },
    txt: async (name) =>
      (await dig(name, 'TXT'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as string),
    close: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

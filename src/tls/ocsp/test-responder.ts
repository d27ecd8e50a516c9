/**
 * Test-only: `openssl ocsp` as a real OCSP responder for a TestPki, on a loopback port. The
 * responder reads the CA's database when it starts, so issue and revoke first, then start it.
 * OpenSSL 3.0's responder takes a port only (it binds every interface); tests reach it on
 * 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../../../test/helpers/free-port.ts';
import { toolPath } from '../../../test/helpers/tools.ts';

/** What the responder needs of a CA (upstream/test-pki's TestPki has it). */
export interface ResponderCa {
  /** The `openssl ca` database: which certificates are valid or revoked. */
  readonly indexFile: string;
  readonly ca: { readonly certFile: string; readonly keyFile: string };
}

export { freePort };

export interface ResponderOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** nextUpdate this many minutes after thisUpdate (`-nmin`); absent: no nextUpdate at all. */
  readonly validMinutes?: number;
  /** Sign with this certificate and key instead of the CA's (a delegated responder). */
  readonly signer?: { readonly certFile: string; readonly keyFile: string };
}

export class OcspResponder {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<unknown>;

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.#child = child;
    this.#exited = once(child, 'exit');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  static async start(pki: ResponderCa, opts: ResponderOptions = {}): Promise<OcspResponder> {
    const port = opts.port ?? (await freePort());
    const signer = opts.signer ?? pki.ca;
    const args = ['ocsp', '-index', pki.indexFile, '-port', String(port), '-CA', pki.ca.certFile];
    args.push('-rsigner', signer.certFile, '-rkey', signer.keyFile);
    if (opts.validMinutes !== undefined) args.push('-nmin', String(opts.validMinutes));
    const child = spawn(toolPath('openssl'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`openssl ocsp did not start:\n${out}`)), 10_000);
      const see = (d: string): void => {
        out += d;
        if (out.includes('waiting for OCSP client connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.setEncoding('utf8').on('data', see);
      child.stderr?.setEncoding('utf8').on('data', see);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`openssl: ${e.message} (apt-get install -y openssl)`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`openssl ocsp exited with ${code}:\n${out}`));
      });
    });
    await ready;
    return new OcspResponder(port, child);
  }

  /** Stops the responder (its port refuses connections afterwards). */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    await this.#exited;
  }
}

/**
 * WebAssembly guests for the http-wasm host (src/plugins/wasm.ts), written in the text format
 * (test/fixtures/wasm/*.wat) and compiled by wabt's `wat2wasm` when a test asks for them: no
 * TinyGo needed. A missing wat2wasm fails at once naming its package (test/helpers/tools.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './proxy-process.ts';
import { toolPath } from './tools.ts';

export const WAT_DIR = join(ROOT, 'test', 'fixtures', 'wasm');

const compiled = new Map<string, Buffer>();

/** The binary of test/fixtures/wasm/<name>.wat. */
export function wasmOf(name: string): Buffer {
  const known = compiled.get(name);
  if (known !== undefined) return known;
  const wat2wasm = toolPath('wat2wasm');
  const dir = mkdtempSync(join(tmpdir(), 'tm-wat-'));
  try {
    const out = join(dir, `${name}.wasm`);
    execFileSync(wat2wasm, [join(WAT_DIR, `${name}.wat`), '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    const bytes = readFileSync(out);
    compiled.set(name, bytes);
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

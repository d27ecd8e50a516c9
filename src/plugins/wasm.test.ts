import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wasmOf } from '../../test/helpers/wat.ts';
import { HeaderList } from '../core/headers.ts';
import { createLogger, type LogFields } from '../core/logger.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import type { BodyFilter, RequestControl } from '../middleware/middleware.ts';
import { parseMounts } from './wasi-fs.ts';
import { compileWasm, environOf, WasmMiddleware, type WasmModule, WasmTrap } from './wasm.ts';

/*
 * The http-wasm host functions, called by real guests (test/fixtures/wasm/*.wat, compiled by
 * wat2wasm) on request heads made here.
 */

const dir = mkdtempSync(join(tmpdir(), 'tm-wasm-'));
const modules = new Map<string, WasmModule>();

async function moduleOf(name: string): Promise<WasmModule> {
  const file = join(dir, `${name}.wasm`);
  writeFileSync(file, wasmOf(name));
  const m = await compileWasm(file);
  assert.equal(typeof m, 'object', String(m));
  return m as WasmModule;
}

function capture() {
  const lines: LogFields[] = [];
  const logger = createLogger({ level: 'info', format: 'json', write: (l) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

function request(init: Partial<RequestHead> & { fields?: [string, string][] } = {}): RequestHead {
  return {
    method: init.method ?? 'GET',
    path: init.path ?? '/a/b',
    query: init.query ?? 'x=1',
    host: 'example.com',
    hostPort: '',
    headers: HeaderList.from(init.fields ?? [['Host', 'example.com']]),
    clientIp: init.clientIp ?? '127.0.0.1',
    scheme: 'http',
    entryPoint: 'web',
    omitForwardedFor: false,
  };
}

const ctl: RequestControl = { resume() {}, onEnd() {}, transformBody() {} };

function middleware(name: string, config = '{}') {
  const c = capture();
  return { m: new WasmMiddleware(modules.get(name)!, Buffer.from(config), c.logger), lines: c.lines };
}

/** Runs a body filter over `chunks`: the output and the announced length. */
function runFilter(f: BodyFilter, chunks: string[]): { body: string; length: number | undefined } {
  const out: Buffer[] = [];
  let length: number | undefined;
  let ended = false;
  f.start({
    push: (c) => out.push(c) > 0,
    length: (n) => {
      length = n;
    },
    end: () => {
      ended = true;
    },
    fail: (r) => assert.fail(r),
    drained() {},
  });
  for (const c of chunks) f.write(Buffer.from(c));
  f.end();
  assert.ok(ended);
  return { body: Buffer.concat(out).toString(), length };
}

describe('http-wasm host', () => {
  before(async () => {
    mkdirSync(join(dir, 'mnt', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'mnt', 'f.txt'), '0123456789');
    for (const n of [
      'add-header',
      'deny',
      'rewrite',
      'inspect',
      'mutate',
      'bad-header',
      'environ',
      'mount-dir',
    ]) {
      modules.set(n, await moduleOf(n));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the configuration through get_config and logs through log', () => {
    const { m, lines } = middleware('add-header', '{"value":"a"}');
    const req = request();
    assert.equal(m.onRequest(req, ctl), undefined);
    assert.equal(req.headers.get('x-wasm-config'), '{"value":"a"}');
    // The response field it set before next goes out with the response.
    const res: ResponseHead = {
      status: 200,
      reason: 'OK',
      headers: HeaderList.from([['X-Wasm-Early', 'upstream']]),
    };
    m.onResponse(req, res);
    assert.deepEqual(res.headers.getAll('x-wasm-early'), ['upstream', 'set-before-next']);
    assert.deepEqual(
      lines.map((l) => [l['level'], l['msg']]),
      [['info', 'add-header ran']],
    );
  });

  it('answers without next: status, headers and body the guest set', () => {
    const { m } = middleware('deny');
    const r = m.onRequest(request(), ctl) as DirectResponse;
    assert.equal(r.status, 403);
    assert.deepEqual(r.headers, [
      ['content-type', 'text/plain'],
      ['x-denied-by', 'deny.wat'],
    ]);
    assert.equal(r.body, 'forbidden by wasm\n');
    assert.equal(m.onRequest(request({ fields: [['X-Token', 't']] }), ctl), undefined);
  });

  it('tells the method, uri, protocol, source address, header names and values, log levels', () => {
    const { m } = middleware('inspect');
    const req = request({
      method: 'PATCH',
      clientIp: '::1',
      fields: [
        ['X-Multi', 'a'],
        ['Host', 'example.com'],
        ['x-multi', 'b'],
        ['Accept', '*/*'],
      ],
    });
    const r = m.onRequest(req, ctl) as DirectResponse;
    assert.equal(r.status, 200);
    // Names sorted, once each, lowercased; the values of X-Multi in order.
    assert.equal(r.body, 'PATCH\n/a/b?x=1\nHTTP/1.1\n[::1]:0\naccept\0host\0x-multi\0\na\0b\0\n01');
  });

  it('rewrites the request: method, uri, added and removed headers', () => {
    const { m } = middleware('mutate');
    const req = request({
      fields: [
        ['Host', 'example.com'],
        ['X-Remove', 'gone'],
      ],
    });
    assert.equal(m.onRequest(req, ctl), undefined);
    assert.equal(req.method, 'PUT');
    assert.equal(req.path, '/rewritten');
    assert.equal(req.query, 'a=b');
    assert.deepEqual(req.headers.getAll('x-add'), ['1', '2']);
    assert.equal(req.headers.has('x-remove'), false);
  });

  it('buffer_response: handle_response gets reqCtx back and rewrites the whole body, status and headers', () => {
    const { m } = middleware('rewrite');
    const req = request();
    assert.equal(m.onRequest(req, ctl), undefined);
    const res: ResponseHead = {
      status: 200,
      reason: 'OK',
      headers: HeaderList.from([
        ['Content-Type', 'text/plain'],
        ['X-Remove-Me', '1'],
      ]),
    };
    m.onResponse(req, res);
    // Not yet: the body comes first.
    assert.equal(res.status, 200);
    const f = m.onResponseBody(req, res);
    assert.ok(f !== null);
    const out = runFilter(f, ['hello ', 'wasm ', 'world, in slices']);
    assert.equal(out.body, '[hello wasm world, in slices]');
    assert.equal(out.length, out.body.length);
    assert.equal(res.status, 202);
    assert.equal(res.reason, 'Accepted');
    assert.equal(res.headers.get('x-rewritten'), 'yes');
    assert.equal(res.headers.get('x-upstream-status-ok'), 'yes');
    assert.equal(res.headers.has('x-remove-me'), false);
  });

  it('buffer_response on a head without a body (204): handle_response runs in onResponse', () => {
    const { m } = middleware('rewrite');
    const req = request();
    assert.equal(m.onRequest(req, ctl), undefined);
    const res: ResponseHead = { status: 204, reason: 'No Content', headers: new HeaderList() };
    m.onResponse(req, res);
    assert.equal(res.status, 202);
    assert.equal(m.onResponseBody(req, res), null);
  });

  it('traps on a header value with a LF, and on a response write after next without buffer_response', () => {
    const { m } = middleware('bad-header');
    assert.throws(
      () => m.onRequest(request(), ctl),
      (e: unknown) => e instanceof WasmTrap && /CR, LF or NUL/.test(e.message),
    );
    const req = request({ fields: [['X-Late', '1']] });
    assert.equal(m.onRequest(req, ctl), undefined);
    const res: ResponseHead = { status: 200, reason: 'OK', headers: new HeaderList() };
    assert.throws(
      () => m.onResponse(req, res),
      (e: unknown) => e instanceof WasmTrap && /after next handler unless buffer_response/.test(e.message),
    );
    assert.equal(res.headers.size, 0);
  });

  it('keeps one guest per middleware, a new one after a trap', () => {
    const { m } = middleware('bad-header');
    assert.equal(m.idleGuests, 1);
    assert.throws(() => m.onRequest(request(), ctl));
    assert.equal(m.idleGuests, 0);
    assert.equal(m.onRequest(request({ fields: [['X-Late', '1']] }), ctl), undefined);
    assert.equal(m.idleGuests, 1);
  });

  it("gives the guest the environment variables of settings.envs (Traefik's WithEnv), none else", () => {
    process.env['TM_WASM_TEST_A'] = 'alpha';
    delete process.env['TM_WASM_TEST_UNSET'];
    const c = capture();
    const m = new WasmMiddleware(
      modules.get('environ')!,
      Buffer.from('{}'),
      c.logger,
      environOf(['TM_WASM_TEST_A', 'TM_WASM_TEST_UNSET']),
    );
    assert.equal(
      (m.onRequest(request(), ctl) as DirectResponse).body,
      'TM_WASM_TEST_A=alpha\0TM_WASM_TEST_UNSET=\0',
    );
    const { m: none } = middleware('environ');
    assert.equal((none.onRequest(request(), ctl) as DirectResponse).body, '');
  });

  it('settings.mounts: fd_readdir, path_filestat_get, fd_filestat_get, fd_seek and fd_tell on a preopen', () => {
    const root = realpathSync(join(dir, 'mnt'));
    const f = join(root, 'f.txt');
    const m = new WasmMiddleware(
      modules.get('mount-dir')!,
      Buffer.from('{}'),
      capture().logger,
      [],
      parseMounts([`${root}:/data:ro`]) as never,
    );
    const out = Buffer.from(String((m.onRequest(request(), ctl) as DirectResponse).body), 'hex');
    const errnos = [0, 8, 12, 16, 24, 28].map((at) => out.readUInt32LE(at));
    assert.deepEqual(errnos, [0, 0, 0, 0, 0, 0]);
    // f.txt: a regular file (4) of 10 bytes, its inode; the preopen: a directory (3).
    const st = statSync(f, { bigint: true });
    assert.equal(out.readBigUInt64LE(64 + 8), st.ino);
    assert.equal(out[64 + 16], 4);
    assert.equal(out.readBigUInt64LE(64 + 32), 10n);
    assert.equal(out.readBigUInt64LE(64 + 48), st.mtimeNs);
    assert.equal(out[128 + 16], 3);
    // The fd after the preopen; SEEK_END - 2, and fd_tell says the same.
    assert.equal(out.readUInt32LE(20), 4);
    assert.equal(out.readBigUInt64LE(32), 8n);
    assert.equal(out.readBigUInt64LE(40), 8n);
    // The dirents: ".", "..", then f.txt and sub (d_next, d_ino, d_namlen, d_type, name).
    const used = out.readUInt32LE(4);
    const ents: [string, number, bigint][] = [];
    for (let at = 256; at < 256 + used; ) {
      const len = out.readUInt32LE(at + 16);
      ents.push([out.subarray(at + 24, at + 24 + len).toString(), out[at + 20]!, out.readBigUInt64LE(at)]);
      at += 24 + len;
    }
    assert.deepEqual(ents.slice(0, 2), [
      ['.', 3, 1n],
      ['..', 3, 2n],
    ]);
    assert.deepEqual(
      ents
        .slice(2)
        .map((e) => [e[0], e[1]])
        .sort(),
      [
        ['f.txt', 4],
        ['sub', 3],
      ],
    );
    assert.deepEqual(
      ents.map((e) => e[2]),
      [1n, 2n, 3n, 4n],
    );
  });

  it('refuses a module that is not an http-wasm guest', async () => {
    const file = join(dir, 'empty.wasm');
    writeFileSync(file, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    assert.equal(await compileWasm(file), "guest doesn't export func[handle_request]");
    writeFileSync(file, 'not wasm');
    assert.match(String(await compileWasm(file)), /^compiling guest module: /);
    assert.match(String(await compileWasm(join(dir, 'none.wasm'))), /^loading Wasm binary: /);
  });
});

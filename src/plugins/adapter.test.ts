import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BodyFilter as PluginBodyFilter, Middleware as PluginMiddleware } from '../../types/plugin.d.ts';
import { createLogger, type LogFields } from '../core/logger.ts';
import type { DirectResponse } from '../core/request.ts';
import { type BodyFilter, type BodyOutput, type RequestControl, SUSPEND } from '../middleware/middleware.ts';
import { makeRequest, makeResponse } from '../middleware/test-request.ts';
import { PluginGuard } from './adapter.ts';

function guarded(inner: PluginMiddleware) {
  const lines: LogFields[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l)) });
  const mw = new PluginGuard(inner, 'stamp', 'stamp@file', logger).middleware();
  return { mw, lines };
}

/** A RequestControl that hands over what the middleware resumes with. */
function control(): { ctl: RequestControl; resumed: Promise<DirectResponse | undefined> } {
  let resolve!: (r: DirectResponse | undefined) => void;
  const resumed = new Promise<DirectResponse | undefined>((r) => {
    resolve = r;
  });
  return { ctl: { resume: (r) => resolve(r), onEnd: () => {}, transformBody: () => {} }, resumed };
}

/** What reaches the next filter (or the client). */
function sink() {
  const got: string[] = [];
  const out: BodyOutput = {
    push: (c) => got.push(`data:${c.toString()}`) < 100,
    length: (n) => got.push(`length:${n}`),
    end: () => got.push('end'),
    fail: (r, status) => got.push(`fail:${r}${status === undefined ? '' : ` (${status})`}`),
    drained: () => got.push('drained'),
  };
  return { out, got };
}

const NO_CTL: RequestControl = { resume: () => {}, onEnd: () => {}, transformBody: () => {} };
const boom = () => {
  throw new Error('boom');
};

describe('plugin guard', () => {
  it('gives the route only the phases the plugin has, and the body phase with onResponse', () => {
    assert.deepEqual(Object.keys(guarded({ onRequest: () => undefined }).mw), ['onRequest']);
    assert.deepEqual(Object.keys(guarded({ onResponse: () => {} }).mw), ['onResponse', 'onResponseBody']);
    assert.deepEqual(Object.keys(guarded({ onResponseBody: () => null }).mw), ['onResponseBody']);
  });

  it('answers 500 and logs the plugin when onRequest throws', () => {
    const { mw, lines } = guarded({ onRequest: boom });
    const r = mw.onRequest!(makeRequest('http://a.test/x'), NO_CTL);
    assert.deepEqual(r, { status: 500, body: 'Internal Server Error' });
    assert.equal(lines.length, 1);
    const l = lines[0]!;
    assert.equal(l['msg'], 'plugin failed');
    assert.equal(l['level'], 'error');
    assert.equal(l['plugin'], 'stamp');
    assert.equal(l['middleware'], 'stamp@file');
    assert.equal(l['phase'], 'onRequest');
    assert.equal(l['path'], '/x');
    assert.match(String(l['error']), /Error: boom\n\s+at /);
  });

  it('runs the plugin as a method of its object, and passes its answers and rewrites on', () => {
    class Deny implements PluginMiddleware {
      readonly #status = 403;
      onRequest = (req: { path: string }) => (req.path === '/deny' ? { status: this.#status } : undefined);
    }
    const { mw } = guarded(new Deny());
    assert.deepEqual(mw.onRequest!(makeRequest('http://a.test/deny'), NO_CTL), { status: 403 });
    const req = makeRequest('http://a.test/ok');
    assert.equal(mw.onRequest!(req, NO_CTL), undefined);
    assert.equal(guarded({ onRequest: () => null as never }).mw.onRequest!(req, NO_CTL), undefined);
    const rewrite = guarded({
      onRequest(r) {
        r.path = '/v2/ok';
        r.headers.set('X-Stamp', 'yes');
        return undefined;
      },
    });
    assert.equal(rewrite.mw.onRequest!(req, NO_CTL), undefined);
    assert.equal(req.path, '/v2/ok');
    assert.equal(req.headers.get('x-stamp'), 'yes');
  });

  it('answers 500 when the plugin writes what cannot be sent', () => {
    const cases: [string, PluginMiddleware['onRequest']][] = [
      ['header ', (r) => void r.headers.set('X-A', 'one\r\nX-Smuggled: two')],
      ['invalid header name', (r) => void r.headers.set('Bad Name', 'x')],
      [
        'invalid path',
        (r) => {
          r.path = '/a b';
          return undefined;
        },
      ],
      [
        'invalid path',
        (r) => {
          r.path = 'relative';
          return undefined;
        },
      ],
      [
        'invalid query',
        (r) => {
          r.query = 'a=1\n';
          return undefined;
        },
      ],
      ['invalid status', () => ({ status: 101 })],
      ['invalid status', () => ({ status: 200.5 })],
      ['header X with a CR', () => ({ status: 200, headers: [['X', 'a\rb']] })],
      ['not a list', () => ({ status: 200, headers: 'x' as never })],
      ['not a response', () => 'oops' as never],
      ['not a response', () => 42 as never],
    ];
    for (const [why, onRequest] of cases) {
      const { mw, lines } = guarded({ onRequest: onRequest! });
      assert.deepEqual(
        mw.onRequest!(makeRequest('http://a.test/'), NO_CTL),
        { status: 500, body: 'Internal Server Error' },
        why,
      );
      assert.match(String(lines[0]?.['error']), new RegExp(why.replace(/ $/, '')), why);
    }
  });

  it('checks only what the plugin changed (the rest came from the parser or checked configuration)', () => {
    // A field no parser would let in, to tell "checked" from "not checked".
    const req = makeRequest('http://a.test/', {
      headers: [
        ['X-First', '1'],
        ['X-Pre', 'odd\rvalue'],
      ],
    });
    const { mw } = guarded({ onRequest: (r) => void r.headers.append('X-New', 'fine') });
    assert.equal(mw.onRequest!(req, NO_CTL), undefined);
    const removing = guarded({ onRequest: (r) => void r.headers.delete('x-first') });
    assert.deepEqual(
      removing.mw.onRequest!(req, NO_CTL),
      { status: 500, body: 'Internal Server Error' },
      'shifted: checked',
    );
    const res = makeResponse(200, [['X-Up', 'odd\nvalue']]);
    guarded({ onResponse: (_q, r) => void r.headers.append('X-Served-By', 'p') }).mw.onResponse!(req, res);
    assert.equal(res.status, 200);
  });

  it('suspends on a promise and resumes with what it resolves to', async () => {
    const req = makeRequest('http://a.test/');
    const later = guarded({
      onRequest: async () => ({ status: 401, headers: [['WWW-Authenticate', 'Basic']] }),
    });
    const a = control();
    assert.equal(later.mw.onRequest!(req, a.ctl), SUSPEND);
    assert.deepEqual(await a.resumed, { status: 401, headers: [['WWW-Authenticate', 'Basic']] });
    const pass = guarded({
      onRequest: async (r) => {
        r.headers.set('X-Checked', '1');
        return undefined;
      },
    });
    const b = control();
    assert.equal(pass.mw.onRequest!(req, b.ctl), SUSPEND);
    assert.equal(await b.resumed, undefined);
    assert.equal(req.headers.get('x-checked'), '1');
  });

  it('resumes with 500 and a log line when the promise rejects or resolves to what cannot be sent', async () => {
    const rejected = guarded({ onRequest: () => Promise.reject(new Error('auth server down')) });
    const a = control();
    rejected.mw.onRequest!(makeRequest('http://a.test/'), a.ctl);
    assert.deepEqual(await a.resumed, { status: 500, body: 'Internal Server Error' });
    assert.match(String(rejected.lines[0]?.['error']), /auth server down/);
    const bad = guarded({ onRequest: async (r) => void r.headers.set('X', '\n') });
    const b = control();
    bad.mw.onRequest!(makeRequest('http://a.test/'), b.ctl);
    assert.deepEqual(await b.resumed, { status: 500, body: 'Internal Server Error' });
  });

  it('turns the response into a 500 (the exchange answers it) when onResponse throws', () => {
    const { mw, lines } = guarded({ onResponse: boom });
    const req = makeRequest('http://a.test/');
    const res = makeResponse(200, [
      ['Content-Type', 'application/json'],
      ['Set-Cookie', 'secret=1'],
    ]);
    mw.onResponse!(req, res);
    assert.equal(res.status, 500);
    assert.equal(res.reason, 'Internal Server Error');
    assert.deepEqual(
      [...res.headers.entries()],
      [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Content-Length', '0'],
      ],
    );
    assert.equal(lines[0]?.['phase'], 'onResponse');
    // With a body, the exchange answers the 500 in its place at the first byte: none of it goes out.
    const f = mw.onResponseBody!(req, res)!;
    const { out, got } = sink();
    f.start(out);
    assert.deepEqual(got, []);
    assert.equal(f.write(Buffer.from('{"secret":true}')), true);
    f.end();
    assert.deepEqual(got, ['fail:plugin stamp failed in onResponse (500)']);
    // Only that response: the next one through the same middleware is left alone.
    assert.equal(mw.onResponseBody!(req, makeResponse(200)), null);
  });

  it('fails the response when onResponse leaves a status or header that cannot be sent', () => {
    const { mw } = guarded({
      onResponse: (_q, r) => {
        r.status = 1000;
      },
    });
    const res = makeResponse(200);
    mw.onResponse!(makeRequest('http://a.test/'), res);
    assert.equal(res.status, 500);
    const ok = guarded({ onResponse: (_q, r) => void r.headers.set('X-Served-By', 'plugin') });
    const res2 = makeResponse(200);
    ok.mw.onResponse!(makeRequest('http://a.test/'), res2);
    assert.equal(res2.status, 200);
    assert.equal(res2.headers.get('x-served-by'), 'plugin');
    assert.equal(ok.mw.onResponseBody!(makeRequest('http://a.test/'), res2), null);
  });

  it('answers 500 when onResponseBody throws or returns something that is not a filter', () => {
    for (const onResponseBody of [boom, () => ({ start() {} }) as never]) {
      const { mw, lines } = guarded({ onResponseBody });
      const res = makeResponse(200, [['Content-Type', 'text/html']]);
      const f = mw.onResponseBody!(makeRequest('http://a.test/'), res)!;
      assert.equal(res.status, 500);
      const { out, got } = sink();
      f.start(out);
      f.end();
      assert.deepEqual(got, ['fail:plugin stamp failed in onResponseBody (500)']);
      assert.equal(lines[0]?.['phase'], 'onResponseBody');
    }
  });

  /** A plugin filter that upper-cases, or throws where told. */
  function upper(throwIn: 'start' | 'write' | 'end' | null, log: string[]): PluginBodyFilter {
    let out: BodyOutput | null = null;
    return {
      start(o) {
        if (throwIn === 'start') throw new Error('start failed');
        out = o;
      },
      write(c) {
        if (throwIn === 'write') throw new Error('write failed');
        out!.push(Buffer.from(c.toString().toUpperCase()));
        return true;
      },
      end() {
        if (throwIn === 'end') throw new Error('end failed');
        out!.end();
      },
      destroy() {
        log.push('destroyed');
      },
    };
  }

  function filterOf(inner: PluginBodyFilter) {
    const g = guarded({ onResponseBody: () => inner });
    const f = g.mw.onResponseBody!(makeRequest('http://a.test/'), makeResponse(200)) as BodyFilter;
    const s = sink();
    f.start(s.out);
    return { f, got: s.got, lines: g.lines };
  }

  it("passes a plugin filter's output on", () => {
    const { f, got } = filterOf(upper(null, []));
    f.write(Buffer.from('abc'));
    f.end();
    assert.deepEqual(got, ['data:ABC', 'end']);
  });

  it('breaks the response, naming the plugin, when its filter throws; the filter is destroyed once', () => {
    for (const where of ['write', 'end'] as const) {
      const destroyed: string[] = [];
      const { f, got, lines } = filterOf(upper(where, destroyed));
      if (where === 'write') f.write(Buffer.from('a'));
      f.end();
      f.write(Buffer.from('after'));
      f.destroy();
      assert.deepEqual(got, [`fail:plugin stamp failed in its body filter ${where} (500)`]);
      assert.deepEqual(destroyed, ['destroyed']);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.['phase'], `body filter ${where}`);
    }
  });

  it('reports an exception of start at the first write, once the pipeline exists', () => {
    const { f, got, lines } = filterOf(upper('start', []));
    assert.deepEqual(got, []);
    f.write(Buffer.from('a'));
    assert.deepEqual(got, ['fail:plugin stamp failed in its body filter start (500)']);
    assert.match(String(lines[0]?.['error']), /start failed/);
  });

  it('takes bytes as Buffer, Uint8Array or string, and breaks on anything else', () => {
    let out: BodyOutput | null = null;
    const { f, got } = filterOf({
      start: (o) => {
        out = o;
      },
      write: () => {
        out!.push(new Uint8Array([104, 105]) as Buffer);
        out!.push('!' as never);
        out!.push(42 as never);
        out!.push(Buffer.from('late'));
        return true;
      },
      end: () => {},
      destroy: () => {},
    });
    f.write(Buffer.from('x'));
    assert.deepEqual(got, ['data:hi', 'data:!', 'fail:plugin stamp failed in its body filter push (500)']);
  });

  it("passes a plugin's own failure on without calling it a bug", () => {
    let out: BodyOutput | null = null;
    const { f, got, lines } = filterOf({
      start: (o) => {
        out = o;
      },
      write: () => {
        out!.fail('upstream sent garbage', 502);
        return true;
      },
      end: () => {},
      destroy: () => {},
    });
    f.write(Buffer.from('x'));
    assert.deepEqual(got, ['fail:plugin stamp: upstream sent garbage (502)']);
    assert.deepEqual(lines, []);
  });

  it("passes a filter's length and backpressure on, and checks the length", () => {
    let out: BodyOutput | null = null;
    const events: string[] = [];
    const inner: PluginBodyFilter = {
      start: (o) => {
        out = o;
      },
      write: (c) => {
        out!.length(c.length);
        events.push(`push → ${out!.push(c)}`);
        return true;
      },
      resume: () => events.push('resumed'),
      end: () => out!.length(-1),
      destroy: () => {},
    };
    const { f, got } = filterOf(inner);
    f.write(Buffer.from('abc'));
    f.resume!();
    f.end();
    assert.deepEqual(events, ['push → true', 'resumed']);
    assert.deepEqual(got, [
      'length:3',
      'data:abc',
      'fail:plugin stamp failed in its body filter length (500)',
    ]);
  });
});

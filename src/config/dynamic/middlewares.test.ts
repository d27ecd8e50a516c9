import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GO_CASES } from '../../core/re2/go-cases.ts';
import { compileRe2 } from '../../core/re2/index.ts';
import { compileGoRegexp, middlewareSchemas } from './middlewares.ts';

function re(src: string): RegExp {
  const r = compileGoRegexp(src);
  if ('error' in r) throw new Error(r.error);
  return r.regexp;
}

function error(src: string): string {
  const r = compileGoRegexp(src);
  assert.ok('error' in r, `expected ${src} to be refused`);
  return r.error;
}

describe('Go regexp translation', () => {
  it('turns a leading (?i) into the i flag', () => {
    assert.ok(re('(?i)^/API').test('/api'));
  });

  it('supports (?:…) non-capturing groups, which do not count as groups', () => {
    const m = re('^https?://(?:www\\.)?(.+)$').exec('https://www.example.com');
    assert.equal(m?.[1], 'example.com');
  });

  it('supports (?P<name>) and (?<name>) groups, named beside the RegExp', () => {
    for (const src of ['^/(?P<id>[0-9]+)', '^/(?<id>[0-9]+)']) {
      const r = compileGoRegexp(src);
      assert.ok(!('error' in r));
      assert.deepEqual(r.groupNames, [undefined, 'id']);
      assert.equal(r.regexp.exec('/42')?.[1], '42');
    }
  });

  it('reads every pattern as Go does, with the same translator as router rules', () => {
    for (const [pattern, input, expected] of GO_CASES) {
      const found = re(pattern).exec(input);
      assert.equal(found === null ? null : found[0], expected, `${pattern} on ${JSON.stringify(input)}`);
      const rule = compileRe2(pattern);
      assert.ok(rule.ok);
      assert.equal(rule.regexp.exec(input)?.[0] ?? null, expected, `rule: ${pattern}`);
    }
  });

  it('supports POSIX classes, \\pL, \\z, \\A and \\Q...\\E', () => {
    assert.ok(re('^[[:alpha:]]+$').test('abc'));
    assert.ok(re('^\\pL+$').test('été'));
    assert.ok(re('\\Aab\\z').test('ab'));
    assert.equal(re('a\\z').test('a\n'), false);
    assert.ok(re('^\\Q.*+\\E$').test('.*+'));
    assert.equal(re('^\\Q.*\\E$').test('ab'), false);
  });

  it('keeps \\s to ASCII whitespace as in Go', () => {
    assert.ok(re('^a\\sb$').test('a b'));
    assert.equal(re('^a\\sb$').test('a\u00a0b'), false);
    assert.equal(re('^a[\\s]b$').test('a\vb'), false);
  });

  it('treats { that does not start a repeat as a literal, as Go does', () => {
    assert.ok(re('^/a{$').test('/a{'));
    assert.ok(re('^a{2}$').test('aa'));
  });

  it('accepts escaped punctuation that the JS u flag would refuse', () => {
    assert.ok(re('^a\\-b\\#c\\"$').test('a-b#c"'));
  });

  it('refuses lookarounds and backreferences, which RE2 does not have', () => {
    assert.match(error('a(?=b)'), /lookahead and lookbehind are not supported by RE2/);
    assert.match(error('(a)\\1'), /backreferences are not supported by RE2/);
  });

  it('scopes flags set in the middle of a pattern to the rest of the group, across |', () => {
    const r = re('^a(?i)b|c$');
    assert.ok(r.test('aB'));
    assert.ok(r.test('xC'));
    assert.equal(r.test('AB'), false);
    const g = re('^(x(?i)y|z)w$');
    assert.ok(g.test('xYw'));
    assert.ok(g.test('Zw'));
    assert.equal(g.test('zW'), false);
    assert.ok(re('^(?i)/api').test('/API'));
  });

  it("takes an empty flag group as Go does (a no-op), and refuses Go's malformed ones", () => {
    assert.ok(re('^a(?)b$').test('ab'));
    assert.match(error('a(?-)b'), /invalid or unsupported Perl syntax/);
  });

  it('refuses syntax errors with the pattern and the offset in the message', () => {
    assert.match(error('(a'), /invalid regular expression "\(a": missing closing "\)"/);
    assert.match(error('x[a'), /missing closing "]" \(at offset 1\)/);
  });
});

describe('middleware schemas', () => {
  it('reject unknown keys', () => {
    assert.equal(middlewareSchemas.stripPrefix.safeParse({ prefixes: ['/a'], prefix: '/b' }).success, false);
    assert.equal(middlewareSchemas.chain.safeParse({ middlewares: [], extra: 1 }).success, false);
  });

  it('read a comma-separated status string as a list (a label value), a real list item as one', () => {
    const errors = (status: unknown) => middlewareSchemas.errors.safeParse({ status, service: 's' });
    const r = errors('418, 500-599');
    assert.ok(r.success);
    assert.deepEqual(r.data.status, [
      { from: 418, to: 418 },
      { from: 500, to: 599 },
    ]);
    assert.equal(errors(['500,502']).success, false);
  });

  it('validate regex fields when the config is validated', () => {
    assert.equal(middlewareSchemas.redirectRegex.safeParse({ regex: '(', replacement: 'x' }).success, false);
    assert.equal(
      middlewareSchemas.headers.safeParse({ accessControlAllowOriginListRegex: ['(?=x)'] }).success,
      false,
    );
  });

  it('fill the defaults', () => {
    assert.deepEqual(middlewareSchemas.redirectScheme.parse({ scheme: 'https' }), {
      scheme: 'https',
      permanent: false,
    });
    assert.deepEqual(middlewareSchemas.stripPrefix.parse({}), { prefixes: [] });
  });

  it("fill retry's defaults as Traefik's retry New reads them, and refuse what it refuses", () => {
    const r = middlewareSchemas.retry.parse({ attempts: 3 });
    assert.equal(r.initialInterval, 0, 'no backoff unless asked (ZeroBackOff)');
    assert.equal(r.maxRequestBodyBytes, 2 * 1024 * 1024, 'RetryDefaultMaxRequestBodyBytes');
    assert.equal(
      middlewareSchemas.retry.parse({ attempts: 2, maxRequestBodyBytes: -1 }).maxRequestBodyBytes,
      -1,
    );
    assert.equal(middlewareSchemas.retry.safeParse({ attempts: 2, maxRequestBodyBytes: -2 }).success, false);
    const off = middlewareSchemas.retry.safeParse({ attempts: 2, disableRetryOnNetworkError: true });
    assert.equal(off.success, false);
    assert.match(off.error!.issues[0]!.message, /requires at least HTTP status codes or retry on TCP/);
    assert.equal(
      middlewareSchemas.retry.safeParse({ attempts: 2, disableRetryOnNetworkError: true, status: ['503'] })
        .success,
      true,
    );
  });

  it('refuses an out-of-range port', () => {
    assert.equal(middlewareSchemas.redirectScheme.safeParse({ scheme: 'https', port: 70000 }).success, false);
  });
});

describe('header values as wire bytes', () => {
  it('keeps a character past U+00FF from becoming CR or LF on the wire: its UTF-8 bytes, as Go writes them', () => {
    const r = middlewareSchemas.headers.parse({
      customRequestHeaders: { 'X-A': 'a\u010d\u010aX-Injected: 1', 'X-B': 'caf\u00e9', 'X-C': 'plain' },
      contentSecurityPolicy: "default-src 'self' \u010d\u010a",
    });
    const a = r.customRequestHeaders!['X-A']!;
    assert.equal(/[\r\n]/.test(a), false);
    assert.equal(Buffer.from(a, 'latin1').toString('utf8'), 'a\u010d\u010aX-Injected: 1');
    assert.equal(r.customRequestHeaders!['X-B'], Buffer.from('café', 'utf8').toString('latin1'));
    assert.equal(r.customRequestHeaders!['X-C'], 'plain');
    assert.equal(/[\r\n]/.test(r.contentSecurityPolicy!), false);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issue } from '../config/issues.ts';
import { traefikErrors } from './traefik-errors.ts';
import { traefikMiddlewareError } from './traefik-middleware-errors.ts';

const at = { file: 'dyn.yaml', line: 3, col: 7 };
const mw = (kind: 'http' | 'tcp', path: (string | number)[], message = 'ours') =>
  issue('error', message, [kind, 'middlewares', 'm@file', ...path], at);

describe("a middleware constructor's error in Traefik's words (traefik-middleware-errors.ts)", () => {
  /** Issue path below the middleware, the middleware as written, Traefik's text (undefined: ours). */
  const table: readonly (readonly [(string | number)[], unknown, string | null | undefined])[] = [
    [
      ['redirectRegex', 'regex'],
      { redirectRegex: { regex: 'a(b' } },
      'error parsing regexp: missing closing ): `a(b`',
    ],
    // Go compiles the trimmed text, the wrapping quotes it as written (replace_path_regex.go New).
    [
      ['replacePathRegex', 'regex'],
      { replacePathRegex: { regex: ' x** ' } },
      'error compiling regular expression  x** : error parsing regexp: invalid nested repetition operator: `**`',
    ],
    [
      ['stripPrefixRegex', 'regex', 1],
      { stripPrefixRegex: { regex: ['/a', '(?i'] } },
      'error parsing regexp: invalid or unsupported Perl syntax: `(?i`',
    ],
    // The constructor stops at the first regexp Go refuses: a later one's error is not Traefik's.
    [['stripPrefixRegex', 'regex', 1], { stripPrefixRegex: { regex: ['a(', '(?i'] } }, null],
    [
      ['headers', 'accessControlAllowOriginListRegex', 1],
      { headers: { accessControlAllowOriginListRegex: ['*', 'b('] } },
      null,
    ],
    [
      ['headers', 'accessControlAllowOriginListRegex', 0],
      { headers: { accessControlAllowOriginListRegex: ['[z-a]'] } },
      'error occurred during origin parsing: error parsing regexp: invalid character class range: `z-a`',
    ],
    // What Go accepts (a regexp JavaScript alone refuses) has no Traefik error: ours stays.
    [['redirectRegex', 'regex'], { redirectRegex: { regex: 'a' } }, undefined],
    [
      ['ipAllowList', 'sourceRange', 1],
      { ipAllowList: { sourceRange: ['10.0.0.1', 'x'] } },
      'cannot parse CIDRs [10.0.0.1 x]: parsing CIDR trusted IPs x: netip.ParsePrefix("x"): no \'/\'',
    ],
    [
      ['ipWhiteList', 'sourceRange', 0],
      { ipWhiteList: { sourceRange: ['10.0.0.0/33'] } },
      'cannot parse CIDR whitelist [10.0.0.0/33]: parsing CIDR trusted IPs 10.0.0.0/33: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range',
    ],
    [
      ['ipAllowList', 'sourceRange'],
      { ipAllowList: { sourceRange: [] } },
      'sourceRange is empty, IPAllowLister not created',
    ],
    // The parsed form ({ type, config }) is read as well.
    [
      ['ipAllowList', 'ipStrategy', 'excludedIPs', 0],
      {
        type: 'ipAllowList',
        config: { sourceRange: ['10.0.0.0/8'], ipStrategy: { excludedIPs: ['1.2.3'] } },
      },
      'parsing CIDR trusted IPs 1.2.3: netip.ParsePrefix("1.2.3"): no \'/\'',
    ],
    // A depth wins over excludedIPs, which Traefik then never reads (dynamic.IPStrategy Get).
    [
      ['ipAllowList', 'ipStrategy', 'excludedIPs', 0],
      { ipAllowList: { sourceRange: ['10.0.0.0/8'], ipStrategy: { depth: 1, excludedIPs: ['1.2.3'] } } },
      undefined,
    ],
    // ipv6Subnet out of Traefik's range, checked with a depth or without excludedIPs.
    [
      ['ipAllowList', 'ipStrategy', 'ipv6Subnet'],
      { ipAllowList: { sourceRange: ['10.0.0.0/8'], ipStrategy: { depth: 1, ipv6Subnet: 129 } } },
      'invalid IPv6 subnet 129 value, should be greater to 0 and lower or equal to 128',
    ],
    [
      ['rateLimit', 'sourceCriterion', 'ipStrategy', 'ipv6Subnet'],
      { rateLimit: { sourceCriterion: { ipStrategy: { excludedIPs: ['10.0.0.1'], ipv6Subnet: 129 } } } },
      undefined,
    ],
    [
      ['rateLimit', 'sourceCriterion'],
      { rateLimit: { sourceCriterion: { ipStrategy: {}, requestHeaderName: 'x' } } },
      'iPStrategy and RequestHeaderName are mutually exclusive',
    ],
    [
      ['inFlightReq', 'sourceCriterion'],
      { inFlightReq: { sourceCriterion: { ipStrategy: { depth: 1 }, requestHost: true } } },
      'error creating requests limiter: iPStrategy and RequestHost are mutually exclusive',
    ],
    [
      ['inFlightReq', 'sourceCriterion', 'ipStrategy', 'excludedIPs', 0],
      { inFlightReq: { sourceCriterion: { ipStrategy: { excludedIPs: ['::1/129'] } } } },
      'error creating requests limiter: parsing CIDR trusted IPs ::1/129: netip.ParsePrefix("::1/129"): prefix length out of range',
    ],
    [
      ['errors', 'status', 1],
      { errors: { status: ['500', '502-5o4'] } },
      'strconv.Atoi: parsing "5o4": invalid syntax',
    ],
    [
      ['errors', 'status', 0],
      { errors: { status: ['99999999999999999999'] } },
      'strconv.Atoi: parsing "99999999999999999999": value out of range',
    ],
    // A class (5xx) is refused by Traefik's Atoi.
    [['errors', 'status', 0], { errors: { status: ['5xx'] } }, 'strconv.Atoi: parsing "5xx": invalid syntax'],
    [
      ['circuitBreaker', 'expression'],
      { circuitBreaker: { expression: 'NetworkErrorRatio() > ' } },
      "1:23: expected operand, found 'EOF'",
    ],
    // Past Go's parse: predicate's, reflect's and oxy's words (traefik-oxy-errors.test.ts).
    [
      ['circuitBreaker', 'expression'],
      { circuitBreaker: { expression: 'Nope() > 0.5' } },
      'unsupported function: Nope',
    ],
    [
      ['buffering', 'retryExpression'],
      { buffering: { retryExpression: 'Attempts() < 2.5' } },
      'expected int, got float64',
    ],
    [['retry', 'attempts'], { retry: { attempts: 0 } }, 'incorrect (or empty) value for attempt (0)'],
    [['retry', 'attempts'], { retry: { attempts: 2 } }, undefined],
    [
      ['retry', 'status', 0],
      { retry: { attempts: 2, status: ['5o0'] } },
      'creating HTTP code ranges: strconv.Atoi: parsing "5o0": invalid syntax',
    ],
    // The attempts are checked first: a status error then is not Traefik's.
    [['retry', 'status', 0], { retry: { attempts: 0, status: ['5o0'] } }, null],
    [
      ['retry', 'status'],
      { retry: { attempts: 0, disableRetryOnNetworkError: true } },
      'retry middleware requires at least HTTP status codes or retry on TCP',
    ],
  ];
  for (const [path, written, text] of table) {
    it(`${path.join('.')} of ${JSON.stringify(written)}`, () => {
      assert.equal(traefikMiddlewareError(mw('http', path), written), text);
    });
  }

  it("words forwardAuth's authResponseHeadersRegex, an error of its build on the middleware itself (forward_auth.go NewForward)", () => {
    const i = issue(
      'error',
      'authResponseHeadersRegex: invalid regular expression "a(": missing closing ")" (at offset 1)',
      ['http', 'middlewares', 'fa@file'],
      at,
    );
    const text = 'error compiling regular expression a(: error parsing regexp: missing closing ): `a(`';
    assert.equal(
      traefikMiddlewareError(i, { forwardAuth: { address: 'http://a', authResponseHeadersRegex: 'a(' } }),
      text,
    );
    assert.equal(
      traefikMiddlewareError(i, {
        type: 'forwardAuth',
        config: { address: 'http://a', authResponseHeadersRegex: 'a(' },
      }),
      text,
    );
  });

  it("words buffering's retryExpression Go cannot parse, an error of its build (oxy buffer Retry)", () => {
    const i = issue(
      'error',
      'retryExpression: expected a condition at offset 19, found the end of the expression',
      ['http', 'middlewares', 'bf@file'],
      at,
    );
    assert.equal(
      traefikMiddlewareError(i, { buffering: { retryExpression: 'IsNetworkError() &&' } }),
      "1:20: expected operand, found 'EOF'",
    );
  });

  it("words a chain cycle as BuildChain's checkRecursion", () => {
    const i = issue(
      'error',
      'chain cycle: loop → loop2 → loop',
      ['http', 'middlewares', 'loop@file', 'chain', 'middlewares'],
      at,
    );
    assert.equal(
      traefikMiddlewareError(i, undefined),
      'could not instantiate middleware loop@file: recursion detected in loop@file->loop2@file->loop@file',
    );
  });

  it('takes the regexp from our message when the middleware as written is not at hand', () => {
    const i = mw(
      'http',
      ['redirectRegex', 'regex'],
      'invalid regular expression "(\\"": missing closing ")"',
    );
    assert.equal(traefikMiddlewareError(i, undefined), 'error parsing regexp: missing closing ): `("`');
  });

  it("gives the middleware's and its router's `error` (BuildChain's AddError on both)", () => {
    const written = { tcpIp: 0, ipAllowList: { sourceRange: ['300.0.0.1'] } };
    const text =
      'cannot parse CIDRs [300.0.0.1]: parsing CIDR trusted IPs 300.0.0.1: netip.ParsePrefix("300.0.0.1"): no \'/\'';
    const own = [
      mw('tcp', ['ipAllowList', 'sourceRange', 0], '"300.0.0.1" is not an IP address or CIDR block'),
    ];
    assert.deepEqual(traefikErrors(own, { kind: 'tcp', name: 'm@file', written }), [text]);
    const router = issue(
      'error',
      'middleware `m` is disabled because of its own errors',
      ['tcp', 'routers', 'r@file', 'middlewares', 0],
      at,
    );
    assert.deepEqual(
      traefikErrors([router], {
        kind: 'tcp',
        name: 'r@file',
        errorsOf: () => traefikErrors(own, { kind: 'tcp', name: 'm@file', written }),
      }),
      [text],
    );
    // Only the constructor's first error: one Traefik never reaches is not shown.
    const retry = { retry: { attempts: 0, status: ['5o0'] } };
    assert.deepEqual(
      traefikErrors([mw('http', ['retry', 'attempts']), mw('http', ['retry', 'status', 0])], {
        kind: 'http',
        name: 'm@file',
        written: retry,
      }),
      ['incorrect (or empty) value for attempt (0)'],
    );
    // Without Traefik's words, ours unlocated, as before.
    assert.deepEqual(
      traefikErrors([mw('http', ['rateLimit', 'average'], 'wrong type')], { kind: 'http', name: 'm@file' }),
      ['http.middlewares.m@file.rateLimit.average: wrong type'],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConfigIssue, issue } from '../config/issues.ts';
import { traefikErrors, traefikStatusOf } from './traefik-errors.ts';

const at = { file: 'dyn.yaml', line: 3, col: 7 };
const router = (key: (string | number)[], message: string, severity: ConfigIssue['severity'] = 'error') =>
  issue(severity, message, ['http', 'routers', 'r@file', ...key], at);

describe("Traefik's error strings (pkg/config/runtime AddError)", () => {
  it('words an unknown entry point as Traefik, with "no valid entryPoint" when none is left, and stops there', () => {
    const some = [
      router(
        ['entryPoints', 1],
        'entry point `x` does not exist: the router serves its other entry points',
        'warning',
      ),
    ];
    const e = traefikErrors(some, { kind: 'http', name: 'r@file', rule: 'Path(`/`)' });
    assert.deepEqual(e, ['entryPoint "x" doesn\'t exist']);
    assert.equal(traefikStatusOf(false, e), 'warning');
    const none = [
      router(['entryPoints', 0], 'entry point `x` does not exist'),
      router(['entryPoints', 1], 'entry point `y` does not exist'),
      router(['service'], 'service `s` does not exist'),
    ];
    assert.deepEqual(traefikErrors(none, { kind: 'tcp', name: 'r@file' }), [
      'entryPoint "x" doesn\'t exist',
      'entryPoint "y" doesn\'t exist',
      'no valid entryPoint for this router',
    ]);
  });

  it("keeps the first build error in Traefik's order: the service, the last middleware, the rule", () => {
    const issues = [
      router(['rule'], 'invalid rule: unknown matcher "Nope"'),
      router(['middlewares', 0], 'middleware `a` does not exist'),
      router(['middlewares', 1], 'middleware `b@docker` does not exist'),
    ];
    assert.deepEqual(traefikErrors(issues, { kind: 'http', name: 'r@file', rule: 'Nope(`x`)' }), [
      'middleware "b@docker" does not exist',
    ]);
    const none = issue(
      'error',
      'router has no service and no child routers',
      ['http', 'routers', 'r@file'],
      at,
    );
    assert.deepEqual(traefikErrors([...issues, none], { kind: 'http', name: 'r@file', rule: 'Nope(`x`)' }), [
      'the service is missing on the router',
    ]);
    const withService = [...issues, router(['service'], 'service `s` does not exist')];
    assert.deepEqual(traefikErrors(withService, { kind: 'udp', name: 'r@file' }), [
      'the UDP service "s@file" does not exist',
    ]);
  });

  it("words the HTTP muxer's rule errors (pkg/muxer/http mux.go AddRoute, parser.go parse)", () => {
    const rule = 'PathPrefix(`/foo`, `/bar`)';
    const arity = [
      router(
        ['rule'],
        'invalid rule: PathPrefix expects 1 argument, got 2; combine several values with "||"',
      ),
    ];
    assert.deepEqual(traefikErrors(arity, { kind: 'http', name: 'r@file', rule }), [
      `error while parsing rule ${rule}: error while adding rule ${rule}: error while adding rule PathPrefix: unexpected number of parameters; got 2, expected one of [1]`,
    ]);
    const q = 'QueryRegexp(`foo`, `bar`)';
    const unknown = [
      router(['rule'], 'invalid rule: unknown matcher "QueryRegexp"; QueryRegexp is a v3 matcher'),
    ];
    assert.deepEqual(traefikErrors(unknown, { kind: 'http', name: 'r@file', rule: q }), [
      `error while parsing rule ${q}: error while parsing rule ${q}: unsupported function: QueryRegexp`,
    ]);
  });

  it("wraps a wrong argument count inside && and || as addRule does (the left operand's error only)", () => {
    const err = (rule: string, message: string) =>
      traefikErrors([router(['rule'], message)], { kind: 'http', name: 'r@file', rule })[0];
    const two = 'invalid rule: Path expects 1 argument, got 2; combine several values with "||"';
    const head = (r: string) => `error while parsing rule ${r}: error while adding rule ${r}: `;
    const tail = 'error while adding rule Path: unexpected number of parameters; got 2, expected one of [1]';
    let r = 'Path(`/a`, `/b`) && Host(`x`)';
    assert.equal(err(r, two), `${head(r)}error while adding rule and: ${tail}`);
    r = 'Host(`x`) && Path(`/a`, `/b`)';
    assert.equal(err(r, two), `${head(r)}${tail}`);
    r = 'Host(`x`) && Path(`/a`, `/b`) && Method(`GET`)';
    assert.equal(err(r, two), `${head(r)}error while adding rule and: ${tail}`);
    r = 'Host(`x`) || !(Path(`/a`, `/b`) && Method(`GET`))';
    assert.equal(err(r, two), `${head(r)}error while adding rule or: ${tail}`);
    r = 'Host(`x`) || Path()';
    assert.equal(
      err(r, 'invalid rule: Path expects 1 argument, got 0'),
      `${head(r)}error while checking rule Path: no args for matcher Path`,
    );
  });

  it("words a path without '/' and a non-ASCII Host as Traefik's matchers (pkg/muxer/http/matcher.go)", () => {
    const err = (rule: string, message: string) =>
      traefikErrors([router(['rule'], message)], { kind: 'http', name: 'r@file', rule })[0];
    const head = (r: string) => `error while parsing rule ${r}: error while adding rule ${r}: `;
    let r = 'Host(`x`) && PathPrefix(`api`)';
    assert.equal(
      err(r, 'invalid rule: PathPrefix: the path must start with "/"; got "api" (at offset 13 of the rule)'),
      `${head(r)}error while adding rule PathPrefix: path "api" does not start with a '/'`,
    );
    r = 'Host(`é.test`) || Path(`/`)';
    assert.equal(
      err(r, 'invalid rule: Host: non-ASCII characters are not allowed in "é.test"; use the punycode form'),
      `${head(r)}error while adding rule or: error while adding rule Host: invalid value "é.test" for Host matcher, non-ASCII characters are not allowed`,
    );
  });

  it('adds the TLS options conflicts after the build error, one per host (a warning alone)', () => {
    const conflict = router(
      ['tls', 'options'],
      'routers on a.test, b.test (entry point websecure) ask for different TLS options: the default TLS options are used there',
      'warning',
    );
    const ghost = router(['middlewares', 0], 'middleware `unknown` does not exist');
    assert.deepEqual(
      traefikErrors([conflict, ghost], { kind: 'http', name: 'r@file', rule: 'Host(`a.test`)' }),
      [
        'middleware "unknown@file" does not exist',
        'found different TLS options for routers on the same host a.test, so using the default TLS options instead',
        'found different TLS options for routers on the same host b.test, so using the default TLS options instead',
      ],
    );
    const unknown = router(['tls', 'options'], 'unknown TLS options `nope`');
    assert.deepEqual(
      traefikErrors([ghost, unknown], { kind: 'http', name: 'r@file', rule: 'Host(`a.test`)' }),
      ['building router handler: unknown TLS options: nope@file'],
    );
    const alone = traefikErrors([conflict], { kind: 'http', name: 'r@file', rule: 'Host(`a.test`)' });
    assert.equal(traefikStatusOf(false, alone), 'warning');
  });

  it("words a TCP router's rule errors as Traefik's manager.go", () => {
    const tcp = (message: string) => issue('error', message, ['tcp', 'routers', 'r@file', 'rule'], at);
    const rule = 'Host(`mydomain.com`)';
    assert.deepEqual(
      traefikErrors([tcp('invalid rule: unknown matcher "Host"; use HostSNI (at offset 0 of the rule)')], {
        kind: 'tcp',
        name: 'r@file',
        rule,
      }),
      ['invalid rule: "Host(`mydomain.com`)" , unsupported function: Host'],
    );
    assert.deepEqual(
      traefikErrors([tcp('a HostSNI with a name needs `tls` on the router')], {
        kind: 'tcp',
        name: 'r@file',
        rule: 'HostSNI(`a.test`)',
      }),
      ['invalid rule: "HostSNI(`a.test`)" , has HostSNI matcher, but no TLS on router'],
    );
    // ParseHostSNI fails before the service is built; a bad value is found after it (manager.go).
    const missing = issue(
      'error',
      'service `ghost` does not exist in the tcp section',
      ['tcp', 'routers', 'r@file', 'service'],
      at,
    );
    assert.deepEqual(
      traefikErrors([missing, tcp('invalid rule: unexpected end of rule')], {
        kind: 'tcp',
        name: 'r@file',
        rule: 'HostSNI(`a`) ||',
      }),
      [`invalid rule: "HostSNI(\`a\`) ||" , 1:16: expected operand, found 'EOF'`],
    );
    assert.deepEqual(
      traefikErrors([missing, tcp('invalid rule: ClientIP: "x" is not an IP address or CIDR block')], {
        kind: 'tcp',
        name: 'r@file',
        rule: 'ClientIP(`x`)',
      }),
      ['the service "ghost@file" does not exist'],
    );
  });

  it("gives a router the errors of the service that disabled it; ours unlocated; our warnings are not Traefik's", () => {
    const svc = issue('error', 'a service needs a type', ['http', 'services', 's@file'], at);
    const errorsOf = (section: string, name: string) =>
      section === 'services' && name === 's@file' ? traefikErrors([svc], { kind: 'http', name }) : [];
    const issues = [router(['service'], 'service `s` is disabled because of its own errors')];
    assert.deepEqual(traefikErrors(issues, { kind: 'http', name: 'r@file', rule: 'Path(`/`)', errorsOf }), [
      'the service "s@file" does not have any type defined',
    ]);
    const ours = issue('error', 'wrong type', ['http', 'middlewares', 'm@file', 'rateLimit', 'average'], at);
    assert.deepEqual(traefikErrors([ours], { kind: 'http', name: 'm@file' }), [
      'http.middlewares.m@file.rateLimit.average: wrong type',
    ]);
    const warning = issue(
      'warning',
      'the service has no servers',
      ['http', 'services', 's@file', 'loadBalancer'],
      at,
    );
    const e = traefikErrors([warning], { kind: 'http', name: 's@file' });
    assert.deepEqual(e, []);
    assert.equal(traefikStatusOf(false, e), 'enabled');
  });

  it("words a reference to another provider's object the build found missing or disabled as Traefik", () => {
    const errorsOf = (_section: string, name: string) =>
      name === 'wrr@http' ? ['the service "nowhere@http" does not exist'] : [];
    const tcp = (message: string) => issue('warning', message, ['tcp', 'routers', 'a@file', 'service'], at);
    assert.deepEqual(
      traefikErrors([tcp('unknown TCP service wrr@http; it is left out')], {
        kind: 'tcp',
        name: 'a@file',
        errorsOf,
      }),
      ['the service "nowhere@http" does not exist'],
    );
    assert.deepEqual(
      traefikErrors([tcp('unknown TCP service ghost@http; it is left out')], {
        kind: 'tcp',
        name: 'a@file',
        errorsOf,
      }),
      ['the service "ghost@http" does not exist'],
    );
    assert.deepEqual(
      traefikErrors([router(['service'], 'unknown service ghost')], {
        kind: 'http',
        name: 'r@file',
        errorsOf,
      }),
      ['the service "ghost@file" does not exist'],
    );
    assert.deepEqual(
      traefikErrors([router(['middlewares', 0], 'unknown middleware m@docker')], {
        kind: 'http',
        name: 'r@file',
      }),
      ['middleware "m@docker" does not exist'],
    );
    const udp = issue(
      'error',
      'UDP service `ghost@http` cannot be built',
      ['udp', 'routers', 'u@file', 'service'],
      at,
    );
    assert.deepEqual(traefikErrors([udp], { kind: 'udp', name: 'u@file', errorsOf }), [
      'the UDP service "ghost@http" does not exist',
    ]);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDynamic } from './dynamic/parse.ts';
import { formatIssue } from './issues.ts';
import { loadStaticConfig } from './static/load.ts';

describe('TOML files', () => {
  it('reads a static TOML file, with positions at the key or value in errors', () => {
    const text = `[entryPoints]
  [entryPoints.web]
    address = ":80"
  [entryPoints.websecure]
    address = "nope"
    [entryPoints.websecure.http.tls]
      certResolver = "le"

[api]
  dashboard = true

[log]
  level = "loud"
  colour = true
`;
    const r = loadStaticConfig({ file: 'traefik.toml', argv: [], env: {}, readFile: () => text });
    assert.deepEqual(
      r.issues.map(formatIssue).filter((l) => !l.includes('warning')),
      [
        'traefik.toml:5:15: entryPoints.websecure.address: invalid address "nope" (expected host:port, :port or [ipv6]:port)',
        'traefik.toml:14:3: log.colour: unknown key `colour`',
      ],
    );
  });

  it('reads a dynamic TOML file: tables, arrays of tables, inline tables, dotted keys', () => {
    const r = parseDynamic(
      `[http.routers.api]
  rule = "Host(\`a.test\`)"
  service = "api"
  entryPoints = ["web"]
  [http.routers.api.tls]

[http.services.api.loadBalancer]
  [[http.services.api.loadBalancer.servers]]
    url = "http://127.0.0.1:1"
  [[http.services.api.loadBalancer.servers]]
    url = "http://127.0.0.1:x2"

[http.middlewares]
  strip = { stripPrefix = { prefixes = ["/a"] } }
  add.addPrefix.prefix = ""
`,
      'dyn.toml',
    );
    assert.deepEqual(r.issues.map(formatIssue), [
      'dyn.toml:11:11: http.services.api.loadBalancer.servers[1].url: invalid URL "http://127.0.0.1:x2": invalid port ":x2" after host (expected http://host:port)',
      'dyn.toml:15:26: http.middlewares.add.addPrefix.prefix: prefix cannot be empty',
    ]);
    assert.deepEqual(r.config?.http.routers['api']?.tls, { domains: [] });
    assert.equal(r.config?.http.middlewares['strip']?.type, 'stripPrefix');
  });

  it('reports a TOML syntax error at its line, and a key defined twice', () => {
    assert.deepEqual(parseDynamic('[http]\nrouters = \n', 'a.toml').issues.map(formatIssue), [
      'a.toml:3:1: TOML syntax error: Unspecified values are invalid',
    ]);
    const dup = parseDynamic('[http.routers.a]\nrule = "x"\nrule = "y"\n', 'b.toml').issues.map(formatIssue);
    assert.equal(dup.length, 1);
    assert.match(dup[0]!, /^b\.toml:3:1: TOML syntax error: /);
  });

  it('names the key and shows the quotes of a string left unquoted, as YAML allows', () => {
    const text =
      '[entryPoints.websecure]\n  address = :8443 # TLS\n[[http.services.a.loadBalancer.servers]]\n  url = http://127.0.0.1:1\n';
    assert.deepEqual(parseDynamic(text, 'c.toml').issues.map(formatIssue), [
      'c.toml:2:13: entryPoints.websecure.address: TOML syntax error: Unexpected character (a string needs quotes in TOML: address = ":8443")',
    ]);
    const list = parseDynamic('[http.routers.r]\n  entryPoints = [web, "websecure"]\n', 'd.toml').issues.map(
      formatIssue,
    );
    assert.deepEqual(list, [
      'd.toml:2:18: http.routers.r.entryPoints: TOML syntax error: Unexpected character (strings need quotes in TOML: entryPoints = ["web", "websecure"])',
    ]);
    // Not a quoting matter: the parser's own words only.
    assert.deepEqual(parseDynamic('[a]\n  x = "abc\n', 'e.toml').issues.map(formatIssue), [
      'e.toml:2:11: TOML syntax error: Unterminated string constant',
    ]);
  });

  it('reports a string too long for the parser as such, not as a syntax error (found by fuzzing)', () => {
    const text = `[http.middlewares.m.headers.customRequestHeaders]\n  X = "${'x'.repeat(200_000)}"\n`;
    const issues = parseDynamic(text, 'big.toml').issues.map(formatIssue);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /^big\.toml: TOML file too large for the parser/);
  });
});

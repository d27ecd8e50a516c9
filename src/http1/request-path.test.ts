import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError } from './parse-error.ts';
import {
  canonicalPath,
  canonicalQuery,
  DEFAULT_ENCODED_CHARACTERS,
  DEFAULT_PATH_POLICY,
  type EncodedCharacters,
  pathPolicy,
} from './request-path.ts';

const TRAEFIK_DEFAULTS: EncodedCharacters = {
  allowEncodedSlash: true,
  allowEncodedBackSlash: false,
  allowEncodedNullCharacter: false,
  allowEncodedSemicolon: false,
  allowEncodedPercent: false,
  allowEncodedQuestionMark: false,
  allowEncodedHash: false,
};
const ALL_ALLOWED: EncodedCharacters = {
  allowEncodedSlash: true,
  allowEncodedBackSlash: true,
  allowEncodedNullCharacter: true,
  allowEncodedSemicolon: true,
  allowEncodedPercent: true,
  allowEncodedQuestionMark: true,
  allowEncodedHash: true,
};
const sanitizing = pathPolicy(true, TRAEFIK_DEFAULTS);

function refused(path: string, policy = sanitizing): string {
  const r = canonicalPath(path, policy);
  assert.ok(r instanceof ParseError, `${path} should be refused, got ${String(r)}`);
  assert.equal(r.status, 400);
  return r.reason;
}

describe('canonicalPath', () => {
  it('returns the very same string for a path with nothing to change', () => {
    const p = '/api/v1/users/42.json';
    assert.equal(canonicalPath(p, sanitizing), p);
    assert.equal(canonicalPath('/', sanitizing), '/');
    assert.equal(canonicalPath('*', sanitizing), '*');
  });

  it('removes dot segments and empty segments as Go path.Clean does', () => {
    const cases: [string, string][] = [
      ['/p/public/../admin', '/p/admin'],
      ['/p/./admin', '/p/admin'],
      ['//p/admin', '/p/admin'],
      ['/p//admin', '/p/admin'],
      ['/../p/admin', '/p/admin'],
      ['/p/public/../../../admin', '/admin'],
      ['/./foo/../bar//', '/bar/'],
      ['/foo/bar//', '/foo/bar/'],
      ['/p/admin/.', '/p/admin'],
      ['/p/public/..', '/p'],
      ['/..', '/'],
      ['//', '/'],
      ['/.well-known/acme-challenge/x', '/.well-known/acme-challenge/x'],
      ['/a/.../b', '/a/.../b'],
    ];
    for (const [input, want] of cases) assert.equal(canonicalPath(input, sanitizing), want, input);
  });

  it('decodes escaped unreserved characters, so that encoded dots are dot segments too', () => {
    assert.equal(canonicalPath('/p/a%64min', sanitizing), '/p/admin');
    assert.equal(canonicalPath('/p/public/%2e%2e/admin', sanitizing), '/p/admin');
    assert.equal(canonicalPath('/p/public/%2E%2E/admin', sanitizing), '/p/admin');
    assert.equal(canonicalPath('/p/%2e/admin', sanitizing), '/p/admin');
    assert.equal(canonicalPath('/p/public/.%2e/admin', sanitizing), '/p/admin');
    assert.equal(canonicalPath('/%7Euser/%5Fx', sanitizing), '/~user/_x');
  });

  it('upper-cases the escapes it keeps', () => {
    assert.equal(canonicalPath('/a%2fb/c%20d/%c3%a9', sanitizing), '/a%2Fb/c%20d/%C3%A9');
  });

  it('refuses a dot segment hidden behind an encoded slash or backslash, or a raw backslash', () => {
    for (const p of [
      '/p/public/..%2fadmin',
      '/p/public/..%2Fadmin',
      '/p/public%2f..%2fadmin',
      '/p/public/%2e%2e%2fadmin',
      '/p/public/..%2f',
      '/p/public/..\\admin',
      '/p/.\\admin',
    ]) {
      assert.match(refused(p), /dot segment/, p);
    }
    // The same characters around anything but a dot segment are left alone.
    assert.equal(canonicalPath('/repo/group%2Fproject', sanitizing), '/repo/group%2Fproject');
    assert.equal(canonicalPath('/a.b%2Fc', sanitizing), '/a.b%2Fc');
  });

  it('refuses a dot segment carrying path parameters, as Traefik v3.7.18 (CVE-2026-137481)', () => {
    for (const p of [
      '/p/public/..;x/admin',
      '/p/public/..;/admin',
      '/p/.;/admin',
      '/p/public/%2e%2e;jsessionid=1/admin',
      '/p/public/..;x',
      '/p/public%2f..;x/admin',
    ]) {
      assert.match(refused(p), /path parameters/, p);
    }
    // Parameters on an ordinary segment, and dots that are not a whole segment, are left alone.
    assert.equal(canonicalPath('/p/./a;jsessionid=1', sanitizing), '/p/a;jsessionid=1');
    assert.equal(canonicalPath('/p/./..a;x/.b;y', sanitizing), '/p/..a;x/.b;y');
    // With sanitizePath off nothing is resolved, and nothing of this is refused (as Traefik).
    assert.equal(canonicalPath('/p/..;x/admin', pathPolicy(false, TRAEFIK_DEFAULTS)), '/p/..;x/admin');
  });

  it('refuses a malformed escape whatever the policy', () => {
    for (const policy of [sanitizing, pathPolicy(false, ALL_ALLOWED)]) {
      assert.match(refused('/p/%zz', policy), /percent-encoding/);
      assert.match(refused('/p/%', policy), /percent-encoding/);
      assert.match(refused('/p/%4', policy), /percent-encoding/);
    }
  });

  it('refuses the escapes that encodedCharacters denies, by default all but %2F (stricter than Traefik v3.6.7+, which allows all)', () => {
    for (const [p, esc] of [
      ['/p/%00/admin', '%00'],
      ['/p/a%5cb', '%5C'],
      ['/p/a%3bjsessionid=1', '%3B'],
      ['/p/%252e%252e/admin', '%25'],
      ['/p/a%3Fb', '%3F'],
      ['/p/a%23b', '%23'],
    ] as const) {
      assert.match(refused(p), new RegExp(esc), p);
    }
    assert.equal(canonicalPath('/p/a%2Fb', sanitizing), '/p/a%2Fb');
    const strict = pathPolicy(true, { ...TRAEFIK_DEFAULTS, allowEncodedSlash: false });
    assert.match(refused('/p/a%2fb', strict), /%2F/);
    const open = pathPolicy(true, ALL_ALLOWED);
    assert.equal(canonicalPath('/p/%252e%252e/admin', open), '/p/%252e%252e/admin');
  });

  it('with sanitizePath off, normalises escapes but keeps dot segments, as Traefik', () => {
    const off = pathPolicy(false, TRAEFIK_DEFAULTS);
    assert.equal(canonicalPath('/p/public/../admin', off), '/p/public/../admin');
    assert.equal(canonicalPath('/p/%2e%2e/a%64min', off), '/p/../admin');
    assert.equal(canonicalPath('/p/..%2fadmin', off), '/p/..%2Fadmin');
  });

  it("percent-encodes the characters a path may not carry raw, as Go's URL.EscapedPath() does", () => {
    // Every visible ASCII byte the request-target lets through, one at a time: those Go's
    // validEncoded refuses come out encoded, every other one as it was.
    for (let c = 0x21; c < 0x7f; c++) {
      const ch = String.fromCharCode(c);
      if (ch === '#' || ch === '?' || ch === '%' || ch === '/' || ch === '.') continue;
      const want = '"<>\\^`{|}'.includes(ch) ? `%${c.toString(16).toUpperCase()}` : ch;
      assert.equal(canonicalPath(`/a${ch}b`, sanitizing), `/a${want}b`, `byte ${ch}`);
    }
    assert.equal(canonicalPath('/s/{id}|x^"<y>`z`', sanitizing), '/s/%7Bid%7D%7Cx%5E%22%3Cy%3E%60z%60');
  });

  it('keeps every other escape as it was beside such a character, an encoded slash among them', () => {
    // Go would rebuild the path from its decoded form (/a/b%7C); an encoded slash stays one here.
    assert.equal(canonicalPath('/a%2fb|', sanitizing), '/a%2Fb%7C');
    assert.equal(canonicalPath('/a%41/./b{', sanitizing), '/aA/b%7B');
    assert.equal(canonicalPath('/a/../b\\c', sanitizing), '/b%5Cc');
    assert.equal(canonicalPath('/a/../b|', pathPolicy(false, TRAEFIK_DEFAULTS)), '/a/../b%7C');
  });
});

describe('canonicalQuery', () => {
  const encoding = pathPolicy(true, DEFAULT_ENCODED_CHARACTERS, true);

  it('returns the very same string for a query without a semicolon', () => {
    const q = 'a=1&b=2';
    assert.equal(canonicalQuery(q, DEFAULT_PATH_POLICY), q);
    assert.equal(canonicalQuery('', DEFAULT_PATH_POLICY), '');
  });

  it("makes every ';' a separator, as Traefik's default (Go's AllowQuerySemicolons)", () => {
    assert.equal(canonicalQuery('a=1;b=2;;c', DEFAULT_PATH_POLICY), 'a=1&b=2&&c');
  });

  it("keeps ';' in its value as %3B with encodeQuerySemicolons", () => {
    assert.equal(canonicalQuery('a=1;b=2', encoding), 'a=1%3Bb=2');
    // An escaped one was never a separator: it stays as it is.
    assert.equal(canonicalQuery('a=1%3Bb', DEFAULT_PATH_POLICY), 'a=1%3Bb');
  });
});

/**
 * adaptFixture's `[api]` rule (./fixture.ts): an `[api]` table with `insecure = true` would open
 * Traefik's :8080 unless the fixture declares its own `traefik` entry point (moved to
 * 127.0.0.1:0), so it goes, whole and whatever its keys' order; otherwise it stays as written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adaptFixture } from './fixture.ts';

const WEB = `[entryPoints]
  [entryPoints.web]
    address = ":8000"
`;
const FILE = `[providers.file]
  filename = "x.toml"
`;

describe('adaptFixture [api]', () => {
  for (const [name, api] of [
    ['insecure first', '[api]\n  insecure = true\n  dashboard = false\n'],
    ['insecure last', '[api]\n  dashboard = false\n  debug = true\n  insecure = true\n'],
    ['no spaces, a comment', '[api] # the API\ninsecure=true # open\n\ndashboard=true\n'],
  ] as const) {
    it(`drops the table with insecure = true (${name}), its other keys too`, () => {
      for (const text of [`${WEB}\n${api}\n${FILE}`, `${api}\n${WEB}`, `${WEB}\n${api}`]) {
        const out = adaptFixture(text);
        assert.doesNotMatch(out, /\[api\]|insecure|dashboard|debug/, out);
        assert.match(out, /\[entryPoints\.web\]\n {4}address = "127\.0\.0\.1:0"/, out);
      }
      assert.match(adaptFixture(`${WEB}\n${api}\n${FILE}`), /\[providers\.file\]\n {2}filename = "x\.toml"/);
    });
  }

  it('keeps the table when the fixture declares a traefik entry point, whatever its keys', () => {
    const out = adaptFixture(
      `[api]\n  insecure = true\n  dashboard = false\n\n${WEB}  [entrypoints.traefik]\n    address = ":8080"\n`,
    );
    assert.match(out, /^\[api\]\n {2}insecure = true\n {2}dashboard = false\n/, out);
    assert.match(out, /\[entrypoints\.traefik\]\n {4}address = "127\.0\.0\.1:0"/, out);
  });

  it('keeps an [api] table without insecure = true', () => {
    for (const api of ['[api]\n  dashboard = false\n', '[api]\n  insecure = false\n', '[api]\n']) {
      assert.equal(adaptFixture(`${api}\n${FILE}`), `${api}\n${FILE}`);
    }
  });

  it('leaves other tables named like api alone', () => {
    const text = '[http.routers.api]\n  insecure = true\n  rule = "PathPrefix(`/api`)"\n';
    assert.equal(adaptFixture(text), text);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { mergeDynamic } from './merge.ts';
import { parseDynamic } from './parse.ts';

function source(file: string, text: string) {
  const r = parseDynamic(text, file);
  assert.ok(r.config, `${file} should parse`);
  return { file, config: r.config, locate: r.locate, disabled: r.disabled };
}

const svc = (name: string, port: number) =>
  `http:\n  services:\n    ${name}:\n      loadBalancer:\n        servers: [{ url: "http://127.0.0.1:${port}" }]\n`;

describe('mergeDynamic', () => {
  it('merges objects from several files of one provider', () => {
    const r = mergeDynamic([source('a.yaml', svc('one', 1)), source('b.yaml', svc('two', 2))]);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(Object.keys(r.config.http.services), ['one', 'two']);
  });

  it('keeps the first definition of a name a later file defines differently, with a warning', () => {
    // As Traefik's file provider (loadFileConfigFromDirectory): "HTTP service already configured,
    // skipping"; the first file in the folder's order wins.
    const r = mergeDynamic([source('a.yaml', svc('one', 1)), source('b.yaml', svc('one', 2))]);
    assert.deepEqual(r.issues.map(formatIssue), [
      "b.yaml:3:5: warning: http.services.one: service `one` is already defined in a.yaml: this definition is skipped (the first one is kept, as Traefik's file provider does)",
    ]);
    const kept = r.config.http.services['one'];
    assert.ok(kept?.kind === 'loadBalancer');
    assert.equal(kept.loadBalancer.servers[0]?.url, 'http://127.0.0.1:1');
    assert.deepEqual(r.disabled, []);
  });

  it('accepts the same name defined identically in two files, as Traefik does', () => {
    const r = mergeDynamic([source('a.yaml', svc('one', 1)), source('b.yaml', svc('one', 1))]);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(Object.keys(r.config.http.services), ['one']);
  });

  it('locates a path in the file that defines its object', () => {
    const r = mergeDynamic([source('a.yaml', svc('one', 1)), source('b.yaml', svc('two', 2))]);
    assert.deepEqual(r.locate(['http', 'services', 'two', 'loadBalancer']), {
      file: 'b.yaml',
      line: 5,
      col: 9,
      exact: true,
    });
    assert.deepEqual(r.locate(['http', 'services', 'none']), { exact: false });
  });
});

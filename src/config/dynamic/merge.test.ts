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

  it('reports a name defined differently in two files, naming both, and drops it', () => {
    const r = mergeDynamic([source('a.yaml', svc('one', 1)), source('b.yaml', svc('one', 2))]);
    assert.deepEqual(r.issues.map(formatIssue), [
      'b.yaml:3:5: http.services.one: service `one` is defined in both a.yaml and b.yaml with different configurations',
    ]);
    assert.deepEqual(r.config.http.services, {});
    assert.deepEqual(
      r.disabled.map((d) => [d.section, d.name, d.parsed]),
      [['services', 'one', true]],
    );
    const first = r.disabled[0]?.value as { kind?: string } | undefined;
    assert.equal(first?.kind, 'loadBalancer', 'the first definition');
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

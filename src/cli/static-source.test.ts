import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../config/issues.ts';
import { chooseStaticSource } from './static-source.ts';

// Traefik's loaders, first that applies: FileLoader, FlagLoader, EnvLoader (cmd/traefik/traefik.go).
describe('chooseStaticSource', () => {
  const env = {
    TRAEFIK_LOG_LEVEL: 'DEBUG',
    TRAFFIC_LOG_FORMAT: 'json',
    TRAEFIK_CONFIGFILE: 'x',
    PATH: '/bin',
  };

  it('a file: the flags and the TRAEFIK_ variables are ignored, said by name; TRAFFIC_ variables kept', () => {
    const s = chooseStaticSource('/etc/traefik/traefik.yml', ['--log.level=INFO', '--ping', 'true'], env);
    assert.equal(s.kind, 'file');
    assert.deepEqual(s.argv, []);
    assert.deepEqual(Object.keys(s.env).sort(), ['PATH', 'TRAEFIK_CONFIGFILE', 'TRAFFIC_LOG_FORMAT']);
    assert.equal(s.loaded, 'Configuration loaded from file: /etc/traefik/traefik.yml');
    const lines = s.ignored.map(formatIssue);
    assert.equal(lines.length, 2);
    assert.ok(
      s.ignored.every((i) => i.logAs === 'error'),
      'shown at the default level',
    );
    assert.match(lines[0]!, /^warning: the command-line flags are ignored \(--log\.level, --ping\)/);
    assert.doesNotMatch(lines[0]!, /INFO/);
    assert.match(lines[1]!, /^warning: the TRAEFIK_ variables are ignored \(TRAEFIK_LOG_LEVEL\)/);
  });

  it('no file: the flags, the TRAEFIK_ variables ignored', () => {
    const s = chooseStaticSource(undefined, ['--log.level=INFO'], env);
    assert.equal(s.kind, 'flags');
    assert.deepEqual(s.argv, ['--log.level=INFO']);
    assert.equal(s.env['TRAEFIK_LOG_LEVEL'], undefined);
    assert.equal(s.loaded, 'Configuration loaded from flags');
    assert.equal(s.ignored.length, 1);
  });

  it('neither: the variables, nothing ignored; nothing at all: no source', () => {
    const s = chooseStaticSource(undefined, [], env);
    assert.equal(s.kind, 'env');
    assert.equal(s.env['TRAEFIK_LOG_LEVEL'], 'DEBUG');
    assert.equal(s.loaded, 'Configuration loaded from environment variables.');
    assert.deepEqual(s.ignored, []);
    const none = chooseStaticSource(undefined, [], { PATH: '/bin', TRAFFIC_EXIT_WITH_PARENT: '1' });
    assert.equal(none.kind, 'none');
    assert.equal(none.loaded, undefined);
  });
});

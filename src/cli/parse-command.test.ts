import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCommand } from './parse-command.ts';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

describe('parseCommand', () => {
  it('runs by default, with the config file and the override flags', () => {
    assert.deepEqual(parseCommand(['--config', 'a.yaml', '--log.level=DEBUG'], {}), {
      kind: 'run',
      configFile: 'a.yaml',
      overrides: ['--log.level=DEBUG'],
    });
    assert.deepEqual(parseCommand([], {}), { kind: 'run', configFile: undefined, overrides: [] });
  });

  it('accepts run and validate subcommands and the -c, --config= and --configFile spellings', () => {
    assert.deepEqual(parseCommand(['run', '-c', 'a.yaml'], {}), {
      kind: 'run',
      configFile: 'a.yaml',
      overrides: [],
    });
    assert.deepEqual(parseCommand(['validate', '--config=b.yaml', '--entryPoints.web.address', ':1'], {}), {
      kind: 'validate',
      configFile: 'b.yaml',
      overrides: ['--entryPoints.web.address', ':1'],
    });
    assert.deepEqual(parseCommand(['validate', '--configFile=c.yaml'], {}), {
      kind: 'validate',
      configFile: 'c.yaml',
      overrides: [],
    });
    // Traefik's FileLoader (pkg/cli/loader_file.go) takes `traefik.configfile` and
    // `traefik.configFile`: both spellings name the file.
    assert.deepEqual(parseCommand(['--configfile', 'd.yaml'], {}), {
      kind: 'run',
      configFile: 'd.yaml',
      overrides: [],
    });
  });

  it('takes the file from TRAFFIC_CONFIGFILE when no flag names one', () => {
    assert.equal(
      (parseCommand([], { TRAFFIC_CONFIGFILE: 'env.yaml' }) as { configFile?: string }).configFile,
      'env.yaml',
    );
    assert.equal(
      (parseCommand(['-c', 'flag.yaml'], { TRAFFIC_CONFIGFILE: 'env.yaml' }) as { configFile?: string })
        .configFile,
      'flag.yaml',
    );
  });

  it('answers --help and --version, anywhere on the line', () => {
    const help = parseCommand(['validate', '--help'], {});
    assert.equal(help.kind, 'help');
    assert.match((help as { text: string }).text, /traffic validate/);
    assert.equal(parseCommand(['-h'], {}).kind, 'help');
    assert.equal(parseCommand(['help'], {}).kind, 'help');
    assert.deepEqual(parseCommand(['--version'], {}), { kind: 'version', version });
    assert.deepEqual(parseCommand(['version'], {}), { kind: 'version', version });
  });

  it('reports unknown commands and a --config without a file', () => {
    assert.equal(parseCommand(['serve'], {}).kind, 'error');
    assert.match((parseCommand(['serve'], {}) as { message: string }).message, /unknown command "serve"/);
    assert.deepEqual(parseCommand(['--config'], {}), {
      kind: 'error',
      message: '--config needs a file name',
    });
    assert.deepEqual(parseCommand(['-c', '--log.level=x'], {}), {
      kind: 'error',
      message: '-c needs a file name',
    });
    assert.equal(parseCommand(['-c', 'a', '-c', 'b'], {}).kind, 'error');
  });

  it('takes explain --entrypoint in either spelling, beside the request and -H', () => {
    for (const argv of [
      ['explain', '--entrypoint', 'websecure', 'GET https://a/'],
      ['explain', 'GET https://a/', '--entryPoint=websecure'],
    ]) {
      assert.deepEqual(parseCommand([...argv, '-H', 'X: 1'], {}), {
        kind: 'explain',
        configFile: undefined,
        overrides: [],
        request: 'GET https://a/',
        headers: ['X: 1'],
        entryPoint: 'websecure',
      });
    }
    assert.deepEqual(parseCommand(['explain', 'GET http://a/', '--entrypoint'], {}), {
      kind: 'error',
      message: '--entrypoint needs an entry point name',
    });
  });
});

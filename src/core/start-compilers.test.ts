import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pauseOptimizingCompilers, resumeOptimizingCompilers } from './start-compilers.ts';

const MODULE = fileURLToPath(new URL('./start-compilers.ts', import.meta.url));

/**
 * Runs a hot function 200,000 times in a child node with `--trace-opt`, between `pause` and
 * `resume` when asked; returns whether V8 reported an optimizing compilation of it.
 */
function hotFunctionOptimized(steps: string, nodeArgs: readonly string[] = []): boolean {
  const script = `
    import { pauseOptimizingCompilers, resumeOptimizingCompilers } from ${JSON.stringify(MODULE)};
    function hotOne(i) { return (i * 7) % 13; }
    let s = 0;
    ${steps}
    for (let i = 0; i < 200000; i++) s += hotOne(i);
    // V8 logs a compilation when it queues it, on this thread: it is on stdout by now.
    process.stdout.write('sum ' + s + '\\n');
  `;
  const r = spawnSync(process.execPath, [...nodeArgs, '--trace-opt', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sum \d+/);
  return /compiling method \S+ <JSFunction hotOne .*target (?:MAGLEV|TURBOFAN)/.test(r.stdout);
}

describe('pauseOptimizingCompilers / resumeOptimizingCompilers', () => {
  it('a hot function is optimized normally, not while paused, and again once resumed', () => {
    assert.equal(hotFunctionOptimized(''), true);
    assert.equal(hotFunctionOptimized('pauseOptimizingCompilers([], undefined);'), false);
    assert.equal(
      hotFunctionOptimized('pauseOptimizingCompilers([], undefined); resumeOptimizingCompilers();'),
      true,
    );
  });

  it('leaves V8 alone when the command line or NODE_OPTIONS already chose its compilers', () => {
    for (const argv of [
      ['--jitless'],
      ['--no-maglev'],
      ['--turbofan'],
      ['--no-opt'],
      ['--max-lazy'],
      ['--maglev=false'],
    ]) {
      assert.equal(pauseOptimizingCompilers(argv, undefined), false, argv.join(' '));
    }
    assert.equal(pauseOptimizingCompilers([], '--max-old-space-size=512 --jitless'), false);
    // `resume` after a refused pause turns nothing on: a child started with --no-maglev keeps it off.
    assert.equal(
      hotFunctionOptimized(
        'pauseOptimizingCompilers(process.execArgv, undefined); resumeOptimizingCompilers();',
        ['--no-maglev', '--no-turbofan'],
      ),
      false,
    );
  });

  it('pauses with unrelated flags, and resuming twice is harmless', () => {
    assert.equal(
      pauseOptimizingCompilers(['--max-old-space-size=512', '--trace-opt', '--optimize-for-size'], ''),
      true,
    );
    resumeOptimizingCompilers();
    resumeOptimizingCompilers();
  });
});

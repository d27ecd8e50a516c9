// Before the tests: are the programs they run installed (scripts/test-tools.json)? Prints each
// missing one with what needs it and the one `apt-get install` line that brings them all. As root
// with apt-get, and with CI set (as .ci/run sets it) or TRAFFIC_INSTALL_TEST_TOOLS=1, installs
// them. Never fails the run by itself: a suite whose program is missing fails in seconds, naming
// the same command (test/helpers/tools.ts), and every other suite still runs.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';

const manifest = JSON.parse(readFileSync(new URL('./test-tools.json', import.meta.url), 'utf8'));

function onPath(tool) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function missingTools() {
  return manifest.tools.filter((t) => !onPath(t.tool));
}

function installLine(missing) {
  return `apt-get install -y --no-install-recommends ${[...new Set(missing.map((t) => t.package))].join(' ')}`;
}

let missing = missingTools();
if (missing.length === 0) process.exit(0);

const wantInstall = process.env.CI !== undefined || process.env.TRAFFIC_INSTALL_TEST_TOOLS === '1';
const canInstall = process.getuid?.() === 0 && onPath('apt-get');
if (wantInstall && canInstall) {
  const packages = [...new Set(missing.map((t) => t.package))];
  console.error(`test tools: installing ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  if (update.status === 0) {
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env,
    });
  }
  missing = missingTools();
  if (missing.length === 0) process.exit(0);
}

const width = Math.max(...missing.map((t) => t.tool.length));
console.error(
  [
    `test tools: ${missing.length} program(s) the tests run are not installed; the suites that need them will fail:`,
    ...missing.map((t) => `  ${t.tool.padEnd(width)}  (${t.package}) ${t.for}`),
    `install them with:`,
    `  ${process.getuid?.() === 0 ? '' : 'sudo '}${installLine(missing)}`,
    wantInstall
      ? canInstall
        ? '(the installation above did not bring them all)'
        : '(not installing: that needs root and apt-get)'
      : '(or run the tests as root with TRAFFIC_INSTALL_TEST_TOOLS=1, or CI=1, to install them first)',
  ].join('\n'),
);

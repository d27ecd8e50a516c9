/**
 * The configuration fuzzer's worker, a child process so that a hang can be caught and killed:
 *   node test/fuzz/config-fuzz-worker.ts <case seed> [<case seed> ...]
 * For each seed it mutates one file of the corpus of real Traefik files (config-mutate.ts), loads
 * it as `traffic validate` does (static files with their inline dynamic sections, dynamic files
 * with the rule checker) and checks what came back. One JSON line per event on stdout:
 * {start}, then {done} or {exception} or {bad} (an issue that does not point where it should).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type ConfigIssue, formatIssue, loadDynamic, loadStaticConfig } from '../../src/config/index.ts';
import { compileRule } from '../../src/router/index.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { mutateConfig } from './config-mutate.ts';

interface Entry {
  readonly local: string;
  readonly kind: 'static' | 'dynamic';
}

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const CORPUS = join(ROOT, 'test', 'corpus', 'traefik');
const files = (JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as { files: Entry[] }).files;
const texts = new Map(files.map((f) => [f.local, readFileSync(join(CORPUS, f.local), 'utf8')]));
const INTERNAL: ReadonlySet<string> = new Set(['api', 'dashboard', 'ping', 'prometheus']);

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/** What an issue must look like: a message, and a position inside the file it names. */
function checkIssue(i: ConfigIssue, file: string, lineCount: number): string | null {
  if (typeof i.message !== 'string' || i.message === '') return 'an issue without a message';
  if (i.severity !== 'error' && i.severity !== 'warning') return `severity ${String(i.severity)}`;
  formatIssue(i);
  if (i.file !== undefined && i.file !== file) return `an issue about another file: ${i.file}`;
  if (i.line !== undefined && (i.line < 1 || i.line > lineCount + 1)) return `line ${i.line} of ${lineCount}`;
  if (i.col !== undefined && i.col < 1) return `column ${i.col}`;
  return null;
}

const dir = mkdtempSync(join(tmpdir(), 'tm-config-fuzz-'));
try {
  for (const arg of process.argv.slice(2)) {
    const seed = Number(arg);
    const r = seededRandom(seed);
    const entry = files[Math.floor(r() * files.length)]!;
    const text = mutateConfig(r, texts.get(entry.local)!);
    const file = join(dir, `${seed}-${basename(entry.local)}`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    emit({ start: seed, file: entry.local });
    const t0 = performance.now();
    try {
      let issues: ConfigIssue[];
      if (entry.kind === 'static') {
        const loaded = loadStaticConfig({ file, argv: [], env: {} });
        // The dynamic sections too, as the file provider reads them when it reads this file.
        issues = [...loaded.issues, ...loadDynamic([{ file, text, embedded: true }]).issues];
      } else {
        issues = loadDynamic([{ file, text }], {
          checkRule: (rule) => {
            const c = compileRule(rule);
            return c.ok ? undefined : c.error;
          },
          provider: 'file',
          internalServices: INTERNAL,
        }).issues;
      }
      const lines = text.split('\n').length;
      const bad = issues.map((i) => checkIssue(i, file, lines)).find((b) => b !== null);
      if (bad !== undefined && bad !== null) emit({ bad, seed, file: entry.local });
      emit({
        done: seed,
        errors: issues.filter((i) => i.severity === 'error').length,
        ms: Math.round(performance.now() - t0),
        bytes: text.length,
      });
    } catch (e) {
      emit({
        exception: String(e),
        stack: (e as Error).stack?.split('\n').slice(0, 8).join('\n'),
        seed,
        file: entry.local,
      });
    } finally {
      rmSync(file, { force: true });
    }
  }
  emit({ end: true });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

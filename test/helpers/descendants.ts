/** What a process started and left running, read from /proc (Linux), for clean-ups after a test. */
import { sampleTree } from '../../bench/lib/proc-tree.ts';

/**
 * Kills (SIGKILL) the processes `pid` started, their own included, not `pid` itself: when the code
 * under test fails to end a child (one that hangs, or loops), the test still ends and leaves no
 * busy process behind.
 */
export function killDescendants(pid: number): void {
  for (const p of sampleTree(pid).pids) {
    if (p === pid) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

// The attacker of `--mode overload`, run as its own process pinned to the client CPU:
// `node bench/lib/overload-attacker.ts <port> <slowloris> <slowPosts> <trickleMs>`. Opens every
// connection (test/helpers/slow-clients.ts: heads or bodies trickled one byte at a time, reopened
// when the proxy closes them), prints `ready <stats>` once they are all open, and on SIGTERM
// stops and prints its final stats as one JSON line.
import { SlowAttack } from '../../test/helpers/slow-clients.ts';

const [portText = '8080', lorisText = '2000', postsText = '200', trickleText = '1000'] =
  process.argv.slice(2);
const attack = new SlowAttack({
  port: Number(portText),
  slowloris: Number(lorisText),
  slowPosts: Number(postsText),
  trickleEveryMs: Number(trickleText),
});
process.once('SIGTERM', () => {
  const open = attack.open;
  attack.stop();
  process.stdout.write(`${JSON.stringify({ ...attack.stats, openAtEnd: open })}\n`);
  process.exit(0);
});
await attack.start();
process.stdout.write(`ready ${JSON.stringify({ ...attack.stats, open: attack.open })}\n`);
setInterval(() => {}, 1 << 30);

// Preloaded (`--import`) into our proxy when `--profile` is on. Node writes the --cpu-prof file only
// when the process exits normally; a SIGTERM with no listener kills it before that. If the proxy
// has its own SIGTERM listener we give its graceful shutdown a moment, otherwise we exit at once.
const GRACE_MS = 3000;

process.once('SIGTERM', () => {
  if (process.listenerCount('SIGTERM') === 0) process.exit(0);
  setTimeout(() => process.exit(0), GRACE_MS).unref();
});

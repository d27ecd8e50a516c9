/**
 * `npm start` (after `npm run build`): two tiny demo backends on 127.0.0.1:9101 and :9102, and the proxy on
 * config/example.yaml in front of them (http://127.0.0.1:8080/). Ctrl-C stops everything, and so
 * does stopping npm: the script `exec`s this process (npm's SIGTERM reaches it, not a shell), and
 * the proxy is a child with an IPC channel, which it watches: if this process dies, even by
 * SIGKILL, the channel closes and the proxy shuts down (src/cli/parent-watch.ts).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const backends: Server[] = [];
for (const [name, port] of [
  ['backend-1', 9101],
  ['backend-2', 9102],
] as const) {
  const server = createServer((req, res) => {
    const body = `Hello from ${name} (127.0.0.1:${port})\n${req.method} ${req.url}\nX-Forwarded-For: ${req.headers['x-forwarded-for'] ?? ''}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-backend': name });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  backends.push(server);
  console.log(`demo: ${name} listening on http://127.0.0.1:${port}/`);
}

const proxy = spawn(
  process.execPath,
  [join(root, 'bin/traffic.js'), 'run', '--config', join(root, 'config/example.yaml')],
  {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  },
);
console.log('demo: proxy starting on http://127.0.0.1:8080/ — try: curl -i http://127.0.0.1:8080/');

const stop = () => proxy.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
proxy.on('exit', (code) => {
  for (const b of backends) b.close();
  process.exit(code ?? 0);
});

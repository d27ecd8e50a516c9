/**
 * A layer-4 load balancer for tests: what stands in front of several proxy instances. Each
 * connection is paused, `pick` chooses the backend port (it may ask anything first, e.g. a
 * store), then the two sockets are piped. Every choice is recorded for assertions.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpBalancer {
  readonly port: number;
  /** What `pick` returned per connection, in order (its `note` as given). */
  readonly routed: { readonly port: number; readonly note: string }[];
  close(): Promise<void>;
}

export async function startTcpBalancer(
  port: number,
  pick: () => Promise<{ readonly port: number; readonly note: string }>,
): Promise<TcpBalancer> {
  const routed: { port: number; note: string }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    pick().then(
      (target) => {
        routed.push(target);
        const up = connect(target.port, '127.0.0.1');
        sockets.add(up);
        up.on('close', () => {
          sockets.delete(up);
          client.destroy();
        });
        up.on('error', () => up.destroy());
        client.on('close', () => up.destroy());
        client.pipe(up).pipe(client);
        client.resume();
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    routed,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

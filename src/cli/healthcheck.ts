import { request } from 'node:http';
import { formatIssue, loadStaticConfig } from '../config/index.ts';
import { parseAddress } from '../config/static/address.ts';
import { listenedEntryPoints } from '../config/static/admin-entry-points.ts';

const TIMEOUT_MS = 5000;

/**
 * `traffic healthcheck`: Traefik's `healthcheck` command (cmd/healthcheck/healthcheck.go), which
 * container health checks run (`traefik healthcheck --ping`): with `ping` enabled, `HEAD /ping`
 * on the ping entry point's address over plain HTTP (as Traefik; an entry point serves cleartext
 * beside TLS here), 5 s at most. Prints `OK: <url>` and returns 0 on a 200, else prints why and
 * returns 1. An address without a host (`:8080`) or with an unspecified one is asked on loopback.
 */
export async function runHealthcheck(
  configFile: string | undefined,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  write: (text: string) => void,
): Promise<number> {
  const loaded = loadStaticConfig({ ...(configFile !== undefined ? { file: configFile } : {}), argv, env });
  const config = loaded.config;
  if (config === undefined) {
    for (const i of loaded.issues) if (i.severity === 'error') write(`${formatIssue(i)}\n`);
    return 1;
  }
  const fail = (why: string): number => {
    write(`Error calling healthcheck: ${why}\n`);
    return 1;
  };
  if (config.ping === undefined) return fail('please enable `ping` to use health check');
  const name = config.ping.entryPoint;
  const ep = config.entryPoints[name] ?? listenedEntryPoints(config).find(([n]) => n === name)?.[1];
  if (ep === undefined) return fail(`ping: missing ${name} entry point`);
  const target = loopbackTarget(ep.address);
  if (target === undefined)
    return fail(`ping: the ${name} entry point's address ${ep.address} has no port to call`);
  const url = `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}/ping`;
  try {
    const status = await head(target.host, target.port);
    if (status.code !== 200) {
      write(`Bad healthcheck status: ${status.code} ${status.text}\n`);
      return 1;
    }
  } catch (e) {
    return fail(`Head "${url}": ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
  write(`OK: ${url}\n`);
  return 0;
}

/** An entry point's address (config/static/address.ts) → where to call it: loopback for no host or an unspecified one. */
function loopbackTarget(address: string): { host: string; port: number } | undefined {
  const a = parseAddress(address);
  if ('error' in a || a.port === 0) return undefined;
  const host = a.host === undefined || a.host === '0.0.0.0' ? '127.0.0.1' : a.host === '::' ? '::1' : a.host;
  return { host, port: a.port };
}

function head(host: string, port: number): Promise<{ code: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, method: 'HEAD', path: '/ping', agent: false, timeout: TIMEOUT_MS },
      (res) => {
        res.resume();
        resolve({ code: res.statusCode ?? 0, text: res.statusMessage ?? '' });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

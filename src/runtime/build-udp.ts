import { type Picker, shuffledRoundRobin, shuffledWeighted } from '../balancer/index.ts';
import { parseServerAddress } from '../config/dynamic/server-address.ts';
import type { UdpSectionConfig } from '../config/dynamic/tcp.ts';
import { providerOf, qualify } from '../core/qualified-name.ts';
import { serviceTree } from './service-tree.ts';
import type { UdpRoute, UdpServerRuntime, UdpServiceNode, UdpSnapshot } from './types.ts';

class UdpLoadBalancer implements UdpServiceNode {
  readonly name: string;
  readonly servers: readonly UdpServerRuntime[];
  readonly #picker: Picker;

  constructor(name: string, servers: readonly UdpServerRuntime[]) {
    this.name = name;
    this.servers = servers;
    // From a random server, as Traefik shuffles them when it builds the load balancer (udp/service.go).
    this.#picker = shuffledRoundRobin(servers.length);
  }

  pick(): UdpServerRuntime | undefined {
    const i = this.#picker.pick();
    return i < 0 ? undefined : this.servers[i];
  }
}

class UdpWeighted implements UdpServiceNode {
  readonly name: string;
  readonly #children: readonly UdpServiceNode[];
  readonly #picker: Picker;

  constructor(name: string, children: readonly UdpServiceNode[], weights: readonly number[]) {
    this.name = name;
    this.#children = children;
    this.#picker = shuffledWeighted(weights);
  }

  pick(): UdpServerRuntime | undefined {
    const i = this.#picker.pick();
    return i < 0 ? undefined : this.#children[i]!.pick();
  }
}

export interface UdpBuildContext {
  /** The UDP entry points: a router without `entryPoints` serves all of them. */
  readonly udpEntryPoints: readonly string[];
  /** Problems of one object: it is left out (see build-snapshot). */
  /** `traefik`: Traefik's words for the error, for the log (ConfigIssue.traefik). */
  readonly issue: (path: (string | number)[], message: string, traefik?: string) => void;
  readonly warn: (path: (string | number)[], message: string) => void;
}

/**
 * The UDP part of a snapshot. Traefik serves one UDP router per entry point (UDP routers have no
 * rule to choose between several): with router names sorted in descending order, the first one
 * that builds wins, and the others are reported. We keep that rule, so that a configuration
 * behaves as it does in Traefik, and say which router was left out instead of Traefik's bare
 * warning.
 */
export function buildUdp(udp: UdpSectionConfig | undefined, ctx: UdpBuildContext): UdpSnapshot {
  const routers = new Map<string, UdpRoute>();
  const byEntryPoint = new Map<string, UdpRoute>();
  const built = new Map<string, UdpServiceNode>();
  if (udp === undefined) return { entryPoint: () => null, routers, services: built };
  const services = new Map<string, UdpServiceNode | null>();
  const buildService = serviceTree<UdpSectionConfig['services'][string], UdpServiceNode>(
    udp.services,
    (qualified, svc) => {
      const servers: UdpServerRuntime[] = [];
      for (const s of svc.loadBalancer.servers) {
        const a = parseServerAddress(s.address, 'udp');
        // Traefik's BuildUDP skips such a server ("Failed to split host port"); the validation
        // warned about it (validate-l4.ts).
        if ('error' in a) continue;
        servers.push({
          address: s.address,
          host: a.host,
          port: a.port,
          service: qualified,
          unusable: a.unusable,
        });
      }
      return new UdpLoadBalancer(qualified, servers);
    },
    (qualified, kids, weights) => new UdpWeighted(qualified, kids, weights),
    services,
  );
  const udpEps = new Set(ctx.udpEntryPoints);
  const names = Object.keys(udp.routers).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  for (const name of names) {
    const r = udp.routers[name]!;
    const q = qualify(r.service, providerOf(name));
    const service = buildService(q);
    if (service === null) {
      // Traefik's BuildUDP (pkg/server/service/udp/service.go) for one that does not exist.
      const traefik = udp.services[q] === undefined ? `the UDP service "${q}" does not exist` : undefined;
      ctx.issue(['udp', 'routers', name, 'service'], `UDP service \`${r.service}\` cannot be built`, traefik);
      continue;
    }
    const route: UdpRoute = { router: name, service };
    routers.set(name, route);
    const eps = r.entryPoints ?? ctx.udpEntryPoints;
    eps.forEach((ep, i) => {
      if (!udpEps.has(ep)) {
        ctx.warn(
          ['udp', 'routers', name, 'entryPoints', i],
          `entry point \`${ep}\` is not a UDP entry point (\`address: ":port/udp"\`)`,
        );
        return;
      }
      const first = byEntryPoint.get(ep);
      if (first === undefined) byEntryPoint.set(ep, route);
      else {
        ctx.warn(
          ['udp', 'routers', name],
          `entry point \`${ep}\` is served by UDP router \`${first.router}\`: one UDP router per entry point (Traefik's rule), this one is ignored there`,
        );
      }
    });
  }
  for (const [n, node] of services) if (node !== null) built.set(n, node);
  return { entryPoint: (ep) => byEntryPoint.get(ep) ?? null, routers, services: built };
}

import { normalizeName } from './docker-config.ts';

/** FNV-1 64 (Go's hash/fnv New64) of the text's UTF-8 bytes, in decimal. */
function fnv1_64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) {
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
    h ^= BigInt(b);
  }
  return h.toString();
}

/**
 * The name of a canary's service and router (Traefik's getName in pkg/provider/nomad/config.go
 * and pkg/provider/consulcatalog/config.go): `normalize(<name>-<FNV-1 64 of its tags sorted and
 * joined>)`, so that canaries and the stable version are two services (and two routers, the
 * canary's with the rule its own tags give).
 */
export function canaryName(name: string, tags: readonly string[]): string {
  const sorted = [...tags].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return normalizeName(`${name}-${fnv1_64(sorted.join(''))}`);
}

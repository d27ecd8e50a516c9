/**
 * A router's place by its provider in the static `providers.precedence` (Traefik v3.7), for the
 * tie between routers of equal priority (lower first). As Traefik's router managers and muxers
 * (pkg/server/router providerName, pkg/muxer/http/mux.go AddRoute): the provider is what follows
 * the one `@` of the router's name, its place its index in the list (slices.Index over the list
 * reversed: the exact name, so `nomad-<namespace>` is not `nomad`, and a name listed twice ranks
 * at its last place), and a provider not listed (or a name without a provider) comes after every
 * listed one. Without a list, every router ranks the same.
 */
export function providerRank(name: string, precedence: readonly string[] | undefined): number {
  if (precedence === undefined || precedence.length === 0) return 0;
  const at = name.indexOf('@');
  const i = at === -1 || name.indexOf('@', at + 1) !== -1 ? -1 : precedence.lastIndexOf(name.slice(at + 1));
  return i === -1 ? precedence.length : i;
}

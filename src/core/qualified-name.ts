/**
 * Names across providers (Traefik's `name@provider`): a reference without `@` means an object of
 * the referring object's own provider.
 */

/**
 * The provider in which an object's references without `@` are read: the part after its name's
 * first `@`, up to the next, as Traefik's AddInContext (pkg/server/provider/provider.go) takes
 * `strings.Split(name, "@")[1]`. For `name@provider` that is the provider; for an object whose
 * own name holds `@` (`r@x`, which Traefik's aggregator names `r@x@docker`), it is `x`
 * (`''` when the name has no `@`).
 */
export function providerOf(qualified: string): string {
  const at = qualified.indexOf('@');
  if (at === -1) return '';
  const next = qualified.indexOf('@', at + 1);
  return qualified.slice(at + 1, next === -1 ? undefined : next);
}

/**
 * The provider the API shows for an object: everything after the first `@` of its qualified
 * name, as Traefik's getProviderName (pkg/api/handler.go `strings.SplitN(id, "@", 2)[1]`):
 * `r@docker` is `docker`, `r@x@docker` is `x@docker` (`''` without `@`).
 */
export function providerNameOf(qualified: string): string {
  const at = qualified.indexOf('@');
  return at === -1 ? '' : qualified.slice(at + 1);
}

/** `name` as a qualified name, taken in `provider` when it names none. */
export function qualify(name: string, provider: string): string {
  return name.includes('@') ? name : `${name}@${provider}`;
}

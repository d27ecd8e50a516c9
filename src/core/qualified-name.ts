/**
 * Names across providers (Traefik's `name@provider`): a reference without `@` means an object of
 * the referring object's own provider.
 */

/** The provider part of a qualified name (`''` when it has none). */
export function providerOf(qualified: string): string {
  const at = qualified.lastIndexOf('@');
  return at === -1 ? '' : qualified.slice(at + 1);
}

/** `name` as a qualified name, taken in `provider` when it names none. */
export function qualify(name: string, provider: string): string {
  return name.includes('@') ? name : `${name}@${provider}`;
}

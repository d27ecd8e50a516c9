/** Domain sets as the certificate manager keys them. */

/** Lowercased, without a trailing dot, duplicates dropped, order kept (the first is the subject). */
export function normalizeDomains(domains: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of domains) {
    const n = d.trim().toLowerCase().replace(/\.$/, '');
    if (n !== '' && !out.includes(n)) out.push(n);
  }
  return out;
}

/** True when a certificate for `names` is valid for `name`: a `*.` wildcard covers exactly one label (RFC 6125 §6.4.3). */
export function coversName(names: readonly string[], name: string): boolean {
  if (names.includes(name)) return true;
  const dot = name.indexOf('.');
  return dot > 0 && names.includes(`*${name.slice(dot)}`);
}

/**
 * Traefik's list parameters on the API's lists (pkg/api/criterion.go, sort.go and the handlers'
 * keepRouter / keepService / keepMiddleware): `search`, `status`, `serviceName`,
 * `middlewareName` filter; `sortBy` and `direction` order; `page` and `per_page` (default 100)
 * cut a page, and `X-Next-Page` names the next one (1 after the last). Items are the API's views
 * (admin/views.ts, l4-views.ts), read by field name.
 */

/** What a list holds: decides which filters and sort keys apply, as in Traefik. */
export type ListKind =
  | 'routers'
  | 'tcpRouters'
  | 'udpRouters'
  | 'services'
  | 'middlewares'
  | 'entrypoints'
  | 'certificates';

export type ListPage<T> =
  | { readonly ok: true; readonly items: T[]; readonly nextPage: number }
  | { readonly ok: false; readonly message: string };

const DEFAULT_PER_PAGE = 100;
const DEFAULT_PAGE = 1;

type Item = Readonly<Record<string, unknown>>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): readonly string[] => (Array.isArray(v) ? (v as string[]) : []);

/** An object's status: the views carry Traefik's (`enabled`, `warning`, `disabled`). */
const traefikStatus = (item: Item): string => str(item['status']);

/** A router's service and middlewares as its configuration writes them (not qualified). */
export interface Written {
  readonly service?: string;
  readonly middlewares: readonly string[];
}

/** Reads an item's written references; absent (or undefined for an item) = the view's own. */
export type WrittenOf = (item: object) => Written | undefined;

/**
 * Traefik's filterService (pkg/api/criterion.go), on the service as the router writes it: a
 * written name holding `@` must equal `serviceName`; one without equals `serviceName` up to its
 * first `@` (so `app@file` and `app@docker` both find a router writing `app`).
 */
function filterService(routerService: string, wanted: string): boolean {
  if (routerService.includes('@')) return routerService === wanted;
  const at = wanted.indexOf('@');
  return (at < 0 ? wanted : wanted.slice(0, at)) === routerService;
}

/**
 * Go's strconv.Atoi, then Traefik's `> 0` (getIntParam): the value, or the error Traefik words
 * with the value Atoi gave (0 for what is not a number).
 */
function positiveInt(q: URLSearchParams, key: string, fallback: number): number | string {
  const raw = q.get(key);
  if (raw === null || raw === '') return fallback;
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : 0;
  return Number.isSafeInteger(n) && n > 0 ? n : `invalid request: ${key}: ${Number.isSafeInteger(n) ? n : 0}`;
}

function keep(kind: ListKind, item: Item, q: URLSearchParams, asWritten: WrittenOf | undefined): boolean {
  const status = q.get('status') ?? '';
  // Every view carries Traefik's own status (a certificate's: enabled, warning, expired).
  const own = traefikStatus(item);
  if (status !== '' && own.toLowerCase() !== status.toLowerCase()) return false;
  const search = (q.get('search') ?? '').toLowerCase();
  if (search !== '') {
    // Traefik's keepCertificate (pkg/api/handler_certificate.go): the CN, the issuer's O and CN, the SANs.
    const fields =
      kind === 'routers' || kind === 'tcpRouters'
        ? [item['rule'], item['name']]
        : kind === 'certificates'
          ? [item['commonName'], item['issuerOrg'], item['issuerCN'], ...list(item['sans'])]
          : [item['name']];
    if (!fields.some((f) => str(f).toLowerCase().includes(search))) return false;
  }
  if (kind === 'routers' || kind === 'tcpRouters' || kind === 'udpRouters') {
    const w = asWritten?.(item);
    const service = q.get('serviceName') ?? '';
    if (service !== '' && !filterService(w === undefined ? str(item['service']) : (w.service ?? ''), service))
      return false;
    // Traefik's filterMiddleware (keepRouter, keepTCPRouter; keepUDPRouter has none): the name
    // exactly as the router writes it.
    const mw = kind === 'udpRouters' ? '' : (q.get('middlewareName') ?? '');
    if (mw !== '' && !(w === undefined ? list(item['middlewares']) : w.middlewares).includes(mw))
      return false;
  }
  return true;
}

type Key = (i: Item) => string | number | bigint;

/** Traefik's sort keys per kind of list; anything else sorts by name. */
function sortKey(kind: ListKind, sortBy: string | null): Key | undefined {
  const router = kind === 'routers' || kind === 'tcpRouters' || kind === 'udpRouters';
  if (kind === 'certificates') {
    // Traefik v3.7's sortCertificates: name (the CN), status, issuer (O, else CN), validUntil.
    switch (sortBy) {
      case 'status':
        return (i) => str(i['status']);
      case 'issuer':
        return (i) => str(i['issuerOrg']) || str(i['issuerCN']);
      case 'validUntil':
        return (i) => str(i['notAfter']);
      default:
        return (i) => str(i['commonName']);
    }
  }
  switch (sortBy) {
    case 'provider':
      return kind === 'entrypoints' ? undefined : (i) => str(i['provider']);
    case 'status':
      return kind === 'entrypoints' ? undefined : (i) => traefikStatus(i);
    case 'priority':
      // An internal router's priority is a bigint (Go's math.MaxInt and below): compared as such.
      return router
        ? (i) =>
            kind === 'udpRouters'
              ? 0
              : typeof i['priority'] === 'bigint'
                ? i['priority']
                : Number(i['priority'] ?? 0)
        : undefined;
    case 'rule':
      return router ? (i) => (kind === 'udpRouters' ? '' : str(i['rule'])) : undefined;
    case 'service':
      return router ? (i) => str(i['service']) : undefined;
    case 'entryPoints':
      return router ? (i) => list(i['entryPoints']).length : undefined;
    case 'type':
      return kind === 'services' || kind === 'middlewares' ? (i) => str(i['type']) : undefined;
    case 'servers':
      return kind === 'services' ? (i) => list(i['servers']).length : undefined;
    default:
      return undefined;
  }
}

const byName = (a: Item, b: Item): number => {
  const x = str(a['name']);
  const y = str(b['name']);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Filters, orders and cuts one page of `items` as Traefik's API does for the same query. */
export function listPage<T extends object>(
  items: readonly T[],
  kind: ListKind,
  q: URLSearchParams,
  asWritten?: WrittenOf,
): ListPage<T> {
  const kept = (
    kind === 'entrypoints' ? [...items] : items.filter((i) => keep(kind, i as Item, q, asWritten))
  ) as T[];
  // Ascending only for `asc` (the default); any other direction is descending, as in Traefik.
  // Entry points: by name, ascending, whatever the query (Traefik's getEntryPoints sort.Slice).
  const dir = kind === 'entrypoints' || (q.get('direction') ?? 'asc') === 'asc' ? 1 : -1;
  const key = sortKey(kind, q.get('sortBy'));
  kept.sort((a, b) => {
    if (key !== undefined) {
      const x = key(a as Item);
      const y = key(b as Item);
      // `<` and `>` (not `!==`): a bigint and a number of the same value are equal.
      if (x < y) return -dir;
      if (x > y) return dir;
    }
    return byName(a as Item, b as Item) * dir;
  });
  const perPage = positiveInt(q, 'per_page', DEFAULT_PER_PAGE);
  if (typeof perPage === 'string') return { ok: false, message: perPage };
  const page = positiveInt(q, 'page', DEFAULT_PAGE);
  if (typeof page === 'string') return { ok: false, message: page };
  const start = (page - 1) * perPage;
  if (start !== 0 && start >= kept.length) {
    return { ok: false, message: `invalid request: page: ${page}, per_page: ${perPage}` };
  }
  return {
    ok: true,
    items: kept.slice(start, start + perPage),
    nextPage: page * perPage < kept.length ? page + 1 : 1,
  };
}

/**
 * The ACME objects (RFC 8555 §7.1) as the client uses them, and the checks that turn a server's
 * JSON into them. A malformed object is a transport error, never a crash later on.
 */
import { type AcmeProblem, AcmeTransportError, asProblem } from './acme-errors.ts';

export interface AcmeDirectory {
  readonly newNonce: string;
  readonly newAccount: string;
  readonly newOrder: string;
  readonly revokeCert?: string;
  readonly keyChange?: string;
  readonly meta?: { readonly termsOfService?: string; readonly externalAccountRequired?: boolean };
}

export interface AcmeIdentifier {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type AuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type ChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';

export interface AcmeOrder {
  readonly url: string;
  readonly status: OrderStatus;
  readonly identifiers: readonly AcmeIdentifier[];
  readonly authorizations: readonly string[];
  readonly finalize: string;
  readonly certificate?: string;
  readonly error?: AcmeProblem;
}

export interface AcmeChallenge {
  readonly type: string;
  readonly url: string;
  readonly status: ChallengeStatus;
  readonly token: string;
  readonly error?: AcmeProblem;
}

export interface AcmeAuthorization {
  readonly url: string;
  readonly identifier: AcmeIdentifier;
  readonly status: AuthorizationStatus;
  readonly challenges: readonly AcmeChallenge[];
  readonly wildcard: boolean;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new AcmeTransportError(`malformed ACME ${what}: not an object`);
  return v as Obj;
}

function str(o: Obj, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new AcmeTransportError(`malformed ACME ${what}: "${key}" is not a string`);
  return v;
}

function optStr(o: Obj, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

function oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[], what: string): T {
  const v = str(o, key, what);
  if (!(allowed as readonly string[]).includes(v))
    throw new AcmeTransportError(`malformed ACME ${what}: unknown ${key} "${v}"`);
  return v as T;
}

function identifier(v: unknown, what: string): AcmeIdentifier {
  const o = obj(v, what);
  return { type: oneOf(o, 'type', ['dns', 'ip'], what), value: str(o, 'value', what) };
}

function withError<T extends object>(base: T, o: Obj): T & { error?: AcmeProblem } {
  const error = asProblem(o.error);
  return error === undefined ? base : { ...base, error };
}

export function parseDirectory(v: unknown): AcmeDirectory {
  const o = obj(v, 'directory');
  const meta = typeof o.meta === 'object' && o.meta !== null ? (o.meta as Obj) : undefined;
  const tos = meta === undefined ? undefined : optStr(meta, 'termsOfService');
  const revokeCert = optStr(o, 'revokeCert');
  const keyChange = optStr(o, 'keyChange');
  return {
    newNonce: str(o, 'newNonce', 'directory'),
    newAccount: str(o, 'newAccount', 'directory'),
    newOrder: str(o, 'newOrder', 'directory'),
    ...(revokeCert === undefined ? {} : { revokeCert }),
    ...(keyChange === undefined ? {} : { keyChange }),
    ...(meta === undefined
      ? {}
      : {
          meta: {
            ...(tos === undefined ? {} : { termsOfService: tos }),
            externalAccountRequired: meta.externalAccountRequired === true,
          },
        }),
  };
}

export function parseOrder(url: string, v: unknown): AcmeOrder {
  const o = obj(v, 'order');
  const ids = Array.isArray(o.identifiers) ? o.identifiers.map((i) => identifier(i, 'order')) : [];
  const authz = Array.isArray(o.authorizations) ? o.authorizations.filter((a) => typeof a === 'string') : [];
  const certificate = optStr(o, 'certificate');
  return withError(
    {
      url,
      status: oneOf(o, 'status', ['pending', 'ready', 'processing', 'valid', 'invalid'], 'order'),
      identifiers: ids,
      authorizations: authz,
      finalize: str(o, 'finalize', 'order'),
      ...(certificate === undefined ? {} : { certificate }),
    },
    o,
  );
}

export function parseChallenge(v: unknown): AcmeChallenge {
  const o = obj(v, 'challenge');
  return withError(
    {
      type: str(o, 'type', 'challenge'),
      url: str(o, 'url', 'challenge'),
      status: oneOf(o, 'status', ['pending', 'processing', 'valid', 'invalid'], 'challenge'),
      token: optStr(o, 'token') ?? '',
    },
    o,
  );
}

export function parseAuthorization(url: string, v: unknown): AcmeAuthorization {
  const o = obj(v, 'authorization');
  return {
    url,
    identifier: identifier(o.identifier, 'authorization'),
    status: oneOf(
      o,
      'status',
      ['pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked'],
      'authorization',
    ),
    challenges: Array.isArray(o.challenges) ? o.challenges.map(parseChallenge) : [],
    wildcard: o.wildcard === true,
  };
}

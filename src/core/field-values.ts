import { ProxyError } from './errors.ts';
import type { HeaderList } from './headers.ts';

/**
 * The last check of fields made at run time (a middleware, a plugin, the configuration) that
 * need it (a HeaderList marked `unsettled`) before they are written. Heads go on the wire one byte per
 * character (latin1), so what a parser hands us is safe by construction, but a string made at run
 * time may hold CR, LF or NUL, or a character past U+00FF whose low byte latin1 would keep:
 * U+010D U+010A would become CR LF and inject a field. Go (Traefik) writes a string's UTF-8
 * bytes, where no byte below 0x80 stands for anything but ASCII, and checks the rest:
 *
 * - a character past U+00FF: the value is text, not bytes, and goes out as its UTF-8 bytes;
 * - leading or trailing SP/HTAB: trimmed (Go's header writer trims, textproto.TrimString);
 * - NUL, CR or LF in a value, or a name that is not a token: for a request, the field is refused
 *   (`REQUEST`: the caller fails the request with 500 unsent, as Go's transport refuses it with
 *   httpguts.ValidHeaderFieldValue/ValidHeaderFieldName and Traefik answers 500); in an
 *   HTTP/1.1 response CR, LF and NUL become SP (`H1_RESPONSE`, Go's server replaces CR and LF
 *   with SP: headerNewlineToSpace) and a bad name drops the field; in an HTTP/2 response the
 *   field is dropped (`H2_RESPONSE`, Go's HTTP/2 server omits such a field).
 *
 * Fixed values replace the old ones in place and the list is marked checked again, so that the
 * next writer of the same list (a retry, a mirror's copy) skips it. Two regular-expression tests
 * a field, only on an unsettled list (rare: a clean value a middleware sets leaves it settled).
 */
export const REQUEST = 0;
export const H1_RESPONSE = 1;
export const H2_RESPONSE = 2;
export type FieldMode = typeof REQUEST | typeof H1_RESPONSE | typeof H2_RESPONSE;

/** Not a token character (RFC 9110 §5.6.2). */
const BAD_NAME = /[^A-Za-z0-9!#$%&'*+.^_`|~-]/;
/** Past latin1, or a byte that may not appear (NUL, LF, CR). Edges are looked at by hand. */
const SUSPECT = /[\0\n\r\u0100-\uffff]/;
const WIDE = /[\u0100-\uffff]/;
const CTL = /[\0\n\r]/;
const CTL_ALL = /[\0\n\r]/g;
const EDGES = /^[ \t]+|[ \t]+$/g;

/**
 * Checks and fixes an unsettled list (see above). Returns the name of the first refused field
 * (`REQUEST` only; the list is then left as it is), or null.
 */
export function settleFields(h: HeaderList, mode: FieldMode): string | null {
  const { names, values } = h;
  let drop = -1;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    let v = values[i]!;
    if (name.length === 0 || BAD_NAME.test(name)) {
      if (mode === REQUEST) return name;
      drop = i;
      continue;
    }
    const n = v.length;
    if (!SUSPECT.test(v) && (n === 0 || (!edge(v.charCodeAt(0)) && !edge(v.charCodeAt(n - 1))))) continue;
    if (WIDE.test(v)) v = Buffer.from(v, 'utf8').toString('latin1');
    if (CTL.test(v)) {
      if (mode === REQUEST) return name;
      if (mode === H2_RESPONSE) {
        drop = i;
        continue;
      }
      v = v.replace(CTL_ALL, ' ');
    }
    values[i] = v.replace(EDGES, '');
  }
  if (drop >= 0) dropInvalid(h);
  h.unsettled = false;
  return null;
}

function edge(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Removes the fields settleFields would drop (rare: a second pass keeps the first one simple). */
function dropInvalid(h: HeaderList): void {
  const { names, lnames, values } = h;
  let w = 0;
  for (let r = 0; r < names.length; r++) {
    const name = names[r]!;
    if (name.length === 0 || BAD_NAME.test(name) || CTL.test(values[r]!)) continue;
    names[w] = name;
    lnames[w] = lnames[r]!;
    values[w] = values[r]!;
    w++;
  }
  names.length = w;
  lnames.length = w;
  values.length = w;
}

/**
 * A request field no server may receive: 500 (INTERNAL), as Traefik answers when Go's transport
 * refuses a field. The value stays out of the message: it may be a credential.
 */
export function invalidRequestField(name: string): ProxyError {
  const shown = /^[\x21-\x7e]{1,64}$/.test(name) ? name : JSON.stringify(name.slice(0, 64));
  return new ProxyError('INTERNAL', `invalid request field ${shown}: not sent to the upstream`);
}

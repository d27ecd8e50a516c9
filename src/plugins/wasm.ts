import { randomFillSync } from 'node:crypto';
import { type BigIntStats, readFileSync } from 'node:fs';
import type { Plugin, Middleware as PluginMiddleware } from '../../types/plugin.d.ts';
import { HeaderList } from '../core/headers.ts';
import type { Logger } from '../core/logger.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { withQuery } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { BodyFilter, BodyOutput, RequestControl } from '../middleware/middleware.ts';
import { errorText } from './options.ts';
import { E, errnoOf, fdstatOf, filetype, type Mount, type OpenFile, parseMounts, WasiFs } from './wasi-fs.ts';

/*
 * Traefik's WebAssembly middleware plugins (pkg/plugins/middlewarewasm.go), run through the
 * http-wasm handler ABI as github.com/http-wasm/http-wasm-host-go (handler/middleware.go) hosts
 * it: the guest imports the "http_handler" host module and exports `handle_request` () -> i64
 * and `handle_response` (i32, i32) -> (), and `memory`. The module is compiled once per plugin
 * version; each middleware (each configuration build) instantiates a guest eagerly (its start
 * function runs then, as NewMiddleware does) and keeps idle guests in a pool. Host calls are
 * synchronous, so a call borrows a guest and gives it back before anything else runs: as in
 * http-wasm-host-go, handle_request and handle_response may see different guests, and the
 * request's state (features, reqCtx) lives on the host.
 */

/** http-wasm feature bits (api/handler/features.go). */
export const FEATURE_BUFFER_REQUEST = 1;
export const FEATURE_BUFFER_RESPONSE = 2;
export const FEATURE_TRAILERS = 4;

/** buffer_request reads with no limit: this answer is never given. */
const NO_LIMIT_ANSWER: DirectResponse = { status: 413, body: statusText(413) };
const KIND_REQUEST = 0;
const KIND_RESPONSE = 1;

// RFC 9110 §5.1 field-name = token; field values never hold CR, LF or NUL.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
const BAD_TARGET = /[\0-\x20\x7f#]/;

/*
 * The WebAssembly JavaScript API, typed here: the project's lib has no DOM, and @types/node does
 * not declare it.
 */
interface WasmCompiled {
  readonly __wasmModule?: never;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmCompiled>;
  readonly Module: {
    exports(m: WasmCompiled): { name: string; kind: string }[];
    imports(m: WasmCompiled): { module: string; name: string; kind: string }[];
  };
  readonly Instance: new (
    m: WasmCompiled,
    imports: Record<string, Record<string, unknown>>,
  ) => { readonly exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A guest trapped (a host function refused a call, or the guest's own `unreachable`). */
export class WasmTrap extends Error {
  override name = 'WasmTrap';
}

class WasiExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`proc_exit(${code})`);
    this.code = code;
  }
}

/** The http_handler functions this host provides (https://http-wasm.io/http-handler-abi/). */
export const HOST_FUNCTIONS = [
  'enable_features',
  'get_config',
  'log_enabled',
  'log',
  'get_method',
  'set_method',
  'get_uri',
  'set_uri',
  'get_protocol_version',
  'get_source_addr',
  'get_header_names',
  'get_header_values',
  'set_header_value',
  'add_header_value',
  'remove_header',
  'read_body',
  'write_body',
  'get_status_code',
  'set_status_code',
] as const;

/** A compiled guest, checked as http-wasm-host-go's compileGuest checks it. */
export interface WasmModule {
  readonly file: string;
  readonly module: WasmCompiled;
}

/** Compiles `file` and checks its exports and imports; a string says what is wrong. */
export async function compileWasm(file: string): Promise<WasmModule | string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return `loading Wasm binary: ${errorText(e)}`;
  }
  let module: WasmCompiled;
  try {
    module = await WA.compile(bytes);
  } catch (e) {
    return `compiling guest module: ${errorText(e)}`;
  }
  const exports = new Map(WA.Module.exports(module).map((e) => [e.name, e.kind]));
  for (const f of ['handle_request', 'handle_response']) {
    if (exports.get(f) !== 'function') return `guest doesn't export func[${f}]`;
  }
  if (exports.get('memory') !== 'memory') return "guest doesn't export memory[memory]";
  for (const i of WA.Module.imports(module)) {
    if (i.module === 'http_handler') {
      if (i.kind !== 'function' || !(HOST_FUNCTIONS as readonly string[]).includes(i.name)) {
        return `guest imports http_handler.${i.name}, which this host does not provide`;
      }
    } else if (i.module !== 'wasi_snapshot_preview1' || i.kind !== 'function') {
      return `guest imports ${i.module}.${i.name}: only http_handler and wasi_snapshot_preview1 are provided`;
    }
  }
  return { file, module };
}

/** The guest's own answer (it did not call next), or the upstream's response head. */
interface Answer {
  status: number;
  readonly headers: HeaderList;
}

/** One request's host-side state (http-wasm-host-go's requestState). */
class RequestState {
  readonly req: RequestHead;
  features: number;
  /** handle_response runs: the request is gone, the response is the upstream's. */
  afterNext = false;
  reqCtx = 0;
  /** Before next: the guest's own answer, made on first use. After: the response head. */
  res: Answer | null = null;
  /** Bytes the guest wrote as the response body (its answer's, or the replacement). */
  resOut: Buffer[] | null = null;
  /** The buffered bodies, and how far the guest read them. */
  reqBody: Buffer | null;
  reqPos = 0;
  resBody: Buffer | null = null;
  resPos = 0;
  /** The response has a body to buffer (handle_response waits for it). */
  awaitBody = false;
  /** Response fields the guest set in handle_request before it called next. */
  early: HeaderList | null = null;

  constructor(req: RequestHead, features: number, reqBody: Buffer | null) {
    this.req = req;
    this.features = features;
    this.reqBody = reqBody;
  }
}

interface Guest {
  readonly memory: WasmMemory;
  readonly handleRequest: () => bigint;
  readonly handleResponse: (reqCtx: number, isError: number) => void;
  /** The request of the call in progress (null during the start function). */
  state: RequestState | null;
  /** Its open files (settings.mounts), or null without mounts. */
  readonly fs: WasiFs | null;
}

/** What a guest's host functions need of its middleware. */
interface Host {
  readonly config: Buffer;
  /** The guest's environment: `NAME=value` each. */
  readonly environ: readonly Buffer[];
  /** `settings.mounts`: the directories the guest sees as WASI preopens. */
  readonly mounts: readonly Mount[];
  readonly logger: Logger;
  features: number;
}

/**
 * The plugin of a WebAssembly module: the options (any object) go to the guest as JSON through
 * get_config, as Traefik marshals the middleware's configuration (middlewarewasm.go
 * buildMiddleware, handler.GuestConfig).
 */
export function wasmPlugin(
  wasm: WasmModule,
  envs: readonly string[] = [],
  mounts: readonly string[] = [],
): Plugin<unknown> {
  return {
    schema: {
      '~standard': {
        version: 1,
        vendor: 'traffic-wasm',
        validate: (v: unknown) =>
          v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v))
            ? { value: v ?? {} }
            : { issues: [{ message: 'the options of a WebAssembly plugin must be a mapping' }] },
      },
    },
    create(options, ctx) {
      let m: WasmMiddleware;
      // As buildMiddleware: the mounts are read as each middleware is built.
      const dirs = parseMounts(mounts);
      if (typeof dirs === 'string') return { error: `building Wasm middleware: ${dirs}` };
      try {
        // The factory's logger is the proxy's (a child with the plugin's names).
        m = new WasmMiddleware(
          wasm,
          Buffer.from(JSON.stringify(options)),
          ctx.logger as Logger,
          environOf(envs),
          dirs,
        );
      } catch (e) {
        return { error: `building Wasm middleware: ${errorText(e)}` };
      }
      return m.middleware() as unknown as PluginMiddleware;
    },
  };
}

/**
 * `settings.envs` as the guest's environment: `NAME=value`, the value read now (empty when
 * unset), as Traefik's module config does (`config.WithEnv(env, os.Getenv(env))`).
 */
export function environOf(envs: readonly string[]): readonly Buffer[] {
  return envs.map((e) => Buffer.from(`${e}=${process.env[e] ?? ''}`));
}

/** One `plugin` middleware of a WebAssembly plugin. */
export class WasmMiddleware implements Host {
  readonly #wasm: WasmModule;
  readonly config: Buffer;
  readonly logger: Logger;
  /** Features the guest enabled while it started (for every request). */
  features = 0;
  readonly #idle: Guest[] = [];
  /** Requests that went on (next): handle_response is due. */
  readonly #pending = new WeakMap<RequestHead, RequestState>();

  readonly environ: readonly Buffer[];
  readonly mounts: readonly Mount[];

  constructor(
    wasm: WasmModule,
    config: Buffer,
    logger: Logger,
    environ: readonly Buffer[] = [],
    mounts: readonly Mount[] = [],
  ) {
    this.#wasm = wasm;
    this.config = config;
    this.logger = logger;
    this.environ = environ;
    this.mounts = mounts;
    // As NewMiddleware: the first guest now, so that a guest failing to start fails the build.
    this.#idle.push(this.#newGuest());
  }

  get idleGuests(): number {
    return this.#idle.length;
  }

  #newGuest(): Guest {
    const g = instantiate(this.#wasm.module, this);
    return g;
  }

  /** Borrows a guest for one call; a guest that trapped is dropped (its memory may be corrupt). */
  #call<T>(state: RequestState, f: (g: Guest) => T): T {
    const g = this.#idle.pop() ?? this.#newGuest();
    g.state = state;
    let r: T;
    try {
      r = f(g);
    } catch (e) {
      g.state = null;
      g.fs?.closeAll();
      throw e instanceof WasiExit ? new WasmTrap(`guest exited: ${e.message}`) : e;
    }
    g.state = null;
    this.#idle.push(g);
    return r;
  }

  middleware(): {
    onRequest: (req: RequestHead, ctl: RequestControl) => DirectResponse | undefined | Promise<unknown>;
    onResponse: (req: RequestHead, res: ResponseHead) => void;
    onResponseBody: (req: RequestHead, res: ResponseHead) => BodyFilter | null;
  } {
    return {
      onRequest: (req, ctl) => this.onRequest(req, ctl),
      onResponse: (req, res) => this.onResponse(req, res),
      onResponseBody: (req, res) => this.onResponseBody(req, res),
    };
  }

  onRequest(req: RequestHead, ctl: RequestControl): DirectResponse | undefined | Promise<unknown> {
    // buffer_request enabled at start: the body is read first (the server gets the same bytes).
    if ((this.features & FEATURE_BUFFER_REQUEST) !== 0 && ctl.readBody !== undefined && mayHaveBody(req)) {
      const read = ctl.readBody.bind(ctl);
      return new Promise<DirectResponse | undefined>((resolve, reject) => {
        read(-1, NO_LIMIT_ANSWER, (body) => {
          try {
            resolve(this.#handleRequest(new RequestState(req, this.features, body)));
          } catch (e) {
            reject(e);
          }
        });
      });
    }
    return this.#handleRequest(new RequestState(req, this.features, null));
  }

  #handleRequest(st: RequestState): DirectResponse | undefined {
    const ctxNext = this.#call(st, (g) => g.handleRequest());
    if ((ctxNext & 1n) === 0n) {
      // The guest answered: its status (200 unless set), headers and body (handler/nethttp).
      const res = st.res;
      const body = st.resOut === null ? '' : Buffer.concat(st.resOut).toString();
      return res === null
        ? { status: 200, body }
        : { status: res.status, headers: [...res.headers.entries()], body };
    }
    st.reqCtx = Number((ctxNext >> 32n) & 0xffffffffn);
    st.afterNext = true;
    // Response fields set before next go out with the response (net/http: the same
    // w.Header() the next handler's fields are added to).
    if (st.res !== null && st.res.headers.size > 0) st.early = st.res.headers;
    st.res = null;
    st.resOut = null;
    this.#pending.set(st.req, st);
    return undefined;
  }

  onResponse(req: RequestHead, res: ResponseHead): void {
    const st = this.#pending.get(req);
    if (st === undefined) return;
    st.res = res;
    if (st.early !== null) {
      for (const [n, v] of st.early.entries()) res.headers.append(n, v);
      st.early = null;
    }
    const status = res.status;
    // With buffer_response, handle_response runs once the body is in (onResponseBody); a head
    // that frames no body (RFC 9112 §6.3) gets it now.
    if (
      (st.features & FEATURE_BUFFER_RESPONSE) !== 0 &&
      req.method !== 'HEAD' &&
      status >= 200 &&
      status !== 204 &&
      status !== 304
    ) {
      st.awaitBody = true;
      return;
    }
    this.#pending.delete(req);
    st.resBody = EMPTY;
    this.#handleResponse(st);
  }

  #handleResponse(st: RequestState): void {
    this.#call(st, (g) => g.handleResponse(st.reqCtx, 0));
  }

  onResponseBody(req: RequestHead, res: ResponseHead): BodyFilter | null {
    const st = this.#pending.get(req);
    if (st === undefined || !st.awaitBody) return null;
    this.#pending.delete(req);
    st.res = res;
    return new BufferedResponse(st, (s) => this.#handleResponse(s));
  }
}

const EMPTY = Buffer.alloc(0);

function mayHaveBody(req: RequestHead): boolean {
  const cl = req.headers.get('content-length');
  return (cl !== undefined && cl !== '0') || req.headers.has('transfer-encoding');
}

/** buffer_response: the whole body, then handle_response, then the (possibly new) body. */
class BufferedResponse implements BodyFilter {
  readonly #st: RequestState;
  readonly #run: (st: RequestState) => void;
  readonly #chunks: Buffer[] = [];
  #out: BodyOutput | null = null;

  constructor(st: RequestState, run: (st: RequestState) => void) {
    this.#st = st;
    this.#run = run;
  }

  start(out: BodyOutput): void {
    this.#out = out;
  }

  write(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    return true;
  }

  end(): void {
    const st = this.#st;
    st.resBody = Buffer.concat(this.#chunks);
    this.#chunks.length = 0;
    this.#run(st);
    const body = st.resOut === null ? st.resBody : Buffer.concat(st.resOut);
    const out = this.#out!;
    out.length(body.length);
    if (body.length > 0) out.push(body);
    out.end();
  }

  destroy(): void {
    this.#chunks.length = 0;
    this.#out = null;
  }
}

// ---- the guest's imports

function instantiate(module: WasmCompiled, host: Host): Guest {
  const g = {
    memory: null as unknown as WasmMemory,
    handleRequest: null as unknown as () => bigint,
    handleResponse: null as unknown as (reqCtx: number, isError: number) => void,
    state: null as RequestState | null,
    fs: host.mounts.length > 0 ? new WasiFs(host.mounts) : null,
  };
  const imports: Record<string, Record<string, unknown>> = {
    http_handler: httpHandler(g, host),
    wasi_snapshot_preview1: wasi(g, module, host.environ),
  };
  const instance = new WA.Instance(module, imports);
  const ex = instance.exports as Record<string, unknown>;
  g.memory = ex['memory'] as WasmMemory;
  g.handleRequest = ex['handle_request'] as () => bigint;
  g.handleResponse = ex['handle_response'] as (reqCtx: number, isError: number) => void;
  // wazero's ModuleConfig WithStartFunctions("_start", "_initialize"), as Traefik sets it.
  for (const start of ['_start', '_initialize']) {
    const f = ex[start];
    if (typeof f !== 'function') continue;
    try {
      (f as () => void)();
    } catch (e) {
      if (!(e instanceof WasiExit && e.code === 0)) {
        g.fs?.closeAll();
        throw e;
      }
    }
  }
  return g;
}

type Fn = (...args: never[]) => unknown;

function trap(msg: string): never {
  throw new WasmTrap(msg);
}

/**
 * WASI's scatter/gather: `io` over each non-empty buffer of the iovec array (`{ptr, len}` pairs
 * of u32), stopping at a short transfer. The bytes moved, or −errno when `io` fails.
 */
function eachIovec(g: Guest, d: DataView, iovs: number, iovsLen: number, io: (b: Buffer) => number): number {
  let n = 0;
  for (let i = 0; i < iovsLen; i++) {
    const len = d.getUint32(iovs + i * 8 + 4, true);
    if (len === 0) continue;
    const r = io(view(g, d.getUint32(iovs + i * 8, true), len));
    if (r < 0) return r;
    n += r;
    if (r < len) break;
  }
  return n;
}

function view(g: Guest, ptr: number, len: number): Buffer {
  const buf = g.memory.buffer;
  if (ptr < 0 || len < 0 || ptr + len > buf.byteLength) trap(`out of memory reading ${len} bytes at ${ptr}`);
  return Buffer.from(buf, ptr, len);
}

function readString(g: Guest, ptr: number, len: number): string {
  return len === 0 ? '' : view(g, ptr >>> 0, len >>> 0).toString();
}

/** writeIfUnderLimit: the length always, the bytes only when they fit. */
function writeIfUnderLimit(g: Guest, buf: number, limit: number, v: Buffer): number {
  const n = v.length;
  if (n === 0 || n > limit >>> 0) return n;
  v.copy(view(g, buf >>> 0, n));
  return n;
}

/** writeNULTerminated: count << 32 | byte length (each value and its NUL); bytes when they fit. */
function writeNulTerminated(g: Guest, buf: number, limit: number, values: readonly string[]): bigint {
  if (values.length === 0) return 0n;
  const parts = values.map((v) => Buffer.from(v));
  let len = parts.length;
  for (const p of parts) len += p.length;
  if (len <= limit >>> 0) {
    const out = view(g, buf >>> 0, len);
    let at = 0;
    for (const p of parts) {
      p.copy(out, at);
      at += p.length;
      out[at++] = 0;
    }
  }
  return (BigInt(parts.length) << 32n) | BigInt(len);
}

function stateOf(g: Guest, fn: string): RequestState {
  return g.state ?? trap(`${fn} called outside a request`);
}

/** mustBeforeNext */
function beforeNext(g: Guest, op: string, what: string): RequestState {
  const s = stateOf(g, op);
  if (s.afterNext) trap(`can't ${op} ${what} after next handler`);
  return s;
}

/** mustBeforeNextOrFeature */
function beforeNextOr(g: Guest, feature: number, op: string, what: string): RequestState {
  const s = stateOf(g, op);
  if (s.afterNext && (s.features & feature) === 0) {
    trap(
      `can't ${op} ${what} after next handler unless ${feature === FEATURE_BUFFER_RESPONSE ? 'buffer_response' : 'buffer_request'} is enabled`,
    );
  }
  return s;
}

/** The header list of `kind` (0 request, 1 response; trailers: none here, FeatureTrailers off). */
function headersOf(s: RequestState, kind: number, fn: string): HeaderList | null {
  if (kind === KIND_REQUEST) return s.req.headers;
  if (kind === KIND_RESPONSE) {
    if (s.res === null) s.res = { status: 200, headers: new HeaderList() };
    return s.res.headers;
  }
  if (kind === 2 || kind === 3) return null;
  return trap(`${fn}: unsupported header kind: ${kind}`);
}

function mutableHeaders(g: Guest, kind: number, op: string): HeaderList {
  const s = stateOf(g, op);
  if (kind === 2 || kind === 3) trap(`can't ${op} a trailer: trailers are not supported`);
  if (kind === KIND_REQUEST) beforeNext(g, op, 'request header');
  else if (kind === KIND_RESPONSE) beforeNextOr(g, FEATURE_BUFFER_RESPONSE, op, 'response header');
  return headersOf(s, kind, op)!;
}

function checkField(name: string, value: string): void {
  if (!TOKEN.test(name)) trap(`invalid header name ${JSON.stringify(name)}`);
  if (BAD_VALUE.test(value)) trap(`header ${name} has a CR, LF or NUL in its value`);
}

function httpHandler(g: Guest, host: Host): Record<string, Fn> {
  /** set_header_value and add_header_value: the same checks, then replace or append. */
  const writeHeader = (
    op: 'set' | 'add',
    kind: number,
    name: number,
    nameLen: number,
    value: number,
    valueLen: number,
  ): void => {
    if (nameLen === 0) trap('HTTP header name cannot be empty');
    const h = mutableHeaders(g, kind, op);
    const n = readString(g, name, nameLen);
    const v = readString(g, value, valueLen);
    checkField(n, v);
    if (op === 'set') h.set(n, v);
    else h.append(n, v);
  };
  return {
    enable_features(features: number): number {
      // No trailers here: a host without them returns 0 for that bit (features.go).
      const f = (features >>> 0) & (FEATURE_BUFFER_REQUEST | FEATURE_BUFFER_RESPONSE);
      const s = g.state;
      if (s !== null) {
        s.features |= f;
        return s.features;
      }
      host.features |= f;
      return host.features;
    },
    get_config(buf: number, limit: number): number {
      return writeIfUnderLimit(g, buf, limit, host.config);
    },
    log_enabled(level: number): number {
      const l = logLevel(level);
      return l !== null && host.logger.enabled(l) ? 1 : 0;
    },
    log(level: number, msg: number, len: number): void {
      const l = logLevel(level);
      if (l === null || !host.logger.enabled(l)) return;
      host.logger[l](readString(g, msg, len));
    },
    get_method(buf: number, limit: number): number {
      return writeIfUnderLimit(g, buf, limit, Buffer.from(stateOf(g, 'get_method').req.method));
    },
    set_method(ptr: number, len: number): void {
      const s = beforeNext(g, 'set', 'method');
      if (len === 0) trap('HTTP method cannot be empty');
      const m = readString(g, ptr, len);
      if (!TOKEN.test(m)) trap(`invalid method ${JSON.stringify(m)}`);
      (s.req as { method: string }).method = m;
    },
    get_uri(buf: number, limit: number): number {
      const r = stateOf(g, 'get_uri').req;
      return writeIfUnderLimit(g, buf, limit, Buffer.from(withQuery(r.path, r.query)));
    },
    set_uri(ptr: number, len: number): void {
      const s = beforeNext(g, 'set', 'uri');
      const uri = readString(g, ptr, len);
      const q = uri.indexOf('?');
      const path = q < 0 ? uri : uri.slice(0, q);
      const query = q < 0 ? '' : uri.slice(q + 1);
      // An empty path is "/" (net/http's RequestURI of an empty URL path).
      const p = path === '' ? '/' : path;
      if (p[0] !== '/' || BAD_TARGET.test(p) || BAD_TARGET.test(query)) {
        trap(
          `invalid uri ${JSON.stringify(uri)} (it must start with / and hold no space, control character or #)`,
        );
      }
      s.req.path = p;
      s.req.query = query;
    },
    get_protocol_version(buf: number, limit: number): number {
      stateOf(g, 'get_protocol_version');
      return writeIfUnderLimit(g, buf, limit, HTTP11);
    },
    get_source_addr(buf: number, limit: number): number {
      const ip = stateOf(g, 'get_source_addr').req.clientIp;
      return writeIfUnderLimit(g, buf, limit, Buffer.from(ip.includes(':') ? `[${ip}]:0` : `${ip}:0`));
    },
    get_header_names(kind: number, buf: number, limit: number): bigint {
      const h = headersOf(stateOf(g, 'get_header_names'), kind, 'get_header_names');
      if (h === null) return 0n;
      // One name per field name, lowercased (the ABI; net/http's map has one key per name),
      // sorted as http-wasm-host-go's nethttp host sorts the request's.
      const seen = new Set<string>();
      for (const [name] of h.entries()) seen.add(name.toLowerCase());
      return writeNulTerminated(g, buf, limit, [...seen].sort());
    },
    get_header_values(kind: number, name: number, nameLen: number, buf: number, limit: number): bigint {
      if (nameLen === 0) trap('HTTP header name cannot be empty');
      const h = headersOf(stateOf(g, 'get_header_values'), kind, 'get_header_values');
      if (h === null) return 0n;
      return writeNulTerminated(g, buf, limit, h.getAll(readString(g, name, nameLen).toLowerCase()));
    },
    set_header_value(kind: number, name: number, nameLen: number, value: number, valueLen: number): void {
      writeHeader('set', kind, name, nameLen, value, valueLen);
    },
    add_header_value(kind: number, name: number, nameLen: number, value: number, valueLen: number): void {
      writeHeader('add', kind, name, nameLen, value, valueLen);
    },
    remove_header(kind: number, name: number, nameLen: number): void {
      if (nameLen === 0) trap('HTTP header name cannot be empty');
      const h = mutableHeaders(g, kind, 'remove');
      h.delete(readString(g, name, nameLen).toLowerCase());
    },
    read_body(kind: number, buf: number, limit: number): bigint {
      // buf_limit 0 serves no purpose as implementations won't return EOF on it.
      if (limit === 0) trap('buf_limit==0 reading body');
      let body: Buffer;
      let pos: number;
      const s = stateOf(g, 'read_body');
      if (kind === KIND_REQUEST) {
        beforeNextOr(g, FEATURE_BUFFER_REQUEST, 'read', 'request body');
        if (s.reqBody === null) {
          if (mayHaveBody(s.req)) {
            trap(
              'reading the request body needs buffer_request enabled when the guest starts (enable_features in main)',
            );
          }
          s.reqBody = EMPTY;
        }
        body = s.reqBody;
        pos = s.reqPos;
      } else if (kind === KIND_RESPONSE) {
        beforeNextOr(g, FEATURE_BUFFER_RESPONSE, 'read', 'response body');
        // Before next, the guest's own answer has no body to read yet.
        body = s.afterNext ? (s.resBody ?? EMPTY) : EMPTY;
        pos = s.resPos;
      } else {
        return trap(`unsupported body kind: ${kind}`);
      }
      const n = Math.min(limit >>> 0, body.length - pos);
      if (n > 0) body.copy(view(g, buf >>> 0, n), 0, pos, pos + n);
      pos += n;
      if (kind === KIND_REQUEST) s.reqPos = pos;
      else s.resPos = pos;
      // EOF (bit 32) once everything was read, with the bytes of this call (readBody).
      return pos >= body.length ? (1n << 32n) | BigInt(n) : BigInt(n);
    },
    write_body(kind: number, buf: number, len: number): void {
      const s = stateOf(g, 'write_body');
      if (kind === KIND_REQUEST) {
        beforeNext(g, 'write', 'request body');
        trap('write_body of the request body is not supported here');
      } else if (kind === KIND_RESPONSE) {
        beforeNextOr(g, FEATURE_BUFFER_RESPONSE, 'write', 'response body');
        // The first write replaces the body, later ones append (nethttp's body writer).
        const chunk = len === 0 ? EMPTY : Buffer.from(view(g, buf >>> 0, len >>> 0));
        if (s.resOut === null) s.resOut = [];
        s.resOut.push(chunk);
      } else {
        trap(`unsupported body kind: ${kind}`);
      }
    },
    get_status_code(): number {
      const s = beforeNextOr(g, FEATURE_BUFFER_RESPONSE, 'get', 'status code');
      return s.res?.status ?? 200;
    },
    set_status_code(code: number): void {
      const s = beforeNextOr(g, FEATURE_BUFFER_RESPONSE, 'set', 'status code');
      if (!Number.isInteger(code) || code < 200 || code > 599) trap(`invalid status code ${code} (200-599)`);
      if (s.res === null) s.res = { status: code, headers: new HeaderList() };
      else {
        s.res.status = code;
        if (s.afterNext) (s.res as ResponseHead).reason = statusText(code);
      }
    },
  };
}

const HTTP11 = Buffer.from('HTTP/1.1');

/** http-wasm's log levels (api.LogLevel): -1 debug, 0 info, 1 warn, 2 error, 3 none. */
function logLevel(level: number): 'debug' | 'info' | 'warn' | 'error' | null {
  switch (level) {
    case -1:
      return 'debug';
    case 0:
      return 'info';
    case 1:
      return 'warn';
    case 2:
      return 'error';
    default:
      return null;
  }
}

// ---- WASI preview1: the little a guest's runtime calls, as wazero's defaults answer it (no
// arguments; stdout and stderr discarded, as Traefik's module config has none), the environment
// variables of `settings.envs`, and the directories of `settings.mounts` (wasi-fs.ts) as
// preopens from fd 3.

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_NOSYS = 52;

function wasi(g: Guest, module: WasmCompiled, environ: readonly Buffer[]): Record<string, Fn> {
  const dv = () => new DataView(g.memory.buffer);
  const fs = g.fs;
  const fileOf = (fd: number): OpenFile | undefined => {
    const o = fs?.get(fd);
    return o?.kind === 'file' ? o : undefined;
  };
  /** WASI's filestat (64 bytes): dev, ino, filetype, nlink, size, atim, mtim, ctim. */
  const writeFilestat = (out: number, st: BigIntStats): void => {
    const d = dv();
    view(g, out >>> 0, 64).fill(0);
    d.setBigUint64(out, st.dev, true);
    d.setBigUint64(out + 8, st.ino, true);
    d.setUint8(out + 16, filetype(st));
    d.setBigUint64(out + 24, st.nlink, true);
    d.setBigUint64(out + 32, st.size, true);
    d.setBigUint64(out + 40, st.atimeNs, true);
    d.setBigUint64(out + 48, st.mtimeNs, true);
    d.setBigUint64(out + 56, st.ctimeNs, true);
  };
  const known: Record<string, Fn> = {
    args_sizes_get(argc: number, size: number): number {
      dv().setUint32(argc, 0, true);
      dv().setUint32(size, 0, true);
      return ERRNO_SUCCESS;
    },
    args_get: (): number => ERRNO_SUCCESS,
    environ_sizes_get(count: number, size: number): number {
      let n = 0;
      for (const e of environ) n += e.length + 1;
      dv().setUint32(count, environ.length, true);
      dv().setUint32(size, n, true);
      return ERRNO_SUCCESS;
    },
    environ_get(ptrs: number, buf: number): number {
      // Each entry NUL-terminated in `buf`, its address in `ptrs` (WASI preview1).
      let at = buf >>> 0;
      environ.forEach((e, i) => {
        dv().setUint32(ptrs + i * 4, at, true);
        const out = view(g, at, e.length + 1);
        e.copy(out);
        out[e.length] = 0;
        at += e.length + 1;
      });
      return ERRNO_SUCCESS;
    },
    clock_res_get(_id: number, out: number): number {
      dv().setBigUint64(out, 1000n, true);
      return ERRNO_SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, out: number): number {
      if (id === 0) dv().setBigUint64(out, BigInt(Date.now()) * 1_000_000n, true);
      else if (id === 1) dv().setBigUint64(out, process.hrtime.bigint(), true);
      else return ERRNO_INVAL;
      return ERRNO_SUCCESS;
    },
    random_get(buf: number, len: number): number {
      randomFillSync(view(g, buf >>> 0, len >>> 0));
      return ERRNO_SUCCESS;
    },
    fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
      const d = dv();
      const f = fileOf(fd);
      if (f === undefined) {
        if (fd !== 1 && fd !== 2) return ERRNO_BADF;
        let n = 0;
        for (let i = 0; i < iovsLen; i++) n += d.getUint32(iovs + i * 8 + 4, true);
        d.setUint32(nwritten, n, true);
        return ERRNO_SUCCESS;
      }
      const n = eachIovec(g, d, iovs, iovsLen, (b) => fs!.write(f, b));
      if (n < 0) return -n;
      dv().setUint32(nwritten, n, true);
      return ERRNO_SUCCESS;
    },
    fd_read(fd: number, iovs: number, iovsLen: number, nread: number): number {
      const f = fileOf(fd);
      if (f === undefined) {
        if (fd !== 0) return fs?.get(fd)?.kind === 'dir' ? E.ISDIR : ERRNO_BADF;
        dv().setUint32(nread, 0, true);
        return ERRNO_SUCCESS;
      }
      const n = eachIovec(g, dv(), iovs, iovsLen, (b) => fs!.read(f, b));
      if (n < 0) return -n;
      dv().setUint32(nread, n, true);
      return ERRNO_SUCCESS;
    },
    fd_fdstat_get(fd: number, out: number): number {
      const o = fs?.get(fd);
      if (o === undefined && fd > 2) return ERRNO_BADF;
      view(g, out >>> 0, 24).fill(0);
      if (o === undefined) {
        dv().setUint8(out, 2); // character_device
        return ERRNO_SUCCESS;
      }
      const st = fdstatOf(o);
      const d = dv();
      d.setUint8(out, st.type);
      d.setUint16(out + 2, st.flags, true);
      d.setBigUint64(out + 8, st.rights, true);
      d.setBigUint64(out + 16, st.rights, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_get(fd: number, out: number): number {
      const name = fs?.prestat(fd) ?? null;
      if (name === null) return ERRNO_BADF;
      dv().setUint32(out, 0, true); // preopentype dir
      dv().setUint32(out + 4, name.length, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_dir_name(fd: number, buf: number, len: number): number {
      const name = fs?.prestat(fd) ?? null;
      if (name === null) return ERRNO_BADF;
      if (len >>> 0 < name.length) return E.NAMETOOLONG;
      name.copy(view(g, buf >>> 0, name.length));
      return ERRNO_SUCCESS;
    },
    path_open(
      dirFd: number,
      lookup: number,
      path: number,
      pathLen: number,
      oflags: number,
      rights: bigint,
      _inheriting: bigint,
      fdflags: number,
      out: number,
    ): number {
      if (fs === null) return ERRNO_BADF;
      const r = fs.open(
        dirFd,
        lookup,
        readString(g, path, pathLen),
        oflags,
        BigInt.asUintN(64, rights),
        fdflags,
      );
      if (r < 0) return -r;
      dv().setUint32(out, r, true);
      return ERRNO_SUCCESS;
    },
    fd_close(fd: number): number {
      return fs === null ? ERRNO_BADF : fs.close(fd);
    },
    fd_seek(fd: number, offset: bigint, whence: number, out: number): number {
      const f = fileOf(fd);
      if (f === undefined) return fs?.get(fd)?.kind === 'dir' ? E.ISDIR : ERRNO_BADF;
      const r = fs!.seek(f, offset, whence);
      if (r < 0) return -r;
      dv().setBigUint64(out, BigInt(r), true);
      return ERRNO_SUCCESS;
    },
    fd_tell(fd: number, out: number): number {
      const f = fileOf(fd);
      if (f === undefined) return fs?.get(fd)?.kind === 'dir' ? E.ISDIR : ERRNO_BADF;
      dv().setBigUint64(out, BigInt(f.pos), true);
      return ERRNO_SUCCESS;
    },
    fd_filestat_get(fd: number, out: number): number {
      const o = fs?.get(fd);
      if (o === undefined) return ERRNO_BADF;
      let st: BigIntStats;
      try {
        st = fs!.stat(o);
      } catch (e) {
        return errnoOf(e);
      }
      writeFilestat(out, st);
      return ERRNO_SUCCESS;
    },
    path_filestat_get(dirFd: number, lookup: number, path: number, pathLen: number, out: number): number {
      if (fs === null) return ERRNO_BADF;
      const st = fs.pathStat(dirFd, lookup, readString(g, path, pathLen));
      if (typeof st === 'number') return st;
      writeFilestat(out, st);
      return ERRNO_SUCCESS;
    },
    fd_readdir(fd: number, buf: number, bufLen: number, cookie: bigint, used: number): number {
      const o = fs?.get(fd);
      if (o === undefined) return ERRNO_BADF;
      if (o.kind !== 'dir') return E.NOTDIR;
      let list: ReturnType<WasiFs['entries']>;
      try {
        list = fs!.entries(o);
      } catch (e) {
        return errnoOf(e);
      }
      // Each dirent (24 bytes: d_next, d_ino, d_namlen, d_type) then its name; the last one
      // cut at buf_len, which tells the guest to ask again from its cookie (WASI preview1).
      const limit = bufLen >>> 0;
      const all = view(g, buf >>> 0, limit);
      let at = 0;
      for (let i = Number(BigInt.asUintN(64, cookie)); i < list.length && at < limit; i++) {
        const e = list[i]!;
        const ent = Buffer.alloc(24 + e.name.length);
        ent.writeBigUInt64LE(BigInt(i + 1), 0);
        ent.writeBigUInt64LE(e.ino, 8);
        ent.writeUInt32LE(e.name.length, 16);
        ent.writeUInt8(e.type, 20);
        e.name.copy(ent, 24);
        at += ent.copy(all, at, 0, Math.min(ent.length, limit - at));
      }
      dv().setUint32(used, at, true);
      return ERRNO_SUCCESS;
    },
    path_create_directory(dirFd: number, path: number, pathLen: number): number {
      return fs === null ? ERRNO_BADF : fs.change(dirFd, readString(g, path, pathLen), 'mkdir');
    },
    path_unlink_file(dirFd: number, path: number, pathLen: number): number {
      return fs === null ? ERRNO_BADF : fs.change(dirFd, readString(g, path, pathLen), 'unlink');
    },
    path_remove_directory(dirFd: number, path: number, pathLen: number): number {
      return fs === null ? ERRNO_BADF : fs.change(dirFd, readString(g, path, pathLen), 'rmdir');
    },
    sched_yield: (): number => ERRNO_SUCCESS,
    proc_exit(code: number): never {
      throw new WasiExit(code);
    },
  };
  const out: Record<string, Fn> = {};
  for (const i of WA.Module.imports(module)) {
    if (i.module !== 'wasi_snapshot_preview1') continue;
    out[i.name] = known[i.name] ?? ((): number => ERRNO_NOSYS);
  }
  return out;
}

/**
 * lego's `httpreq` DNS provider: a small HTTP service of the user's publishes the record.
 * `POST <endpoint>/present` and `POST <endpoint>/cleanup` with the JSON body
 * `{"fqdn": "_acme-challenge.example.com.", "value": "<TXT value>"}` (lego's default mode), Basic
 * authentication when both a user name and a password are given. Any status outside 2xx fails
 * the challenge (lego: `resp.StatusCode/100 != 2`). node:http and node:https are loaded on the
 * first request only: a proxy that never solves dns-01 does not carry them.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Dns01Provider } from './dns01-provider.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export interface HttpReqDnsProviderOptions {
  /** `HTTPREQ_ENDPOINT`: an http or https URL; `/present` and `/cleanup` are appended to its path. */
  readonly endpoint: URL;
  /** `HTTPREQ_USERNAME` / `HTTPREQ_PASSWORD`: Basic authentication only when both are non-empty. */
  readonly username?: string;
  readonly password?: string;
  /** `HTTPREQ_HTTP_TIMEOUT`: the whole exchange, from connecting to the end of the response. */
  readonly timeoutMs: number;
  /** PEM bundle trusted for an https endpoint instead of the system roots. */
  readonly ca?: string;
  readonly scheduler?: Scheduler;
}

/** How much of an error response's body goes into the error message. */
const BODY_EXCERPT_BYTES = 512;

export class HttpReqDnsProvider implements Dns01Provider {
  readonly #opts: HttpReqDnsProviderOptions;
  readonly #scheduler: Scheduler;
  readonly #authorization: string | undefined;

  constructor(opts: HttpReqDnsProviderOptions) {
    if (opts.endpoint.protocol !== 'http:' && opts.endpoint.protocol !== 'https:') {
      throw new TypeError(
        `httpreq: the endpoint must be an http or https URL, not ${opts.endpoint.protocol}`,
      );
    }
    this.#opts = opts;
    this.#scheduler = opts.scheduler ?? systemScheduler;
    const { username = '', password = '' } = opts;
    this.#authorization =
      username !== '' && password !== ''
        ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
        : undefined;
  }

  present(fqdn: string, value: string): Promise<void> {
    return this.#post('/present', { fqdn, value });
  }

  cleanup(fqdn: string, value: string): Promise<void> {
    return this.#post('/cleanup', { fqdn, value });
  }

  #post(action: '/present' | '/cleanup', body: { fqdn: string; value: string }): Promise<void> {
    const url = new URL(this.#opts.endpoint);
    // Go's URL.JoinPath: the endpoint's own path is kept, with exactly one slash before the action.
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${action}`;
    const shown = redacted(url);
    const payload = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'content-length': Buffer.byteLength(payload),
    };
    // An explicit header wins over user:password in the URL, as with Go's client.
    if (this.#authorization !== undefined) headers['authorization'] = this.#authorization;
    const timeoutMs = this.#opts.timeoutMs;
    return new Promise<void>((resolve, reject) => {
      let req: ClientRequest;
      const onResponse = (res: IncomingMessage): void => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const excerpt: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (ok || kept >= BODY_EXCERPT_BYTES) return;
          excerpt.push(chunk.subarray(0, BODY_EXCERPT_BYTES - kept));
          kept += Math.min(chunk.length, BODY_EXCERPT_BYTES - kept);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (ok) {
            done(undefined);
            return;
          }
          const text = Buffer.concat(excerpt).toString('utf8').trim();
          const reason =
            res.statusMessage === undefined || res.statusMessage === '' ? '' : ` ${res.statusMessage}`;
          done(
            new Error(`httpreq: POST ${shown} answered ${status}${reason}${text === '' ? '' : `: ${text}`}`),
          );
        });
      };
      const fail = (e: Error): void => done(new Error(`httpreq: POST ${shown}: ${e.message}`));
      let finished = false;
      const done = (err: Error | undefined): void => {
        if (finished) return;
        finished = true;
        this.#scheduler.clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const options = { method: 'POST', headers, agent: false as const };
      try {
        if (url.protocol === 'https:') {
          const https = process.getBuiltinModule('node:https');
          const ca = this.#opts.ca;
          req = https.request(url, ca === undefined ? options : { ...options, ca }, onResponse);
        } else {
          req = process.getBuiltinModule('node:http').request(url, options, onResponse);
        }
      } catch (e) {
        reject(new Error(`httpreq: POST ${shown}: ${(e as Error).message}`));
        return;
      }
      req.on('error', fail);
      const timer = this.#scheduler.setTimeout(() => {
        done(new Error(`httpreq: POST ${shown}: no answer within ${timeoutMs / 1000} s`));
        req.destroy();
      }, timeoutMs);
      req.end(payload);
    });
  }
}

/** The URL for messages and logs: user information in an endpoint URL is a credential. */
function redacted(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { HttpProviderConfig } from '../../config/static/providers.ts';
import type { Logger } from '../../core/logger.ts';
import { type ProviderValidation, updateFromYaml } from '../dynamic-data.ts';
import { clientTlsOptions, EngineError, engineFetch } from '../engine-client.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { sleep } from '../sleep.ts';

/**
 * Traefik's HTTP provider (pkg/provider/http/http.go): GET `endpoint` at start and every
 * `pollInterval`; a 200 body is the provider's whole dynamic configuration, in YAML or JSON. A body
 * equal to the last one changes nothing. A network error, another status, a body over
 * `maxResponseBodySize` or a request over `pollTimeout` fails the watch: the supervisor restarts it
 * with backoff and the last good configuration keeps serving. A body that does not parse is a
 * configuration error (reported once, like Traefik, which hashes the body before decoding it).
 */
export class HttpProvider implements Provider {
  readonly name = 'http';
  readonly #cfg: HttpProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #tls: ConnectionOptions | undefined;
  readonly #headers: Record<string, string>;

  constructor(cfg: HttpProviderConfig, validation: ProviderValidation, _logger?: Logger) {
    this.#cfg = cfg;
    this.#validation = validation;
    this.#tls = clientTlsOptions(cfg.tls);
    // Go's client sends the `Host` entry as the request's host, which a plain header does too.
    this.#headers = { ...cfg.headers };
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    let last: string | undefined;
    while (!signal.aborted) {
      const body = await this.#fetch(signal);
      if (signal.aborted) return;
      const hash = createHash('sha256').update(body).digest('hex');
      if (hash !== last) {
        last = hash;
        // Traefik's HTTP provider decodes the body with its file decoder (pkg/provider/http:
        // file.DecodeContent), whose rules apply (an empty `routers: {}` refuses it).
        yield updateFromYaml(body.toString('utf8'), this.#cfg.endpoint, this.name, this.#validation, {
          fileDecoder: true,
        });
      }
      if (!(await sleep(this.#cfg.pollInterval, signal))) return;
    }
  }

  async #fetch(signal: AbortSignal): Promise<Buffer> {
    const timeout = AbortSignal.timeout(this.#cfg.pollTimeout);
    try {
      const { body } = await engineFetch(
        {
          url: this.#cfg.endpoint,
          headers: this.#headers,
          signal: AbortSignal.any([signal, timeout]),
          ...(this.#tls !== undefined ? { tls: this.#tls } : {}),
        },
        [200],
        this.#cfg.maxResponseBodySize,
      );
      return body;
    } catch (e) {
      if (timeout.aborted && !signal.aborted) {
        throw new EngineError(
          `GET ${this.#cfg.endpoint}: no complete answer within ${this.#cfg.pollTimeout} ms`,
        );
      }
      throw e;
    }
  }
}

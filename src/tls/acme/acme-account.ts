/**
 * The ACME account of one resolver: its key (created on first need and stored before it is
 * used, so that a crash never strands a registered account), its registration, and an
 * AcmeClient signed with it.
 */
import type { Logger } from '../../core/logger.ts';
import { generateKey } from '../x509/index.ts';
import { AcmeClient, type ExternalAccountKey } from './acme-client.ts';
import { AcmeProblemError } from './acme-errors.ts';
import type { StoredAccount } from './acme-storage.ts';
import type { AcmeTransport } from './acme-transport.ts';
import { AccountKey } from './jws.ts';

export interface AccountSessionOptions {
  readonly caServer: string;
  readonly email: string;
  /** Traefik's `eab`: sent with newAccount when the account is registered (never after). */
  readonly externalAccount?: ExternalAccountKey;
  readonly transport: AcmeTransport;
  readonly wallNow: () => number;
  readonly pollIntervalMs?: number;
  readonly logger: Logger;
  /** Called whenever the account changes (new key, new registration): persist it. */
  readonly onChange: (account: StoredAccount) => void;
}

export class AccountSession {
  readonly #opts: AccountSessionOptions;
  #account: StoredAccount | undefined;
  #client: AcmeClient | undefined;

  constructor(opts: AccountSessionOptions, stored: StoredAccount | undefined) {
    this.#opts = opts;
    this.#account = stored;
  }

  get account(): StoredAccount | undefined {
    return this.#account;
  }

  /** True when the account is registered with this resolver's CA (no newAccount needed). */
  get registered(): boolean {
    if (this.#client?.accountUrl !== undefined) return true;
    const a = this.#account;
    return (
      a !== undefined &&
      a.email === this.#opts.email &&
      a.registration !== undefined &&
      new URL(a.registration.uri).origin === new URL(this.#opts.caServer).origin
    );
  }

  /**
   * Takes the account another instance stored (clustered storage): every instance then orders
   * with the one account. A different key drops the client made with ours.
   */
  adopt(stored: StoredAccount): void {
    if (
      this.#account?.keyPem === stored.keyPem &&
      this.#account.registration?.uri === stored.registration?.uri
    )
      return;
    this.#account = stored;
    this.#client = undefined;
  }

  /** Makes sure the account exists and is registered (creating and registering it if needed). */
  async prepare(signal: AbortSignal): Promise<void> {
    await this.#registeredClient(signal);
  }

  /** Runs `fn` with a registered client; when the CA has forgotten the account, registers the same key again once. */
  async run<T>(signal: AbortSignal, fn: (client: AcmeClient) => Promise<T>): Promise<T> {
    const client = await this.#registeredClient(signal);
    try {
      return await fn(client);
    } catch (e) {
      // A reset test CA or a wiped staging database: the key is still ours, the URL is gone.
      if (!(e instanceof AcmeProblemError && e.is('accountDoesNotExist'))) throw e;
      this.#opts.logger.warn('acme account unknown to the CA; registering again');
      client.accountUrl = undefined;
      await this.#register(client, signal);
      return await fn(client);
    }
  }

  async #registeredClient(signal: AbortSignal): Promise<AcmeClient> {
    if (this.#client?.accountUrl !== undefined) return this.#client;
    let account = this.#account;
    if (account === undefined || account.email !== this.#opts.email) {
      // Ours: a new address is a new account with a new key (Traefik v3 keeps the stored account
      // whatever its address: docs/migrating-from-traefik.md).
      account = { email: this.#opts.email, keyPem: generateKey('ec256') };
      this.#account = account;
      this.#opts.onChange(account);
    }
    // A registration belongs to one CA: switching caServer (staging → production) registers anew.
    const registered =
      account.registration !== undefined &&
      new URL(account.registration.uri).origin === new URL(this.#opts.caServer).origin
        ? account.registration.uri
        : undefined;
    const client =
      this.#client ??
      new AcmeClient({
        directoryUrl: this.#opts.caServer,
        accountKey: new AccountKey(account.keyPem),
        transport: this.#opts.transport,
        wallNow: this.#opts.wallNow,
        ...(registered === undefined ? {} : { accountUrl: registered }),
        ...(this.#opts.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.#opts.pollIntervalMs }),
      });
    this.#client = client;
    if (client.accountUrl === undefined) await this.#register(client, signal);
    return client;
  }

  async #register(client: AcmeClient, signal: AbortSignal): Promise<void> {
    // As Traefik's Provider.register: with `eab`, RegisterWithExternalAccountBinding.
    const eab = this.#opts.externalAccount;
    const info = await client.newAccount(
      {
        email: this.#opts.email,
        termsOfServiceAgreed: true,
        ...(eab === undefined ? {} : { externalAccount: eab }),
      },
      signal,
    );
    const account = this.#account;
    if (account === undefined) return;
    this.#account = { ...account, registration: { uri: info.url, body: info.body } };
    this.#opts.onChange(this.#account);
    this.#opts.logger.info('acme account registered', { account: info.url });
  }
}

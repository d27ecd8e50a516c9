/**
 * The DNS providers that talk to a DNS host's API, each against its test double on loopback
 * (test-fake-*.ts: the API's authentication, request shapes and answers), built the way the proxy
 * builds them: dnsProviderFor with lego's environment variables, the base URL pointed at the
 * double. The same contract for all, then what is particular to each.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import { Dns01ConfigError } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { dnsProviderFor } from './dns01-providers.ts';
import type { Scheduler } from './scheduler.ts';
import { ImmediateScheduler, zoneLocator } from './test-dns01-helpers.ts';
import { startFakeAzure } from './test-fake-azure.ts';
import { startFakeBunny } from './test-fake-bunny.ts';
import { CLOUDFLARE_BASE_PATH, startFakeCloudflare } from './test-fake-cloudflare.ts';
import { startFakeCloudns } from './test-fake-cloudns.ts';
import { DESEC_BASE_PATH, startFakeDesec } from './test-fake-desec.ts';
import { startFakeDigitalOcean } from './test-fake-digitalocean.ts';
import { type FakeAnswer, type FakeApi, MemoryBackend } from './test-fake-dns-api.ts';
import { startFakeDnsimple } from './test-fake-dnsimple.ts';
import { startFakeDynu } from './test-fake-dynu.ts';
import { GANDI_BASE_PATH, startFakeGandi } from './test-fake-gandi.ts';
import { startFakeGoDaddy } from './test-fake-godaddy.ts';
import { startFakeHetzner } from './test-fake-hetzner.ts';
import { startFakeInfomaniak } from './test-fake-infomaniak.ts';
import { startFakeIonos } from './test-fake-ionos.ts';
import { startFakeLinode } from './test-fake-linode.ts';
import { startFakeNamecheap } from './test-fake-namecheap.ts';
import { startFakeNamesilo } from './test-fake-namesilo.ts';
import { startFakeNetcup } from './test-fake-netcup.ts';
import { startFakeNjalla } from './test-fake-njalla.ts';
import { startFakeOvh } from './test-fake-ovh.ts';
import { startFakePorkbun } from './test-fake-porkbun.ts';
import { startFakeRoute53 } from './test-fake-route53.ts';
import { startFakeScaleway } from './test-fake-scaleway.ts';
import { startFakeTransip } from './test-fake-transip.ts';
import { startFakeVultr } from './test-fake-vultr.ts';

interface World {
  readonly provider: string;
  readonly api: FakeApi;
  readonly backend: MemoryBackend;
  readonly env: Record<string, string>;
  /** An error answer in the API's own format, and what of it the provider's error must quote. */
  readonly refusal: FakeAnswer;
  readonly refusalText: RegExp;
  /** The credential variables that, missing, the error must name. */
  readonly missing: RegExp;
  /** Variables that name things rather than grant access: an error may quote them. */
  readonly identifiers?: readonly string[];
  /** Settings rather than credentials: left as they are when the credentials are made wrong. */
  readonly settings?: readonly string[];
  /** What wrong credentials are answered (default: a 4xx status). */
  readonly wrongCredentials?: RegExp;
}

async function world(provider: string): Promise<World> {
  const backend = new MemoryBackend();
  switch (provider) {
    case 'cloudflare': {
      const api = await startFakeCloudflare({
        zones: { 'example.com': 'zone0123' },
        tokens: { 'dns-token': { zoneRead: true, dnsEdit: true } },
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: { CF_DNS_API_TOKEN: 'dns-token', CLOUDFLARE_API_URL: `${api.url}${CLOUDFLARE_BASE_PATH}` },
        refusal: {
          status: 400,
          body: {
            success: false,
            errors: [{ code: 9005, message: 'Content for TXT record is invalid.' }],
            messages: [],
            result: null,
          },
        },
        refusalText: /9005: Content for TXT record is invalid\./,
        missing: /CF_DNS_API_TOKEN.*CF_API_EMAIL and CF_API_KEY/,
      };
    }
    case 'ovh': {
      const api = await startFakeOvh({
        applicationKey: 'app-key',
        applicationSecret: 'app-secret',
        consumerKey: 'consumer-key',
        zones: ['example.com'],
        clockOffsetS: 3600,
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: {
          OVH_ENDPOINT: `${api.url}/1.0`,
          OVH_APPLICATION_KEY: 'app-key',
          OVH_APPLICATION_SECRET: 'app-secret',
          OVH_CONSUMER_KEY: 'consumer-key',
        },
        refusal: {
          status: 403,
          body: { class: 'Client::Forbidden', message: 'This call has not been granted' },
        },
        refusalText: /This call has not been granted/,
        missing: /OVH_ENDPOINT/,
      };
    }
    case 'route53': {
      const api = await startFakeRoute53({
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        zones: [{ id: 'Z1EXAMPLE', name: 'example.com' }],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: {
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
          AWS_ENDPOINT_URL_ROUTE_53: api.url,
        },
        refusal: {
          status: 400,
          contentType: 'text/xml',
          body: '<?xml version="1.0"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>',
        },
        refusalText: /Throttling: Rate exceeded/,
        missing: /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
      };
    }
    case 'digitalocean': {
      const api = await startFakeDigitalOcean({ token: 'do-token', domains: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { DO_AUTH_TOKEN: 'do-token', DO_API_URL: api.url },
        refusal: {
          status: 422,
          body: { id: 'unprocessable_entity', message: 'Data needs to be 255 characters or less' },
        },
        refusalText: /unprocessable_entity: Data needs to be 255 characters or less/,
        missing: /DO_AUTH_TOKEN/,
      };
    }
    case 'hetzner': {
      const api = await startFakeHetzner({ token: 'hz-token', zones: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { HETZNER_API_TOKEN: 'hz-token', HETZNER_API_URL: `${api.url}/v1` },
        refusal: {
          status: 403,
          body: { error: { code: 'forbidden', message: 'insufficient permissions', details: {} } },
        },
        refusalText: /forbidden: insufficient permissions/,
        missing: /HETZNER_API_TOKEN/,
      };
    }
    case 'gandiv5': {
      const api = await startFakeGandi({
        authorizations: ['Bearer gandi-pat'],
        domains: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: { GANDIV5_PERSONAL_ACCESS_TOKEN: 'gandi-pat', GANDIV5_API_URL: `${api.url}${GANDI_BASE_PATH}` },
        refusal: {
          status: 403,
          body: {
            code: 403,
            message: 'Access was denied to this resource.',
            object: 'HTTPForbidden',
            cause: 'Forbidden',
          },
        },
        refusalText: /Access was denied to this resource\./,
        missing: /GANDIV5_PERSONAL_ACCESS_TOKEN/,
      };
    }
    case 'godaddy': {
      const api = await startFakeGoDaddy({
        key: 'gd-key',
        secret: 'gd-secret',
        domains: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: { GODADDY_API_KEY: 'gd-key', GODADDY_API_SECRET: 'gd-secret', GODADDY_API_URL: api.url },
        refusal: {
          status: 422,
          body: {
            code: 'INVALID_BODY',
            message: "Request body doesn't fulfill schema",
            fields: [{ code: 'MISMATCH_FORMAT', message: 'is not a valid TXT', path: 'records[0].data' }],
          },
        },
        refusalText:
          /INVALID_BODY: Request body doesn't fulfill schema MISMATCH_FORMAT: is not a valid TXT \(path=records\[0\]\.data\)/,
        missing: /GODADDY_API_KEY.*GODADDY_API_SECRET/,
      };
    }
    case 'porkbun': {
      const api = await startFakePorkbun({
        apiKey: 'pk1_x',
        secretApiKey: 'sk1_y',
        domains: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: { PORKBUN_API_KEY: 'pk1_x', PORKBUN_SECRET_API_KEY: 'sk1_y', PORKBUN_API_URL: api.url },
        refusal: {
          status: 200,
          body: { status: 'ERROR', message: 'Edit error: We were unable to create the DNS record.' },
        },
        refusalText: /status: ERROR message: Edit error: We were unable to create the DNS record\./,
        missing: /PORKBUN_SECRET_API_KEY.*PORKBUN_API_KEY/,
      };
    }
    case 'linode': {
      const api = await startFakeLinode({ token: 'linode-token', domains: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { LINODE_TOKEN: 'linode-token', LINODE_URL: api.url },
        refusal: {
          status: 400,
          body: { errors: [{ reason: 'Target must be a valid TXT value', field: 'target' }] },
        },
        refusalText: /\[target\] Target must be a valid TXT value/,
        missing: /LINODE_TOKEN/,
      };
    }
    case 'desec': {
      const api = await startFakeDesec({ token: 'desec-token', domains: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { DESEC_TOKEN: 'desec-token', DESEC_API_URL: `${api.url}${DESEC_BASE_PATH}/` },
        refusal: { status: 400, body: { detail: 'Another RRset with the same subdomain and type exists.' } },
        refusalText: /answered 400: Another RRset with the same subdomain and type exists\./,
        missing: /DESEC_TOKEN/,
      };
    }
    case 'namecheap': {
      const api = await startFakeNamecheap({
        apiUser: 'nc-user',
        apiKey: 'nc-key',
        clientIp: '203.0.113.7',
        domains: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: {
          NAMECHEAP_API_USER: 'nc-user',
          NAMECHEAP_API_KEY: 'nc-key',
          NAMECHEAP_API_URL: `${api.url}/xml.response`,
          NAMECHEAP_GETIP_URL: api.getIpUrl,
        },
        refusal: {
          status: 200,
          contentType: 'text/xml',
          body: '<?xml version="1.0" encoding="utf-8"?>\n<ApiResponse Status="ERROR" xmlns="http://api.namecheap.com/xml.response"><Errors><Error Number="1011150">Invalid request IP</Error></Errors></ApiResponse>',
        },
        refusalText: /answered 200: Invalid request IP \[1011150\]/,
        missing: /NAMECHEAP_API_USER.*NAMECHEAP_API_KEY/,
        wrongCredentials: /answered 200: API Key is invalid or API access has not been enabled \[1011102\]/,
      };
    }
    case 'azuredns': {
      const api = await startFakeAzure({
        tenantId: 'tenant-1',
        clientId: 'client-1',
        clientSecret: 'secret-1',
        subscriptionId: 'sub-1',
        resourceGroup: 'dns-rg',
        zones: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: {
          AZURE_CLIENT_ID: 'client-1',
          AZURE_CLIENT_SECRET: 'secret-1',
          AZURE_TENANT_ID: 'tenant-1',
          AZURE_SUBSCRIPTION_ID: 'sub-1',
          AZURE_RESOURCE_GROUP: 'dns-rg',
          AZURE_AUTHORITY_HOST: api.url,
          AZURE_API_URL: api.url,
        },
        refusal: {
          status: 400,
          body: { error: { code: 'BadRequest', message: 'The TXT record is invalid.' } },
        },
        refusalText: /answered 400: .*The TXT record is invalid\./,
        missing: /AZURE_CLIENT_ID.*AZURE_CLIENT_SECRET.*AZURE_TENANT_ID/,
        // The tenant is in the token URL's path, as in every Azure login.
        identifiers: ['AZURE_TENANT_ID', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP'],
      };
    }
    case 'vultr': {
      // `com` and `other.net` too: the zone is the longest domain the name ends with, on page 2.
      const api = await startFakeVultr({
        apiKey: 'vultr-key',
        domains: ['com', 'other.net', 'example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: { VULTR_API_KEY: 'vultr-key', VULTR_API_URL: api.url },
        refusal: { status: 400, body: { error: 'Unable to create record: invalid data', status: 400 } },
        refusalText: /answered 400: Unable to create record: invalid data/,
        missing: /VULTR_API_KEY/,
      };
    }
    case 'ionos': {
      const api = await startFakeIonos({
        apiKey: 'pub.secret',
        zones: ['com', 'example.com', 'example.net'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: { IONOS_API_KEY: 'pub.secret', IONOS_API_URL: `${api.url}/dns` },
        refusal: { status: 400, body: [{ code: 'INVALID_RECORD', message: 'Record content is invalid.' }] },
        refusalText: /answered 400: INVALID_RECORD: Record content is invalid\./,
        missing: /IONOS_API_KEY/,
      };
    }
    case 'infomaniak': {
      const api = await startFakeInfomaniak({ token: 'ik-token', zones: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { INFOMANIAK_ACCESS_TOKEN: 'ik-token', INFOMANIAK_ENDPOINT: api.url },
        refusal: {
          status: 422,
          body: {
            result: 'error',
            error: {
              code: 'validation_failed',
              description: 'Validation failed',
              errors: [{ code: 'invalid_target', description: 'The target is invalid' }],
            },
          },
        },
        refusalText:
          /answered 422: error: \[validation_failed\] Validation failed \(invalid_target: The target is invalid\)/,
        missing: /INFOMANIAK_ACCESS_TOKEN/,
      };
    }
    case 'netcup': {
      const api = await startFakeNetcup({
        customer: '12345',
        apiKey: 'nc-key',
        password: 'nc-password',
        zones: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: {
          NETCUP_CUSTOMER_NUMBER: '12345',
          NETCUP_API_KEY: 'nc-key',
          NETCUP_API_PASSWORD: 'nc-password',
          NETCUP_API_URL: `${api.url}/run/webservice/servers/endpoint.php?JSON`,
        },
        refusal: {
          status: 200,
          body: {
            serverrequestid: 'x',
            action: 'login',
            status: 'error',
            statuscode: 4013,
            shortmessage: 'Validation Error.',
            longmessage: 'Value in field apipassword does not match requirements.',
          },
        },
        refusalText:
          /answered 200: an error occurred during the action login: \[Status=error, StatusCode=4013, ShortMessage=Validation Error\., LongMessage=Value in field apipassword does not match requirements\.\]/,
        missing: /NETCUP_CUSTOMER_NUMBER.*NETCUP_API_KEY.*NETCUP_API_PASSWORD/,
        wrongCredentials:
          /answered 200: an error occurred during the action login: \[Status=error, StatusCode=4013/,
      };
    }
    case 'scaleway': {
      const api = await startFakeScaleway({ secretKey: 'scw-secret', zones: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { SCW_SECRET_KEY: 'scw-secret', SCALEWAY_API_URL: api.url },
        refusal: { status: 400, body: { message: 'invalid argument(s)', type: 'invalid_arguments' } },
        refusalText: /answered 400: invalid argument\(s\)/,
        missing: /SCW_SECRET_KEY or SCALEWAY_API_TOKEN/,
      };
    }
    case 'dnsimple': {
      const api = await startFakeDnsimple({
        token: 'dnsimple-token',
        accountId: 1010,
        zones: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: { DNSIMPLE_OAUTH_TOKEN: 'dnsimple-token', DNSIMPLE_BASE_URL: api.url },
        refusal: { status: 400, body: { message: 'Validation failed', errors: { content: ['is invalid'] } } },
        refusalText: /answered 400: Validation failed/,
        missing: /DNSIMPLE_OAUTH_TOKEN/,
      };
    }
    case 'cloudns': {
      const api = await startFakeCloudns({
        authId: '4711',
        password: 'cloudns-password',
        zones: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: {
          CLOUDNS_AUTH_ID: '4711',
          CLOUDNS_AUTH_PASSWORD: 'cloudns-password',
          CLOUDNS_API_URL: `${api.url}/dns/`,
          // The name-server wait's polling interval: under 10 s, which ImmediateScheduler runs at once.
          CLOUDNS_POLLING_INTERVAL: '2',
        },
        refusal: { status: 200, body: { status: 'Failed', statusDescription: 'Invalid TTL.' } },
        refusalText: /not found for authFQDN|Invalid TTL/,
        missing: /CLOUDNS_AUTH_ID or CLOUDNS_SUB_AUTH_ID.*CLOUDNS_AUTH_PASSWORD/,
        wrongCredentials: /cloudns: zone example\.com not found for authFQDN/,
        // Not a credential: the account's number.
        identifiers: ['CLOUDNS_AUTH_ID'],
        settings: ['CLOUDNS_POLLING_INTERVAL'],
      };
    }
    case 'namesilo': {
      const api = await startFakeNamesilo({ apiKey: 'silo-key', domains: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { NAMESILO_API_KEY: 'silo-key', NAMESILO_API_URL: `${api.url}/api` },
        refusal: {
          status: 200,
          contentType: 'text/xml',
          body: '<namesilo><request><operation>dnsAddRecord</operation></request><reply><code>280</code><detail>DNS record could not be added</detail></reply></namesilo>',
        },
        refusalText: /answered 200: code: 280, details: DNS record could not be added/,
        missing: /NAMESILO_API_KEY/,
        wrongCredentials: /answered 200: code: 110, details: Invalid API Key/,
      };
    }
    case 'bunny': {
      // `com` is a zone here too: lego never takes the top-level domain.
      const api = await startFakeBunny({
        apiKey: 'bunny-key',
        zones: ['com', 'example.com', 'www.example.org'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: { BUNNY_API_KEY: 'bunny-key', BUNNY_API_URL: api.url },
        refusal: {
          status: 400,
          body: { ErrorKey: 'validation', Field: 'Value', Message: 'The record value is invalid' },
        },
        refusalText: /answered 400: The record value is invalid/,
        missing: /BUNNY_API_KEY/,
      };
    }
    case 'njalla': {
      const api = await startFakeNjalla({ token: 'njalla-token', domains: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { NJALLA_TOKEN: 'njalla-token', NJALLA_API_URL: `${api.url}/api/1/` },
        refusal: {
          status: 200,
          body: { jsonrpc: '2.0', error: { code: 400, message: 'Invalid record content' } },
        },
        refusalText: /answered 200: code: 400, message: Invalid record content/,
        missing: /NJALLA_TOKEN/,
        wrongCredentials: /answered 200: code: 403, message: Permission denied/,
      };
    }
    case 'transip': {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      FILES['/keys/transip.key'] = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const api = await startFakeTransip({
        accountName: 'acme-account',
        publicKey,
        domains: ['example.com'],
        backend,
      });
      return {
        provider,
        api,
        backend,
        env: {
          TRANSIP_ACCOUNT_NAME: 'acme-account',
          TRANSIP_PRIVATE_KEY_PATH: '/keys/transip.key',
          TRANSIP_API_URL: `${api.url}/v6`,
        },
        refusal: { status: 406, body: { error: 'This is not a valid DNS entry' } },
        refusalText: /answered 406: This is not a valid DNS entry/,
        missing: /TRANSIP_ACCOUNT_NAME.*TRANSIP_PRIVATE_KEY_PATH/,
        settings: ['TRANSIP_PRIVATE_KEY_PATH'],
      };
    }
    case 'dynu': {
      const api = await startFakeDynu({ apiKey: 'dynu-key', domains: ['example.com'], backend });
      return {
        provider,
        api,
        backend,
        env: { DYNU_API_KEY: 'dynu-key', DYNU_API_URL: `${api.url}/v2` },
        refusal: {
          status: 200,
          body: { statusCode: 501, type: 'Argument Exception', message: 'Invalid text data.' },
        },
        refusalText: /answered 200: API error: 501: Argument Exception: Invalid text data\./,
        missing: /DYNU_API_KEY/,
      };
    }
  }
  throw new Error(`no world for ${provider}`);
}

/** The bare provider (no propagation check) as the proxy builds it from `env`. */
function build(
  provider: string,
  env: Record<string, string>,
  scheduler: Scheduler = new ImmediateScheduler(),
): Dns01Provider {
  const challenge = { provider, propagation: { disableChecks: true } } as DnsChallengeConfig;
  return dnsProviderFor(challenge, env, {
    zones: zoneLocator('example.com.'),
    scheduler,
    readFile: (p) => FILES[p] ?? fail(p),
  });
}

const FILES: Record<string, string> = {};
function fail(path: string): never {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
}

const RECORD = '_acme-challenge.www.example.com.';
const VALUE_A = 'LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo';
const VALUE_B = 'AXZfe0TN8qyy8dOF_Yj7S5pfV7D8x5Dyu8lpt1XdGWk';

for (const name of [
  'cloudflare',
  'ovh',
  'route53',
  'digitalocean',
  'hetzner',
  'gandiv5',
  'godaddy',
  'porkbun',
  'linode',
  'desec',
  'namecheap',
  'azuredns',
  'vultr',
  'ionos',
  'infomaniak',
  'netcup',
  'scaleway',
  'dnsimple',
  'cloudns',
  'namesilo',
  'bunny',
  'njalla',
  'transip',
  'dynu',
]) {
  describe(`the ${name} DNS provider against its API`, () => {
    let w: World;
    before(async () => {
      w = await world(name);
    });
    after(() => w.api.close());

    it('publishes the TXT value at the record name, then withdraws it', async () => {
      const p = build(name, w.env);
      await p.present(RECORD, VALUE_A);
      assert.deepEqual(w.backend.values(RECORD), [VALUE_A]);
      await p.cleanup(RECORD, VALUE_A);
      assert.deepEqual(w.backend.values(RECORD), []);
    });

    it('holds two values at one name (a wildcard and its base) and withdraws them one by one', async () => {
      const p = build(name, w.env);
      await p.present(RECORD, VALUE_A);
      await p.present(RECORD, VALUE_B);
      assert.deepEqual(w.backend.values(RECORD).sort(), [VALUE_A, VALUE_B].sort());
      await p.cleanup(RECORD, VALUE_A);
      assert.deepEqual(w.backend.values(RECORD), [VALUE_B]);
      await p.cleanup(RECORD, VALUE_B);
      assert.deepEqual(w.backend.values(RECORD), []);
    });

    it("fails with the API's own error message when the API refuses", async () => {
      const p = build(name, w.env);
      w.api.failNext(1, w.refusal);
      await assert.rejects(p.present(RECORD, VALUE_A), (e: Error) => {
        assert.match(e.message, new RegExp(`^${name}: `));
        assert.match(e.message, w.refusalText);
        return true;
      });
      assert.deepEqual(w.backend.values(RECORD), []);
    });

    it('fails with the API error when the credentials are wrong, never quoting them', async () => {
      const wrong = Object.fromEntries(
        Object.entries(w.env).map(([k, v]) => [
          k,
          /URL|ENDPOINT|AUTHORITY_HOST/.test(k) || w.settings?.includes(k) ? v : `${v}-wrong`,
        ]),
      );
      await assert.rejects(build(name, wrong).present(RECORD, VALUE_A), (e: Error) => {
        assert.match(e.message, w.wrongCredentials ?? /answered 4\d\d/);
        for (const [k, v] of Object.entries(wrong))
          if (
            !/URL|ENDPOINT|AUTHORITY_HOST/.test(k) &&
            !w.identifiers?.includes(k) &&
            !w.settings?.includes(k)
          )
            assert.ok(!e.message.includes(v), `${k} quoted`);
        return true;
      });
    });

    if (name === 'linode') {
      it("sends linodego's requests: X-Filter on the lists, every page read, the record's full name", async () => {
        const p = build(name, w.env);
        const names = ['_acme-challenge.a.example.com.', '_acme-challenge.b.example.com.', RECORD];
        for (const n of names) await p.present(n, VALUE_A);
        const created = w.api.calls.filter((c) => c.method === 'POST').pop();
        assert.deepEqual(JSON.parse(created?.body ?? ''), {
          type: 'TXT',
          name: '_acme-challenge.www.example.com',
          target: VALUE_A,
          ttl_sec: 300,
        });
        w.api.calls.length = 0;
        // The third TXT record is on the second page of two.
        await p.cleanup(RECORD, VALUE_A);
        assert.deepEqual(w.backend.values(RECORD), []);
        assert.deepEqual(
          w.api.calls.map(
            (c) =>
              `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.headers['x-filter'] ?? ''}`,
          ),
          [
            'GET /v4/domains {"domain":"example.com"}',
            'GET /v4/domains/1000/records {"type":"TXT"}',
            'GET /v4/domains/1000/records?page=2 {"type":"TXT"}',
            `DELETE /v4/domains/1000/records/${w.api.calls[3]?.path.split('/').pop()} `,
          ],
        );
        for (const n of names.slice(0, 2)) await p.cleanup(n, VALUE_A);
      });
    }

    if (name === 'desec') {
      it("sends nrdcg/desec's requests: the responsible domain, the RRset created then patched, Token auth", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.present(RECORD, VALUE_B);
        await p.cleanup(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_B);
        const rrset = '/api/v1/domains/example.com/rrsets/_acme-challenge.www/TXT/';
        assert.deepEqual(
          w.api.calls.map(
            (c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body.trim()}`,
          ),
          [
            'GET /api/v1/domains/?owns_qname=_acme-challenge.www.example.com ',
            `GET ${rrset} `,
            `POST /api/v1/domains/example.com/rrsets/ {"domain":"example.com","subname":"_acme-challenge.www","type":"TXT","records":["\\"${VALUE_A}\\""],"ttl":3600}`,
            'GET /api/v1/domains/?owns_qname=_acme-challenge.www.example.com ',
            `GET ${rrset} `,
            `PATCH ${rrset} {"records":["\\"${VALUE_A}\\"","\\"${VALUE_B}\\""]}`,
            'GET /api/v1/domains/?owns_qname=_acme-challenge.www.example.com ',
            `GET ${rrset} `,
            `PATCH ${rrset} {"records":["\\"${VALUE_B}\\""]}`,
            'GET /api/v1/domains/?owns_qname=_acme-challenge.www.example.com ',
            `GET ${rrset} `,
            `PATCH ${rrset} {"records":[]}`,
          ],
        );
        for (const c of w.api.calls) {
          assert.equal(c.headers.authorization, 'Token desec-token');
          assert.equal(c.headers['content-type'], 'application/json');
        }
      });

      it('fails naming the record when deSEC holds no domain for it', async () => {
        const p = build(name, w.env);
        w.api.calls.length = 0;
        await assert.rejects(
          p.present('_acme-challenge.other.test.', VALUE_A),
          /desec: .*no domain found for _acme-challenge\.other\.test/,
        );
        assert.equal(w.api.calls.length, 1);
      });
    }

    if (name === 'namecheap') {
      it("sends lego's requests: getHosts in the query, setHosts of every host as a form", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const auth = 'ApiKey=nc-key&ApiUser=nc-user&ClientIp=203.0.113.7';
        const a = 'Address1=192.0.2.1';
        const host1 = 'HostName1=%40';
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body}`),
          [
            `GET /xml.response?${auth}&Command=namecheap.domains.dns.getHosts&SLD=example&TLD=com&UserName=nc-user `,
            `POST /xml.response ${a}&Address2=${VALUE_A}&${auth}&Command=namecheap.domains.dns.setHosts&${host1}&HostName2=_acme-challenge.www&MXPref1=10&MXPref2=10&RecordType1=A&RecordType2=TXT&SLD=example&TLD=com&TTL1=1800&TTL2=120&UserName=nc-user`,
            `GET /xml.response?${auth}&Command=namecheap.domains.dns.getHosts&SLD=example&TLD=com&UserName=nc-user `,
            `POST /xml.response ${a}&${auth}&Command=namecheap.domains.dns.setHosts&${host1}&MXPref1=10&RecordType1=A&SLD=example&TLD=com&TTL1=1800&UserName=nc-user`,
          ],
        );
        // A record that is not there: nothing written.
        w.api.calls.length = 0;
        await p.cleanup(RECORD, VALUE_B);
        assert.deepEqual(
          w.api.calls.map((c) => c.method),
          ['GET'],
        );
      });
    }

    if (name === 'azuredns') {
      it("sends the Azure SDK's requests: one client-credentials token, the TXT set read, put, then deleted", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.present(RECORD, VALUE_B);
        await p.cleanup(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_B);
        const set =
          '/subscriptions/sub-1/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/example.com/TXT/_acme-challenge.www?api-version=2018-05-01';
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body}`),
          [
            'POST /tenant-1/oauth2/v2.0/token client_id=client-1&client_secret=secret-1&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.core.windows.net%2F%2F.default',
            `GET ${set} `,
            `PUT ${set} {"properties":{"TTL":60,"TXTRecords":[{"value":["${VALUE_A}"]}]}}`,
            `GET ${set} `,
            `PUT ${set} {"properties":{"TTL":60,"TXTRecords":[{"value":["${VALUE_B}"]},{"value":["${VALUE_A}"]}]}}`,
            `GET ${set} `,
            `PUT ${set} {"properties":{"TTL":60,"TXTRecords":[{"value":["${VALUE_B}"]}]}}`,
            `GET ${set} `,
            `DELETE ${set} `,
          ],
        );
        const bearers = new Set(w.api.calls.slice(1).map((c) => c.headers.authorization));
        assert.equal(bearers.size, 1, 'one token for every call');
        assert.match([...bearers][0] ?? '', /^Bearer azure-token-\d+$/);
      });

      it("refuses lego's Resource Graph discovery, other credentials and private zones by name", () => {
        const { AZURE_SUBSCRIPTION_ID: _s, AZURE_RESOURCE_GROUP: _g, ...noGroup } = w.env;
        assert.throws(
          () => build(name, noGroup),
          /AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP: lego's zone discovery through Azure Resource Graph is not supported yet/,
        );
        assert.throws(
          () => build(name, { ...w.env, AZURE_AUTH_METHOD: 'msi' }),
          /AZURE_AUTH_METHOD=msi is not supported yet/,
        );
        assert.throws(
          () => build(name, { ...w.env, AZURE_PRIVATE_ZONE: 'true' }),
          /AZURE_PRIVATE_ZONE=true is not supported yet/,
        );
        assert.throws(
          () => build(name, { ...w.env, AZURE_ENVIRONMENT: 'germany' }),
          /AZURE_ENVIRONMENT="germany"/,
        );
      });
    }

    if (name === 'porkbun') {
      it("sends nrdcg/porkbun's bodies: the keys first, the TTL as a string, no Content-Type", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path} ${c.body} ${c.headers['content-type']}`),
          [
            `POST /dns/create/example.com {"apikey":"pk1_x","secretapikey":"sk1_y","name":"_acme-challenge.www","type":"TXT","content":"${VALUE_A}","ttl":"300"} undefined`,
            `POST /dns/delete/example.com/106926652 {"apikey":"pk1_x","secretapikey":"sk1_y"} undefined`,
          ].map((l) => l.replace('106926652', w.api.calls[1]?.path.split('/').pop() ?? '')),
        );
      });
    }

    if (name === 'vultr') {
      it("sends govultr's requests: the domains paged by cursor, the record quoted, ours deleted", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.present(RECORD, VALUE_B);
        const presented = w.api.calls.length;
        await p.cleanup(RECORD, VALUE_A);
        const cursor = w.api.calls[1]?.query.get('cursor') ?? '';
        assert.deepEqual(
          w.api.calls.map(
            (c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body.trim()}`,
          ),
          [
            'GET /v2/domains?per_page=25 ',
            `GET /v2/domains?per_page=25&cursor=${cursor} `,
            `POST /v2/domains/example.com/records {"name":"_acme-challenge.www","type":"TXT","data":"\\"${VALUE_A}\\"","ttl":120,"priority":0}`,
            'GET /v2/domains?per_page=25 ',
            `GET /v2/domains?per_page=25&cursor=${cursor} `,
            `POST /v2/domains/example.com/records {"name":"_acme-challenge.www","type":"TXT","data":"\\"${VALUE_B}\\"","ttl":120,"priority":0}`,
            'GET /v2/domains?per_page=25 ',
            `GET /v2/domains?per_page=25&cursor=${cursor} `,
            'GET /v2/domains/example.com/records?per_page=25 ',
            `GET /v2/domains/example.com/records?per_page=25&cursor=${w.api.calls[presented + 3]?.query.get('cursor')} `,
            `DELETE /v2/domains/example.com/records/${w.api.calls.at(-1)?.path.split('/').pop()} `,
          ],
        );
        for (const c of w.api.calls) {
          assert.equal(c.headers.authorization, 'Bearer vultr-key');
          assert.equal(c.headers['content-type'], 'application/json');
        }
        assert.deepEqual(w.backend.values(RECORD), [VALUE_B]);
        await p.cleanup(RECORD, VALUE_B);
      });

      it('fails naming the domain when Vultr holds no domain it ends with', async () => {
        await assert.rejects(
          build(name, w.env).present('_acme-challenge.www.example.org.', VALUE_A),
          /vultr: no matching domain found for domain www\.example\.org/,
        );
      });
    }

    if (name === 'ionos') {
      it("sends lego's requests: the zones, the TXT records below the name, all of them patched back with ours", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.present(RECORD, VALUE_B);
        await p.cleanup(RECORD, VALUE_A);
        const full = '_acme-challenge.www.example.com';
        const records = `/dns/v1/zones/zone-2?recordType=TXT&suffix=${full}`;
        assert.deepEqual(
          w.api.calls.map((c) =>
            `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body}`.replace(
              /rec-\d+/g,
              'rec-N',
            ),
          ),
          [
            'GET /dns/v1/zones ',
            `GET ${records} `,
            `PATCH /dns/v1/zones/zone-2 [{"name":"${full}","content":"${VALUE_A}","ttl":300,"type":"TXT"}]\n`,
            'GET /dns/v1/zones ',
            `GET ${records} `,
            `PATCH /dns/v1/zones/zone-2 [{"id":"rec-N","name":"${full}","content":"\\"${VALUE_A}\\"","ttl":300,"type":"TXT"},{"name":"${full}","content":"${VALUE_B}","ttl":300,"type":"TXT"}]\n`,
            'GET /dns/v1/zones ',
            `GET ${records} `,
            'DELETE /dns/v1/zones/zone-2/records/rec-N ',
          ],
        );
        for (const c of w.api.calls) {
          assert.equal(c.headers['x-api-key'], 'pub.secret');
          assert.equal(c.headers['content-type'], c.method === 'PATCH' ? 'application/json' : undefined);
        }
        assert.deepEqual(w.backend.values(RECORD), [VALUE_B]);
        // A value that is not there is an error, as in lego.
        await assert.rejects(p.cleanup(RECORD, VALUE_A), /ionos: failed to remove record, record not found/);
        await p.cleanup(RECORD, VALUE_B);
      });

      it('refuses a TTL under 300, as lego does', () => {
        assert.throws(
          () => build(name, { ...w.env, IONOS_TTL: '120' }),
          /IONOS_TTL=120 must be at least 300/,
        );
      });
    }

    if (name === 'infomaniak') {
      it("sends lego's requests: the zone asked name by name, the record created then deleted by id", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const id = w.api.calls.at(-1)?.path.split('/').pop();
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body}`),
          [
            'GET /2/zones/_acme-challenge.www.example.com/exists ',
            'GET /2/zones/www.example.com/exists ',
            'GET /2/zones/example.com/exists ',
            `POST /2/zones/example.com/records?with=idn {"source":"_acme-challenge.www","target":"${VALUE_A}","ttl":300,"type":"TXT"}\n`,
            `DELETE /2/zones/example.com/records/${id} `,
          ],
        );
        for (const c of w.api.calls) assert.equal(c.headers.authorization, 'Bearer ik-token');
      });

      it('fails naming the record when no name above it is a zone', async () => {
        await assert.rejects(
          build(name, w.env).present('_acme-challenge.example.org.', VALUE_A),
          /infomaniak: zone not found for domain: _acme-challenge\.example\.org/,
        );
      });
    }

    if (name === 'netcup') {
      it("sends lego's actions: login, the zone's records, all of them written back with ours, logout", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.present(RECORD, VALUE_B);
        await p.cleanup(RECORD, VALUE_A);
        const auth = '"customernumber":"12345","apikey":"nc-key"';
        const lines = w.api.calls.map((c) =>
          `${c.method} ${c.path}?${c.query} ${c.body}`
            .replace(/session-\d+/g, 'S')
            .replace(/"id":"\d+"/g, '"id":"N"'),
        );
        const url = 'POST /run/webservice/servers/endpoint.php?JSON=';
        const login = `${url} {"action":"login","param":{${auth},"apipassword":"nc-password"}}`;
        const info = `${url} {"action":"infoDnsRecords","param":{"domainname":"example.com",${auth},"apisessionid":"S"}}`;
        const logout = `${url} {"action":"logout","param":{${auth},"apisessionid":"S"}}`;
        const update = (records: string) =>
          `${url} {"action":"updateDnsRecords","param":{"domainname":"example.com",${auth},"apisessionid":"S","dnsrecordset":{"dnsrecords":[${records}]}}}`;
        const a = `"hostname":"_acme-challenge.www","type":"TXT","destination":"${VALUE_A}"`;
        assert.deepEqual(lines, [
          login,
          info,
          update(`{${a}}`),
          logout,
          login,
          info,
          update(
            `{"id":"N",${a.replace('"TXT",', '"TXT","priority":"0",')},"state":"yes"},{"hostname":"_acme-challenge.www","type":"TXT","destination":"${VALUE_B}"}`,
          ),
          logout,
          login,
          info,
          update(
            `{"id":"N",${a.replace('"TXT",', '"TXT","priority":"0",')},"deleterecord":true,"state":"yes"}`,
          ),
          logout,
        ]);
        for (const c of w.api.calls) assert.equal(c.headers['content-type'], 'application/json');
        assert.deepEqual(w.backend.values(RECORD), [VALUE_B]);
        await p.cleanup(RECORD, VALUE_B);
      });
    }

    if (name === 'scaleway') {
      it("sends the Scaleway SDK's requests: the record's name as the zone, add then delete by its fields", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const path = '/domain/v2beta1/dns-zones/_acme-challenge.www.example.com./records';
        const tail = '"return_all_records":false,"disallow_new_zone_creation":true,"serial":null}';
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path} ${c.body}`),
          [
            `PATCH ${path} {"changes":[{"add":{"records":[{"data":"\\"${VALUE_A}\\"","name":"${RECORD}","priority":0,"ttl":60,"type":"TXT","comment":"used by lego","id":""}]}}],${tail}`,
            `PATCH ${path} {"changes":[{"delete":{"id_fields":{"name":"${RECORD}","type":"TXT","data":"\\"${VALUE_A}\\"","ttl":null}}}],${tail}`,
          ],
        );
        for (const c of w.api.calls) {
          assert.equal(c.headers['x-auth-token'], 'scw-secret');
          assert.equal(c.headers['user-agent'], "Scaleway Lego's provider");
        }
      });

      it('reads SCALEWAY_API_TOKEN and the SCW_ spellings of the other variables, as lego does', async () => {
        const { SCW_SECRET_KEY: _k, ...rest } = w.env;
        w.api.calls.length = 0;
        const p = build(name, { ...rest, SCALEWAY_API_TOKEN: 'scw-secret', SCW_TTL: '30' });
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        // A TTL under 60 is raised to 60.
        assert.match(w.api.calls[0]?.body ?? '', /"ttl":60,/);
        w.api.calls.length = 0;
        await build(name, { ...w.env, SCW_TTL: '600' }).present(RECORD, VALUE_A);
        assert.match(w.api.calls[0]?.body ?? '', /"ttl":600,/);
        await build(name, w.env).cleanup(RECORD, VALUE_A);
      });
    }

    if (name === 'dnsimple') {
      it("sends dnsimple-go's requests: whoami before each call, the zone checked, the record by its relative name", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const id = w.api.calls.at(-1)?.path.split('/').pop();
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body}`),
          [
            'GET /v2/whoami ',
            'GET /v2/1010/zones/example.com ',
            'GET /v2/whoami ',
            `POST /v2/1010/zones/example.com/records {"type":"TXT","name":"_acme-challenge.www","content":"${VALUE_A}","ttl":120}\n`,
            'GET /v2/whoami ',
            'GET /v2/1010/zones/example.com ',
            'GET /v2/whoami ',
            'GET /v2/1010/zones/example.com/records?name=_acme-challenge.www&type=TXT ',
            'GET /v2/whoami ',
            `DELETE /v2/1010/zones/example.com/records/${id} `,
          ],
        );
        for (const c of w.api.calls) {
          assert.equal(c.headers.authorization, 'Bearer dnsimple-token');
          assert.equal(c.headers['content-type'], 'application/json');
        }
      });
    }

    if (name === 'cloudns') {
      it("sends lego's requests: credentials and parameters sorted in the query, the name servers waited for", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const auth = 'auth-id=4711&auth-password=cloudns-password';
        const id = w.api.calls.at(-1)?.query.get('record-id');
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path}?${c.query}`),
          [
            `GET /dns/get-zone-info.json?${auth}&domain-name=example.com`,
            `POST /dns/add-record.json?${auth}&domain-name=example.com&host=_acme-challenge.www&record=${VALUE_A}&record-type=TXT&ttl=60`,
            `GET /dns/update-status.json?${auth}&domain-name=example.com`,
            `GET /dns/update-status.json?${auth}&domain-name=example.com`,
            `GET /dns/get-zone-info.json?${auth}&domain-name=example.com`,
            `GET /dns/records.json?${auth}&domain-name=example.com&host=_acme-challenge.www&type=TXT`,
            `POST /dns/delete-record.json?${auth}&domain-name=example.com&record-id=${id}`,
          ],
        );
      });

      it('rounds the TTL up to one ClouDNS accepts, uses the sub-user id, and never shows the password', async () => {
        w.api.calls.length = 0;
        const { CLOUDNS_AUTH_ID: _a, ...rest } = w.env;
        const p = build(name, { ...rest, CLOUDNS_SUB_AUTH_ID: '4711', CLOUDNS_TTL: '301' });
        await p.present(RECORD, VALUE_A);
        assert.equal(w.api.calls[1]?.query.get('ttl'), '900');
        assert.equal(w.api.calls[1]?.query.get('sub-auth-id'), '4711');
        await p.cleanup(RECORD, VALUE_A);
        w.api.failNext(1, { status: 500, body: 'boom', contentType: 'text/plain' });
        await assert.rejects(p.present(RECORD, VALUE_A), (e: Error) => {
          assert.match(
            e.message,
            /^cloudns: GET http:\/\/127\.0\.0\.1:\d+\/dns\/get-zone-info\.json answered 500: boom$/,
          );
          return true;
        });
      });
    }

    if (name === 'namesilo') {
      it("sends nrdcg/namesilo's requests: the key, type and version with the sorted parameters", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const auth = 'key=silo-key&type=xml&version=1';
        const id = w.api.calls.at(-1)?.query.get('rrid');
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path}?${c.query}`),
          [
            `GET /api/dnsAddRecord?domain=example.com&${auth.replace('&type', `&rrdistance=0&rrhost=_acme-challenge.www&rrttl=3600&rrtype=TXT&rrvalue=${VALUE_A}&type`)}`,
            `GET /api/dnsListRecords?domain=example.com&${auth}`,
            `GET /api/dnsDeleteRecord?domain=example.com&key=silo-key&rrid=${id}&type=xml&version=1`,
          ],
        );
        // lego: a record that is not there is an error; the TTL must be in [3600, 2592000].
        await assert.rejects(p.cleanup(RECORD, VALUE_A), /namesilo: no TXT record to delete/);
        assert.throws(
          () => build(name, { ...w.env, NAMESILO_TTL: '300' }),
          /NAMESILO_TTL=300 must be at least 3600/,
        );
      });
    }

    if (name === 'bunny') {
      it("sends bunny-go's requests: the zones paged, the record put with its type number, ours deleted", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const id = w.api.calls.at(-1)?.path.split('/').pop();
        assert.deepEqual(
          w.api.calls.map(
            (c) =>
              `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body} ${c.headers['content-type']}`,
          ),
          [
            'GET /dnszone?page=1&per_page=1000  undefined',
            `PUT /dnszone/101/records {"Type":3,"Ttl":60,"Value":"${VALUE_A}","Name":"_acme-challenge.www"}\n application/json`,
            'GET /dnszone?page=1&per_page=1000  undefined',
            `DELETE /dnszone/101/records/${id}  application/json`,
          ],
        );
        for (const c of w.api.calls) assert.equal(c.headers.accesskey, 'bunny-key');
        await assert.rejects(
          p.cleanup(RECORD, VALUE_A),
          /bunny: could not find TXT record zone=101, subdomain=_acme-challenge\.www/,
        );
        assert.throws(() => build(name, { ...w.env, BUNNY_TTL: '30' }), /BUNNY_TTL=30 must be at least 60/);
      });
    }

    if (name === 'njalla') {
      it("sends lego's JSON-RPC calls: the domain as the name's last two labels, the record removed by its id", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const id = JSON.parse(w.api.calls.at(-1)?.body ?? '{}').params?.id;
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path} ${c.headers.authorization} ${c.body}`),
          [
            `POST /api/1/ Njalla njalla-token {"method":"add-record","params":{"content":"${VALUE_A}","domain":"example.com","name":"_acme-challenge.www","ttl":300,"type":"TXT"}}`,
            `POST /api/1/ Njalla njalla-token {"method":"remove-record","params":{"id":"${id}","domain":"example.com"}}`,
          ],
        );
      });
    }

    if (name === 'transip') {
      it("sends gotransip's requests: one signed token request, then the entry added and removed as a body", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const entry = `{"dnsEntry":{"name":"_acme-challenge.www","expire":10,"type":"TXT","content":"${VALUE_A}"}}`;
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path} ${c.path === '/v6/auth' ? '' : c.body}`),
          [
            'POST /v6/auth ',
            `POST /v6/domains/example.com/dns ${entry}`,
            'GET /v6/domains/example.com/dns ',
            `DELETE /v6/domains/example.com/dns ${entry}`,
          ],
        );
        const auth = JSON.parse(w.api.calls[0]?.body ?? '{}');
        assert.deepEqual(Object.keys(auth), [
          'login',
          'nonce',
          'label',
          'read_only',
          'expiration_time',
          'global_key',
        ]);
        assert.match(String(w.api.calls[0]?.headers.signature), /^[A-Za-z0-9%]+$/);
        assert.throws(
          () => build(name, { ...w.env, TRANSIP_PRIVATE_KEY_PATH: '/keys/missing.key' }),
          /cannot read TRANSIP_PRIVATE_KEY_PATH \(\/keys\/missing\.key\): ENOENT/,
        );
      });
    }

    if (name === 'dynu') {
      it("sends lego's requests: the root domain asked of Dynu, the records read, ours added then deleted", async () => {
        w.api.calls.length = 0;
        const p = build(name, w.env);
        await p.present(RECORD, VALUE_A);
        // Already there: nothing added.
        await p.present(RECORD, VALUE_A);
        await p.cleanup(RECORD, VALUE_A);
        const host = '_acme-challenge.www.example.com';
        const id = w.api.calls.at(-1)?.path.split('/').pop();
        assert.deepEqual(
          w.api.calls.map((c) => `${c.method} ${c.path}${c.query.size > 0 ? `?${c.query}` : ''} ${c.body}`),
          [
            `GET /v2/dns/getroot/${host} `,
            `GET /v2/dns/record/${host}?recordType=TXT `,
            `POST /v2/dns/98765/record {"recordType":"TXT","domainName":"example.com","nodeName":"_acme-challenge.www","hostname":"${host}","state":true,"textData":"${VALUE_A}","ttl":300}`,
            `GET /v2/dns/getroot/${host} `,
            `GET /v2/dns/record/${host}?recordType=TXT `,
            `GET /v2/dns/getroot/${host} `,
            `GET /v2/dns/record/${host}?recordType=TXT `,
            `DELETE /v2/dns/98765/record/${id} `,
          ],
        );
        for (const c of w.api.calls) assert.equal(c.headers['api-key'], 'dynu-key');
      });
    }

    it('refuses to start without its credentials, naming the variables', () => {
      const urlOnly = Object.fromEntries(Object.entries(w.env).filter(([k]) => /URL/.test(k)));
      assert.throws(
        () => build(name, urlOnly),
        (e: Error) => e instanceof Dns01ConfigError && w.missing.test(e.message),
      );
    });
  });
}

import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import { selfSignedCertificate } from '../x509/index.ts';
import { AcmeStorage, AcmeStorageError } from './acme-storage.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'acme-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const ecPem = (): string =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();

describe('AcmeStorage', () => {
  it('reads back what it saved, in a file of mode 0600, leaving no temporary file', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'sub', 'acme.json');
    const s = new AcmeStorage(file, silentLogger);
    const kc = selfSignedCertificate(['a.example.com', 'b.example.com']);
    const account = {
      email: 'ops@example.com',
      keyPem: ecPem(),
      registration: { uri: 'https://ca/acct/1', body: { status: 'valid' } },
    };
    s.save('le', {
      account,
      certificates: [{ domains: ['a.example.com', 'b.example.com'], ...kc, store: 'default' }],
    });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['acme.json']);
    const back = new AcmeStorage(file, silentLogger).load('le');
    assert.deepEqual(back, {
      // Traefik's KeyType, read back as written.
      account: { ...account, keyType: 'EC256' },
      certificates: [
        {
          domains: ['a.example.com', 'b.example.com'],
          keyPem: kc.keyPem,
          certPem: kc.certPem,
          store: 'default',
        },
      ],
    });
  });

  it("writes Traefik's acme.json layout and keeps other resolvers' sections", (t) => {
    const file = join(tempDir(t), 'acme.json');
    writeFileSync(file, JSON.stringify({ other: { Account: null, Certificates: [] } }), { mode: 0o600 });
    const kc = selfSignedCertificate(['a.example.com']);
    new AcmeStorage(file, silentLogger).save('le', {
      certificates: [{ domains: ['a.example.com'], ...kc, store: 'default' }],
    });
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<
      string,
      { Certificates: Record<string, unknown>[] }
    >;
    assert.deepEqual(Object.keys(raw).sort(), ['le', 'other']);
    const c = raw.le?.Certificates[0];
    assert.deepEqual(c?.domain, { main: 'a.example.com' });
    assert.equal(Buffer.from(String(c?.certificate), 'base64').toString(), kc.certPem);
    assert.equal(c?.Store, 'default');
  });

  it('loads a file written by Traefik (RSA account key in PKCS#1 DER, PEMs in base64)', (t) => {
    const file = join(tempDir(t), 'acme.json');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kc = selfSignedCertificate(['x.example.com', 'y.example.com']);
    const traefik = {
      le: {
        Account: {
          Email: 'ops@example.com',
          Registration: {
            body: { status: 'valid', contact: ['mailto:ops@example.com'] },
            uri: 'https://ca/acct/9',
          },
          PrivateKey: privateKey.export({ format: 'der', type: 'pkcs1' }).toString('base64'),
          KeyType: '4096',
        },
        Certificates: [
          {
            domain: { main: 'x.example.com', sans: ['y.example.com'] },
            certificate: Buffer.from(kc.certPem).toString('base64'),
            key: Buffer.from(kc.keyPem).toString('base64'),
            Store: 'default',
          },
        ],
      },
    };
    writeFileSync(file, JSON.stringify(traefik), { mode: 0o600 });
    const data = new AcmeStorage(file, silentLogger).load('le');
    assert.equal(data.account?.email, 'ops@example.com');
    assert.equal(data.account?.registration?.uri, 'https://ca/acct/9');
    assert.match(data.account?.keyPem ?? '', /BEGIN PRIVATE KEY/);
    assert.deepEqual(data.certificates[0]?.domains, ['x.example.com', 'y.example.com']);
    assert.equal(data.certificates[0]?.certPem, kc.certPem);
    // Written back, the account is still one Traefik reads: its RSA key in PKCS#1 DER as it was
    // (Go's ParsePKCS1PrivateKey takes nothing else), its KeyType kept.
    new AcmeStorage(file, silentLogger).save('le', data);
    const raw = JSON.parse(readFileSync(file, 'utf8')) as {
      le: { Account: { PrivateKey: string; KeyType: string; Email: string } };
    };
    assert.equal(raw.le.Account.PrivateKey, traefik.le.Account.PrivateKey);
    assert.equal(raw.le.Account.KeyType, '4096');
    assert.equal(raw.le.Account.Email, 'ops@example.com');
    const der = Buffer.from(raw.le.Account.PrivateKey, 'base64');
    assert.equal(createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }).asymmetricKeyType, 'rsa');
  });

  it('starts empty when the file does not exist', (t) => {
    const s = new AcmeStorage(join(tempDir(t), 'none.json'), silentLogger);
    assert.deepEqual(s.load('le'), { certificates: [] });
  });

  // Traefik's CheckFile (pkg/provider/acme/local_store_unix.go): the resolver is then skipped.
  it("check refuses a file readable by others, in Traefik's words, and leaves it as it is", (t) => {
    const file = join(tempDir(t), 'acme.json');
    writeFileSync(file, '{}');
    chmodSync(file, 0o644);
    assert.throws(
      () => new AcmeStorage(file, silentLogger).check(),
      (e: Error) =>
        e instanceof AcmeStorageError &&
        e.message === `permissions 644 for ${file} are too open, please use 600`,
    );
    assert.equal(statSync(file).mode & 0o777, 0o644);
  });

  it('check creates a missing file empty with mode 0600, and refuses a corrupt one', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'new', 'acme.json');
    new AcmeStorage(file, silentLogger).check();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8'), '');
    new AcmeStorage(file, silentLogger).check();
    writeFileSync(file, '{ not json');
    assert.throws(() => new AcmeStorage(file, silentLogger).check(), AcmeStorageError);
    assert.equal(readFileSync(file, 'utf8'), '{ not json');
  });

  it('refuses to read a corrupt file and moves it aside on the next save instead of losing it', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'acme.json');
    writeFileSync(file, '{ not json', { mode: 0o600 });
    const s = new AcmeStorage(file, silentLogger);
    assert.throws(() => s.load('le'), AcmeStorageError);
    s.save('le', { certificates: [] });
    const aside = readdirSync(dir).filter((n) => n.startsWith('acme.json.corrupt-'));
    assert.equal(aside.length, 1);
    assert.equal(readFileSync(join(dir, aside[0] ?? ''), 'utf8'), '{ not json');
    assert.deepEqual(s.load('le'), { certificates: [] });
  });
});

import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { durationString, parseDuration } from './go-time.ts';
import { renderRendered, renderTemplate, TemplateError } from './index.ts';
import { emptyHostTable } from './sprig-extra.ts';

const render = (t: string) => renderTemplate(t, {}).text;
const fails = (t: string, message: RegExp) =>
  assert.throws(
    () => render(t),
    (e: unknown) => e instanceof TemplateError && message.test(e.message),
    t,
  );

/** A time every layout test formats: Go's time/format_test.go reference, 2009-02-04 21:00:57.0123456 PST. */
const PST = '(mustToDate "2006-01-02T15:04:05.999999999Z07:00" "2009-02-05T05:00:57.0123456Z")';
const inLA = (layout: string) =>
  render(`{{ dateInZone ${JSON.stringify(layout)} ${PST} "America/Los_Angeles" }}`);

describe("sprig v3's date functions (Masterminds/sprig date.go, date_test.go)", () => {
  it("formats with Go's layouts (cases of Go's time/format_test.go formatTests)", () => {
    const cases: [string, string][] = [
      ['Mon Jan _2 15:04:05 2006', 'Wed Feb  4 21:00:57 2009'], // ANSIC
      ['Mon Jan _2 15:04:05 MST 2006', 'Wed Feb  4 21:00:57 PST 2009'], // UnixDate
      ['Mon Jan 02 15:04:05 -0700 2006', 'Wed Feb 04 21:00:57 -0800 2009'], // RubyDate
      ['02 Jan 06 15:04 MST', '04 Feb 09 21:00 PST'], // RFC822
      ['Monday, 02-Jan-06 15:04:05 MST', 'Wednesday, 04-Feb-09 21:00:57 PST'], // RFC850
      ['Mon, 02 Jan 2006 15:04:05 MST', 'Wed, 04 Feb 2009 21:00:57 PST'], // RFC1123
      ['Mon, 02 Jan 2006 15:04:05 -0700', 'Wed, 04 Feb 2009 21:00:57 -0800'], // RFC1123Z
      ['2006-01-02T15:04:05Z07:00', '2009-02-04T21:00:57-08:00'], // RFC3339
      ['2006-01-02T15:04:05.999999999Z07:00', '2009-02-04T21:00:57.0123456-08:00'], // RFC3339Nano
      ['3:04PM', '9:00PM'], // Kitchen
      ['3pm', '9pm'],
      ['3PM', '9PM'],
      ['06 01 02', '09 02 04'],
      ['Hi Janet, the Month is January', 'Hi Janet, the Month is February'],
      ['Jan _2 15:04:05', 'Feb  4 21:00:57'], // Stamp
      ['Jan _2 15:04:05.000', 'Feb  4 21:00:57.012'], // StampMilli
      ['Jan _2 15:04:05.000000', 'Feb  4 21:00:57.012345'], // StampMicro
      ['Jan _2 15:04:05.000000000', 'Feb  4 21:00:57.012345600'], // StampNano
      ['Jan  2 002 __2 2', 'Feb  4 035  35 4'],
      ['2006 6 06 _6 __6 ___6', '2009 6 09 _6 __6 ___6'],
      ['Jan January 1 01 _1', 'Feb February 2 02 _2'],
      ['2 02 _2 __2', '4 04  4  35'],
      ['Mon Monday', 'Wed Wednesday'],
      ['15 3 03 _3', '21 9 09 _9'],
      ['4 04 _4', '0 00 _0'],
      ['5 05 _5', '57 57 _57'],
    ];
    for (const [layout, want] of cases) assert.equal(inLA(layout), want, layout);
    // A zone on summer time: its daylight name and offset.
    assert.equal(render('{{ dateInZone "MST -0700" 1560458379 "Europe/Paris" }}'), 'CEST +0200');
    assert.equal(render('{{ dateInZone "Z07:00 Z0700" 1560458379 "UTC" }}'), 'Z Z');
  });

  it('runs the cases of sprig date_test.go', () => {
    assert.equal(render('{{toDate "2006-01-02" "2017-12-31" | date "02/01/2006"}}'), '31/12/2017'); // TestToDate
    // TestUnixEpoch: time.Parse("02 Jan 06 15:04:05 MST", "13 Jun 19 20:39:39 GMT")
    assert.equal(
      render('{{ mustToDate "02 Jan 06 15:04:05 MST" "13 Jun 19 20:39:39 GMT" | unixEpoch }}'),
      '1560458379',
    );
    // TestDateInZone: a Unix timestamp, and an unknown zone read as UTC
    assert.equal(
      render('{{ date_in_zone "02 Jan 06 15:04 -0700" 1560458379 "UTC" }}'),
      '13 Jun 19 20:39 +0000',
    );
    assert.equal(
      render('{{ date_in_zone "02 Jan 06 15:04 -0700" 1560458379 "foobar" }}'),
      '13 Jun 19 20:39 +0000',
    );
    // TestDurationRound (sprig v3.3's month is `mo`)
    assert.equal(render('{{ durationRound "2h5s" }}'), '2h');
    assert.equal(render('{{ durationRound "24h5s" }}'), '1d');
    assert.equal(render('{{ durationRound "2400h5s" }}'), '3mo');
    // TestAgo: a time 125 s ago, from the same clock
    assert.equal(render('{{ ago (now | dateModify "-125s") }}'), '2m5s');
    assert.equal(render('{{ ago (now | dateModify "5s") }}'), '-5s');
    assert.equal(render('{{ htmlDateInZone 0 "UTC" }}'), '1970-01-01');
  });

  it('prints now as Go prints a time.Time with its monotonic reading; modifies and fails as sprig', () => {
    assert.match(
      render('{{ now }}'),
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+ m=\+\d+\.\d{9}$/,
    );
    assert.match(render('{{ now | date "2006" }}'), /^\d{4}$/);
    assert.equal(
      render(
        '{{ dateInZone "2006-01-02 15:04" (mustToDate "2006-01-02" "2017-12-31" | dateModify "1.5h") "Local" }}',
      ),
      '2017-12-31 01:30',
    );
    assert.equal(render('{{ toDate "2006-01-02" "nope" }}'), '0001-01-01 00:00:00 +0000 UTC');
    assert.equal(render('{{ (toDate "2006-01-02" "2017-12-31").Year }}'), '2017');
    assert.equal(render('{{ dateModify "bad" (toDate "2006" "2017") | date "2006" }}'), '2017');
    fails('{{ mustDateModify "bad" now }}', /^error calling mustDateModify: time: invalid duration "bad"$/);
    fails(
      '{{ mustToDate "2006-01-02" "x" }}',
      /^error calling mustToDate: parsing time "x" as "2006-01-02": cannot parse "x" as "2006"$/,
    );
    fails('{{ mustToDate "2006-01-02" "2017-13-01" }}', /parsing time "2017-13-01": month out of range$/);
    fails('{{ mustToDate "2006-01-02" "2017-02-30" }}', /parsing time "2017-02-30": day out of range$/);
    fails('{{ dateModify "1h" "not a time" }}', /expected time\.Time/);
    assert.equal(render('{{ duration "90" }} {{ duration 3 }} {{ duration "-3700" }}'), '1m30s 3s -1h1m40s');
  });

  it("writes Go's Duration.String and reads ParseDuration (time/time_test.go cases)", () => {
    const cases: [bigint, string][] = [
      [0n, '0s'],
      [1n, '1ns'],
      [1100n, '1.1µs'],
      [2200000n, '2.2ms'],
      [3300000000n, '3.3s'],
      [245000000000n, '4m5s'],
      [245001000000n, '4m5.001s'],
      [18367001000000n, '5h6m7.001s'],
      [480000000001n, '8m0.000000001s'],
      [(1n << 63n) - 1n, '2562047h47m16.854775807s'],
      [-(1n << 63n), '-2562047h47m16.854775808s'],
    ];
    for (const [d, s] of cases) assert.equal(durationString(d), s);
    assert.equal(parseDuration('1.5h'), 5400000000000n);
    assert.equal(parseDuration('-1m30s'), -90000000000n);
    assert.equal(parseDuration('1µs'), 1000n);
    assert.throws(() => parseDuration('1'), /time: missing unit in duration "1"/);
    assert.throws(() => parseDuration('1d'), /time: unknown unit "d" in duration "1d"/);
  });
});

describe("sprig v3's semver functions (sprig semver_test.go, Masterminds/semver v3)", () => {
  it('compares and reads versions', () => {
    assert.equal(render('{{ semverCompare "1.2.3" "1.2.3" }}'), 'true');
    assert.equal(render('{{ semverCompare "^1.2.0" "1.2.3" }}'), 'true');
    assert.equal(render('{{ semverCompare "^1.2.0" "2.2.3" }}'), 'false');
    fails(
      '{{ semverCompare "badConstraint" "1.2.3" }}',
      /^error calling semverCompare: improper constraint: badConstraint$/,
    );
    fails(
      '{{ semverCompare "1.2.0" "badVersion" }}',
      /^error calling semverCompare: Invalid Semantic Version$/,
    );
    assert.equal(render('{{ $s := semver "1.2.3-beta.1+c0ff33" }}{{ $s.Prerelease }}'), 'beta.1');
    assert.equal(render('{{ $s := semver "1.2.3-beta.1+c0ff33" }}{{ $s.Major}}'), '1');
    assert.equal(render('{{ semver "1.2.3" | (semver "1.2.3").Compare }}'), '0');
    assert.equal(render('{{ semver "1.2.3" | (semver "1.3.3").Compare }}'), '1');
    assert.equal(render('{{ semver "1.4.3" | (semver "1.2.3").Compare }}'), '-1');
    assert.equal(render('{{ semver "v1.2" }}'), '1.2.0');
  });

  it("checks Masterminds/semver v3's constraint forms (its constraints_test.go cases)", () => {
    const cases: [string, string, boolean][] = [
      ['>= 1.1', '4.1.0', true],
      ['< 1.1', '1.0.0', true],
      ['~1.2.3', '1.2.9', true],
      ['~1.2.3', '1.3.0', false],
      ['~1', '1.9.9', true],
      ['^0.2.3', '0.2.9', true],
      ['^0.2.3', '0.3.0', false],
      ['^0.0.3', '0.0.4', false],
      ['1.2.x', '1.2.99', true],
      ['1.2.x', '1.3.0', false],
      ['*', '4.1.0', true],
      ['!=1.2.3', '1.2.4', true],
      ['>1.2', '1.2.9', false],
      ['>1.2', '1.3.0', true],
      ['<=1.2', '1.2.9', true],
      ['1.1 - 2', '1.9.0', true],
      ['1.1 - 2', '3.0.0', false],
      ['>=1.1, <2', '1.5.0', true],
      ['<1 || >=3', '2.0.0', false],
      ['<1 || >=3', '3.1.0', true],
      ['>=1.0.0', '1.1.0-beta', false],
      ['>=1.0.0-alpha', '1.1.0-beta', true],
      ['>1.0.0-alpha.1', '1.0.0-alpha.beta', true],
    ];
    for (const [c, v, want] of cases)
      assert.equal(render(`{{ semverCompare "${c}" "${v}" }}`), String(want), `${c} ${v}`);
  });
});

describe("the rest of sprig v3's TxtFuncMap", () => {
  it('runs the cases of sprig strings_test.go (TestGoutils, TestBase32EncodeDecode, TestRandomString)', () => {
    assert.equal(render('{{abbrev 5 "hello world"}}'), 'he...');
    assert.equal(render('{{abbrevboth 5 10 "1234 5678 9123"}}'), '...5678...');
    assert.equal(render('{{untitle "First Try"}}'), 'first try');
    assert.equal(render('{{initials "First Try"}}'), 'FT');
    assert.equal(render('{{wrap 5 "Hello World"}}'), 'Hello\nWorld');
    assert.equal(render('{{wrapWith 5 "\\t" "Hello World"}}'), 'Hello\tWorld');
    assert.equal(render('{{b32enc "coffee"}}'), 'MNXWMZTFMU======');
    assert.equal(render('{{b32dec "MNXWMZTFMU======"}}'), 'coffee');
    assert.equal([...render('{{randAscii 5}}')].length, 5);
    assert.equal(render('{{ swapcase "Hello World" }}'), 'hELLO wORLD');
    assert.equal(
      render('{{ snakecase "FirstName" }} {{ kebabcase "FirstName" }} {{ camelcase "http_server" }}'),
      'first_name first-name HttpServer',
    );
    assert.equal(render('{{ toDecimal "0777" }}'), '511');
    assert.equal(render('{{ hello }}'), 'Hello!');
  });

  it('runs lists, dicts, defaults, reflection, regexes and URLs as sprig does', () => {
    assert.equal(render('{{ list 1 2 3 4 5 | chunk 2 }}'), '[[1 2] [3 4] [5]]');
    assert.equal(
      render('{{ $d := dict "a" (dict "b" 1) }}{{ dig "a" "b" "none" $d }} {{ dig "a" "c" "none" $d }}'),
      '1 none',
    );
    assert.equal(render('{{ $d := dict "a" 1 }}{{ merge $d (dict "a" 2 "b" 3) }}'), 'map[a:1 b:3]');
    assert.equal(render('{{ $d := dict "a" 1 }}{{ mergeOverwrite $d (dict "a" 2 "b" 3) }}'), 'map[a:2 b:3]');
    assert.equal(render('{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}'), '[1 3]');
    assert.equal(render('{{ values (dict "b" 2 "a" 1) }}'), '[1 2]');
    assert.equal(render('{{ all 1 "a" true }} {{ any 0 "" 1 }}'), 'true true');
    assert.equal(
      render('{{ typeOf "a" }} {{ typeOf 1 }} {{ kindOf (list) }} {{ kindIs "map" (dict) }}'),
      'string int slice true',
    );
    assert.equal(render('{{ deepEqual (list 1 2) (list 1 2) }}'), 'true');
    assert.equal(render('{{ (fromJson "{\\"a\\": [1, 2]}").a }}'), '[1 2]');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Go's ${1} is the text under test
    assert.equal(render('{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}'), '-${1}-${1}-');
    assert.equal(
      render('{{ (urlParse "https://u:p@example.com:8443/a%20b?q=1#f").hostname }}'),
      'example.com',
    );
    assert.equal(render('{{ (urlParse "https://u:p@example.com:8443/a%20b?q=1#f").path }}'), '/a b');
    assert.equal(
      render('{{ urlJoin (dict "scheme" "https" "host" "example.com" "path" "/a b" "query" "q=1") }}'),
      'https://example.com/a%20b?q=1',
    );
    assert.equal(render('{{ decryptAES "secret" (encryptAES "secret" "plain text") }}'), 'plain text');
    fails('{{ required "x" "y" }}', /function "required" not defined/);
    fails('{{ call nil }}', /^error calling call: call of nil$/);
  });

  it('derives passwords and generates keys as sprig crypto_test.go expects', () => {
    const expectations: [string, string][] = [
      ['{{derivePassword 1 "long" "password" "user" "example.com"}}', 'ZedaFaxcZaso9*'],
      ['{{derivePassword 2 "long" "password" "user" "example.com"}}', 'Fovi2@JifpTupx'],
      ['{{derivePassword 1 "maximum" "password" "user" "example.com"}}', 'pf4zS1LjCg&LjhsZ7T2~'],
      ['{{derivePassword 1 "medium" "password" "user" "example.com"}}', 'ZedJuz8$'],
      ['{{derivePassword 1 "basic" "password" "user" "example.com"}}', 'pIS54PLs'],
      ['{{derivePassword 1 "short" "password" "user" "example.com"}}', 'Zed5'],
      ['{{derivePassword 1 "pin" "password" "user" "example.com"}}', '6685'],
    ];
    for (const [tpl, want] of expectations) assert.equal(render(tpl), want, tpl);
    for (const [type, block, kind] of [
      ['dsa', 'DSA PRIVATE KEY', 'dsa'],
      ['ecdsa', 'EC PRIVATE KEY', 'ec'],
      ['ed25519', 'PRIVATE KEY', 'ed25519'],
    ] as const) {
      const key = render(`{{genPrivateKey "${type}"}}`);
      assert.match(key, new RegExp(`^-----BEGIN ${block}-----\n`));
      assert.equal(createPrivateKey(key).asymmetricKeyType, kind);
    }
    assert.equal(render('{{genPrivateKey "bad"}}'), 'Unknown type bad');
  });

  it('generates certificates as sprig crypto_test.go checks them (TestGenCA, TestGenSelfSignedCert, TestGenSignedCert, TestBuildCustomCert)', () => {
    const ca = new X509Certificate(render('{{- $ca := genCA "foo-ca" 365 }}{{ $ca.Cert }}'));
    assert.equal(ca.subject, 'CN=foo-ca');
    assert.equal(ca.ca, true);
    assert.ok(ca.verify(ca.publicKey));
    const self = new X509Certificate(
      render(
        '{{- $c := genSelfSignedCert "foo.com" (list "10.0.0.1" "10.0.0.2") (list "bar.com" "bat.com") 365 }}{{ $c.Cert }}',
      ),
    );
    assert.equal(self.subject, 'CN=foo.com');
    assert.equal(self.ca, false);
    assert.equal(self.subjectAltName, 'DNS:bar.com, DNS:bat.com, IP Address:10.0.0.1, IP Address:10.0.0.2');
    const both = render(
      '{{- $ca := genCA "foo" 365 }}{{- $c := genSignedCert "foo.com" (list "10.0.0.1" "::1") (list "bar.com") 365 $ca }}{{ $ca.Cert }}|{{ $c.Cert }}|{{ $c.Key }}',
    );
    const [caPem, certPem, keyPem] = both.split('|') as [string, string, string];
    const signer = new X509Certificate(caPem);
    const signed = new X509Certificate(certPem);
    assert.equal(signed.issuer, 'CN=foo');
    assert.ok(signed.verify(signer.publicKey));
    assert.ok(signed.checkIssued(signer));
    assert.equal(signed.subjectAltName, 'DNS:bar.com, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.ok(signed.checkPrivateKey(createPrivateKey(keyPem)));
    const b64 = (x: string) => Buffer.from(x).toString('base64');
    const key = render('{{- $ca := genCA "x" 1 }}{{ $ca.Key }}');
    const cert = render(`{{- $ca := genCAWithKey "example.com" 365 ${JSON.stringify(key)} }}{{ $ca.Cert }}`);
    assert.ok(new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)));
    assert.equal(render(`{{- $ca := buildCustomCert "${b64(cert)}" "${b64(key)}" }}{{ $ca.Cert }}`), cert);
    fails(`{{ buildCustomCert "${b64('fail')}" "${b64(key)}" }}`, /unable to decode certificate/);
  });

  it("writes the alternative IP addresses as Go's x509 does: an IPv4-mapped IPv6 one in 4 octets (To4)", () => {
    const c = new X509Certificate(
      render(
        '{{- $c := genSelfSignedCert "*.foo.com" (list "::ffff:1.2.3.4" "fe80::1") (list) 1 }}{{ $c.Cert }}',
      ),
    );
    assert.equal(c.subjectAltName, 'IP Address:1.2.3.4, IP Address:FE80:0:0:0:0:0:0:1');
    assert.equal(c.subject, 'CN=*.foo.com', 'a CN that is no PrintableString is a UTF8String');
    fails('{{ genSelfSignedCert "x" (list "1.2.3") (list) 1 }}', /error parsing ip: 1\.2\.3/);
  });

  it('looks a name up with getHostByName when rendered, and fails as sprig does for a name without address', () => {
    assert.match(render('{{ getHostByName "localhost" }}'), /^(127\.0\.0\.1|::1)$/);
    const hosts = emptyHostTable();
    hosts.resolved.set('gone.example', []);
    assert.throws(
      () => renderRendered('{{ getHostByName "gone.example" }}', {}, true, hosts, null),
      /error calling getHostByName: invalid argument to Intn/,
    );
  });
});

describe("Go's text/template limits", () => {
  it('refuses recursion past 100000 template calls and 10000 open parentheses, as Go does', () => {
    fails(
      '{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}',
      /^exceeded maximum template depth \(100000\)$/,
    );
    assert.equal(render(`{{ ${'('.repeat(10000)}1${')'.repeat(10000)} }}`), '1');
    fails(`{{ ${'('.repeat(10001)}1${')'.repeat(10001)} }}`, /^max expression depth exceeded$/);
    // Deeper than this thread's stack (Go's goroutine stack grows): rendered all the same.
    assert.equal(render(`${'{{if true}}'.repeat(20000)}x${'{{end}}'.repeat(20000)}`), 'x');
  });
});

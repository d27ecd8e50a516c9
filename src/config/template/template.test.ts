import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bcryptjs from 'bcryptjs';
import { parseDynamic } from '../dynamic/parse.ts';
import { formatIssue } from '../issues.ts';
import { renderTemplate, renderTemplateWith, TemplateError } from './index.ts';

const env = { DOMAIN: 'example.com', HOSTS: 'a,b,c', EMPTY: '' };
const render = (t: string) => renderTemplate(t, env).text;

describe('Go templates (text/template with sprig)', () => {
  it('evaluates actions, pipelines, variables, if/else if/else, with, range and trimming', () => {
    assert.equal(render('{{ env "DOMAIN" }}'), 'example.com');
    assert.equal(render('{{ env "NOPE" | default "fallback" | upper }}'), 'FALLBACK');
    assert.equal(render('{{ $d := env "DOMAIN" }}{{ $d }}!'), 'example.com!');
    assert.equal(render('{{ if eq (env "EMPTY") "" }}none{{ else if true }}x{{ else }}y{{ end }}'), 'none');
    assert.equal(render('{{ if env "DOMAIN" }}set{{ else }}unset{{ end }}'), 'set');
    assert.equal(render('{{ with env "DOMAIN" }}<{{ . }}>{{ end }}'), '<example.com>');
    assert.equal(
      render('{{ range $i, $h := split (env "HOSTS") "," }}{{ $i }}={{ $h }} {{ end }}'),
      '0=a 1=b 2=c ',
    );
    assert.equal(render('{{ range until 3 }}{{ . }}{{ else }}none{{ end }}'), '012');
    assert.equal(render('{{ range list }}{{ . }}{{ else }}none{{ end }}'), 'none');
    assert.equal(render('{{ range $k, $v := dict "b" 2 "a" 1 }}{{ $k }}{{ $v }}{{ end }}'), 'a1b2');
    assert.equal(render('a  {{- " b " -}}  c'), 'a b c');
    assert.equal(render('{{/* a comment */}}x'), 'x');
    assert.equal(render('{{ range until 5 }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}'), '012');
  });

  // Go's text/template: define at the top level (wherever it stands, parsed before the run),
  // template with a dot of its own and no caller variables, block = define + template.
  it('runs named templates: define, template with a pipeline as dot, block', () => {
    assert.equal(
      render('{{ define "r" }}[{{ . }}]{{ end }}a{{ template "r" "x" }}{{ template "r" }}b'),
      'a[x][<no value>]b',
    );
    assert.equal(
      render('{{ template "later" env "DOMAIN" }}{{ define "later" }}<{{ $ }}>{{ end }}'),
      '<example.com>',
    );
    assert.equal(render('{{ block "b" (list 1 2) }}{{ range . }}{{ . }}{{ end }}{{ end }}'), '12');
    // A later non-empty definition replaces the block's, as Go's associate does.
    assert.equal(render('{{ block "b" 1 }}one{{ end }}{{ define "b" }}two{{ end }}'), 'two');
    assert.throws(
      () => render('{{ $v := 1 }}{{ define "t" }}{{ $v }}{{ end }}{{ template "t" }}'),
      /undefined variable: \$v/,
    );
  });

  it('has the sprig functions real files use, and Traefik’s normalize and split', () => {
    assert.equal(render('{{ "a" | quote }} {{ squote "b" }}'), '"a" \'b\'');
    assert.equal(
      render('{{ trimPrefix "www." "www.x.test" }} {{ trimSuffix "/" "p/" }} {{ replace "." "-" "a.b" }}'),
      'x.test p a-b',
    );
    assert.equal(render('{{ join "," (list 1 2) }} {{ len "abc" }} {{ index (list "x" "y") 1 }}'), '1,2 3 y');
    assert.equal(
      render('{{ printf "%s:%d" "h" 80 }} {{ add 1 2 }} {{ sub 5 2 }} {{ atoi "7" }}'),
      'h:80 3 3 7',
    );
    assert.equal(render('{{ normalize "/my_app.1" }} {{ lower "AB" }} {{ title "a b" }}'), 'my-app-1 ab A B');
    assert.equal(
      render('{{ ternary "yes" "no" true }} {{ coalesce "" "z" }} {{ empty "" }} {{ b64enc "hi" }}'),
      'yes z true aGk=',
    );
    assert.equal(
      render('{{ hasPrefix "ex" (env "DOMAIN") }} {{ contains "amp" "example" }} {{ repeat 2 "ab" }}'),
      'true true abab',
    );
    // Go replacement syntax ($1 / ${1}); a plain string on purpose.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Go replacement, not a JS template
    assert.equal(render('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}'), '-W-xxW-');
  });

  // The rest of sprig.TxtFuncMap that needs no clock, network or bcrypt, and text/template's
  // html and js (Traefik's file.go CreateConfiguration passes sprig.TxtFuncMap()).
  it('has more of sprig: lists, dicts, regexps, hashes, paths, floats, JSON as Go writes it', () => {
    assert.equal(
      render('{{ rest (list 1 2 3) }} {{ initial (list 1 2 3) }} {{ reverse (list 1 2) }}'),
      '[2 3] [1 2] [2 1]',
    );
    assert.equal(
      render('{{ compact (list "a" "" "b") }} {{ without (list 1 2 3) 2 }} {{ prepend (list 2) 1 }}'),
      '[a b] [1 3] [1 2]',
    );
    assert.equal(
      render('{{ concat (list 1) (list 2 3) }} {{ sortAlpha (list "b" "a") }} {{ slice (list 1 2 3) 1 2 }}'),
      '[1 2 3] [a b] [2]',
    );
    assert.equal(
      render(
        '{{ (splitn "." 2 "a.b.c")._1 }} {{ pick (dict "a" 1 "b" 2) "a" }} {{ omit (dict "a" 1 "b" 2) "a" }}',
      ),
      'b.c map[a:1] map[b:2]',
    );
    assert.equal(
      render(
        '{{ regexFind "[0-9]+" "ab12cd34" }} {{ regexFindAll "[0-9]" "a1b2c3" 2 }} {{ regexSplit "," "a,b,c" -1 }}',
      ),
      '12 [1 2] [a b c]',
    );
    assert.equal(
      render('{{ regexQuoteMeta "a.b*" }} {{ sha1sum "hi" }} {{ adler32sum "hi" }}'),
      'a\\.b\\* c22b5f9178342609428d6f51b2c5af4c0bde6a42 20644050',
    );
    assert.equal(
      render(
        '{{ base "/a/b/" }} {{ dir "/a/b" }} {{ ext "x.yml" }} {{ clean "a//b/../c/" }} {{ isAbs "/x" }}',
      ),
      'b /a .yml a/c true',
    );
    assert.equal(
      render(
        '{{ addf 1.5 1 }} {{ divf 7 2 }} {{ floor 1.7 }} {{ ceil 1.2 }} {{ round 2.345 2 }} {{ round -2.341 2 }}',
      ),
      '2.5 3.5 1 2 2.35 -2.35',
    );
    assert.equal(
      render('{{ plural "one" "many" 2 }} {{ len (randAlphaNum 12) }} {{ len uuidv4 }}'),
      'many 12 36',
    );
    assert.equal(render('{{ toJson (dict "b" "<x>" "a" 1) }}'), '{"a":1,"b":"\\u003cx\\u003e"}');
    assert.equal(
      render('{{ html "<a href=\'x\'>" }} {{ js "it\'s <b>" }}'),
      "&lt;a href=&#39;x&#39;&gt; it\\'s \\u003Cb\\u003E",
    );
    assert.throws(() => render('{{ fail "stop here" }}'), /error calling fail: stop here/);
    // sprig's htpasswd and bcrypt: Go's bcrypt at cost 10, `$2a$`, which basicAuth reads back.
    const line = render('{{ htpasswd "admin" "s3cret" }}');
    assert.match(line, /^admin:\$2a\$10\$[./A-Za-z0-9]{53}$/);
    assert.ok(bcryptjs.compareSync('s3cret', line.slice('admin:'.length)));
    assert.equal(render('{{ htpasswd "a:b" "x" }}'), 'invalid username: a:b');
    assert.match(render(`{{ bcrypt "${'x'.repeat(73)}" }}`), /password length exceeds 72 bytes/);
  });

  // Traefik's file provider replaces sprig's split by strings.Split; a label provider's defaultRule
  // (MakeDefaultRuleTemplate) keeps sprig's, which makes a dict of _0, _1…
  it('reads split as Traefik does: strings.Split in files, sprig’s dict in a defaultRule', () => {
    assert.equal(render('{{ index (split "a.b" ".") 1 }}'), 'b');
    assert.equal(
      renderTemplateWith('Host(`{{ (split "." .Name)._0 }}.test`)', { Name: 'web.stack' }),
      'Host(`web.test`)',
    );
  });

  it('refuses an unknown function by name, and reports errors with their source offset', () => {
    assert.throws(
      () => renderTemplate('x\n{{ frobnicate 1 }}', env),
      (e: unknown) => {
        assert.ok(e instanceof TemplateError);
        assert.equal(e.message, 'function "frobnicate" not defined');
        assert.equal(e.offset, 5);
        return true;
      },
    );
    assert.throws(() => renderTemplate('{{ if true }}x', env), /missing \{\{end\}\}/);
    assert.throws(
      () => renderTemplate('{{ if true }}{{ define "x" }}{{ end }}{{ end }}', env),
      /unexpected <define>/,
    );
    assert.throws(() => renderTemplate('{{ template "nope" }}', env), /template "nope" not defined/);
    assert.throws(
      () => renderTemplate('{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}', env),
      /exceeded maximum template depth/,
    );
    assert.throws(() => renderTemplate('{{ $nope }}', env), /undefined variable/);
  });

  it('runs file-provider files as templates before parsing them, positions still in the file as written', () => {
    const text = `http:
  routers:
{{- range $i, $h := split (env "HOSTS") "," }}
    r-{{ $h }}:
      rule: 'Host(\`{{ $h }}.{{ env "DOMAIN" }}\`)'
      service: s
{{- end }}
  services:
    s:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:1", weight: -1 }]
`;
    const r = parseDynamic(text, 'dyn.yml', { env });
    // Three routers from one block of lines; the error below them is on line 11 of the file.
    assert.deepEqual(Object.keys(r.config?.http.routers ?? {}), ['r-a', 'r-b', 'r-c']);
    assert.equal(r.config?.http.routers['r-b']?.rule, 'Host(`b.example.com`)');
    assert.deepEqual(r.issues.map(formatIssue), [
      'dyn.yml:11:56: http.services.s.loadBalancer.servers[0].weight: -1 is out of range (expected a number >= 0)',
    ]);
  });

  // Go's parser: a printable character the lexer emits as itemChar is "unexpected %q in operand";
  // a backslash-escaped quote inside a double-quoted YAML rule reaches the template as such.
  it('refuses a backslash inside an action with Go’s message', () => {
    const t = 'http:\n  routers:\n    r:\n      rule: "Host(`{{ env \\"X\\" }}`)"\n      service: s\n';
    const r = parseDynamic(t, 'd.yml', { env });
    assert.deepEqual(r.issues.map(formatIssue), ['d.yml:4:27: template: unexpected "\\\\" in operand']);
  });

  it('reports a template error at its line and column in the file', () => {
    const r = parseDynamic('http:\n  routers: {}\n# {{ env }}\nx: {{ nope }}\n', 'dyn.yml', { env });
    assert.deepEqual(r.issues.map(formatIssue), ['dyn.yml:4:7: template: function "nope" not defined']);
  });

  it('runs the static file as a template too when the file provider reads it (CreateConfiguration)', () => {
    const r = parseDynamic('entryPoints: {}\nhttp:\n  routers: {}\n# {{ nope }}\n', 'static.yml', {
      embedded: true,
      env,
    });
    assert.deepEqual(r.issues.map(formatIssue), ['static.yml:4:6: template: function "nope" not defined']);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDynamic } from '../dynamic/parse.ts';
import { formatIssue } from '../issues.ts';
import { renderTemplate, TemplateError } from './index.ts';

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

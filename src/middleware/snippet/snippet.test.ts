import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../../config/dynamic/middlewares.ts';
import { HeaderList } from '../../core/headers.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import { middlewareFactory } from '../registry.ts';
import { build, makeRequest, makeResponse, testContext } from '../test-request.ts';
import { parseSnippet } from './parse.ts';

/*
 * The cases of Traefik's pkg/middlewares/ingressnginx/snippet/snippet_test.go (Test_New,
 * Test_Directives), as data: each request goes through onRequest, then (when not answered) an
 * upstream response of 200 with `upstream` fields through onResponse.
 */

interface Case {
  readonly desc: string;
  readonly server?: string;
  readonly config?: string;
  readonly method?: string;
  readonly path?: string;
  readonly clientIp?: string;
  readonly requestHeaders?: Record<string, string>;
  readonly upstream?: Record<string, string>;
  readonly upstreamStatus?: number;
  /** Response fields expected ('' = absent). */
  readonly response?: Record<string, string>;
  readonly request?: Record<string, string>;
  readonly status?: number;
  readonly body?: string;
  readonly redirect?: string;
  readonly reqPath?: string;
  readonly reqQuery?: string;
  /** Whether the request went on to the service. */
  readonly next?: boolean;
}

interface Outcome {
  readonly req: RequestHead;
  readonly status: number;
  readonly headers: HeaderList;
  readonly body: string | undefined;
  readonly next: boolean;
}

function run(c: Case): Outcome {
  const mw = build('snippet', {
    ...(c.server !== undefined ? { serverSnippet: c.server } : {}),
    ...(c.config !== undefined ? { configurationSnippet: c.config } : {}),
  });
  const req = makeRequest(`http://example.com${c.path ?? '/test'}`, {
    method: c.method ?? 'GET',
    headers: Object.entries(c.requestHeaders ?? {}),
    clientIp: c.clientIp ?? '192.0.2.10',
  });
  const direct = mw.onRequest!(req) as DirectResponse | undefined;
  if (direct !== undefined)
    return {
      req,
      status: direct.status,
      headers: HeaderList.from(direct.headers ?? []),
      body: direct.body,
      next: false,
    };
  const res = makeResponse(c.upstreamStatus ?? 200, Object.entries(c.upstream ?? {}));
  mw.onResponse?.(req, res);
  return { req, status: res.status, headers: res.headers, body: undefined, next: true };
}

const CASES: readonly Case[] = [
  {
    desc: 'add_header server snippet adds simple header',
    server: 'add_header X-Custom "custom-value";',
    response: { 'X-Custom': 'custom-value' },
  },
  {
    desc: 'add_header without quotes',
    config: 'add_header X-Simple simple;',
    response: { 'X-Simple': 'simple' },
  },
  {
    desc: 'add_header configuration snippet overrides server snippet',
    server: 'add_header X-Server server-value;',
    config: 'add_header X-Config config-value;',
    response: { 'X-Config': 'config-value', 'X-Server': '' },
  },
  {
    desc: 'more_set_headers both snippets override same header',
    server: 'more_set_headers "X-Header:server-value";',
    config: 'more_set_headers "X-Header:config-value";',
    response: { 'X-Header': 'config-value' },
  },
  {
    desc: 'more_set_headers both snippets set headers',
    server: 'more_set_headers "X-Server:server-value";',
    config: 'more_set_headers "X-Config:config-value";',
    response: { 'X-Server': 'server-value', 'X-Config': 'config-value' },
  },
  {
    desc: 'more_set_headers with spaces',
    config: 'more_set_headers "X-Header: config-value ";',
    response: { 'X-Header': 'config-value' },
  },
  {
    desc: 'more_set_headers with multiple headers in one directive',
    config: 'more_set_headers "X-First: first-value" "X-Second: second-value";',
    response: { 'X-First': 'first-value', 'X-Second': 'second-value' },
  },
  {
    desc: 'more_set_headers replaces the upstream field (nginx); add_header appends',
    config: 'more_set_headers "Server: edge";\nadd_header X-Multi two;',
    upstream: { Server: 'backend', 'X-Multi': 'one' },
    response: { Server: 'edge', 'X-Multi': 'one,two' },
  },
  {
    desc: 'add_header with variable interpolation',
    config: 'add_header X-Method $request_method;\nadd_header X-Uri $request_uri;',
    response: { 'X-Method': 'GET', 'X-Uri': '/test' },
  },
  {
    desc: 'proxy_set_header directive',
    config: 'proxy_set_header X-Custom-Method $request_method;\nproxy_set_header X-Custom-Uri $request_uri;',
    request: { 'X-Custom-Method': 'GET', 'X-Custom-Uri': '/test' },
  },
  {
    desc: 'proxy_set_header with empty value removes header',
    config: 'proxy_set_header Accept-Encoding "";',
    requestHeaders: { 'Accept-Encoding': 'gzip, deflate' },
    request: { 'Accept-Encoding': '' },
  },
  {
    desc: 'proxy_set_header with quoted header name',
    config: 'proxy_set_header "X-Custom-Header" "my-value";',
    request: { 'X-Custom-Header': 'my-value' },
  },
  {
    desc: 'proxy_set_header wins over more_set_input_headers of the same field (input filter, then content phase)',
    config: 'proxy_set_header X-Both from-proxy-set;\nmore_set_input_headers "X-Both: from-more-set";',
    request: { 'X-Both': 'from-proxy-set' },
  },
  {
    desc: 'proxy_set_header of the server snippet applies when the configuration snippet has none',
    server: 'proxy_set_header X-Server yes;',
    config: 'more_set_input_headers "X-Config: yes";',
    request: { 'X-Server': 'yes', 'X-Config': 'yes' },
  },
  {
    desc: 'proxy_set_header of the configuration snippet replaces the server snippet`s whole',
    server: 'proxy_set_header X-Server yes;\nproxy_set_header X-Both server;',
    config: 'proxy_set_header X-Both location;',
    request: { 'X-Server': '', 'X-Both': 'location' },
  },
  {
    desc: 'proxy_set_header of a server location block adds to the server snippet`s',
    server: 'proxy_set_header X-Server yes;\nlocation /test { proxy_set_header X-Loc yes; }',
    request: { 'X-Server': 'yes', 'X-Loc': 'yes' },
  },
  {
    desc: 'allow/deny of the configuration snippet replace the server snippet`s',
    server: 'deny all;',
    config: 'allow 10.0.0.0/8;',
    clientIp: '192.0.2.10',
    next: true,
  },
  {
    desc: 'allow/deny of the server snippet apply when the configuration snippet has none',
    server: 'deny all;',
    config: 'more_set_input_headers "X-Config: yes";',
    status: 403,
  },
  {
    desc: 'set directive creates variable',
    config: 'set $my_var "hello";\nadd_header X-My-Var $my_var;',
    response: { 'X-My-Var': 'hello' },
  },
  {
    desc: 'set directive with variable interpolation',
    config: 'set $combined "$request_method-$request_uri";\nadd_header X-Combined $combined;',
    response: { 'X-Combined': 'GET-/test' },
  },
  {
    desc: 'if directive with matching condition',
    config: 'if ($request_method = GET) {\n\tadd_header X-Is-Get "true";\n}',
    response: { 'X-Is-Get': 'true' },
  },
  {
    desc: 'if directive with non-matching condition',
    config:
      'if ($request_method = POST) {\n\tadd_header X-Is-Post "true";\n}\nadd_header X-Always "present";',
    response: { 'X-Always': 'present', 'X-Is-Post': '' },
  },
  {
    desc: 'if directive with header check',
    config: 'if ($http_x_custom = "expected") {\n\tadd_header X-Matched "yes";\n}',
    requestHeaders: { 'X-Custom': 'expected' },
    response: { 'X-Matched': 'yes' },
  },
  {
    desc: 'if directive with regex match',
    config: 'if ($request_uri ~ "^/api") {\n\tadd_header X-Is-Api "true";\n}',
    path: '/api/users',
    response: { 'X-Is-Api': 'true' },
  },
  {
    desc: 'if directive with case-insensitive regex match',
    config: 'if ($http_x_custom ~* "^test") {\n\tadd_header X-Matched "yes";\n}',
    requestHeaders: { 'X-Custom': 'TEST-value' },
    response: { 'X-Matched': 'yes' },
  },
  {
    desc: 'if directive with negative case-insensitive regex match - should not match',
    config:
      'if ($http_x_custom !~* "^admin") {\n\tadd_header X-Not-Admin "true";\n}\nadd_header X-Processed "yes";',
    requestHeaders: { 'X-Custom': 'ADMIN-request' },
    response: { 'X-Processed': 'yes', 'X-Not-Admin': '' },
  },
  {
    desc: 'if directive with set variable check',
    config: 'set $flag "enabled";\nif ($flag) {\n\tadd_header X-Flag-Set "yes";\n}',
    response: { 'X-Flag-Set': 'yes' },
  },
  {
    desc: 'if regex captures are $1…',
    config: 'if ($uri ~ "^/u/(\\w+)") {\n\tmore_set_headers "X-User: $1";\n}',
    path: '/u/alice/x',
    response: { 'X-User': 'alice' },
  },
  {
    desc: 'if with a group at the end of an unquoted regex',
    config: 'if ($http_user_agent ~* (bot|crawler)) {\n\treturn 403;\n}',
    requestHeaders: { 'User-Agent': 'SomeBot/1.0' },
    status: 403,
  },
  {
    desc: 'all directives combined',
    config:
      'set $backend_type "api";\nproxy_set_header X-Backend-Type $backend_type;\nif ($request_method = GET) {\n\tadd_header X-Read-Only "true";\n\tmore_set_headers "X-Cache-Control:public";\n}\nadd_header X-Powered-By "traefik";',
    response: { 'X-Read-Only': 'true', 'X-Cache-Control': 'public', 'X-Powered-By': '' },
    request: { 'X-Backend-Type': 'api' },
  },
  {
    desc: 'return directive with status code and text',
    config: 'return 403 "Forbidden";',
    status: 403,
    body: 'Forbidden',
    next: false,
  },
  {
    desc: 'return directive inside if block - condition matches',
    config:
      'if ($request_method = POST) {\n\treturn 405 "Method Not Allowed";\n}\nadd_header X-Allowed "true";',
    method: 'POST',
    status: 405,
    body: 'Method Not Allowed',
  },
  {
    desc: 'return directive inside if block - condition does not match',
    config:
      'if ($request_method = POST) {\n\treturn 405 "Method Not Allowed";\n}\nadd_header X-Allowed "true";',
    status: 200,
    response: { 'X-Allowed': 'true' },
    next: true,
  },
  {
    desc: "return directive doesn't stop processing headers",
    config: 'return 204 "";\nadd_header X-Should-Appear "value";',
    status: 204,
    body: '',
    response: { 'X-Should-Appear': 'value' },
  },
  {
    desc: 'return with more_set_headers (the e2e case)',
    config: 'more_set_headers "X-Snippet: on";\nreturn 403;',
    status: 403,
    body: '',
    response: { 'X-Snippet': 'on', 'Content-Type': '' },
  },
  {
    desc: 'return URL is a 302',
    config: 'return https://example.org/x;',
    status: 302,
    redirect: 'https://example.org/x',
  },
  {
    desc: 'return 301 URL',
    config: 'return 301 https://example.org$request_uri;',
    path: '/a?b=1',
    status: 301,
    redirect: 'https://example.org/a?b=1',
  },
  {
    desc: 'location without return passes through',
    server: 'location /api {\n\tadd_header X-Location "api";\n}',
    path: '/api/users',
    response: { 'X-Location': 'api' },
    next: true,
  },
  {
    desc: 'location with no match continues',
    server:
      'location /api {\n\treturn 200 "OK";\n}\nlocation = /web { return 200 exact; }\nlocation ~ ^/v1 { return 200 regex; }\nadd_header X-Always "present";',
    path: '/web/users',
    response: { 'X-Always': 'present' },
    next: true,
  },
  {
    desc: 'location selection - exact before prefix and regex',
    server:
      'location = /api { return 200 exact; }\nlocation / { return 200 prefix; }\nlocation ~ ^/api { return 200 regex; }',
    path: '/api',
    body: 'exact',
    next: false,
  },
  {
    desc: 'location selection - exact after regex and prefix',
    server:
      'location ~ ^/api { return 200 regex; }\nlocation / { return 200 prefix; }\nlocation = /api { return 200 exact; }',
    path: '/api',
    body: 'exact',
  },
  {
    desc: 'location selection - longest prefix last',
    server:
      'location / { return 200 root; }\nlocation /api { return 200 shorter; }\nlocation /api/v1 { return 200 longest; }',
    path: '/api/v1/users',
    body: 'longest',
  },
  {
    desc: 'location selection - preferred prefix after regex',
    server: 'location ~ ^/api { return 200 regex; }\nlocation ^~ /api { return 200 prefix; }',
    path: '/api/users',
    body: 'prefix',
  },
  {
    desc: 'location selection - shorter preferred prefix does not suppress regex',
    server:
      'location /api/v1 { return 200 longest; }\nlocation ~ ^/api { return 200 regex; }\nlocation ^~ /api { return 200 shorter; }',
    path: '/api/v1/users',
    body: 'regex',
  },
  {
    desc: 'location selection - first matching regex wins',
    server:
      'location ~ ^/other { return 200 unrelated; }\nlocation ~* ^/API { return 200 first; }\nlocation ~ ^/api { return 200 second; }\nlocation /api { return 200 prefix; }',
    path: '/api/users',
    body: 'first',
  },
  {
    desc: 'location selection - server return prevents location execution',
    server: 'return 200 server;\nlocation /api { return 200 location; }',
    path: '/api',
    body: 'server',
  },
  {
    desc: 'location selection - server set runs before location',
    server: 'location /api { return 200 $result; }\nset $result server;',
    path: '/api',
    body: 'server',
  },
  {
    desc: 'location selection - only selected location headers reach backend and response',
    server:
      'location /api {\n\tadd_header X-Selected yes;\n\tmore_set_input_headers "X-Selected: yes";\n}\nlocation / {\n\tadd_header X-Unselected yes;\n\tmore_set_headers "X-Unselected-More: yes";\n\tmore_set_input_headers "X-Unselected: yes";\n\treturn 200 root;\n}\nadd_header X-Server yes;\nmore_set_headers "X-Server-More: yes";',
    path: '/api/users',
    request: { 'X-Selected': 'yes', 'X-Unselected': '' },
    response: {
      'X-Selected': 'yes',
      'X-Server-More': 'yes',
      'X-Unselected': '',
      'X-Unselected-More': '',
      'X-Server': '',
    },
    next: true,
  },
  {
    desc: 'location with return applies add_header always from same block',
    server:
      'location /blocked {\n\tadd_header X-Block-Header "block-value" always;\n\treturn 403 "Blocked";\n}',
    path: '/blocked/path',
    status: 403,
    body: 'Blocked',
    response: { 'X-Block-Header': 'block-value' },
  },
  {
    desc: 'add_header without always skips non-success status codes',
    server: 'location /blocked {\n\tadd_header X-Block-Header "block-value";\n\treturn 403 "Blocked";\n}',
    path: '/blocked/path',
    status: 403,
    response: { 'X-Block-Header': '' },
  },
  {
    desc: 'add_header without always skips an upstream 500',
    config: 'add_header X-A a;\nadd_header X-B b always;',
    upstreamStatus: 500,
    response: { 'X-A': '', 'X-B': 'b' },
  },
  {
    desc: 'add_header only applied in deepest block - nested if inside location',
    server:
      'add_header X-Level "root";\nlocation /api {\n\tadd_header X-Level "location";\n\tif ($request_method = GET) {\n\t\tadd_header X-Level "if-block";\n\t\treturn 200 "OK";\n\t}\n}',
    path: '/api/endpoint',
    body: 'OK',
    response: { 'X-Level': 'if-block' },
  },
  {
    desc: 'root add_header applied when location not matched',
    server:
      'add_header X-Level "root";\nlocation /api {\n\tadd_header X-Level "location";\n\treturn 200 "API";\n}',
    path: '/web/endpoint',
    response: { 'X-Level': 'root' },
  },
  {
    desc: 'more_set_input_headers with variable interpolation',
    config: 'more_set_input_headers "X-Method-Input:$request_method";',
    request: { 'X-Method-Input': 'GET' },
  },
  {
    desc: 'more_set_headers clearing header without colon',
    server: 'more_set_headers "X-Foo: server-value";',
    config: 'more_set_headers "X-Foo";',
    upstream: { 'X-Foo': 'up' },
    response: { 'X-Foo': '' },
  },
  {
    desc: 'more_set_input_headers clearing request header',
    config: 'more_set_input_headers "X-Foo";',
    requestHeaders: { 'X-Foo': 'original-value' },
    request: { 'X-Foo': '' },
  },
  {
    desc: 'more_clear_headers clears an upstream field',
    config: 'more_clear_headers "X-Remove-Me";',
    upstream: { 'X-Remove-Me': 'v' },
    response: { 'X-Remove-Me': '' },
  },
  {
    desc: 'more_clear_headers with wildcard pattern',
    config: 'more_clear_headers "X-Hidden-*";',
    upstream: { 'X-Hidden-One': '1', 'X-Hidden-Two': '2', 'X-Visible': 'visible' },
    response: { 'X-Visible': 'visible', 'X-Hidden-One': '', 'X-Hidden-Two': '' },
  },
  {
    desc: 'more_clear_input_headers with wildcard removes matching request headers',
    config: 'more_clear_input_headers "X-Custom-*";',
    requestHeaders: { 'X-Custom-One': 'val1', 'X-Custom-Two': 'val2', 'X-Other': 'other' },
    request: { 'X-Other': 'other', 'X-Custom-One': '', 'X-Custom-Two': '' },
  },
  {
    desc: 'more_set_headers -s and -t filters',
    config: 'more_set_headers -s "404 500" "X-Err: yes";\nmore_set_headers -t "text/html" "X-Html: yes";',
    upstreamStatus: 404,
    upstream: { 'Content-Type': 'text/html; charset=utf-8' },
    response: { 'X-Err': 'yes', 'X-Html': 'yes' },
  },
  {
    desc: 'more_set_headers -s filter not matching',
    config: 'more_set_headers -s 404 "X-Err: yes";',
    response: { 'X-Err': '' },
  },
  {
    desc: 'more_set_headers -r only replaces',
    config: 'more_set_headers -r "X-A: new" "X-B: new";',
    upstream: { 'X-A': 'old' },
    response: { 'X-A': 'new', 'X-B': '' },
  },
  {
    desc: 'proxy_hide_header',
    server: 'proxy_hide_header X-Powered-By;',
    upstream: { 'X-Powered-By': 'php' },
    response: { 'X-Powered-By': '' },
  },
  {
    desc: 'expires epoch',
    config: 'expires epoch;',
    response: { Expires: 'Thu, 01 Jan 1970 00:00:01 GMT', 'Cache-Control': 'no-cache' },
  },
  { desc: 'expires 24h', config: 'expires 24h;', response: { 'Cache-Control': 'max-age=86400' } },
  {
    desc: 'rewrite with capture groups and last flag',
    server: 'rewrite ^/old/(.*)$ /new/$1 last;',
    path: '/old/page',
    reqPath: '/new/page',
  },
  {
    desc: 'rewrite with permanent redirect',
    server: 'rewrite ^ https://example.com$request_uri? permanent;',
    path: '/some/path',
    status: 301,
    redirect: 'https://example.com/some/path',
  },
  {
    desc: 'rewrite with break flag',
    config: 'rewrite ^/api/v1/(.*)$ /api/v2/$1 break;',
    path: '/api/v1/users',
    reqPath: '/api/v2/users',
  },
  {
    desc: 'rewrite with redirect flag',
    config: 'rewrite ^/old$ /new redirect;',
    path: '/old',
    status: 302,
    redirect: '/new',
  },
  {
    desc: 'rewrite with no match passes through',
    config: 'rewrite ^/nomatch /other last;',
    path: '/test',
    reqPath: '/test',
  },
  {
    desc: 'rewrite preserves query string',
    config: 'rewrite ^/search$ /find last;',
    path: '/search?q=test',
    reqPath: '/find',
    reqQuery: 'q=test',
  },
  {
    desc: 'rewrite with ? suffix suppresses query string',
    config: 'rewrite ^/search$ /find? last;',
    path: '/search?q=test',
    reqPath: '/find',
    reqQuery: '',
  },
  {
    desc: 'rewrite break in the server snippet skips the configuration snippet',
    server: 'rewrite ^/a$ /b break;',
    config: 'return 418;',
    path: '/a',
    reqPath: '/b',
    next: true,
  },
  {
    desc: 'rewrite in if block',
    config: 'if ($request_method = GET) {\n\trewrite ^/old/(.*)$ /new/$1 last;\n}',
    path: '/old/page',
    reqPath: '/new/page',
  },
  {
    desc: 'rewrite with multiple capture groups',
    server: 'rewrite ^/download/(.*)/media/(.*)\\..*$ /download/$1/mp3/$2.mp3 last;',
    path: '/download/music/media/song.flac',
    reqPath: '/download/music/mp3/song.mp3',
  },
  {
    desc: 'rewrite with no flag continues processing',
    config: 'rewrite ^/a$ /b;\nrewrite ^/b$ /c last;',
    path: '/a',
    reqPath: '/c',
  },
  {
    desc: 'rewrite with URL-based redirect (http://)',
    config: 'rewrite ^/old$ http://other.example.com/new last;',
    path: '/old',
    status: 302,
    redirect: 'http://other.example.com/new',
  },
  {
    desc: 'rewrite with quoted replacement',
    config: 'rewrite ^/search$ "/new?" last;',
    path: '/search?q=test',
    reqPath: '/new',
    reqQuery: '',
  },
  {
    desc: 'rewrite with quoted replacement and uri variable',
    config: 'rewrite ^/(.*)$ "$' + '{uri}?" break;',
    path: '/some/path?q=test',
    reqPath: '/some/path',
    reqQuery: '',
  },
  {
    desc: 'rewrite with dot-segment traversal in capture group is rejected',
    config: 'rewrite ^/foo(.*)$ /$1 break;',
    path: '/foo../bar',
    status: 400,
    next: false,
  },
  {
    desc: 'rewrite with capture group lacking path separator is rejected',
    config: 'rewrite ^/api(.*)$ /$1 break;',
    path: '/api../admin',
    status: 400,
  },
  {
    desc: 'rewrite with percent-encoded character in capture group succeeds',
    config: 'rewrite ^/api/(.*)$ /v2/$1 break;',
    path: '/api/foo%2Fbar',
    reqPath: '/v2/foo/bar',
  },
  {
    desc: 'rewrite break in server snippet skips configuration snippet',
    server: 'rewrite ^/old/(.*)$ /new/$1 break;',
    config: 'add_header X-Config "config-value" always;',
    path: '/old/page',
    reqPath: '/new/page',
    response: { 'X-Config': '' },
  },
  {
    desc: 'rewrite last in server snippet allows configuration snippet to run',
    server: 'rewrite ^/old/(.*)$ /new/$1 last;',
    config: 'add_header X-Config "config-value" always;',
    path: '/old/page',
    reqPath: '/new/page',
    response: { 'X-Config': 'config-value' },
  },
  {
    desc: 'if single variable check with built-in variable',
    config: 'if ($request_method) {\n\tadd_header X-Has-Method "yes";\n}',
    response: { 'X-Has-Method': 'yes' },
  },
  {
    desc: 'if regex capture groups stored as $1',
    config: 'if ($request_uri ~ "^/api/(.*)") {\n\tadd_header X-Captured "$1";\n}',
    path: '/api/users',
    response: { 'X-Captured': 'users' },
  },
  {
    desc: 'location with case-insensitive regex matches',
    server: 'location ~* \\.css$ {\n\tadd_header X-Type "css" always;\n\treturn 200 "CSS";\n}',
    path: '/style/main.CSS',
    status: 200,
    body: 'CSS',
    response: { 'X-Type': 'css' },
  },
  {
    desc: 'location with case-insensitive regex does not match',
    server: 'location ~* \\.css$ {\n\treturn 200 "CSS";\n}\nadd_header X-Fallback "yes";',
    path: '/style/main.js',
    response: { 'X-Fallback': 'yes' },
  },
  {
    desc: 'expires off does not set cache headers',
    config: 'expires off;',
    response: { Expires: '', 'Cache-Control': '' },
  },
  {
    desc: 'more_set_headers with -a append flag',
    config: 'more_set_headers "X-Custom: first";\nmore_set_headers -a "X-Custom: second";',
    response: { 'X-Custom': 'first,second' },
  },
  {
    desc: 'more_set_input_headers with -r only sets existing header',
    config: 'more_set_input_headers -r "X-Existing: new-value" "X-Missing: new-value";',
    requestHeaders: { 'X-Existing': 'old-value' },
    request: { 'X-Existing': 'new-value', 'X-Missing': '' },
  },
  {
    desc: 'deny specific IP',
    config: 'deny 10.0.0.1;',
    clientIp: '10.0.0.1',
    status: 403,
    body: '403 Forbidden',
  },
  {
    desc: 'deny specific IP allows non-matching request',
    config: 'deny 10.0.0.1;',
    clientIp: '10.0.0.2',
    next: true,
  },
  { desc: 'deny CIDR', config: 'deny 10.0.0.0/24;', clientIp: '10.0.0.50', status: 403 },
  { desc: 'deny all', config: 'deny all;', status: 403, body: '403 Forbidden' },
  {
    desc: 'return comes before deny (access phase after rewrite)',
    config: 'deny all;\nreturn 200 ok;',
    status: 200,
    body: 'ok',
  },
  {
    desc: 'a location`s deny applies, with the server`s more_set_headers on the 403',
    server: 'more_set_headers "X-S: 1";\nlocation /admin { deny all; }',
    path: '/admin/x',
    status: 403,
    response: { 'X-S': '1' },
  },
  {
    desc: 'allow first match wins',
    config: 'allow 10.0.0.0/8;\ndeny all;',
    clientIp: '10.1.2.3',
    next: true,
  },
  {
    desc: 'deny after a non-matching allow',
    config: 'allow 10.0.0.0/8;\ndeny all;',
    clientIp: '192.0.2.1',
    status: 403,
  },
  {
    desc: '$arg_, $cookie_, $host, $scheme',
    config: 'more_set_input_headers "X-V: $arg_a|$cookie_c|$host|$scheme|$is_args|$args";',
    path: '/p?a=1+2&b=3',
    requestHeaders: { Cookie: 'x=0; c=v' },
    request: { 'X-V': '1 2|v|example.com|http|?|a=1+2&b=3' },
  },
  {
    desc: 'an unknown variable stays as written',
    config: 'more_set_input_headers "X-V: $nope";',
    request: { 'X-V': '$nope' },
  },
  {
    desc: 'comments are skipped',
    config: '# a comment\nadd_header X-A a; # trailing\n',
    response: { 'X-A': 'a' },
  },
];

describe('snippet middleware (Traefik snippet_test.go Test_Directives)', () => {
  for (const c of CASES) {
    it(c.desc, () => {
      const o = run(c);
      if (c.next !== undefined) assert.equal(o.next, c.next, 'went on to the service');
      if (c.status !== undefined) assert.equal(o.status, c.status);
      if (c.body !== undefined) assert.equal(o.body ?? '', c.body);
      if (c.redirect !== undefined) assert.equal(o.headers.get('location'), c.redirect);
      for (const [n, v] of Object.entries(c.response ?? {}))
        assert.equal(o.headers.getAll(n.toLowerCase()).join(','), v, `response field ${n}`);
      for (const [n, v] of Object.entries(c.request ?? {}))
        assert.equal(o.req.headers.getAll(n.toLowerCase()).join(','), v, `request field ${n}`);
      if (c.reqPath !== undefined) assert.equal(o.req.path, c.reqPath);
      if (c.reqQuery !== undefined) assert.equal(o.req.query, c.reqQuery);
    });
  }
});

describe('snippet middleware location ^~ (Traefik snippet_test.go Test_LocationPrefixModifier)', () => {
  const server = 'location ^~ /internal {\n\treturn 404;\n}';
  for (const [path, status] of [
    ['/internal', 404],
    ['/internal/status', 404],
    ['/internal?check=true', 404],
    ['/internality', 404],
    ['/public', 200],
    ['/intern', 200],
    ['/Internal', 200],
  ] as const) {
    it(`${path} → ${status}`, () => {
      const o = run({ desc: path, server, path });
      assert.equal(o.status, status);
      assert.equal(o.next, status === 200);
    });
  }
});

describe('snippet middleware build (Traefik snippet_test.go Test_New)', () => {
  const cases: readonly [string, { serverSnippet?: string; configurationSnippet?: string }, boolean][] = [
    ['both snippets empty', {}, false],
    ['valid server snippet', { serverSnippet: 'add_header X-Test "value";' }, true],
    ['valid always', { serverSnippet: 'add_header X-Test "value" always;' }, true],
    ['invalid syntax (no ;)', { serverSnippet: 'add_header X-Test' }, false],
    ['invalid syntax in configuration', { configurationSnippet: 'add_header X-Test' }, false],
    ['unknown directive', { serverSnippet: 'unknown_directive value;' }, false],
    [
      'proxy_set_header in if (server)',
      { serverSnippet: 'if ( $request_method = "GET") {\n  proxy_set_header X-Test "value";\n}' },
      false,
    ],
    [
      'proxy_set_header in if (configuration)',
      { configurationSnippet: 'if ( $request_method = "GET") {\n  proxy_set_header X-Test "value";\n}' },
      false,
    ],
    [
      'add_header in if in server',
      { serverSnippet: 'if ( $request_method = "GET") {\n  add_header X-Test "value";\n}' },
      false,
    ],
    [
      'add_header in if in location',
      { configurationSnippet: 'if ( $request_method = "GET") {\n  add_header X-Test "value";\n}' },
      true,
    ],
    ['more_clear_headers', { configurationSnippet: 'more_clear_headers "X-Test";' }, true],
    ['rewrite in server', { serverSnippet: 'rewrite ^/old$ /new last;' }, true],
    ['rewrite without flag', { configurationSnippet: 'rewrite ^/old$ /new;' }, true],
    ['rewrite with invalid regex', { configurationSnippet: 'rewrite ^/old[$ /new last;' }, false],
    ['rewrite with invalid flag', { configurationSnippet: 'rewrite ^/old$ /new invalid;' }, false],
    ['rewrite with missing parameters', { configurationSnippet: 'rewrite ^/old$;' }, false],
    ['allow', { configurationSnippet: 'allow 10.0.0.0/8;' }, true],
    ['deny with invalid IP', { configurationSnippet: 'deny invalid-ip;' }, false],
    ['expires invalid', { configurationSnippet: 'expires invalid;' }, false],
    [
      '-s on more_set_input_headers',
      { configurationSnippet: 'more_set_input_headers -s "200" "X-Custom: value";' },
      false,
    ],
    [
      '-s on more_clear_input_headers',
      { configurationSnippet: 'more_clear_input_headers -s "200" "X-Custom";' },
      false,
    ],
    ['location in a configuration snippet', { configurationSnippet: 'location /a { return 200; }' }, false],
    ['unbalanced braces', { serverSnippet: 'location /a { return 200;' }, false],
    ['a common unsupported directive', { configurationSnippet: 'proxy_pass http://x;' }, false],
  ];
  for (const [desc, input, ok] of cases) {
    it(`${ok ? 'builds' : 'refuses'}: ${desc}`, () => {
      const config = middlewareSchemas.snippet.parse(input);
      const m = middlewareFactory('snippet').create(config, testContext());
      assert.equal('error' in m, !ok, 'error' in m ? String(m.error) : 'built');
    });
  }
});

describe('snippet parser', () => {
  it('reads words, quotes with escapes, blocks and comments', () => {
    const ds = parseSnippet(`set $a "x \\"y\\" z"; # c\nif ($a ~ 'q') { return 200 '{ok}'; }`);
    assert.equal(ds.length, 2);
    assert.deepEqual(ds[0]!.args, ['$a', 'x "y" z']);
    assert.equal(ds[1]!.name, 'if');
    assert.deepEqual(ds[1]!.args, ['($a', '~', 'q', ')']);
    assert.deepEqual(ds[1]!.block![0]!.args, ['200', '{ok}']);
  });

  it('keeps $' + '{name} inside a word', () => {
    const word = '$' + '{host}x';
    assert.deepEqual(parseSnippet(`add_header X ${word};`)[0]!.args, ['X', word]);
  });

  it('refuses an unterminated quote, a stray } and a missing ;', () => {
    assert.throws(() => parseSnippet('add_header X "y;'), /unterminated/);
    assert.throws(() => parseSnippet('}'), /unexpected "}"/);
    assert.throws(() => parseSnippet('return 200'), /unexpected end/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { traefikHttpRuleError, traefikTcpRuleError } from './traefik-rule-errors.ts';

const parsing = (r: string) => `error while parsing rule ${r}: error while parsing rule ${r}`;
const adding = (r: string) => `error while parsing rule ${r}: error while adding rule ${r}: `;

describe("Traefik's rule errors, read as Traefik reads a rule (traefik-rule-errors.ts)", () => {
  it("words a syntax error as Go's go/parser.ParseExpr (the texts Go 1.19's printed)", () => {
    const cases: [string, string][] = [
      ['Host(`a`) &&', "1:13: expected operand, found 'EOF'"],
      ['Host(`a`) ||', "1:13: expected operand, found 'EOF'"],
      ['Host(`a`) && (Path(`/`)', "1:24: expected ')', found newline"],
      ['(Host(`a`)', "1:11: expected ')', found newline"],
      ['Host(`a`))', "1:10: expected 'EOF', found ')'"],
      ['Host(`a`', "1:9: missing ',' before newline in argument list"],
      ['Host(`a`,', "1:10: expected ')', found 'EOF'"],
      ['Host(', "1:6: expected ')', found 'EOF'"],
      ['Host(`a` `b`)', "1:10: missing ',' in argument list"],
      ['Host(`a`) Path(`/`)', "1:11: expected 'EOF', found Path"],
      ['Host(`a`) and Path(`/`)', "1:11: expected 'EOF', found and"],
      ['Host(`a`) ||| Path(`/`)', "1:13: expected operand, found '|'"],
      ['Host(`a`) && @', "1:14: illegal character U+0040 '@'"],
      ['Host("a)', '1:6: string literal not terminated'],
      ['Host(`a)', '1:6: raw string literal not terminated'],
      ['Host(`a`) && !', "1:15: expected operand, found 'EOF'"],
      ['!', "1:2: expected operand, found 'EOF'"],
      [' ', "1:2: expected operand, found 'EOF'"],
      ['Host(`a`) && ?x', "1:14: illegal character U+003F '?'"],
      ['Host(`a`)', ''],
      ['Path(`/`) && #', "1:14: illegal character U+0023 '#'"],
      ['Host(`\u00e9`) &&', "1:14: expected operand, found 'EOF'"],
      [')', "1:1: expected operand, found ')'"],
      ['Host(`a`) && ,', "1:14: expected operand, found ','"],
      ['&& Path(`/`)', "1:1: expected operand, found '&&'"],
    ];
    for (const [rule, goErr] of cases) {
      assert.equal(
        traefikHttpRuleError(rule, 'v3'),
        goErr === '' ? undefined : `${parsing(rule)}: ${goErr}`,
        rule,
      );
    }
    // Over lines (Go's texts too); a newline after `)` ends the expression for Go's scanner.
    const lines: [string, string][] = [
      ['Host(`a`) &&\n&& Path(`/`)', "2:1: expected operand, found '&&'"],
      ['Host(`a`)\n&& Path(`/`)', "2:1: expected 'EOF', found '&&'"],
      ['Host(`a` &&\n Path(`/`)', "2:11: missing ',' before newline in argument list"],
      ['Host(`a`,\n`b`) && (\n', "2:11: expected operand, found 'EOF'"],
    ];
    for (const [rule, goErr] of lines)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${goErr}`, rule);
    // Go goes on after an error: each scanner error counts, a parser error on a line that has
    // one does not, and advance() skips to the end after a missing operand.
    const more: [string, string][] = [
      ['Host(`a`) && ) @', "1:14: expected operand, found ')' (and 1 more errors)"],
      ['Host(`a`) && )\n&& )', "1:14: expected operand, found ')'"],
      ['  &&@,((""', "1:3: expected operand, found '&&' (and 1 more errors)"],
    ];
    for (const [rule, goErr] of more)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${goErr}`, rule);
    // Mistakes people make: single quotes, a host without quotes and with a port.
    const common: [string, string][] = [
      ["Host('example.com')", '1:6: illegal rune literal'],
      ["Host('a)", '1:6: rune literal not terminated'],
      ['Host(example.com:8080)', "1:17: missing ',' in argument list"],
      ['Host(`a`):8080', "1:10: expected 'EOF', found ':'"],
      ['Host(`a`) && Path(`/`).', "1:24: expected selector or type assertion, found 'EOF'"],
      // A regexp's backslash in a double-quoted Go string.
      ['PathRegexp("^/a\\.b")', '1:17: unknown escape sequence'],
      // Typographic quotes and dashes pasted from a document.
      ['Host(“a”)', "1:6: illegal character U+201C '“' (and 1 more errors)"],
      ['Host(`a`) – Path(`/`)', "1:11: illegal character U+2013 '–'"],
    ];
    for (const [rule, goErr] of common)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${goErr}`, rule);
    // Go's keywords: a missing operand, then go/parser's advance to the next statement keyword
    // (the tokens it scans on the way count their scanner errors).
    const keywords: [string, string][] = [
      ['Host(`a`) && if', "1:14: expected operand, found 'if'"],
      ['Host(`a`) && range', "1:14: expected operand, found 'range'"],
      ['if Host(`a`)', "1:1: expected operand, found 'if'"],
      ['Host(if)', "1:6: expected operand, found 'if'"],
      ['Host(`a`) || break || Path(`/`)', "1:14: expected operand, found 'break'"],
      ['Host(`a`) && var x', "1:14: expected operand, found 'var'"],
      ['Host(`a`) if', "1:11: expected 'EOF', found 'if'"],
      ['Host(`a`).if', "1:11: expected selector or type assertion, found 'if'"],
      ['Host(`a`) && if @', "1:14: expected operand, found 'if' (and 1 more errors)"],
      ['Host(`a`) && case @ if', "1:14: expected operand, found 'case' (and 1 more errors)"],
      ['Host(`a`) && else @ @ if @', "1:14: expected operand, found 'else' (and 3 more errors)"],
      ['Host(`a`) && else\nif', "1:14: expected operand, found 'else' (and 1 more errors)"],
      ['Host(`a`) && if\n&& Path(`/`)', "1:14: expected operand, found 'if'"],
      ['Host(`a`) && case\n@ if\n@', "1:14: expected operand, found 'case' (and 2 more errors)"],
      ['if\nif\nif', "1:1: expected operand, found 'if'"],
      ['Host(`a`) &&\nbreak\n)', "2:1: expected operand, found 'break'"],
    ];
    for (const [rule, goErr] of keywords)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${goErr}`, rule);
    // Go's comments: skipped, a semicolon before those that end the line (findLineEnd).
    const comments: [string, string][] = [
      ['Host(`a`) /* x\n */ && Path(`/`)', "2:5: expected 'EOF', found '&&'"],
      ['Host(`a`) // x\n&& Path(`/`)', "2:1: expected 'EOF', found '&&'"],
      ['Host(`a`) && /* c */', "1:21: expected operand, found 'EOF'"],
      ['Host(`a`) && // c', "1:18: expected operand, found 'EOF'"],
      ['Host(/* c */ 1)', 'reflect: cannot use int as type string in Call'],
      ['Host(`a`) /* c */ /* d */\n&& x', "2:1: expected 'EOF', found '&&'"],
      ['Host(`a` // c\n)', "1:10: missing ',' before newline in argument list"],
      ['Host(`a`) /* c */ @', "1:19: illegal character U+0040 '@'"],
    ];
    for (const [rule, goErr] of comments)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${goErr}`, rule);
    assert.equal(traefikHttpRuleError('Host(`a`) /* c */', 'v3'), undefined);
    // Those that start a type or a function literal are not followed.
    for (const r of ['func', 'Host(`a`) && map[string]int{}', 'Host(`a`) && struct{}'])
      assert.equal(traefikHttpRuleError(r, 'v3'), undefined, r);
  });

  it("words what vulcand/predicate refuses in a parsed rule as predicate's parse.go", () => {
    const cases: [string, string][] = [
      ['Hots(`a`)', 'unsupported function: Hots'],
      ['Path(`/`) || Headers(`a`, `b`)', 'unsupported function: Headers'],
      ['Host(a)', 'a is not defined'],
      ['Host(`a`) && Path', 'Path is not defined'],
      ['Host((`a`))', '*ast.ParenExpr is not supported'],
      ["Host('a')", "unsupported function argument type: 'CHAR'"],
      ['Host(`a`)(`b`)', 'expected identifier, got: *ast.CallExpr'],
      ['Host(`a`) | Path(`/`)', '| is not supported'],
      ['Host(`a`) & Path(`/`)', '& is not supported'],
      ['Host(example.com)', 'example.com is not defined'],
      ['Host(`a`) == Path(`/`)', '== is not supported'],
      ['-Host(`a`)', '- is not supported'],
      ['a.Host(`x`)', 'unsupported function: a.Host'],
      ['Host(`a`).b(`x`)', 'expected selector identifier, got: *ast.CallExpr'],
      ['Host(`a`.b)', 'unsupported selector type: *ast.BasicLit'],
    ];
    for (const [rule, text] of cases)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${text}`, rule);
    // A literal alone is no TreeBuilder: parser.parse's error, without a cause.
    assert.equal(traefikHttpRuleError('`a`', 'v3'), parsing('`a`'));
    assert.equal(traefikHttpRuleError('443', 'v3'), parsing('443'));
    // A value of another type where reflect calls a matcher's func(...string) or andFunc's
    // (left, right TreeBuilder): predicate's callFunction recovers reflect's panic (Go 1.19's
    // texts); Go's decimal numbers read by strconv.Atoi and ParseFloat.
    const reflected: [string, string][] = [
      ['Host(443)', 'reflect: cannot use int as type string in Call'],
      ['Host(1.5)', 'reflect: cannot use float64 as type string in Call'],
      ['Host(1e3)', 'reflect: cannot use float64 as type string in Call'],
      ['Host(.5)', 'reflect: cannot use float64 as type string in Call'],
      ['Host(1.)', 'reflect: cannot use float64 as type string in Call'],
      ['Host(012)', 'reflect: cannot use int as type string in Call'],
      ['Host(`a`, 2)', 'reflect: cannot use int as type string in Call'],
      ['Host(Host(`a`))', 'reflect: cannot use rules.TreeBuilder as type string in Call'],
      ['Host(`a`) && 1', 'reflect: Call using int as type rules.TreeBuilder'],
      ['Host(`a`) || "b"', 'reflect: Call using string as type rules.TreeBuilder'],
      ['(Host(`a`) && 2)', 'reflect: Call using int as type rules.TreeBuilder'],
      ['!1', 'reflect: Call using int as type rules.TreeBuilder'],
      ['Host(`a`) && !2', 'reflect: Call using int as type rules.TreeBuilder'],
      ['Host(1) && 2', 'reflect: cannot use int as type string in Call'],
      ['Host(`a`) && Host(1)', 'reflect: cannot use int as type string in Call'],
      // Every argument is read before the call.
      ["Host(1, 'a')", "unsupported function argument type: 'CHAR'"],
      ['Host(`a`) && 1 > 2', '> is not supported'],
      [
        'Host(99999999999999999999)',
        'failed to parse argument: 99999999999999999999, error: strconv.Atoi: parsing "99999999999999999999": value out of range',
      ],
      [
        'Host(1e400)',
        'failed to parse argument: 1e400, error: strconv.ParseFloat: parsing "1e400": value out of range',
      ],
    ];
    for (const [rule, text] of reflected)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${text}`, rule);
    assert.equal(traefikHttpRuleError('1.5', 'v3'), parsing('1.5'));
    // An index: predicate has no GetProperty in Traefik's definition.
    const indexed: [string, string][] = [
      ['Host(a[0])', 'properties are not supported'],
      ['Host(`a`)[0]', 'properties are not supported'],
      ['Host(`a`[1])', 'properties are not supported'],
      ['Host[0](`a`)', 'expected identifier, got: *ast.IndexExpr'],
      ['Host(`a`) && a[0].b', 'unsupported selector type: *ast.IndexExpr'],
      ['Host(`a`) && a[0].b(`x`)', 'expected selector identifier, got: *ast.IndexExpr'],
      ['Host(a[0]', "1:10: missing ',' before newline in argument list"],
      ['Host(`a`) ]', "1:11: expected 'EOF', found ']'"],
    ];
    for (const [rule, text] of indexed)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${text}`, rule);
    // Slices, array types and an index Go cannot read are not followed.
    for (const r of ['Host(a[1:2])', 'Host(`a`) && []int{1}', 'Host(x[`a` && ])', 'Host(a[])'])
      assert.equal(traefikHttpRuleError(r, 'v3'), undefined, r);
    // Go's other number forms: strconv.Atoi reads base 10 digits only, ParseFloat takes `_`.
    const forms: [string, string][] = [
      ['Host(0x10)', 'failed to parse argument: 0x10, error: strconv.Atoi: parsing "0x10": invalid syntax'],
      ['Host(0X1f)', 'failed to parse argument: 0X1f, error: strconv.Atoi: parsing "0X1f": invalid syntax'],
      ['Host(0o17)', 'failed to parse argument: 0o17, error: strconv.Atoi: parsing "0o17": invalid syntax'],
      [
        'Host(0b101)',
        'failed to parse argument: 0b101, error: strconv.Atoi: parsing "0b101": invalid syntax',
      ],
      [
        'Host(1_000)',
        'failed to parse argument: 1_000, error: strconv.Atoi: parsing "1_000": invalid syntax',
      ],
      ['Host(0_7)', 'failed to parse argument: 0_7, error: strconv.Atoi: parsing "0_7": invalid syntax'],
      ['Host(0x_1)', 'failed to parse argument: 0x_1, error: strconv.Atoi: parsing "0x_1": invalid syntax'],
      ['Host(1i)', "unsupported function argument type: 'IMAG'"],
      ['Host(1.5i)', "unsupported function argument type: 'IMAG'"],
      ['Host(012i)', "unsupported function argument type: 'IMAG'"],
      ['Host(1_0.5)', 'reflect: cannot use float64 as type string in Call'],
    ];
    for (const [rule, text] of forms)
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${parsing(rule)}: ${text}`, rule);
    // What go/scanner refuses, and hex floats, are not followed (ours kept).
    for (const r of ['Host(09)', 'Host(1__0)', 'Host(0x)', 'Host(1_)', 'Host(0x1p-2)'])
      assert.equal(traefikHttpRuleError(r, 'v3'), undefined, r);
    // Spellings rules.NewParser registers: as written, lower, UPPER, Title.
    for (const r of ['pathprefix(`/`)', 'PATHPREFIX(`/`)', 'Pathprefix(`/`)']) {
      assert.equal(traefikHttpRuleError(r, 'v3'), undefined, r);
    }
    assert.equal(
      traefikHttpRuleError('pathPrefix(`/`)', 'v3'),
      `${parsing('pathPrefix(`/`)')}: unsupported function: pathPrefix`,
    );
  });

  it("words empty arguments, counts and values as addRule, in Traefik's order (the first failing matcher, left first)", () => {
    let r = 'Host(``)';
    assert.equal(
      traefikHttpRuleError(r, 'v3'),
      `${adding(r)}error while checking rule Host: empty args for matcher Host, []`,
    );
    r = 'Header(`X-A`, ``) && Path(`/`)';
    assert.equal(
      traefikHttpRuleError(r, 'v3'),
      `${adding(r)}error while adding rule and: error while checking rule Header: empty args for matcher Header, [X-A ]`,
    );
    r = 'Path()';
    assert.equal(
      traefikHttpRuleError(r, 'v3'),
      `${adding(r)}error while checking rule Path: no args for matcher Path`,
    );
    // A bad value before a wrong count: the value, where it stands first.
    r = 'PathPrefix(`api`) && Host(`a`, `b`)';
    assert.equal(
      traefikHttpRuleError(r, 'v3'),
      `${adding(r)}error while adding rule and: error while adding rule PathPrefix: path "api" does not start with a '/'`,
    );
    r = 'Host(`a`, `b`) && PathPrefix(`api`)';
    assert.equal(
      traefikHttpRuleError(r, 'v3'),
      `${adding(r)}error while adding rule and: error while adding rule Host: unexpected number of parameters; got 2, expected one of [1]`,
    );
    r = 'Query(`a`, `b`, `c`)';
    assert.equal(
      traefikHttpRuleError(r, 'v3'),
      `${adding(r)}error while adding rule Query: unexpected number of parameters; got 3, expected one of [1 2]`,
    );
    // `!` on an operator swaps it (rules.invert): the wrap says `or`.
    r = '!(Path(`a`) && Host(`x`))';
    assert.equal(
      traefikHttpRuleError(r, 'v3'),
      `${adding(r)}error while adding rule or: error while adding rule Path: path "a" does not start with a '/'`,
    );
    r = 'Host(`é.test`)';
    assert.equal(
      traefikHttpRuleError(r, 'v3'),
      `${adding(r)}error while adding rule Host: invalid value "é.test" for Host matcher, non-ASCII characters are not allowed`,
    );
    // Traefik v3's Method takes any value.
    assert.equal(traefikHttpRuleError('Method(`GET POST`)', 'v3'), undefined);
  });

  it("words a bad regexp as the matcher wraps Go's regexp error", () => {
    const re = (m: string, rule: string, text: string) =>
      assert.equal(traefikHttpRuleError(rule, 'v3'), `${adding(rule)}error while adding rule ${m}: ${text}`);
    re(
      'HostRegexp',
      'HostRegexp(`(`)',
      'compiling HostRegexp matcher: error parsing regexp: missing closing ): `(`',
    );
    re(
      'HostRegexp',
      'HostRegexp(`é`)',
      'invalid value "é" for HostRegexp matcher, non-ASCII characters are not allowed',
    );
    // Traefik's pathRegexp says PathPrefix (pkg/muxer/http/matcher.go).
    re(
      'PathRegexp',
      'PathRegexp(`^/a**`)',
      'compiling PathPrefix matcher: error parsing regexp: invalid nested repetition operator: `**`',
    );
    re(
      'HeaderRegexp',
      'HeaderRegexp(`X`, `(?=a)`)',
      'compiling HeaderRegexp matcher: error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    );
    re(
      'QueryRegexp',
      'QueryRegexp(`q`, `\\1`)',
      'compiling QueryRegexp matcher: error parsing regexp: invalid escape sequence: `\\1`',
    );
    // Go accepts what JS would read otherwise.
    for (const p of ['(?P<n>a)', '\\z', '(?i)a', '[[:alpha:]]', '(?<n>a)(?<n>b)', '^*']) {
      assert.equal(traefikHttpRuleError(`PathRegexp(\`${p}\`)`, 'v3'), undefined, p);
    }
  });

  it("words a bad ClientIP as Traefik's ip checker with Go's net/netip texts", () => {
    const cases: [string, string][] = [
      ['10.0.0.0/8', ''],
      [
        '10.0.0.0/33',
        'parsing CIDR trusted IPs 10.0.0.0/33: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range',
      ],
      ['10.0.0.256', 'parsing CIDR trusted IPs 10.0.0.256: netip.ParsePrefix("10.0.0.256"): no \'/\''],
      [
        '10.0.0.1/x',
        'parsing CIDR trusted IPs 10.0.0.1/x: netip.ParsePrefix("10.0.0.1/x"): bad bits after slash: "x"',
      ],
      ['abc', 'parsing CIDR trusted IPs abc: netip.ParsePrefix("abc"): no \'/\''],
      ['1.2.3', 'parsing CIDR trusted IPs 1.2.3: netip.ParsePrefix("1.2.3"): no \'/\''],
      ['1.2.3.4.5', 'parsing CIDR trusted IPs 1.2.3.4.5: netip.ParsePrefix("1.2.3.4.5"): no \'/\''],
      ['01.2.3.4', 'parsing CIDR trusted IPs 01.2.3.4: netip.ParsePrefix("01.2.3.4"): no \'/\''],
      ['1..2.3', 'parsing CIDR trusted IPs 1..2.3: netip.ParsePrefix("1..2.3"): no \'/\''],
      [
        '1.2.3.4/',
        'parsing CIDR trusted IPs 1.2.3.4/: netip.ParsePrefix("1.2.3.4/"): bad bits after slash: ""',
      ],
      ['::1', ''],
      [
        '::1/129',
        'parsing CIDR trusted IPs ::1/129: netip.ParsePrefix("::1/129"): prefix length out of range',
      ],
      ['fe80::1%eth0', ''],
      ['fe80::1%eth0/64', ''],
      ['2001:db8::/32', ''],
      ['2001:db8:::1', 'parsing CIDR trusted IPs 2001:db8:::1: netip.ParsePrefix("2001:db8:::1"): no \'/\''],
      [
        '1:2:3:4:5:6:7:8:9',
        'parsing CIDR trusted IPs 1:2:3:4:5:6:7:8:9: netip.ParsePrefix("1:2:3:4:5:6:7:8:9"): no \'/\'',
      ],
      ['12345::', 'parsing CIDR trusted IPs 12345::: netip.ParsePrefix("12345::"): no \'/\''],
      ['::ffff:1.2.3.4', ''],
      ['::ffff:1.2.3', 'parsing CIDR trusted IPs ::ffff:1.2.3: netip.ParsePrefix("::ffff:1.2.3"): no \'/\''],
      [
        '1:2:3:4:5:6:7:8::',
        'parsing CIDR trusted IPs 1:2:3:4:5:6:7:8::: netip.ParsePrefix("1:2:3:4:5:6:7:8::"): no \'/\'',
      ],
      [':1', 'parsing CIDR trusted IPs :1: netip.ParsePrefix(":1"): no \'/\''],
      ['1:', 'parsing CIDR trusted IPs 1:: netip.ParsePrefix("1:"): no \'/\''],
      ['g::1', 'parsing CIDR trusted IPs g::1: netip.ParsePrefix("g::1"): no \'/\''],
      ['1.2.3.4x', 'parsing CIDR trusted IPs 1.2.3.4x: netip.ParsePrefix("1.2.3.4x"): no \'/\''],
      ['%eth0', 'parsing CIDR trusted IPs %eth0: netip.ParsePrefix("%eth0"): no \'/\''],
      [
        '10.0.0.0/-1',
        'parsing CIDR trusted IPs 10.0.0.0/-1: netip.ParsePrefix("10.0.0.0/-1"): bad bits after slash: "-1"',
      ],
    ];
    for (const [v, want] of cases) {
      const r = `ClientIP(\`${v}\`)`;
      assert.equal(
        traefikHttpRuleError(r, 'v3'),
        want === ''
          ? undefined
          : `${adding(r)}error while adding rule ClientIP: initializing IP checker for ClientIP matcher: ${want}`,
        v,
      );
    }
  });

  it('reads a v2 rule with v2 functions; an unnamed syntax tries v2 after v3', () => {
    let r = 'QueryRegexp(`a`, `b`)';
    assert.equal(traefikHttpRuleError(r, 'v2'), `${parsing(r)}: unsupported function: QueryRegexp`);
    assert.equal(traefikHttpRuleError(r), `${parsing(r)}: unsupported function: QueryRegexp`);
    assert.equal(traefikHttpRuleError(r, 'v3'), undefined);
    // rules.CheckRule before the v2 matcher, as for v3.
    r = 'Headers(`a`, ``)';
    assert.equal(
      traefikHttpRuleError(r, 'v2'),
      `${adding(r)}error while checking rule Headers: empty args for matcher Headers, [a ]`,
    );
  });

  it("words a v2 matcher's values as matcher_v2.go and gorilla/mux (Go's regexp texts from Go 1.19)", () => {
    const cases: [string, string | undefined][] = [
      ['Host(`a.com`, `b.com`)', undefined],
      ['Path(`/{id:[0-9]+}`) && Query(`a=b`, `c={d}`)', undefined],
      [
        'Host(`é.com`)',
        'Host: invalid value "é.com" for "Host" matcher, non-ASCII characters are not allowed',
      ],
      [
        'HostHeader(`a`, `é`)',
        'HostHeader: invalid value "é" for "Host" matcher, non-ASCII characters are not allowed',
      ],
      ['Path(`a`)', 'Path: mux: path must start with a slash, got "a"'],
      ['PathPrefix(`/{id`)', 'PathPrefix: mux: unbalanced braces in "/{id"'],
      ['Path(`/a}`)', 'Path: mux: unbalanced braces in "/a}"'],
      ['Path(`/{:[0-9]+}`)', 'Path: mux: missing name or pattern in "{:[0-9]+}"'],
      ['Path(`/{id:[0-9}`)', 'Path: error parsing regexp: missing closing ]: `[0-9$`'],
      [
        'HostRegexp(`{sub:[a-z+}.example.com`)',
        'HostRegexp: error parsing regexp: missing closing ]: `[a-z+$`',
      ],
      ['Headers(`a`, `b`, `c`)', 'Headers: mux: number of parameters must be multiple of 2, got [a b c]'],
      ['HeadersRegexp(`X`, `a(`)', 'HeadersRegexp: error parsing regexp: missing closing ): `a(`'],
      ['Query(`a`)', 'Query: mux: number of parameters must be multiple of 2, got [a]'],
      ['Query(`a={x:(}`)', 'Query: error parsing regexp: missing closing ): `^($`'],
      [
        'ClientIP(`10.0.0.0/33`)',
        'ClientIP: could not initialize IP Checker for "ClientIP" matcher: parsing CIDR trusted IPs 10.0.0.0/33: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range',
      ],
      // The left side first, wrapped by its operator, as for v3.
      [
        'Path(`a`) && Host(`b`)',
        'and: error while adding rule Path: mux: path must start with a slash, got "a"',
      ],
      // A capturing group makes gorilla's newRouteRegexp panic: not followed (ours kept).
      ['Path(`/{id:(a|b)}`)', undefined],
    ];
    for (const [rule, text] of cases) {
      const colon = text?.indexOf(': ') ?? -1;
      assert.equal(
        traefikHttpRuleError(rule, 'v2'),
        text === undefined
          ? undefined
          : `${adding(rule)}error while adding rule ${text.slice(0, colon)}: ${text.slice(colon + 2)}`,
        rule,
      );
    }
  });

  it("words a TCP rule's errors as the TCP manager and muxer (parse before the service, add after)", () => {
    assert.deepEqual(traefikTcpRuleError('Host(`a`)'), {
      parse: 'invalid rule: "Host(`a`)" , unsupported function: Host',
    });
    assert.deepEqual(traefikTcpRuleError('HostSNI(`a`) &&'), {
      parse: `invalid rule: "HostSNI(\`a\`) &&" , 1:16: expected operand, found 'EOF'`,
    });
    const add = (r: string) => `error while adding rule ${r}: `;
    let r = 'HostSNI(`a b`)';
    assert.deepEqual(traefikTcpRuleError(r), {
      add: `${add(r)}invalid value for HostSNI matcher, "a b" is not a valid hostname`,
    });
    r = 'HostSNI(`a.test`) || ALPN(`acme-tls/1`)';
    assert.deepEqual(traefikTcpRuleError(r), {
      add: `${add(r)}invalid protocol value for ALPN matcher, "acme-tls/1" is not allowed`,
    });
    r = 'ClientIP(`10.0.0.0/33`)';
    assert.deepEqual(traefikTcpRuleError(r), {
      add: `${add(r)}initializing IP checker for ClientIP matcher: parsing CIDR trusted IPs 10.0.0.0/33: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`,
    });
    r = 'HostSNIRegexp(`a(`)';
    assert.deepEqual(traefikTcpRuleError(r), {
      add: `${add(r)}compiling HostSNIRegexp matcher: error parsing regexp: missing closing ): \`a(\``,
    });
    r = 'HostSNI(`a`, `b`)';
    assert.deepEqual(traefikTcpRuleError(r), {
      add: `${add(r)}unexpected number of parameters; got 2, expected 1`,
    });
    r = 'HostSNI(``)';
    assert.deepEqual(traefikTcpRuleError(r), { add: `${add(r)}empty args for matcher HostSNI, []` });
    // An IDN name is taken in its punycode form (idna.Lookup.ToASCII).
    assert.equal(traefikTcpRuleError('HostSNI(`bücher.example`)'), undefined);
    assert.equal(traefikTcpRuleError('HostSNI(`*`)'), undefined);
  });
});

/**
 * The dashboard's script, served as `/dashboard/app.js`: plain browser JavaScript, no build step.
 * It is a string because the project's compiler has no DOM types and the page must not need a
 * bundler; `index.test.ts` parses it and `page.test.ts` runs it in Chromium.
 *
 * Rules the script keeps:
 * - every string from the API reaches the DOM through `textContent`/`append` or an attribute set
 *   with `setAttribute` (names come from user configuration and from the write API: markup in a
 *   router name must stay text); the only `href`s are `#/...` built with encodeURIComponent, never
 *   a URL from the API (a server URL `javascript:...` must not become a link);
 * - one poll at a time, rescheduled 1 s after the previous one finished, so a slow API is never
 *   hit by overlapping requests; nothing is fetched while the tab is hidden;
 * - the page skeleton (search box included) is built once per view and only the sections whose
 *   data changed are rebuilt, so polling never steals the focus or the caret.
 *
 * String.raw: the script's own escapes (`\u2190`, regexps) must reach the browser verbatim.
 * The script must contain no backtick and no dollar-brace (it lives in a template literal).
 */
export const APP_JS = String.raw`(() => {
  'use strict';

  const POLL_MS = 1000;
  const FETCH_TIMEOUT_MS = 5000;
  // Relative to /dashboard/: also right when the admin entry point is mounted under a prefix.
  const API = '../api/';
  // api.dashboardName (Traefik v3.7): part of every page title when set.
  const nameMeta = document.querySelector('meta[name="dashboard-name"]');
  const TITLE_SUFFIX = nameMeta === null ? '' : ' \u2013 ' + nameMeta.getAttribute('content');

  const $ = (sel) => document.querySelector(sel);
  const viewEl = $('#view');
  const bannerEl = $('[data-testid="api-error"]');
  const liveEl = $('[data-testid="live"]');
  const versionEl = $('[data-testid="version"]');
  const headerGenEl = $('[data-testid="header-generation"]');

  const state = {
    filter: '',
    overview: null,
    providers: null,
    routers: null,
    services: null,
    middlewares: null,
    tcpRouters: null,
    tcpServices: null,
    udpRouters: null,
    udpServices: null,
    // { name, missing: boolean, data } for the service shown in the detail view
    detail: null,
  };
  const raw = new Map(); // API path -> last body text: unchanged bodies render nothing
  const dirty = new Set();
  const slots = {};
  // Layer 4 lists: API path, state key, title (shown in the list view only).
  const L4 = [
    ['tcp/routers', 'tcpRouters', 'TCP routers'],
    ['tcp/services', 'tcpServices', 'TCP services'],
    ['udp/routers', 'udpRouters', 'UDP routers'],
    ['udp/services', 'udpServices', 'UDP services'],
  ];
  const LISTS = ['routers', 'services', 'middlewares'].concat(L4.map((x) => x[1]));
  let mounted = '';
  let timer = 0;
  let seq = 0;

  // ---------- DOM helpers (text only) ----------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const key of Object.keys(attrs)) {
        const v = attrs[key];
        if (v === undefined || v === null || v === false) continue;
        if (key === 'text') node.textContent = String(v);
        else if (key === 'class') node.className = String(v);
        else node.setAttribute(key, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  const list = (v) => (Array.isArray(v) ? v.map(String) : []);
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  // A router's priority as the API wrote it: the internal routers' are Go's math.MaxInt and
  // math.MaxInt - 1 (Traefik's pkg/provider/traefik/internal.go), past a double's exact range,
  // so JSON.parse keeps their text (exactInts); a rounded 9223372036854776000 would show both alike.
  const intText = (v) => (typeof v === 'string' && /^-?[0-9]+$/.test(v) ? v : String(num(v)));
  // JSON.parse's reviver sees each number's source text (ES2026 JSON.parse source text access).
  const exactInts = (key, v, context) =>
    key === 'priority' && typeof v === 'number' && !Number.isSafeInteger(v) && context && typeof context.source === 'string'
      ? context.source
      : v;
  const serviceHref = (name) => '#/services/' + encodeURIComponent(name);

  function when(ms) {
    if (!ms) return 'never';
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? String(ms) : d.toLocaleString();
  }

  function badge(text, st, testid) {
    return el('span', { class: 'badge', 'data-state': st, 'data-testid': testid, text });
  }

  function issueList(issues) {
    if (issues.length === 0) return null;
    return el('ul', { class: 'issue-list', 'data-testid': 'issues' }, issues.map((i) => el('li', { text: i })));
  }

  function table(caption, heads, rows, emptyText) {
    const head = el('tr', null, heads.map((h) => el('th', { scope: 'col', class: h.num ? 'num' : null, text: h.label })));
    const body = el('tbody');
    if (rows.length === 0) body.append(el('tr', null, el('td', { colspan: heads.length, class: 'empty', text: emptyText })));
    else body.append(...rows);
    return el('table', null, el('caption', { class: 'sr-only', text: caption }), el('thead', null, head), body);
  }

  // ---------- states ----------

  function objectState(o) {
    if (o.status === 'disabled') return 'error';
    return list(o.issues).length > 0 ? 'warning' : 'ok';
  }

  function serviceState(s) {
    const base = objectState(s);
    if (base === 'error' || !Array.isArray(s.servers) || s.servers.length === 0) return base;
    const down = s.servers.filter((x) => x.status !== 'up').length;
    if (down === s.servers.length) return 'error';
    return down > 0 ? 'warning' : base;
  }

  function countsState(c) {
    if (num(c.errors) > 0) return 'error';
    return num(c.warnings) > 0 ? 'warning' : 'ok';
  }

  function matches(fields) {
    if (state.filter === '') return true;
    return fields.flat().some((f) => f !== undefined && f !== null && String(f).toLowerCase().includes(state.filter));
  }

  // ---------- routing ----------

  function route() {
    const h = location.hash.slice(1);
    if (h.startsWith('/services/') && h.length > '/services/'.length) {
      try {
        return { view: 'service', name: decodeURIComponent(h.slice('/services/'.length)), key: h };
      } catch {
        // a malformed escape: fall through to the lists
      }
    }
    return { view: 'list', key: 'list' };
  }

  function section(id, title, testid) {
    const count = el('span', { class: 'count', 'data-testid': testid + '-count' });
    const h = el('h2', { id: 'h-' + id }, title, count);
    const body = el('div');
    const sec = el('section', { 'aria-labelledby': 'h-' + id, 'data-testid': testid }, h, body);
    slots[id] = { body, count };
    return sec;
  }

  function mount(r) {
    if (mounted === r.key) return;
    const first = mounted === '';
    mounted = r.key;
    // A detail body cached for another visit must not count as "unchanged" for this one.
    for (const k of [...raw.keys()]) if (k.startsWith('http/services/')) raw.delete(k);
    for (const k of Object.keys(slots)) delete slots[k];
    viewEl.replaceChildren();
    let heading;
    if (r.view === 'list') {
      document.title = 'traffic-management dashboard' + TITLE_SUFFIX;
      const input = el('input', {
        type: 'search',
        id: 'search',
        'data-testid': 'search',
        placeholder: 'Filter by name, rule, provider, type, server…',
        autocomplete: 'off',
        spellcheck: 'false',
      });
      input.value = state.filter;
      input.addEventListener('input', () => {
        state.filter = input.value.trim().toLowerCase();
        for (const k of LISTS) dirty.add(k);
        render();
      });
      viewEl.append(
        section('overview', 'Overview', 'overview'),
        el('div', { class: 'search', role: 'search' }, el('label', { for: 'search', text: 'Search' }), input),
        section('routers', 'HTTP routers', 'routers'),
        section('services', 'HTTP services', 'services'),
        section('middlewares', 'HTTP middlewares', 'middlewares'),
        ...L4.map(([, key, title]) => section(key, title, l4Testid(key))),
      );
      heading = slots.overview.body.parentElement.querySelector('h2');
    } else {
      document.title = r.name + ' \u2013 traffic-management' + TITLE_SUFFIX;
      heading = el('h2', { tabindex: '-1', 'data-testid': 'service-name', text: r.name });
      const body = el('div');
      slots.detail = { body, count: null };
      viewEl.append(
        el('section', { 'data-testid': 'service-detail', 'aria-labelledby': 'h-detail' },
          el('a', { class: 'back', href: '#/', 'data-testid': 'back', text: '\u2190 All routers, services and middlewares' }),
          heading, body),
      );
      heading.id = 'h-detail';
    }
    for (const k of ['overview', 'detail'].concat(LISTS)) dirty.add(k);
    // Tell assistive technology the view changed (not on the first load: the page just opened).
    if (!first && heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }

  // ---------- renderers ----------

  function renderHeader() {
    const o = state.overview;
    if (!o) return;
    versionEl.textContent = String(o.version ?? '?');
    headerGenEl.textContent = String(o.generation ?? '?');
  }

  function countCard(title, kind, c) {
    const counts = c || {};
    return el('div', { class: 'card', 'data-testid': 'count-' + kind, 'data-state': countsState(counts) },
      el('h3', null, el('a', { href: '#h-' + kind, text: title })),
      el('dl', null,
        el('dt', { text: 'total' }), el('dd', { 'data-testid': 'total', text: num(counts.total) }),
        el('dt', { text: 'warnings' }), el('dd', { 'data-testid': 'warnings', text: num(counts.warnings) }),
        el('dt', { text: 'errors' }), el('dd', { 'data-testid': 'errors', text: num(counts.errors) })));
  }

  function renderOverview(slot) {
    const o = state.overview;
    if (!o) return;
    const reloads = o.reloads || {};
    const rej = reloads.lastRejection;
    // A rejection newer than the last applied config: what is serving is not what was written.
    const pending = rej && num(reloads.lastRejectedAt) >= num(reloads.lastAppliedAt);
    const http = o.http || {};
    const tcp = o.tcp || {};
    const udp = o.udp || {};
    const cards = el('div', { class: 'cards' },
      el('div', { class: 'card', 'data-testid': 'reloads', 'data-state': pending ? 'error' : rej ? 'warning' : 'ok' },
        el('h3', { text: 'Configuration' }),
        el('dl', null,
          el('dt', { text: 'generation' }), el('dd', { 'data-testid': 'generation', text: num(o.generation) }),
          el('dt', { text: 'reloads applied' }), el('dd', { 'data-testid': 'reloads-applied', text: num(reloads.applied) }),
          el('dt', { text: 'reloads rejected' }), el('dd', { 'data-testid': 'reloads-rejected', text: num(reloads.rejected) }),
          el('dt', { text: 'last applied' }), el('dd', { text: when(reloads.lastAppliedAt) }),
          el('dt', { text: 'last rejected' }), el('dd', { text: when(reloads.lastRejectedAt) }))),
      countCard('Routers', 'routers', http.routers),
      countCard('Services', 'services', http.services),
      countCard('Middlewares', 'middlewares', http.middlewares),
      countCard('TCP routers', 'tcpRouters', tcp.routers),
      countCard('TCP services', 'tcpServices', tcp.services),
      countCard('UDP routers', 'udpRouters', udp.routers),
      countCard('UDP services', 'udpServices', udp.services));
    const parts = [cards];
    const current = Array.isArray(o.issues) ? o.issues : [];
    if (current.length > 0) {
      const st = current.some((i) => i.severity === 'error') ? 'error' : 'warning';
      parts.push(el('div', { class: 'issues', 'data-testid': 'config-issues', 'data-state': st },
        el('h3', { text: 'Issues of the configuration in force' }),
        issueList(current.map((i) => String(i.text)))));
    }
    if (rej) {
      parts.push(el('div', { class: 'issues', 'data-testid': 'last-rejection', 'data-state': pending ? 'error' : 'warning' },
        el('h3', { text: 'Last rejected configuration (provider ' + String(rej.provider) + ', ' + when(reloads.lastRejectedAt) + ')' }),
        pending ? el('p', { text: 'The previous configuration keeps serving.' }) : null,
        issueList(list(rej.issues))));
    }
    const providers = Array.isArray(state.providers) ? state.providers : [];
    if (providers.length > 0) {
      // A provider that is down still serves its last good configuration: say so, in red.
      const st = (p) => (p.phase === 'down' ? 'error' : p.phase === 'starting' ? 'warning' : 'ok');
      parts.push(el('div', { 'data-testid': 'providers' },
        el('h3', { text: 'Providers' }),
        table('Providers', [{ label: 'Provider' }, { label: 'State' }, { label: 'Since' }, { label: 'Updates', num: true },
          { label: 'Failures', num: true }, { label: 'Last error' }],
        providers.map((p) => el('tr', { 'data-testid': 'provider-' + String(p.name), 'data-state': st(p) },
          el('td', null, el('strong', { text: String(p.name) })),
          el('td', null, badge(p.phase === 'down' ? 'down: last good configuration serves' : String(p.phase), st(p), 'phase')),
          el('td', { text: when(p.since) }),
          el('td', { class: 'num', text: num(p.updates) }),
          el('td', { class: 'num', text: num(p.failures) }),
          el('td', { text: p.lastError ? String(p.lastError) + ' (' + when(p.lastErrorAt) + ')' : '' }))),
        'No provider')));
    }
    slot.body.replaceChildren(...parts);
  }

  function nameCell(name, issues, href, testid) {
    const label = href ? el('a', { href, 'data-testid': testid, text: name }) : el('strong', { text: name });
    return el('td', null, label, issueList(issues));
  }

  function renderRouters(slot) {
    const all = state.routers;
    if (!Array.isArray(all)) return;
    const shown = all.filter((r) => matches([r.name, r.provider, r.rule, r.service, r.status, list(r.entryPoints), list(r.middlewares)]));
    slot.count.textContent = counted(shown.length, all.length);
    const rows = shown.map((r) => {
      const st = objectState(r);
      return el('tr', { 'data-testid': 'router-row', 'data-name': r.name, 'data-state': st },
        nameCell(String(r.name), list(r.issues), null, null),
        el('td', null, badge(String(r.status), st, 'status')),
        el('td', null, el('code', { text: r.rule ?? '' })),
        el('td', { text: list(r.entryPoints).join(', ') }),
        el('td', { text: list(r.middlewares).join(', ') }),
        el('td', null, r.service ? el('a', { href: serviceHref(String(r.service)), text: r.service }) : ''),
        el('td', { text: r.provider ?? '' }),
        el('td', { class: 'num', text: intText(r.priority) }));
    });
    slot.body.replaceChildren(table('Routers', [
      { label: 'Name' }, { label: 'Status' }, { label: 'Rule' }, { label: 'Entry points' },
      { label: 'Middlewares' }, { label: 'Service' }, { label: 'Provider' }, { label: 'Priority', num: true },
    ], rows, state.filter ? 'No router matches the filter.' : 'No routers.'));
  }

  function serversSummary(s) {
    if (!Array.isArray(s.servers)) return Array.isArray(s.services) ? list(s.services).join(', ') : '';
    const up = s.servers.filter((x) => x.status === 'up').length;
    const st = up === s.servers.length ? 'ok' : up === 0 ? 'error' : 'warning';
    const inFlight = s.servers.reduce((a, x) => a + num(x.inFlight), 0);
    return el('span', null, badge(up + '/' + s.servers.length + ' up', st, 'servers-up'), ' ', el('span', { class: 'muted', text: inFlight + ' in flight' }));
  }

  function renderServices(slot) {
    const all = state.services;
    if (!Array.isArray(all)) return;
    const shown = all.filter((s) => matches([s.name, s.provider, s.type, s.status, list(s.services), (s.servers || []).map((x) => x.url)]));
    slot.count.textContent = counted(shown.length, all.length);
    const rows = shown.map((s) => {
      const st = serviceState(s);
      return el('tr', { 'data-testid': 'service-row', 'data-name': s.name, 'data-state': st },
        nameCell(String(s.name), list(s.issues), serviceHref(String(s.name)), 'service-link'),
        el('td', null, badge(String(s.status), objectState(s), 'status')),
        el('td', { text: s.type ?? '' }),
        el('td', null, serversSummary(s)),
        el('td', { text: s.provider ?? '' }));
    });
    slot.body.replaceChildren(table('Services', [
      { label: 'Name' }, { label: 'Status' }, { label: 'Type' }, { label: 'Servers' }, { label: 'Provider' },
    ], rows, state.filter ? 'No service matches the filter.' : 'No services.'));
  }

  function renderMiddlewares(slot) {
    const all = state.middlewares;
    if (!Array.isArray(all)) return;
    const shown = all.filter((m) => matches([m.name, m.provider, m.type, m.status]));
    slot.count.textContent = counted(shown.length, all.length);
    const rows = shown.map((m) => {
      const st = objectState(m);
      return el('tr', { 'data-testid': 'middleware-row', 'data-name': m.name, 'data-state': st },
        nameCell(String(m.name), list(m.issues), null, null),
        el('td', null, badge(String(m.status), st, 'status')),
        el('td', { text: m.type ?? '' }),
        el('td', { text: m.provider ?? '' }));
    });
    slot.body.replaceChildren(table('Middlewares', [
      { label: 'Name' }, { label: 'Status' }, { label: 'Type' }, { label: 'Provider' },
    ], rows, state.filter ? 'No middleware matches the filter.' : 'No middlewares.'));
  }

  // 'tcpRouters' -> 'tcp-routers' (the section), rows 'tcp-router-row'.
  function l4Testid(key) {
    return key.slice(0, 3) + '-' + key.slice(3).toLowerCase();
  }

  /** A TCP or UDP list: routers (rule, entry points, those in use, service) or services (servers). */
  function renderL4(key) {
    const all = state[key];
    const slot = slots[key];
    if (!Array.isArray(all) || !slot) return;
    const routers = key.endsWith('Routers');
    const servers = (o) => (Array.isArray(o.servers) ? o.servers : []);
    const shown = all.filter((o) => matches([o.name, o.provider, o.rule, o.service, o.type, o.status,
      list(o.entryPoints), list(o.services), servers(o).map((x) => x.address)]));
    slot.count.textContent = counted(shown.length, all.length);
    const rows = shown.map((o) => {
      const st = objectState(o);
      const cells = routers
        ? [el('td', null, el('code', { text: o.rule ?? '' })), el('td', { text: list(o.entryPoints).join(', ') }),
            el('td', { 'data-testid': 'using', text: list(o.using).join(', ') }), el('td', { text: o.service ?? '' })]
        : [el('td', { text: o.type ?? '' }), el('td', null, Array.isArray(o.services) ? list(o.services).join(', ')
            : servers(o).map((x) => el('div', { 'data-testid': 'l4-server', 'data-status': x.status || '' },
              el('code', { text: String(x.address) }), x.status ? ' ' : null,
              x.status ? badge(String(x.status), x.status === 'up' ? 'ok' : 'error', 'server-status') : null)))];
      return el('tr', { 'data-testid': l4Testid(key).slice(0, -1) + '-row', 'data-name': o.name, 'data-state': st },
        nameCell(String(o.name), list(o.issues), null, null),
        el('td', null, badge(String(o.status), st, 'status')), cells, el('td', { text: o.provider ?? '' }));
    });
    const heads = routers
      ? [{ label: 'Rule' }, { label: 'Entry points' }, { label: 'In use on' }, { label: 'Service' }]
      : [{ label: 'Type' }, { label: 'Servers' }];
    const title = L4.find((x) => x[1] === key)[2];
    slot.body.replaceChildren(table(title, [{ label: 'Name' }, { label: 'Status' }].concat(heads, [{ label: 'Provider' }]),
      rows, state.filter ? 'Nothing matches the filter.' : 'No ' + title + '.'));
  }

  function counted(shown, total) {
    return shown === total ? '(' + total + ')' : '(' + shown + ' of ' + total + ')';
  }

  function serverRow(x) {
    const up = x.status === 'up';
    const pool = x.pool || {};
    const cell = (v, testid) => el('td', { class: 'num', 'data-testid': testid, text: num(v) });
    return el('tr', { 'data-testid': 'server-row', 'data-url': x.url, 'data-status': up ? 'up' : 'down', 'data-state': up ? 'ok' : 'error' },
      el('td', null, el('code', { text: x.url ?? '' })),
      el('td', null, badge(up ? 'up' : 'down', up ? 'ok' : 'error', 'server-status')),
      cell(x.inFlight, 'server-inflight'),
      cell(pool.idle, 'pool-idle'), cell(pool.busy, 'pool-busy'), cell(pool.connecting, 'pool-connecting'),
      cell(pool.opened, 'pool-opened'), cell(pool.closed, 'pool-closed'), cell(pool.reused, 'pool-reused'));
  }

  function renderDetail(slot, name) {
    const d = state.detail;
    if (!d || d.name !== name) {
      slot.body.replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
      return;
    }
    if (d.missing) {
      slot.body.replaceChildren(el('p', { 'data-testid': 'not-found', text: 'There is no service named ' + name + '.' }));
      return;
    }
    const s = d.data;
    const st = serviceState(s);
    const parts = [el('dl', { class: 'facts' },
      el('dt', { text: 'status' }), el('dd', null, badge(String(s.status), st, 'service-status')),
      el('dt', { text: 'type' }), el('dd', { text: s.type ?? '' }),
      el('dt', { text: 'provider' }), el('dd', { text: s.provider ?? '' }))];
    const issues = list(s.issues);
    if (issues.length > 0) {
      parts.push(el('div', { class: 'issues', 'data-state': objectState(s), 'data-testid': 'service-issues' }, el('h3', { text: 'Issues' }), issueList(issues)));
    }
    if (Array.isArray(s.servers)) {
      parts.push(el('h3', { text: 'Servers' }), table('Servers and their connection pools', [
        { label: 'URL' }, { label: 'Health' }, { label: 'In flight', num: true }, { label: 'Idle', num: true },
        { label: 'Busy', num: true }, { label: 'Connecting', num: true }, { label: 'Opened', num: true },
        { label: 'Closed', num: true }, { label: 'Reused', num: true },
      ], s.servers.map(serverRow), 'No servers.'));
    }
    if (Array.isArray(s.services)) {
      parts.push(el('h3', { text: 'Services' }), el('ul', { 'data-testid': 'child-services' },
        list(s.services).map((c) => el('li', null, el('a', { href: serviceHref(c), text: c })))));
    }
    if (Array.isArray(state.routers)) {
      const users = state.routers.filter((r) => r.service === name).map((r) => String(r.name));
      parts.push(el('h3', { text: 'Routers using it' }), users.length === 0
        ? el('p', { class: 'empty', text: 'None.' })
        : el('ul', { 'data-testid': 'service-routers' }, users.map((u) => el('li', { text: u }))));
    }
    if (s.config !== undefined) {
      parts.push(el('h3', { text: 'Configuration' }), el('pre', { 'data-testid': 'service-config', text: JSON.stringify(s.config, null, 2) }));
    }
    slot.body.replaceChildren(...parts);
  }

  function render() {
    const r = route();
    mount(r);
    if (dirty.has('overview')) renderHeader();
    if (r.view === 'list') {
      if (dirty.has('overview')) renderOverview(slots.overview);
      if (dirty.has('routers')) renderRouters(slots.routers);
      if (dirty.has('services')) renderServices(slots.services);
      if (dirty.has('middlewares')) renderMiddlewares(slots.middlewares);
      for (const [, key] of L4) if (dirty.has(key)) renderL4(key);
    } else if (dirty.has('detail') || dirty.has('routers')) {
      renderDetail(slots.detail, r.name);
    }
    dirty.clear();
  }

  // ---------- polling ----------

  // Lists are paged as Traefik's (100 a page by default): the dashboard shows them whole.
  const PAGED = /^(http|tcp|udp)\/(routers|services|middlewares)$/;

  async function get(path) {
    const res = await fetch(API + path + (PAGED.test(path) ? '?per_page=1000000' : ''), {
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    return { status: res.status, text: await res.text() };
  }

  function problem(path, res) {
    let detail = '';
    try {
      const body = JSON.parse(res.text);
      const text = body && (typeof body.message === 'string' ? body.message : body.error);
      if (typeof text === 'string') detail = ': ' + text;
    } catch {
      // not JSON: the status says enough
    }
    return '/api/' + path + ' answered ' + res.status + detail;
  }

  async function refresh() {
    const r = route();
    const jobs = [['overview', 'overview'], ['providers', 'providers'], ['http/routers', 'routers']];
    if (r.view === 'list') {
      jobs.push(['http/services', 'services'], ['http/middlewares', 'middlewares']);
      for (const [path, key] of L4) jobs.push([path, key]);
    }
    else jobs.push(['http/services/' + encodeURIComponent(r.name), 'detail']);
    const results = await Promise.all(jobs.map(([path]) => get(path).then((res) => ({ res }), (err) => ({ err }))));
    const errors = [];
    results.forEach(({ res, err }, i) => {
      const [path, key] = jobs[i];
      if (err) {
        errors.push('/api/' + path + ': ' + (err && err.name === 'TimeoutError' ? 'no answer' : 'unreachable'));
        return;
      }
      if (key === 'detail' && res.status === 404) {
        if (!state.detail || state.detail.name !== r.name || !state.detail.missing) {
          state.detail = { name: r.name, missing: true, data: null };
          raw.delete(path);
          dirty.add(key);
        }
        return;
      }
      if (res.status !== 200) {
        errors.push(problem(path, res));
        return;
      }
      if (raw.get(path) === res.text) return;
      let data;
      try {
        data = JSON.parse(res.text, exactInts);
      } catch {
        errors.push('/api/' + path + ' answered something that is not JSON');
        return;
      }
      raw.set(path, res.text);
      state[key] = key === 'detail' ? { name: r.name, missing: false, data } : data;
      dirty.add(key === 'providers' ? 'overview' : key);
    });
    showErrors(errors);
    // The answer may belong to a view the user has already left: only render the current one.
    if (route().key === r.key) render();
  }

  function showErrors(errors) {
    if (errors.length === 0) {
      bannerEl.hidden = true;
      bannerEl.textContent = '';
      liveEl.dataset.state = 'ok';
      liveEl.textContent = 'live \u00b7 ' + new Date().toLocaleTimeString();
      return;
    }
    bannerEl.hidden = false;
    bannerEl.textContent = 'The admin API did not answer as expected (showing the last data received): ' + errors.join('; ');
    liveEl.dataset.state = 'error';
    liveEl.textContent = 'API unreachable';
  }

  async function tick() {
    clearTimeout(timer);
    const mine = ++seq;
    try {
      if (!document.hidden) await refresh();
    } catch (e) {
      showErrors([String(e && e.message ? e.message : e)]);
    } finally {
      if (mine === seq) timer = setTimeout(tick, POLL_MS);
    }
  }

  window.addEventListener('hashchange', () => {
    render();
    void tick();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void tick();
  });
  document.addEventListener('keydown', (e) => {
    const input = $('#search');
    if (e.key === '/' && input && document.activeElement !== input && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      input.focus();
    }
  });

  render();
  void tick();
})();
`;

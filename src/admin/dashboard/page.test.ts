/**
 * The dashboard in headless Chromium against a fake admin API (test-fake-api.ts): what the page
 * shows for known API answers, and how it follows changes. Every wait is on the DOM reaching an
 * expected state, with a deadline; the page polls on its own 1 s timer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from '../../../test/helpers/browser.ts';
import { dashboardAssets } from './index.ts';
import { type FakeAdmin, type FakeState, pool, startFakeAdmin } from './test-fake-api.ts';

// Globals of the page, for the functions that run there (the project's compiler has no DOM types).
declare const getComputedStyle: (e: unknown) => { color: string; backgroundColor: string };
declare const document: { activeElement: unknown };

const BACKGROUND = (e: unknown): string => getComputedStyle(e).backgroundColor;
const COLOR = (e: unknown): string => getComputedStyle(e).color;
const FOCUSED = (e: unknown): boolean => e === document.activeElement;
const NAMES = (rows: { getAttribute(name: string): string | null }[]): (string | null)[] =>
  rows.map((r) => r.getAttribute('data-name'));

const XSS_NAME = '<img src=x onerror="window.__xss=1">@file';

function fakeState(): FakeState {
  return {
    generation: 7,
    applied: 6,
    rejected: 2,
    lastRejection: { provider: 'file', issues: ['http.routers.bad.rule: unexpected end of rule'] },
    issues: [],
    routers: [
      {
        name: 'web@file',
        provider: 'file',
        rule: 'Host(`example.com`)',
        priority: 17,
        entryPoints: ['web'],
        middlewares: ['strip@file'],
        service: 'app@file',
        status: 'enabled',
        issues: [],
      },
      {
        name: 'broken@file',
        provider: 'file',
        rule: 'Host(',
        priority: 0,
        entryPoints: ['web'],
        middlewares: [],
        service: 'app@file',
        status: 'disabled',
        issues: ['rule: unexpected end of rule'],
      },
      {
        name: 'admin@api',
        provider: 'api',
        rule: 'PathPrefix(`/admin`)',
        priority: 20,
        entryPoints: ['web'],
        middlewares: ['gone@file'],
        service: 'app@file',
        status: 'enabled',
        issues: ['middleware gone@file does not exist: skipped'],
      },
    ],
    services: [
      {
        name: 'app@file',
        provider: 'file',
        type: 'loadBalancer',
        status: 'enabled',
        issues: [],
        servers: [
          { url: 'http://10.0.0.1:8080', status: 'up', inFlight: 3, pool: pool(4) },
          { url: 'http://10.0.0.2:8080', status: 'up', inFlight: 0, pool: pool(2) },
        ],
        config: {
          loadBalancer: { servers: [{ url: 'http://10.0.0.1:8080' }, { url: 'http://10.0.0.2:8080' }] },
        },
      },
      {
        name: 'split@file',
        provider: 'file',
        type: 'weighted',
        status: 'enabled',
        issues: [],
        services: ['app@file'],
        config: { weighted: { services: [{ name: 'app', weight: 1 }] } },
      },
    ],
    middlewares: [
      {
        name: 'strip@file',
        provider: 'file',
        type: 'stripPrefix',
        status: 'enabled',
        issues: [],
        config: { stripPrefix: { prefixes: ['/api'] } },
      },
    ],
    failWith: null,
  };
}

describe('dashboard page (fake admin API, headless chromium)', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  async function open(
    t: TestContext,
    state = fakeState(),
    hash = '',
  ): Promise<{ page: Page; fake: FakeAdmin; errors: string[] }> {
    const fake = await startFakeAdmin(state);
    t.after(() => fake.close());
    const opened = await openPage(browser, fake.dashboardUrl + hash);
    t.after(() => opened.close());
    opened.page.setDefaultTimeout(10_000);
    return { page: opened.page, fake, errors: opened.errors };
  }

  const row = (page: Page, kind: string, name: string) =>
    page.locator(`[data-testid="${kind}-row"][data-name=${JSON.stringify(name)}]`);

  it('shows the overview, routers, services and middlewares the API reports', async (t) => {
    const { page, errors } = await open(t);
    await row(page, 'router', 'web@file').waitFor();
    assert.equal(await page.getByTestId('generation').textContent(), '7');
    assert.equal(await page.getByTestId('header-generation').textContent(), '7');
    assert.equal(await page.getByTestId('version').textContent(), '0.1.0-test');
    assert.equal(await page.getByTestId('reloads-applied').textContent(), '6');
    assert.equal(await page.getByTestId('reloads-rejected').textContent(), '2');
    const rejection = page.getByTestId('last-rejection');
    assert.equal(
      await rejection.getAttribute('data-state'),
      'error',
      'a rejection newer than the last apply',
    );
    assert.match((await rejection.textContent()) ?? '', /provider file/);
    assert.deepEqual(await rejection.getByRole('listitem').allTextContents(), [
      'http.routers.bad.rule: unexpected end of rule',
    ]);
    assert.deepEqual(await page.locator('[data-testid="router-row"]').evaluateAll(NAMES), [
      'web@file',
      'broken@file',
      'admin@api',
    ]);
    const web = row(page, 'router', 'web@file');
    assert.match((await web.textContent()) ?? '', /Host\(`example\.com`\).*web.*strip@file.*app@file/s);
    assert.equal(await row(page, 'service', 'app@file').getByTestId('servers-up').textContent(), '2/2 up');
    assert.match((await row(page, 'service', 'split@file').textContent()) ?? '', /weighted.*app@file/s);
    assert.match((await row(page, 'middleware', 'strip@file').textContent()) ?? '', /stripPrefix/);
    assert.equal(await page.getByTestId('count-routers').getByTestId('errors').textContent(), '1');
    assert.equal(await page.getByTestId('count-routers').getAttribute('data-state'), 'error');
    assert.deepEqual(errors, []);
  });

  it('lists TCP routers beside the HTTP ones, with the entry points they are in use on', async (t) => {
    const state = fakeState();
    state.tcpRouters = [
      {
        name: 'db@file',
        provider: 'file',
        rule: 'HostSNI(`*`)',
        priority: -1,
        entryPoints: ['db'],
        using: ['db'],
        middlewares: [],
        service: 'db@file',
        status: 'enabled',
        issues: [],
      },
      {
        name: 'gone@file',
        provider: 'file',
        rule: 'HostSNI(`*`)',
        priority: -1,
        entryPoints: ['db'],
        using: [],
        middlewares: [],
        service: 'nowhere@file',
        status: 'disabled',
        issues: ['tcp.routers.gone@file.service: service `nowhere` does not exist'],
      },
    ];
    const { page, errors } = await open(t, state);
    const db = row(page, 'tcp-router', 'db@file');
    await db.waitFor();
    assert.equal(await db.getAttribute('data-state'), 'ok');
    assert.equal(await db.getByTestId('using').textContent(), 'db');
    assert.match((await db.textContent()) ?? '', /HostSNI\(`\*`\).*db@file/s);
    assert.equal(await row(page, 'tcp-router', 'gone@file').getAttribute('data-state'), 'error');
    assert.equal(await page.getByTestId('tcp-routers-count').textContent(), '(2)');
    // The HTTP routers are still listed in their own section.
    assert.equal(await page.locator('[data-testid="router-row"]').count(), 3);
    assert.deepEqual(errors, []);
  });

  it('highlights disabled objects as errors and objects with issues as warnings, with the issues shown', async (t) => {
    const { page } = await open(t);
    const broken = row(page, 'router', 'broken@file');
    await broken.waitFor();
    assert.equal(await broken.getAttribute('data-state'), 'error');
    assert.equal(await broken.getByTestId('issues').textContent(), 'rule: unexpected end of rule');
    const warned = row(page, 'router', 'admin@api');
    assert.equal(await warned.getAttribute('data-state'), 'warning');
    assert.equal(
      await warned.getByTestId('issues').textContent(),
      'middleware gone@file does not exist: skipped',
    );
    assert.equal(await row(page, 'router', 'web@file').getAttribute('data-state'), 'ok');
    assert.notEqual(
      await broken.evaluate(BACKGROUND),
      await row(page, 'router', 'web@file').evaluate(BACKGROUND),
      'an error row stands out',
    );
  });

  it('shows the issues of the configuration in force that concern no object, until they are gone', async (t) => {
    const state = fakeState();
    state.issues = [
      { severity: 'error', text: 'conf/b.yaml:3:1: YAML syntax error: unexpected end' },
      { severity: 'warning', text: 'conf/b.yaml: warning: its last good version keeps serving' },
    ];
    const { page } = await open(t, state);
    const box = page.getByTestId('config-issues');
    await box.waitFor();
    assert.equal(await box.getAttribute('data-state'), 'error');
    assert.deepEqual(
      await box.getByRole('listitem').allTextContents(),
      state.issues.map((i) => i.text),
    );
    state.issues = [];
    await box.waitFor({ state: 'detached' });
  });

  it('renders names from the configuration as text, never as markup', async (t) => {
    const state = fakeState();
    state.routers[0]!.name = XSS_NAME;
    state.services[0]!.issues = ['<b>bold</b> issue'];
    const { page, errors } = await open(t, state);
    const r = row(page, 'router', XSS_NAME);
    await r.waitFor();
    assert.match((await r.textContent()) ?? '', /<img src=x onerror="window.__xss=1">@file/);
    assert.equal(await page.locator('#view img, #view b').count(), 0);
    assert.equal(await page.evaluate('window.__xss'), undefined);
    assert.equal(
      await row(page, 'service', 'app@file').getByTestId('issues').textContent(),
      '<b>bold</b> issue',
    );
    assert.deepEqual(errors, []);
  });

  it('filters every list with the search box and keeps the typed text across refreshes', async (t) => {
    const { page, fake } = await open(t);
    await row(page, 'router', 'web@file').waitFor();
    const search = page.getByTestId('search');
    await search.fill('ADMIN');
    await page.getByTestId('routers-count').filter({ hasText: '(1 of 3)' }).waitFor();
    assert.equal(await page.locator('[data-testid="router-row"]').count(), 1);
    assert.equal(await row(page, 'router', 'admin@api').count(), 1);
    assert.equal(await page.locator('[data-testid="service-row"]').count(), 0);
    assert.equal(await page.getByTestId('services-count').textContent(), '(0 of 2)');

    // A refresh with new data must neither drop the filter nor the focus.
    fake.state.routers.push({ ...fake.state.routers[2]!, name: 'admin2@api' });
    await page.getByTestId('routers-count').filter({ hasText: '(2 of 4)' }).waitFor();
    assert.equal(await search.inputValue(), 'ADMIN');
    assert.equal(await search.evaluate(FOCUSED), true);

    await search.fill('10.0.0.2');
    await page.getByTestId('services-count').filter({ hasText: '(1 of 2)' }).waitFor();
    assert.equal(await row(page, 'service', 'app@file').count(), 1);

    await search.fill('');
    await page.getByTestId('routers-count').filter({ hasText: '(4)' }).waitFor();
    assert.equal(await page.locator('[data-testid="middleware-row"]').count(), 1);
  });

  it('shows the state of each provider, a provider that is down in red, and its recovery', async (t) => {
    const state = fakeState();
    const at = 1_700_000_000_000;
    state.providers = [
      { name: 'file', phase: 'ready', since: at, updates: 3, failures: 0, lastError: null, lastErrorAt: 0 },
      {
        name: 'etcd',
        phase: 'down',
        since: at,
        updates: 1,
        failures: 2,
        lastError: 'connect ECONNREFUSED 127.0.0.1:2379',
        lastErrorAt: at,
      },
    ];
    const { page, fake, errors } = await open(t, state);
    const etcd = page.getByTestId('provider-etcd');
    await etcd.waitFor();
    assert.equal(await etcd.getAttribute('data-state'), 'error');
    assert.match((await etcd.textContent()) ?? '', /down: last good configuration serves.*ECONNREFUSED/s);
    assert.equal(await etcd.getByTestId('phase').evaluate(COLOR), 'rgb(196, 22, 28)');
    assert.equal(await page.getByTestId('provider-file').getAttribute('data-state'), 'ok');
    fake.state.providers![1]!.phase = 'ready';
    await page.locator('[data-testid="provider-etcd"][data-state="ok"]').waitFor();
    assert.deepEqual(errors, []);
  });

  it('opens a service from the list and follows its servers going down and coming back', async (t) => {
    const { page, fake, errors } = await open(t);
    await row(page, 'service', 'app@file').getByTestId('service-link').click();
    await page.getByTestId('service-detail').waitFor();
    assert.equal(new URL(page.url()).hash, '#/services/app%40file');
    assert.equal(await page.getByTestId('service-name').textContent(), 'app@file');
    const server = (url: string, status: string) =>
      page.locator(`[data-testid="server-row"][data-url=${JSON.stringify(url)}][data-status="${status}"]`);
    await server('http://10.0.0.1:8080', 'up').waitFor();
    await server('http://10.0.0.2:8080', 'up').waitFor();
    const first = server('http://10.0.0.1:8080', 'up');
    assert.equal(await first.getByTestId('server-inflight').textContent(), '3');
    assert.equal(await first.getByTestId('pool-opened').textContent(), '4');
    assert.match(
      (await page.getByTestId('service-config').textContent()) ?? '',
      /"url": "http:\/\/10\.0\.0\.1:8080"/,
    );
    assert.deepEqual(await page.getByTestId('service-routers').getByRole('listitem').allTextContents(), [
      'web@file',
      'broken@file',
      'admin@api',
    ]);

    fake.state.services[0]!.servers![1]!.status = 'down';
    const down = server('http://10.0.0.2:8080', 'down');
    await down.waitFor();
    assert.equal(await down.getByTestId('server-status').textContent(), 'down');
    assert.equal(
      await down.getByTestId('server-status').evaluate(COLOR),
      'rgb(196, 22, 28)',
      'a down server is shown in red',
    );
    assert.equal(await page.getByTestId('service-status').getAttribute('data-state'), 'warning');

    fake.state.services[0]!.servers![1]!.status = 'up';
    await server('http://10.0.0.2:8080', 'up').waitFor();
    assert.equal(await page.getByTestId('service-status').getAttribute('data-state'), 'ok');

    await page.getByTestId('back').click();
    await row(page, 'router', 'web@file').waitFor();
    assert.deepEqual(errors, []);
  });

  it('opens a service from a link in the address and says when it does not exist', async (t) => {
    const { page } = await open(t, fakeState(), '#/services/split%40file');
    await page.getByTestId('child-services').getByRole('link', { name: 'app@file' }).click();
    await page.locator('[data-testid="server-row"]').first().waitFor();
    assert.equal(await page.getByTestId('service-name').textContent(), 'app@file');

    await page.goto(`${new URL(page.url()).origin}/dashboard/#/services/nope%40file`);
    assert.equal(await page.getByTestId('not-found').textContent(), 'There is no service named nope@file.');
  });

  it('ends every page title with api.dashboardName, shown as text', async (t) => {
    const fake = await startFakeAdmin(fakeState(), dashboardAssets('eu <west>'));
    t.after(() => fake.close());
    const opened = await openPage(browser, fake.dashboardUrl);
    t.after(() => opened.close());
    const page = opened.page;
    page.setDefaultTimeout(10_000);
    await row(page, 'router', 'web@file').waitFor();
    assert.equal(await page.title(), 'traffic-management dashboard \u2013 eu <west>');
    await page.goto(`${fake.dashboardUrl}#/services/app%40file`);
    await page.locator('[data-testid="server-row"]').first().waitFor();
    assert.equal(await page.title(), 'app@file \u2013 traffic-management \u2013 eu <west>');
    assert.deepEqual(opened.errors, []);
  });

  it('keeps the last data on screen and says so while the API fails, then recovers', async (t) => {
    const { page, fake } = await open(t);
    await row(page, 'router', 'web@file').waitFor();
    const banner = page.getByTestId('api-error');
    assert.equal(await banner.isHidden(), true);

    fake.state.failWith = 503;
    await banner.waitFor({ state: 'visible' });
    assert.match((await banner.textContent()) ?? '', /\/api\/overview answered 503: the fake API is failing/);
    assert.equal(await page.getByTestId('live').getAttribute('data-state'), 'error');
    assert.equal(await row(page, 'router', 'web@file').count(), 1, 'the last data stays');

    fake.state.failWith = null;
    fake.state.generation = 8;
    await banner.waitFor({ state: 'hidden' });
    await page.getByTestId('generation').filter({ hasText: '8' }).waitFor();
    assert.equal(await page.getByTestId('live').getAttribute('data-state'), 'ok');
  });
});

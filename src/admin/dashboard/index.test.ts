import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { dashboardAsset, dashboardAssets } from './index.ts';

describe('dashboardAsset', () => {
  it('serves the page, its script and its stylesheet with their content types', () => {
    assert.match(dashboardAsset('/dashboard/')?.type ?? '', /^text\/html; charset=utf-8$/);
    assert.equal(dashboardAsset('/dashboard/index.html'), dashboardAsset('/dashboard/'));
    assert.equal(dashboardAsset('/dashboard/app.js')?.type, 'text/javascript; charset=utf-8');
    assert.equal(dashboardAsset('/dashboard/style.css')?.type, 'text/css; charset=utf-8');
  });

  it('also takes the path relative to /dashboard/, as the admin server passes it', () => {
    assert.equal(dashboardAsset(''), dashboardAsset('/dashboard/'));
    assert.equal(dashboardAsset('index.html'), dashboardAsset('/dashboard/'));
    assert.equal(dashboardAsset('app.js'), dashboardAsset('/dashboard/app.js'));
    assert.equal(dashboardAsset('style.css'), dashboardAsset('/dashboard/style.css'));
    for (const p of ['x.js', '../api/overview', 'dashboard/app.js'])
      assert.equal(dashboardAsset(p), undefined, p);
  });

  it('ignores the query string', () => {
    assert.equal(dashboardAsset('/dashboard/app.js?v=2'), dashboardAsset('/dashboard/app.js'));
  });

  it('has nothing for any other path, including /dashboard without the slash', () => {
    for (const p of [
      '/dashboard',
      '/',
      '/api/overview',
      '/dashboard/x.js',
      '/dashboard/../api/overview',
      '/DASHBOARD/',
    ]) {
      assert.equal(dashboardAsset(p), undefined, p);
    }
  });

  it('links the script and the stylesheet relatively, so that a path prefix in front keeps working', () => {
    const html = dashboardAsset('/dashboard/')?.body ?? '';
    assert.match(html, /<script src="app\.js" defer><\/script>/);
    assert.match(html, /<link rel="stylesheet" href="style\.css">/);
    assert.match(
      html,
      /Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'/,
    );
  });

  it("puts api.dashboardName, escaped, in the page's title and a meta the script reads", () => {
    assert.equal(dashboardAssets(''), dashboardAsset);
    const named = dashboardAssets('a<b> & "c"');
    const html = named('/dashboard/')?.body ?? '';
    assert.match(html, /<title>traffic-management dashboard \u2013 a&#60;b&#62; &#38; &#34;c&#34;<\/title>/);
    assert.match(html, /<meta name="dashboard-name" content="a&#60;b&#62; &#38; &#34;c&#34;">/);
    assert.equal(named('index.html'), named(''));
    assert.equal(named('app.js'), dashboardAsset('app.js'));
    assert.equal(named('x.js'), undefined);
    assert.doesNotMatch(dashboardAsset('')?.body ?? '', /dashboard-name/);
    assert.match(dashboardAsset('app.js')?.body ?? '', /meta\[name="dashboard-name"\]/);
  });

  it('serves a script that parses and reads the API relatively', () => {
    const js = dashboardAsset('/dashboard/app.js')?.body ?? '';
    assert.doesNotThrow(() => new Script(js, { filename: 'app.js' }));
    assert.match(js, /const API = '\.\.\/api\/';/);
    assert.doesNotMatch(js, /fetch\(\s*['"]\//, 'no absolute fetch');
  });

  it('serves a script that never parses API strings as markup', () => {
    const js = dashboardAsset('/dashboard/app.js')?.body ?? '';
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'Function(',
    ]) {
      assert.equal(js.includes(sink), false, sink);
    }
  });
});

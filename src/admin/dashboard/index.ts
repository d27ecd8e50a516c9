/**
 * The dashboard: one page, one script, one stylesheet, served by the admin entry point under
 * `/dashboard/`. The page reads the admin JSON API (same origin, relative URLs) and needs no
 * build step and no dependency.
 */
import { APP_JS } from './app-js.ts';
import { INDEX_HTML, indexHtml } from './index-html.ts';
import { STYLE_CSS } from './style-css.ts';

export interface DashboardAsset {
  /** The Content-Type to send. */
  readonly type: string;
  readonly body: string;
}

const PREFIX = '/dashboard/';

const HTML: DashboardAsset = { type: 'text/html; charset=utf-8', body: INDEX_HTML };
const JS: DashboardAsset = { type: 'text/javascript; charset=utf-8', body: APP_JS };
const CSS: DashboardAsset = { type: 'text/css; charset=utf-8', body: STYLE_CSS };

/**
 * The asset at `path`, or `undefined` for anything that is not one of the dashboard's files.
 * `path` is either the request path (`/dashboard/app.js`, query string allowed) or the part
 * after `/dashboard/` (`app.js`, `''` for the page), which is what AdminServer passes.
 * `/dashboard` without the slash is not an asset: the page's relative URLs need the slash, so
 * the server redirects it to `/dashboard/`.
 */
export function dashboardAsset(path: string): DashboardAsset | undefined {
  return assetOf(path, HTML);
}

/**
 * `dashboardAsset` for a dashboard with `api.dashboardName` (Traefik v3.7): the name is part of
 * the page's titles ('' = none, the same page as `dashboardAsset`'s).
 */
export function dashboardAssets(name: string): (path: string) => DashboardAsset | undefined {
  if (name === '') return dashboardAsset;
  const html: DashboardAsset = { type: HTML.type, body: indexHtml(name) };
  return (path) => assetOf(path, html);
}

function assetOf(path: string, html: DashboardAsset): DashboardAsset | undefined {
  const q = path.indexOf('?');
  const clean = q === -1 ? path : path.slice(0, q);
  const sub = clean.startsWith(PREFIX) ? clean.slice(PREFIX.length) : clean.startsWith('/') ? null : clean;
  switch (sub) {
    case '':
    case 'index.html':
      return html;
    case 'app.js':
      return JS;
    case 'style.css':
      return CSS;
    default:
      return undefined;
  }
}

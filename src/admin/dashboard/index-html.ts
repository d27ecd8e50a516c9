/**
 * The dashboard's only page. Asset URLs are relative so that the page also works behind a
 * reverse proxy that mounts the admin entry point under a path prefix.
 *
 * The CSP forbids inline script and style: names on the page come from user configuration (and
 * from the write API), so a missed escape must not become script execution.
 */
export function indexHtml(name: string): string {
  const escaped = escapeHtml(name);
  const title =
    name === '' ? 'traffic-management dashboard' : `traffic-management dashboard \u2013 ${escaped}`;
  // The script reads the name from here (no inline script: the CSP forbids it).
  const meta = name === '' ? '' : `\n<meta name="dashboard-name" content="${escaped}">`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">${meta}
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body>
<header class="top">
  <h1><a href="#/">traffic-management</a></h1>
  <p class="meta">
    <span>version <span data-testid="version">…</span></span>
    <span>generation <span data-testid="header-generation">…</span></span>
    <span class="live" data-testid="live" data-state="pending">connecting…</span>
  </p>
</header>
<div class="banner" role="alert" data-testid="api-error" hidden></div>
<main id="view" data-testid="view" aria-live="off">
  <p>Loading…</p>
</main>
<noscript><p>The dashboard needs JavaScript; the same data is served as JSON under <code>/api/</code>.</p></noscript>
</body>
</html>
`;
}

/** The page without `api.dashboardName`. */
export const INDEX_HTML = indexHtml('');

/** Text and attribute values: `&`, `<`, `>` and both quotes as character references. */
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

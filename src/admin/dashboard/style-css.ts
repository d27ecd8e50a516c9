/**
 * Styles keyed on `data-state` (ok / warning / error) so that the script never writes style
 * attributes (the page's CSP forbids inline style) and tests can read the state directly.
 */
export const STYLE_CSS = `:root {
  color-scheme: light dark;
  --fg: #1d2330;
  --muted: #5b6475;
  --bg: #f6f7f9;
  --card: #ffffff;
  --line: #d8dce3;
  --ok: #17803d;
  --warn: #9a6200;
  --warn-bg: #fff4dc;
  --err: #c4161c;
  --err-bg: #fde7e8;
  --link: #1f5fbf;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6e9ef;
    --muted: #9aa3b2;
    --bg: #14171c;
    --card: #1c2027;
    --line: #333a45;
    --ok: #4cc776;
    --warn: #f0b54a;
    --warn-bg: #3a2e12;
    --err: #ff6b6b;
    --err-bg: #3d1a1c;
    --link: #7fb0ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); }
a { color: var(--link); }
a:focus-visible, input:focus-visible, [tabindex]:focus-visible { outline: 2px solid var(--link); outline-offset: 2px; }
.top { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 0.5rem 2rem; padding: 0.75rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--card); }
.top h1 { margin: 0; font-size: 1.2rem; }
.top h1 a { color: inherit; text-decoration: none; }
.meta { margin: 0; display: flex; gap: 1.25rem; color: var(--muted); }
.meta [data-testid] { color: var(--fg); font-variant-numeric: tabular-nums; }
.live[data-state="ok"] { color: var(--ok); }
.live[data-state="error"] { color: var(--err); font-weight: 600; }
.banner { margin: 0; padding: 0.6rem 1.25rem; background: var(--err-bg); color: var(--err); font-weight: 600; border-bottom: 1px solid var(--err); }
main { padding: 1rem 1.25rem 3rem; max-width: 1400px; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; }
h2 .count { color: var(--muted); font-weight: normal; font-size: 0.9rem; margin-left: 0.5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0.75rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem; }
.card h3 { margin: 0 0 0.4rem; font-size: 0.95rem; }
.card dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 0.15rem 0.75rem; }
.card dt { color: var(--muted); }
.card dd { margin: 0; font-variant-numeric: tabular-nums; }
.card[data-state="error"], .issues[data-state="error"] { border-color: var(--err); background: var(--err-bg); }
.card[data-state="warning"], .issues[data-state="warning"] { border-color: var(--warn); background: var(--warn-bg); }
.search { display: flex; align-items: center; gap: 0.5rem; margin: 1.25rem 0 0; }
.search input { flex: 1; max-width: 28rem; padding: 0.4rem 0.6rem; font: inherit; color: inherit; background: var(--card); border: 1px solid var(--line); border-radius: 4px; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; vertical-align: top; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); font-size: 0.85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td code, pre { font: 0.85rem/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
td code { word-break: break-all; }
tr[data-state="warning"] { background: var(--warn-bg); }
tr[data-state="error"] { background: var(--err-bg); }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 999px; font-size: 0.8rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.badge[data-state="ok"] { color: var(--ok); }
.badge[data-state="warning"] { color: var(--warn); }
.badge[data-state="error"] { color: var(--err); }
tr[data-status="down"] td, tr[data-status="down"] .badge { color: var(--err); }
ul.issue-list { margin: 0.25rem 0 0; padding-left: 1.1rem; color: var(--err); }
tr[data-state="warning"] ul.issue-list, .issues[data-state="warning"] ul.issue-list { color: var(--warn); }
/* Headings receive focus on a view change (for screen readers); no ring for a mouse user. */
h2[tabindex="-1"]:focus { outline: none; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.issues { border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem 0.9rem; margin: 0.75rem 0; }
.issues h3 { margin: 0; font-size: 0.95rem; }
.empty { color: var(--muted); font-style: italic; }
.muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0.5rem 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
pre { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem; overflow: auto; max-height: 30rem; }
.back { display: inline-block; margin-bottom: 0.5rem; }
`;

// The console's only script and stylesheet, served from /console/assets/ on this origin (the CSP allows
// nothing else). Kept as string constants so `npm run build` (tsc) ships them with no copy step and no
// build tool on the user's side. The script never inserts markup: rows from the live stream are built with
// createElement and textContent, so an agent's text stays text here too.
const SCRIPT = `'use strict';
(function () {
  var page = document.body.getAttribute('data-page');
  if (page !== 'inbox' || !('EventSource' in window)) return;
  var tbody = document.querySelector('#inbox tbody');
  var status = document.getElementById('live-status');
  function cell(row, text) {
    var td = document.createElement('td');
    if (text !== undefined) td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function row(item) {
    var tr = document.createElement('tr');
    tr.setAttribute('data-approval-id', item.approval_id);
    var link = document.createElement('a');
    link.href = '/console/approvals/' + encodeURIComponent(item.approval_id);
    link.textContent = item.summary;
    cell(tr).appendChild(link);
    cell(tr, item.agent_id);
    cell(tr, item.rule_id);
    cell(tr, item.created_at);
    cell(tr, item.expires_at);
    return tr;
  }
  // The stream drops when the gateway restarts, a proxy cuts it or the network goes: say so in the live
  // region, and reconnect. The browser retries by itself after a network error; after a refusal (a 503
  // while the gateway cannot audit) it gives up, so then a new stream is opened here, backing off to 30 s.
  // Every new stream starts with the whole inbox, so nothing that happened meanwhile is missed.
  var delay = 1000;
  function interrupted() {
    status.textContent = 'Live updates interrupted; reconnecting…';
    document.body.setAttribute('data-live', 'reconnecting');
  }
  function connect() {
    var source = new EventSource('/console/events');
    source.addEventListener('inbox', function (event) {
      var items = JSON.parse(event.data);
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      items.forEach(function (item) { tbody.appendChild(row(item)); });
      status.textContent = items.length + ' pending';
      document.body.setAttribute('data-live', 'on');
      delay = 1000;
    });
    source.addEventListener('end', function () {
      source.close();
      window.location.assign('/console/sign-in');
    });
    source.addEventListener('error', function () {
      interrupted();
      if (source.readyState !== EventSource.CLOSED) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
`;

const STYLE = `:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; --ok: #116329; --bad: #a40e26; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
main:focus { outline: none; }
header { border-bottom: 1px solid var(--line); padding: 0.5rem 1rem; background: #f6f8fa; }
nav { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; }
.brand { font-weight: 700; margin: 0; }
.who { margin-left: auto; color: var(--muted); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #e36209; outline-offset: 2px; }
.skip { position: absolute; left: -100vw; }
.skip:focus { left: 0.5rem; top: 0.5rem; background: #fff; padding: 0.5rem; z-index: 1; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
h1 { font-size: 1.5rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
pre.json { background: #f6f8fa; border: 1px solid var(--line); padding: 0.75rem; overflow: auto; max-height: 32rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.digest { overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { overflow-wrap: normal; }
dl.facts { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: 0.25rem 1rem; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 30rem) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: 0.5rem; } }
form.stack { display: flex; flex-direction: column; gap: 0.4rem; max-width: 32rem; }
form.inline { display: inline; }
form.filters { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-bottom: 1rem; }
input, select, textarea { font: inherit; padding: 0.4rem; border: 1px solid #8c959f; border-radius: 4px; max-width: 100%; }
button { font: inherit; padding: 0.45rem 1rem; border-radius: 4px; border: 1px solid #8c959f; background: #f6f8fa; cursor: pointer; }
button.approve { background: var(--ok); border-color: var(--ok); color: #fff; }
button.deny { background: var(--bad); border-color: var(--bad); color: #fff; }
.buttons { display: flex; gap: 0.75rem; flex-wrap: wrap; }
.state { font-size: 0.8em; padding: 0.1rem 0.5rem; border-radius: 1rem; border: 1px solid var(--line); vertical-align: middle; }
.state-pending { background: #fff8c5; } .state-approved, .state-consumed, .state-active { background: #dafbe1; }
.state-denied, .state-revoked { background: #ffebe9; } .state-expired, .state-closed, .state-suspended { background: #eaeef2; }
.error { color: var(--bad); font-weight: 600; }
.note { color: var(--muted); }
`;

export const ASSETS = {
  'console.js': { body: SCRIPT, contentType: 'text/javascript; charset=utf-8' },
  'console.css': { body: STYLE, contentType: 'text/css; charset=utf-8' },
} as const;

// A real EventSource client (the npm package `eventsource`) for the stream's
// end-to-end tests. Opens --listeners connections to --url, prints "ready"
// once all are open, collects event ids until each listener has --count
// events (or --seconds pass), and prints one JSON line per listener:
// {"ids":[...], "overflow": bool, "errors": n}.
// With --close-after K the first connection closes after K events and
// reconnects with a Last-Event-ID header, as a browser would after a drop.
'use strict';
const EventSource = require('eventsource');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const url = args.url;
const count = Number(args.count || 1);
const listeners = Number(args.listeners || 1);
const closeAfter = Number(args['close-after'] || 0);
const seconds = Number(args.seconds || 30);
const headers = args.token ? { Authorization: 'Bearer ' + args.token } : {};

const results = [];
let open = 0;
let finished = 0;

function finish(r) {
  if (r.done) return;
  r.done = true;
  if (r.es) r.es.close();
  finished += 1;
  if (finished === listeners) {
    for (const x of results) process.stdout.write(JSON.stringify({ ids: x.ids, overflow: x.overflow, errors: x.errors }) + '\n');
    process.exit(0);
  }
}

function connect(r, lastId) {
  const h = Object.assign({}, headers);
  if (lastId !== undefined) h['Last-Event-ID'] = String(lastId);
  const es = new EventSource(url, { headers: h });
  r.es = es;
  es.onopen = () => {
    if (!r.opened) {
      r.opened = true;
      open += 1;
      if (open === listeners) process.stdout.write('ready\n');
    }
  };
  es.onerror = () => { r.errors += 1; };
  const onEvent = (e) => {
    r.ids.push(Number(e.lastEventId));
    if (r.reconnectAt && r.ids.length === r.reconnectAt) {
      r.reconnectAt = 0;
      es.close();
      setTimeout(() => connect(r, r.ids[r.ids.length - 1]), 50);
      return;
    }
    if (r.ids.length >= count) finish(r);
  };
  // Event frames are unnamed (the type is in the data): onmessage gets them all.
  es.onmessage = onEvent;
  es.addEventListener('overflow', () => { r.overflow = true; finish(r); });
}

for (let i = 0; i < listeners; i++) {
  const r = { ids: [], overflow: false, errors: 0, opened: false, done: false, reconnectAt: i === 0 ? closeAfter : 0 };
  results.push(r);
  connect(r);
}
setTimeout(() => { for (const r of results) finish(r); }, seconds * 1000);

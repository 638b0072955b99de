// dev_server.cjs: serves the page's files straight from server/web/assets
// (at / and /ui/NAME, as the binary serves its embedded copy) and proxies
// every other request, the event stream included, to a running server. For
// working on the page without rebuilding the binary, and for the web tests'
// --dev-server switch.
//
//   node tests/web/dev_server.cjs --target http://127.0.0.1:8000 [--port 8080]
//
// It sends the same Content-Security-Policy the page is meant to be served
// with, so a page that breaks it fails here first.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const ASSETS = path.resolve(__dirname, '../../server/web/assets');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function serveAsset(name, res) {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) return false;
  const file = path.join(ASSETS, name);
  let body;
  try { body = fs.readFileSync(file); } catch { return false; }
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(name)] || 'application/octet-stream',
    'Cache-Control': 'no-cache', 'Content-Security-Policy': CSP,
  });
  res.end(body);
  return true;
}

// Starts the dev server; resolves {url, server, setTarget(url)}.
function startDevServer({ target, port = 0, host = '127.0.0.1' }) {
  let upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const p = req.url.split('?')[0];
    if (req.method === 'GET' && (p === '/' || p === '/index.html') && serveAsset('index.html', res)) return;
    if (req.method === 'GET' && p.startsWith('/ui/') && serveAsset(p.slice(4), res)) return;
    const preq = http.request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: upstream.host },
    }, (pres) => {
      res.writeHead(pres.statusCode, pres.headers);
      pres.pipe(res);
      res.on('close', () => pres.destroy());
    });
    preq.on('error', () => {
      if (!res.headersSent) { res.writeHead(502, { 'Content-Type': 'application/json' }); res.end('{"error":{"code":"bad_gateway","message":"upstream unreachable"}}'); } else res.destroy();
    });
    req.pipe(preq);
  });
  return new Promise((resolve) => server.listen(port, host, () => {
    resolve({ url: `http://${host}:${server.address().port}`, server, setTarget: (t) => { upstream = new URL(t); } });
  }));
}

module.exports = { startDevServer };

if (require.main === module) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
  startDevServer({ target: arg('--target', 'http://127.0.0.1:8000'), port: Number(arg('--port', '8080')) })
    .then(({ url }) => console.log(`dev server at ${url}, proxying to ${arg('--target', 'http://127.0.0.1:8000')}`));
}

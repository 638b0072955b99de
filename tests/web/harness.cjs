// harness.cjs: what every web test needs. Starts the REAL server binary
// (`--listen 127.0.0.1:0`, a temporary database, the port read from its JSON
// "listening" line on stderr) and restarts it on the same port and database;
// posts data over plain HTTP; launches Debian's /usr/bin/chromium through
// puppeteer-core (headless, a fresh profile, nothing downloaded); saves
// screenshots to a folder it prints; and bounds the whole test in time.
//
// Options of the test scripts:
//   --server PATH     the observability-server binary (or $OBS_SERVER_BINARY)
//   --shots DIR       where screenshots go (default: a new temporary folder)
//   --dev-server      load the page from tests/web/dev_server.cjs (the files on
//                     disk) proxying to the started binary, instead of the
//                     binary's own GET /
//   --update-docs     also copy this test's screenshots into docs/screenshots
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const ROOT = path.resolve(__dirname, '../..');
const puppeteer = require(path.join(ROOT, 'scripts/node/node_modules/puppeteer-core'));
const { startDevServer } = require('./dev_server.cjs');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}

const opts = {
  server: arg('--server', process.env.OBS_SERVER_BINARY),
  shots: arg('--shots', null),
  dev: Boolean(arg('--dev-server', false)),
  updateDocs: Boolean(arg('--update-docs', false)),
};

const cleanups = [];
function onCleanup(fn) { cleanups.push(fn); }
async function cleanup() {
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch (e) { console.error('cleanup:', e.message); }
  }
}

function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// A server process: start(), stop() (SIGTERM, waits for the exit), url.
class ServerProcess {
  constructor({ keys = [], extra = [] } = {}) {
    if (!opts.server) throw new Error('no server binary: pass --server PATH or set OBS_SERVER_BINARY');
    this.dir = tempDir('obs-web-db-');
    this.db = path.join(this.dir, 'obs.db');
    this.keys = keys;
    this.extra = extra;
    this.port = 0;
    this.proc = null;
    onCleanup(() => this.stop());
  }

  async start() {
    const args = ['--listen', '127.0.0.1:' + this.port, '--db', this.db, '--no-request-log', ...this.extra];
    for (const k of this.keys) args.push('--api-key', k);
    const proc = spawn(opts.server, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
    const lines = readline.createInterface({ input: proc.stderr });
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not print its listening line within 10 s')), 10000);
      lines.on('line', (line) => {
        let j;
        try { j = JSON.parse(line); } catch { return; }
        if (j.msg === 'listening' && j.port) { clearTimeout(timer); resolve(j.port); }
        if (j.level === 'error') process.stderr.write('server: ' + line + '\n');
      });
      lines.on('line', (line) => { if (!line.startsWith('{')) process.stderr.write('server: ' + line + '\n'); });
      this.exited.then(({ code, sig }) => { clearTimeout(timer); reject(new Error(`server exited (${code ?? sig}) before listening`)); });
    });
    this.port = port;
    this.url = 'http://127.0.0.1:' + port;
    return this;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const res = await Promise.race([this.exited, new Promise((r) => setTimeout(() => r(null), 10000))]);
    if (!res) { this.proc.kill('SIGKILL'); await this.exited; }
  }
}

// fetch() against the server with an optional key; JSON in and out. Throws
// with the body on a non-2xx answer unless `expect` lists the status.
async function call(base, method, p, { json, body, key, headers = {}, expect } = {}) {
  const h = { ...headers };
  if (key) h.Authorization = 'Bearer ' + key;
  if (json !== undefined) { h['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  const res = await fetch(base + p, { method, headers: h, body });
  const text = await res.text();
  if (!res.ok && !(expect || []).includes(res.status)) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  let parsed = null;
  try { parsed = JSON.parse(text); } catch { parsed = text; }
  return { status: res.status, body: parsed };
}

async function launchBrowser() {
  const profile = tempDir('obs-web-chrome-');
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: 'new', userDataDir: profile,
    defaultViewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--force-color-profile=srgb',
      '--force-prefers-reduced-motion'],
  });
  onCleanup(() => browser.close());
  return browser;
}

// The base URL the page is loaded from: the binary itself, or the dev
// server proxying to it (--dev-server).
async function pageBase(server) {
  if (!opts.dev) return server.url;
  if (!server.dev) {
    server.dev = await startDevServer({ target: server.url });
    onCleanup(() => new Promise((r) => { server.dev.server.closeAllConnections?.(); server.dev.server.close(() => r()); }));
  }
  server.dev.setTarget(server.url);
  return server.dev.url;
}

// A page with console errors and failed requests reported to the test log.
async function newPage(browser) {
  const page = await browser.newPage();
  page.pageErrors = [];
  page.on('pageerror', (e) => { page.pageErrors.push(e.message); console.error('page error:', e.message); });
  page.on('console', (m) => { if (m.type() === 'error') console.error('console:', m.text()); });
  return page;
}

let shotDir = null;
const shotsTaken = [];
async function screenshot(page, name) {
  if (!shotDir) {
    shotDir = opts.shots ? path.resolve(opts.shots) : fs.mkdtempSync(path.join(os.tmpdir(), 'obs-web-shots-'));
    fs.mkdirSync(shotDir, { recursive: true });
    console.log('screenshots: ' + shotDir);
  }
  const file = path.join(shotDir, name + '.png');
  await page.screenshot({ path: file });
  shotsTaken.push(file);
  if (opts.updateDocs) {
    fs.mkdirSync(path.join(ROOT, 'docs/screenshots'), { recursive: true });
    fs.copyFileSync(file, path.join(ROOT, 'docs/screenshots', name + '.png'));
  }
  return file;
}

function assert(cond, message) {
  if (!cond) throw new Error('assertion failed: ' + message);
}

function sleep(msv) { return new Promise((r) => setTimeout(r, msv)); }

// Runs `body` with a deadline; prints PASS/FAIL and exits with the result.
function runTest(name, body, { seconds = 90 } = {}) {
  const timer = setTimeout(async () => {
    console.error(`FAIL ${name}: did not finish within ${seconds} s`);
    await cleanup();
    process.exit(1);
  }, seconds * 1000);
  const t0 = Date.now();
  body().then(async () => {
    clearTimeout(timer);
    await cleanup();
    console.log(`PASS ${name} (${Date.now() - t0} ms)`);
    process.exit(0);
  }, async (e) => {
    clearTimeout(timer);
    console.error(`FAIL ${name}: ${e.stack || e}`);
    await cleanup();
    process.exit(1);
  });
}

module.exports = { opts, ServerProcess, call, launchBrowser, newPage, pageBase, screenshot, assert, sleep, runTest, tempDir, onCleanup };

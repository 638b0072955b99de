// harness.cjs: what every web test needs. Starts the REAL server binary
// (`--listen 127.0.0.1:0`, a temporary database, the port read from its JSON
// "listening" line on stderr) and restarts it on the same port and database;
// posts data over plain HTTP; launches Debian's /usr/bin/chromium (over the
// DevTools protocol) or /usr/bin/firefox-esr (over WebDriver BiDi) through
// puppeteer-core (headless, a fresh profile, nothing downloaded); saves
// screenshots to a folder it prints; and bounds the whole test in time.
//
// Options of the test scripts:
//   --browser NAME    chromium (default) or firefox
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
  browser: arg('--browser', 'chromium'),
};
if (!['chromium', 'firefox'].includes(opts.browser)) {
  console.error(`--browser ${opts.browser}: chromium or firefox`);
  process.exit(2);
}

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

const VIEWPORT = { width: 1280, height: 800 };

async function launchChromium() {
  return puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: 'new', userDataDir: tempDir('obs-web-chrome-'),
    defaultViewport: VIEWPORT,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--force-color-profile=srgb',
      '--force-prefers-reduced-motion'],
  });
}

const FIREFOX = '/usr/bin/firefox-esr';

// A fresh Firefox profile for one test. Firefox's first start on an empty
// profile builds its caches (the startup bytecode cache, the add-on and
// certificate databases): 3 to 5 s, twice a later start's. So a profile is
// started once per Firefox build, closed without having loaded any page, and
// kept in the temporary folder; each test starts from its own copy of it, so
// no test sees another's cookies, storage or history.
async function firefoxProfile() {
  const dir = tempDir('obs-web-firefox-');
  const ini = fs.readFileSync(path.join(path.dirname(fs.realpathSync(FIREFOX)), 'application.ini'), 'utf8');
  const build = (ini.match(/^BuildID=(\w+)/m) || [])[1] || 'unknown';
  const template = path.join(os.tmpdir(), `obs-web-firefox-profile-${process.getuid()}-${build}`);
  const isLock = (p) => ['lock', '.parentlock'].includes(path.basename(p));
  if (!fs.existsSync(template)) {
    const fresh = fs.mkdtempSync(template + '.new-');
    const first = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, userDataDir: fresh });
    await first.close();
    for (const name of ['lock', '.parentlock']) fs.rmSync(path.join(fresh, name), { force: true });
    // a rename is atomic: if another test made the template first, keep theirs
    try { fs.renameSync(fresh, template); } catch { fs.rmSync(fresh, { recursive: true, force: true }); }
  }
  fs.cpSync(template, dir, { recursive: true, filter: (src) => !isLock(src) });
  return dir;
}

// Firefox ESR over WebDriver BiDi. The preferences keep it off the network
// (no update, telemetry or safe-browsing calls on a machine without one) and
// save downloads straight into a folder of the test's, without a dialog.
async function launchFirefox() {
  const downloads = tempDir('obs-web-ff-dl-');
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true,
    userDataDir: await firefoxProfile(), defaultViewport: VIEWPORT,
    extraPrefsFirefox: {
      'app.update.enabled': false, 'app.update.auto': false,
      'browser.safebrowsing.malware.enabled': false, 'browser.safebrowsing.phishing.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false, 'toolkit.telemetry.enabled': false,
      'ui.prefersReducedMotion': 1,
      'browser.download.folderList': 2, 'browser.download.dir': downloads,
      'browser.download.useDownloadDir': true, 'browser.download.always_ask_before_handling_new_types': false,
      'browser.download.alwaysOpenPanel': false,
    },
  });
  browser.downloadDir = downloads;
  return browser;
}

async function launchBrowser() {
  const browser = opts.browser === 'firefox' ? await launchFirefox() : await launchChromium();
  onCleanup(() => browser.close());
  return browser;
}

// Makes downloads started by `page` land in a folder and returns it:
// Chromium's folder is set per page over CDP, Firefox's is the profile
// preference launchFirefox() set (puppeteer sends BiDi's
// browser.setDownloadBehavior only for a new browser context, and the tests'
// pages are in the default one).
async function allowDownloads(page) {
  if (opts.browser === 'firefox') return page.browser().downloadDir;
  const dir = tempDir('obs-web-dl-');
  const cdp = await page.target().createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir });
  return dir;
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

// Firefox reports some network failures as JavaScript errors of the page
// (BiDi log entries of type "javascript", which puppeteer turns into
// `pageerror`) where Chromium logs a console line: an EventSource that got a
// non-200 answer or could not connect, and a request CORS refused. They are
// the browser's diagnostics, not exceptions of the page's code, so they go to
// the log as console errors, like Chromium's "Failed to load resource".
const FIREFOX_NETWORK_NOTES = [/^Firefox can\u2019t establish a connection to the server at /, /^Cross-Origin Request Blocked: /];

// A page with console errors and failed requests reported to the test log.
async function newPage(browser) {
  const page = await browser.newPage();
  page.pageErrors = [];
  page.on('pageerror', (e) => {
    if (opts.browser === 'firefox' && FIREFOX_NETWORK_NOTES.some((re) => re.test(e.message))) {
      console.error('console:', e.message);
      return;
    }
    page.pageErrors.push(e.message);
    console.error('page error:', e.message);
  });
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

module.exports = { opts, ServerProcess, call, launchBrowser, allowDownloads, newPage, pageBase, screenshot, assert, sleep, runTest, tempDir, onCleanup };

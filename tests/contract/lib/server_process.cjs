// Starts the real observability-server binary for a contract test: a fresh
// temporary database, --listen 127.0.0.1:0, and the port read from the JSON
// "listening" line the server writes on stderr. The environment is cleaned of
// OBS_* and AWS_* so the machine's settings cannot change the answers, then
// the caller's variables are added.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const startup_timeout_ms = 10000;

function clean_env(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('OBS_') && !k.startsWith('AWS_')) env[k] = v;
  }
  return { ...env, ...extra };
}

// Resolves to {port, base, dir, db, data_dir, stop(), stderr()}; rejects with the
// server's own words when it exits or stays silent.
function start_server(binary, { args = [], env = {}, name = 'server' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `obs-contract-${name}-`));
  const db = path.join(dir, 'obs.db');
  const all_args = ['--listen', '127.0.0.1:0', '--db', db, '--no-request-log', ...args];
  const child = spawn(binary, all_args, { env: clean_env(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let listening = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: no listening line within ${startup_timeout_ms} ms; stderr: ${log}`));
    }, startup_timeout_ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited with ${code} before listening (args ${all_args.join(' ')}); stderr: ${log.trim()}`));
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (listening) return;
      for (const line of log.split('\n')) {
        let entry;
        try { entry = JSON.parse(line); } catch { continue; }
        if (entry.msg !== 'listening' || typeof entry.port !== 'number') continue;
        listening = true;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        const stop = () => new Promise((done) => {
          if (child.exitCode !== null) return done(child.exitCode);
          const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', (code) => { clearTimeout(kill); done(code); });
          child.kill('SIGTERM');
        });
        resolve({ name, port: entry.port, base: `http://127.0.0.1:${entry.port}`, dir, db,
          data_dir: entry.data_dir, stop, stderr: () => log,
          remove: () => fs.rmSync(dir, { recursive: true, force: true }) });
        return;
      }
    });
  });
}

module.exports = { start_server };

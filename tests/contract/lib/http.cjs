// Plain HTTP/1.1 requests with node's http module, and a bounded reader of
// Server-Sent Events that parses the frames as the WHATWG event stream format
// defines them (fields per line, a blank line ends a frame).
'use strict';
const http = require('http');

const request_timeout_ms = 15000;

// Request options with the path sent exactly as given: a URL object would
// resolve dot segments (/%2E%2E) before the server sees them.
function target(base, path, method, headers) {
  const { hostname, port } = new URL(base);
  return { hostname, port, path, method, headers, agent: false };
}

// {status, headers, body (Buffer), text}; `body` may be a string or Buffer.
function request(base, method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(target(base, path, method, headers), (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: buf, text: buf.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(request_timeout_ms, () => req.destroy(new Error(`${method} ${path}: no answer in ${request_timeout_ms} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Splits event-stream text into frames: [{id, event, data, retry, comments}].
// `rest` is the text after the last complete frame.
function parse_frames(text) {
  const frames = [];
  const normalized = text.replace(/\r\n|\r/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop();
  for (const block of blocks) {
    const frame = { comments: [], data_lines: [], fields: [] };
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) { frame.comments.push(line.slice(1).trim()); continue; }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      frame.fields.push(field);
      if (field === 'data') frame.data_lines.push(value);
      else frame[field] = value;
    }
    frame.data = frame.data_lines.length ? frame.data_lines.join('\n') : undefined;
    frames.push(frame);
  }
  return { frames, rest };
}

// Opens a stream and reads until `until(frames)` is true, the server closes,
// or `timeout_ms` passes; `during(res)` runs once the head arrived (to post
// events while listening). Resolves {status, headers, text, frames, ended, timed_out}.
function read_stream(base, path, { headers = {}, until = () => false, timeout_ms = 2000, during } = {}) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.request(target(base, path, 'GET', headers), (res) => {
      let text = '';
      const finish = (ended, timed_out) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, text, body: Buffer.from(text),
          frames: parse_frames(text).frames, ended, timed_out });
      };
      const timer = setTimeout(() => finish(false, true), timeout_ms);
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
        if (until(parse_frames(text).frames)) finish(false, false);
      });
      res.on('end', () => finish(true, false));
      res.on('error', () => finish(true, false));
      if (during && res.statusCode === 200) Promise.resolve(during(res)).catch((e) => { text += `\n#during failed: ${e.message}`; });
    });
    req.on('error', (e) => { if (!settled) { settled = true; reject(e); } });
    req.end();
  });
}

module.exports = { request, read_stream, parse_frames };

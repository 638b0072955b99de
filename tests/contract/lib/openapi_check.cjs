// Checks a real answer against docs/openapi.json: the (route, status) must be
// documented, the Content-Type must be one the document gives for it, the
// declared headers must be present and well-formed, and the body must validate
// against the schema (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it). A
// text/event-stream answer is checked frame by frame against the document's
// x-event-frame and x-control-frames schemas.
'use strict';
const fs = require('fs');
const { parse_frames } = require('./http.cjs');

const doc_id = 'https://observability-server.invalid/openapi.json';
const every_path = '*';  // the op name of answers any path can give (x-every-path)

function load_modules(node_modules) {
  const Ajv2020 = require(`${node_modules}/ajv/dist/2020`);
  const add_formats = require(`${node_modules}/ajv-formats`);
  return { Ajv2020, add_formats };
}

class contract_document {
  constructor(doc_path, node_modules) {
    this.doc = JSON.parse(fs.readFileSync(doc_path, 'utf8'));
    const { Ajv2020, add_formats } = load_modules(node_modules);
    this.ajv = new Ajv2020({ strict: false, allErrors: true, discriminator: true, validateSchema: false });
    add_formats(this.ajv);
    this.ajv.addSchema({ $id: doc_id, components: this.doc.components });
    this.compiled = new Map();
  }

  // Every documented (op, status): "POST /observability/events 201", ...
  pairs() {
    const out = [];
    for (const [p, item] of Object.entries(this.doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op || typeof op !== 'object' || !op.responses) continue;
        for (const status of Object.keys(op.responses)) out.push(`${method.toUpperCase()} ${p} ${status}`);
      }
    }
    for (const status of Object.keys(this.doc['x-every-path'].responses)) out.push(`${every_path} ${status}`);
    return out;
  }

  operation(op_name) {
    if (op_name === every_path) return this.doc['x-every-path'];
    const space = op_name.indexOf(' ');
    const item = this.doc.paths[op_name.slice(space + 1)];
    return item && item[op_name.slice(0, space).toLowerCase()];
  }

  response(op_name, status) {
    const op = this.operation(op_name);
    if (!op) return undefined;
    let r = op.responses[String(status)];
    while (r && r.$ref) r = this.resolve(r.$ref);
    return r;
  }

  resolve(ref) {
    if (!ref.startsWith('#/')) throw new Error(`only local refs are used: ${ref}`);
    return ref.slice(2).split('/').reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
  }

  // A validator for a schema object of the document (its refs point into it).
  validator(schema) {
    const key = JSON.stringify(schema);
    if (!this.compiled.has(key)) {
      const rebased = JSON.parse(key, (k, v) => (k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? doc_id + v : v));
      this.compiled.set(key, this.ajv.compile(rebased));
    }
    return this.compiled.get(key);
  }

  validate(schema, value, where) {
    const v = this.validator(schema);
    if (v(value)) return [];
    return [`${where}: ${this.ajv.errorsText(v.errors.slice(0, 4), { separator: '; ' })}`];
  }

  // Problems of `res` ({status, headers, body, text}) as an answer of op_name.
  check(op_name, res) {
    const problems = [];
    const response = this.response(op_name, res.status);
    if (!this.operation(op_name)) return [`${op_name} is not in the document`];
    if (!response) return [`status ${res.status} is not documented for ${op_name}`];
    for (const [name, header] of Object.entries(response.headers || {})) {
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`header ${name} is missing`);
        continue;
      }
      if (!header.schema) continue;
      const typed = header.schema.type === 'integer' && /^[0-9]+$/.test(value) ? Number(value) : value;
      problems.push(...this.validate(header.schema, typed, `header ${name}`));
    }
    const content = response.content;
    const media = String(res.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (!content) {
      if (res.body.length > 0) problems.push(`a ${res.status} has no body in the document, got ${res.body.length} bytes`);
      return problems;
    }
    const entry = content[media] || content['*/*'];
    if (!entry) return [...problems, `Content-Type '${media}' is not one of ${Object.keys(content).join(', ')}`];
    if (media === 'application/json') {
      let value;
      try { value = JSON.parse(res.text); } catch (e) { return [...problems, `body is not JSON: ${e.message}`]; }
      problems.push(...this.validate(entry.schema, value, 'body'));
    } else if (media === 'text/event-stream') {
      problems.push(...this.check_event_stream(entry, res.text));
    } else if (entry.schema && media.startsWith('text/')) {
      problems.push(...this.validate(entry.schema, res.text, 'body'));
    }
    return problems;
  }

  check_event_stream(entry, text) {
    const problems = [];
    for (const frame of parse_frames(text).frames) {
      const fields = frame.fields.filter((f) => f !== 'data');
      if (frame.event !== undefined) {
        const schema = (entry['x-control-frames'] || {})[frame.event];
        if (!schema) { problems.push(`frame 'event: ${frame.event}' is not a documented control frame`); continue; }
        let value;
        try { value = JSON.parse(frame.data); } catch { problems.push(`control frame ${frame.event}: data is not JSON`); continue; }
        problems.push(...this.validate(schema, value, `control frame ${frame.event}`));
      } else if (frame.data !== undefined) {
        if (fields.join(',') !== 'id') problems.push(`event frame fields are [${frame.fields}], expected [id, data]`);
        let value;
        try { value = JSON.parse(frame.data); } catch { problems.push('event frame: data is not JSON'); continue; }
        problems.push(...this.validate(entry['x-event-frame'], value, `event frame ${frame.id}`));
        if (String(value.offset) !== frame.id) problems.push(`event frame id ${frame.id} is not its offset ${value.offset}`);
      } else if (!(fields.length === 0 && frame.comments.length > 0) && !(fields.join(',') === 'retry' && /^[0-9]+$/.test(frame.retry))) {
        problems.push(`unexpected frame with fields [${frame.fields}]`);
      }
    }
    return problems;
  }
}

module.exports = { contract_document, every_path };

#!/usr/bin/env node
// docs/openapi.json is a valid OpenAPI 3.1 document: @apidevtools/swagger-parser
// validates it (structure and every $ref), every component schema compiles
// under JSON Schema 2020-12 (Ajv2020), and every operation names its id, its
// security (a scope of ingest, read or admin, or none) and its answers. The
// validator is first shown to reject broken copies, so a pass means something.
//
// usage: document_valid.cjs OPENAPI_JSON NODE_MODULES_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const [doc_path, modules_arg] = process.argv.slice(2);
if (!doc_path || !modules_arg) {
  console.error('usage: document_valid.cjs OPENAPI_JSON NODE_MODULES_DIR');
  process.exit(2);
}
const modules = path.resolve(modules_arg);
const SwaggerParser = require(`${modules}/@apidevtools/swagger-parser`);
const Ajv2020 = require(`${modules}/ajv/dist/2020`);
const add_formats = require(`${modules}/ajv-formats`);

const problems = [];
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

async function rejects(label, doc) {
  try {
    await SwaggerParser.validate(doc);
    problems.push(`the validator accepted a broken document (${label})`);
  } catch { /* expected */ }
}

async function main() {
  const text = fs.readFileSync(doc_path, 'utf8');
  const fresh = () => JSON.parse(text);

  // The validator is not vacuous.
  await rejects('no info', (({ info, ...rest }) => rest)(fresh()));
  await rejects('a dangling $ref', (() => { const d = fresh(); d.paths['/healthz'].get.responses['200'] = { $ref: '#/components/responses/Nope' }; return d; })());
  await rejects('a response without description', (() => { const d = fresh(); delete d.paths['/healthz'].get.responses['200'].description; return d; })());

  const doc = fresh();
  if (!/^3\.1\.\d+$/.test(doc.openapi)) problems.push(`openapi is '${doc.openapi}', expected 3.1.x`);
  try {
    await SwaggerParser.validate(fresh());
  } catch (e) {
    problems.push(`swagger-parser: ${e.message}`);
  }

  const ajv = new Ajv2020({ strict: false, discriminator: true, validateSchema: true });
  add_formats(ajv);
  ajv.addSchema({ $id: 'doc', components: doc.components });
  for (const name of Object.keys(doc.components.schemas)) {
    try { ajv.getSchema(`doc#/components/schemas/${name}`); } catch (e) { problems.push(`schema ${name} does not compile: ${e.message}`); }
  }

  const ids = new Set();
  let operations = 0;
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of methods.filter((x) => item[x])) {
      const op = item[m];
      ++operations;
      const where = `${m.toUpperCase()} ${p}`;
      if (!op.operationId || ids.has(op.operationId)) problems.push(`${where}: missing or repeated operationId`);
      ids.add(op.operationId);
      if (!Array.isArray(op.security)) problems.push(`${where}: no security (use [] for none)`);
      for (const req of op.security || []) {
        for (const [scheme, scopes] of Object.entries(req)) {
          if (!doc.components.securitySchemes[scheme]) problems.push(`${where}: unknown security scheme ${scheme}`);
          for (const s of scopes) if (!['ingest', 'read', 'admin'].includes(s)) problems.push(`${where}: unknown scope ${s}`);
        }
      }
      const statuses = Object.keys(op.responses || {});
      if (!statuses.some((s) => s.startsWith('2'))) problems.push(`${where}: no 2xx answer`);
      if ((op.security || []).length && !(statuses.includes('401') && statuses.includes('403'))) problems.push(`${where}: needs a key but lists no 401/403`);
    }
  }
  for (const p of problems) console.log(`FAIL ${p}`);
  console.log(`${operations} operations, ${Object.keys(doc.components.schemas).length} schemas; ${problems.length ? `${problems.length} problems` : 'valid OpenAPI ' + doc.openapi}`);
  process.exit(problems.length ? 1 : 0);
}

main().catch((e) => { console.error(e.stack); process.exit(1); });

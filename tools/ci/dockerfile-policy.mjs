#!/usr/bin/env node
/**
 * Project rules for the Dockerfile that the generic linter (dockerfile-utils) does not
 * check. Usage: node tools/ci/dockerfile-policy.mjs [Dockerfile]. Exit 1 on any finding.
 *   - every FROM of an outside image is pinned to an exact version tag (x.y.z) or digest
 *   - the last stage sets a non-root USER, a HEALTHCHECK and an exec-form CMD
 *   - apt-get install uses -y --no-install-recommends and the lists are removed
 *   - npm installs are reproducible: `npm ci`, never `npm install`
 *   - no ADD (COPY says what it does); no `latest`
 */
import fs from 'node:fs';

const file = process.argv[2] ?? 'Dockerfile';
const text = fs.readFileSync(file, 'utf8');
const findings = [];
const lines = text.split(/\r?\n/);
const ins = [];
for (let i = 0; i < lines.length; i++) {
  if (!lines[i].trim() || lines[i].trim().startsWith('#')) continue;
  const start = i + 1;
  let s = lines[i];
  while (/\\\s*$/.test(s) && i + 1 < lines.length) {
    i++;
    if (lines[i].trim().startsWith('#')) continue;
    s = s.replace(/\\\s*$/, ' ') + lines[i];
  }
  const m = /^\s*(\w+)\s+(.*)$/s.exec(s);
  if (m) ins.push({ line: start, op: m[1].toUpperCase(), rest: m[2].trim() });
}
const args = {};
const stages = [];
for (const x of ins) {
  const add = (msg) => findings.push(`${file}:${x.line} ${x.op}: ${msg}`);
  if (x.op === 'ARG') {
    const [k, v] = x.rest.split(/=(.*)/s);
    if (!stages.length) args[k] = v ?? '';
  } else if (x.op === 'FROM') {
    const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(x.rest);
    const image = m[1].replace(/\$\{?(\w+)\}?/g, (_, k) => args[k] ?? '');
    const known = stages.some((s) => s.name === image);
    if (!known) {
      if (!image) add('image comes from an ARG without default');
      else if (/:latest\b/.test(image) || (!image.includes(':') && !image.includes('@'))) add(`${image}: not pinned (no tag or "latest")`);
      else if (!image.includes('@sha256:') && !/:\d+\.\d+\.\d+/.test(image)) add(`${image}: tag is not an exact x.y.z version`);
    }
    stages.push({ name: m[2] ?? '', user: null, healthcheck: false, cmd: null });
  } else if (x.op === 'ADD') add('use COPY');
  else if (x.op === 'USER') stages.at(-1).user = x.rest;
  else if (x.op === 'HEALTHCHECK') stages.at(-1).healthcheck = !/^NONE$/i.test(x.rest);
  else if (x.op === 'CMD') stages.at(-1).cmd = x.rest;
  else if (x.op === 'RUN') {
    if (/\bapt-get\s+install\b/.test(x.rest)) {
      if (!/--no-install-recommends/.test(x.rest)) add('apt-get install without --no-install-recommends');
      if (!/\s-y\b|--yes\b/.test(x.rest)) add('apt-get install without -y');
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(x.rest)) add('apt lists not removed in the same RUN');
    }
    if (/\bnpm\s+(install|i)\b/.test(x.rest)) add('use npm ci (lockfile) rather than npm install');
  }
}
const last = stages.at(-1);
if (!last) findings.push(`${file}: no FROM`);
else {
  if (!last.user || /^(root|0)(:|$)/.test(last.user)) findings.push(`${file}: final stage runs as root (add USER)`);
  if (!last.healthcheck) findings.push(`${file}: final stage has no HEALTHCHECK`);
  if (!last.cmd || !last.cmd.startsWith('[')) findings.push(`${file}: final stage needs an exec-form CMD (signals reach node)`);
}
for (const f of findings) console.log(f);
console.log(`dockerfile-policy: ${findings.length} finding(s) in ${file}`);
process.exit(findings.length ? 1 : 0);

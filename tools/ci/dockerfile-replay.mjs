#!/usr/bin/env node
/**
 * Replays a Dockerfile's build outside a container (there is no Docker engine on the CI
 * machines), then smoke-runs the last stage the way the image would run.
 *
 *   node tools/ci/dockerfile-replay.mjs --context . --dockerfile Dockerfile --work DIR [--smoke]
 *   node tools/ci/dockerfile-replay.mjs --context . --list-context   # what .dockerignore lets through
 *
 * What it does, instruction by instruction:
 *   ARG / FROM     one directory per stage under DIR/stages/<name>; the base image itself is
 *                  not available, so the host's tools (node, npm, sh) stand in for it
 *   WORKDIR, ENV   tracked per stage (${VAR} / $VAR substitution as Docker does it)
 *   COPY           from the build context filtered by .dockerignore, or --from=<stage>
 *   RUN            run with /bin/sh -c in the stage's WORKDIR with the stage's ENV on top of
 *                  the host environment; --mount/--network flags are dropped (the host npm
 *                  cache stands in for the cache mount); a RUN preceded by a
 *                  "# ci-replay: skip ..." comment only makes sense inside the image and
 *                  is skipped
 *   USER, EXPOSE, VOLUME, HEALTHCHECK, CMD, ENTRYPOINT, LABEL   recorded for the smoke run
 * Any other instruction stops the replay, so it never silently diverges from the file.
 *
 * --smoke (on the last stage): loads the native modules from the copied node_modules,
 * starts CMD with PORT/GRPC_PORT on free ports and each VOLUME mapped to a temp dir, as
 * uid 1000 when run as root (the image's "node" user: code root-owned, data writable),
 * waits for /healthz, runs the HEALTHCHECK command, checks /readyz and the gRPC port,
 * sends SIGTERM and expects exit status 0.
 * --mongo-uri URI (with --smoke): then does the same with two instances at once sharing
 * that MongoDB (MONGODB_URI), as replicas of the compose file or Helm chart would.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const args = parseArgs(process.argv.slice(2));
const context = path.resolve(args.context ?? '.');
const dockerfile = path.resolve(context, args.dockerfile ?? 'Dockerfile');
const work = args['list-context'] ? null : path.resolve(args.work ?? fail('--work DIR is required'));
const t0 = Date.now();

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) fail(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (key === 'smoke' || key === 'list-context') out[key] = true;
    else out[key] = argv[++i];
  }
  return out;
}

function fail(msg) {
  process.stderr.write(`dockerfile-replay: ${msg}\n`);
  process.exit(1);
}

function log(msg) {
  const s = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[replay ${s}s] ${msg}\n`);
}

// ---------------------------------------------------------------- Dockerfile parsing

/** Instructions with their line, flags and arguments; "skip" when marked for the replay. */
function parseDockerfile(text) {
  const lines = text.split(/\r?\n/);
  const out = [];
  let pendingSkip = null;
  let i = 0;
  while (i < lines.length) {
    const raw = lines[i];
    const trimmed = raw.trim();
    if (trimmed === '') {
      i++;
      continue;
    }
    if (trimmed.startsWith('#')) {
      const m = /^#\s*ci-replay:\s*skip\b(.*)$/.exec(trimmed);
      if (m) pendingSkip = m[1].trim() || 'marked';
      i++;
      continue;
    }
    const startLine = i + 1;
    let joined = '';
    for (;;) {
      let l = lines[i] ?? '';
      i++;
      // comment lines inside a continuation are dropped, as Docker does
      if (joined !== '' && l.trim().startsWith('#')) continue;
      if (/\\\s*$/.test(l)) {
        joined += l.replace(/\\\s*$/, '') + ' ';
        if (i >= lines.length) break;
        continue;
      }
      joined += l;
      break;
    }
    const m = /^\s*(\w+)\s*(.*)$/s.exec(joined);
    if (!m) fail(`line ${startLine}: cannot parse "${joined}"`);
    out.push({ line: startLine, op: m[1].toUpperCase(), rest: m[2].trim(), skip: pendingSkip });
    pendingSkip = null;
  }
  return out;
}

/** Leading --flag=value options (COPY --from, RUN --mount, HEALTHCHECK --interval...). */
function takeFlags(rest) {
  const flags = {};
  let s = rest;
  for (;;) {
    const m = /^--([\w-]+)(?:=(\S*))?\s+/.exec(s);
    if (!m) break;
    flags[m[1]] = m[2] ?? true;
    s = s.slice(m[0].length);
  }
  return { flags, rest: s };
}

function isJsonArray(s) {
  if (!s.startsWith('[')) return null;
  try {
    const v = JSON.parse(s);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
  } catch {
    return null;
  }
}

function substitute(s, vars) {
  return s.replace(/\$\{(\w+)(?::([-+])([^}]*))?\}|\$(\w+)/g, (all, a, op, word, b) => {
    const name = a ?? b;
    const v = vars[name];
    if (op === '-') return v ? v : word;
    if (op === '+') return v ? word : '';
    return v ?? '';
  });
}

/** ENV / LABEL key=value pairs with shell-like quoting; also the legacy "ENV key value". */
function parsePairs(s, vars) {
  const pairs = [];
  if (!/^\S+=/.test(s)) {
    const m = /^(\S+)\s+(.*)$/.exec(s);
    if (!m) fail(`cannot parse pairs "${s}"`);
    return [[m[1], substitute(m[2], vars)]];
  }
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) break;
    let key = '';
    while (i < s.length && s[i] !== '=') key += s[i++];
    i++;
    let val = '';
    while (i < s.length && s[i] !== ' ' && s[i] !== '\t') {
      const c = s[i];
      if (c === '"' || c === "'") {
        i++;
        while (i < s.length && s[i] !== c) {
          if (c === '"' && s[i] === '\\') i++;
          val += s[i++];
        }
        i++;
      } else if (c === '\\') {
        val += s[i + 1];
        i += 2;
      } else val += s[i++];
    }
    pairs.push([key, substitute(val, vars)]);
  }
  return pairs;
}

// ---------------------------------------------------------------- .dockerignore

function globToRegex(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, end).replace(/^!/, '^') + ']';
        i = end;
      }
    } else if (ch === '\\') re += '\\' + (pattern[++i] ?? '\\');
    else re += ch.replace(/[.+^${}()|]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

function loadDockerignore(dir) {
  const file = path.join(dir, '.dockerignore');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      let p = negate ? l.slice(1).trim() : l;
      p = path.posix.normalize(p).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: globToRegex(p) };
    });
}

/** moby/patternmatcher semantics: a rule matches a path or any of its parent dirs; last wins. */
function makeExcluder(rules) {
  const hasNegation = rules.some((r) => r.negate);
  const excluded = (rel) => {
    const parts = rel.split('/');
    const prefixes = parts.map((_, k) => parts.slice(0, k + 1).join('/'));
    let out = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) out = !r.negate;
    return out;
  };
  return { excluded, hasNegation };
}

/** Every file (and symlink) of the context that .dockerignore lets through. */
function contextFiles(dir) {
  const { excluded, hasNegation } = makeExcluder(loadDockerignore(dir));
  const files = [];
  const walk = (relDir) => {
    for (const ent of fs.readdirSync(path.join(dir, relDir), { withFileTypes: true })) {
      const rel = relDir ? `${relDir}/${ent.name}` : ent.name;
      const ex = excluded(rel);
      if (ent.isDirectory()) {
        if (ex && !hasNegation) continue;
        walk(rel);
      } else if (!ex) files.push(rel);
    }
  };
  walk('');
  return files;
}

// ---------------------------------------------------------------- replay

function copyEntry(src, dst) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.cpSync(src, dst, { recursive: true, verbatimSymlinks: true, force: true });
}

function stageRoot(stage) {
  return path.join(work, 'stages', stage.name);
}

function inRoot(stage, p) {
  return path.join(stageRoot(stage), path.posix.resolve(stage.workdir, p));
}

function replay(instructions, ctxFiles) {
  const globalArgs = {};
  const stages = [];
  let st = null;
  for (const ins of instructions) {
    const where = `Dockerfile:${ins.line} ${ins.op}`;
    if (ins.op !== 'FROM' && ins.op !== 'ARG' && !st) fail(`${where} before FROM`);
    const vars = st ? { ...st.args, ...st.env } : globalArgs;
    switch (ins.op) {
      case 'ARG': {
        const [name, def] = ins.rest.split(/=(.*)/s);
        if (!st) globalArgs[name] = def ?? '';
        else st.args[name] = def !== undefined ? substitute(def, vars) : (globalArgs[name] ?? '');
        break;
      }
      case 'FROM': {
        const { rest } = takeFlags(ins.rest);
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
        if (!m) fail(`${where}: cannot parse "${rest}"`);
        const base = substitute(m[1], globalArgs);
        const name = m[2] ?? `stage${stages.length}`;
        const parent = stages.find((s) => s.name === base);
        st = {
          name,
          base,
          workdir: '/',
          env: parent ? { ...parent.env } : {},
          args: {},
          user: null,
          cmd: null,
          entrypoint: null,
          healthcheck: null,
          expose: [],
          volumes: [],
          labels: {},
        };
        fs.rmSync(stageRoot(st), { recursive: true, force: true });
        fs.mkdirSync(stageRoot(st), { recursive: true });
        if (parent) copyEntry(stageRoot(parent), stageRoot(st));
        stages.push(st);
        log(`FROM ${base} AS ${name}${parent ? '' : ' (host tools stand in for the base image)'}`);
        break;
      }
      case 'WORKDIR':
        st.workdir = path.posix.resolve(st.workdir, substitute(ins.rest, vars));
        fs.mkdirSync(inRoot(st, '.'), { recursive: true });
        break;
      case 'ENV':
        for (const [k, v] of parsePairs(ins.rest, vars)) st.env[k] = v;
        break;
      case 'LABEL':
        for (const [k, v] of parsePairs(ins.rest, vars)) st.labels[k] = v;
        break;
      case 'USER':
        st.user = substitute(ins.rest, vars);
        break;
      case 'EXPOSE':
        st.expose.push(...substitute(ins.rest, vars).split(/\s+/));
        break;
      case 'VOLUME':
        st.volumes.push(...(isJsonArray(ins.rest) ?? ins.rest.split(/\s+/)));
        break;
      case 'CMD':
      case 'ENTRYPOINT': {
        const v = isJsonArray(ins.rest) ?? ['/bin/sh', '-c', ins.rest];
        if (ins.op === 'CMD') st.cmd = v;
        else st.entrypoint = v;
        break;
      }
      case 'HEALTHCHECK': {
        const { flags, rest } = takeFlags(ins.rest);
        if (/^NONE$/i.test(rest)) st.healthcheck = null;
        else {
          const m = /^CMD\s+(.*)$/is.exec(rest);
          if (!m) fail(`${where}: expected CMD`);
          st.healthcheck = { flags, cmd: isJsonArray(m[1]) ?? ['/bin/sh', '-c', m[1]] };
        }
        break;
      }
      case 'COPY':
      case 'ADD': {
        const { flags, rest } = takeFlags(ins.rest);
        if (ins.op === 'ADD' && /https?:\/\//.test(rest)) fail(`${where}: remote ADD is not replayable`);
        const parts = isJsonArray(rest) ?? rest.split(/\s+/);
        const dest = substitute(parts.pop(), vars);
        const srcs = parts.map((p) => substitute(p, vars));
        const destIsDir = dest.endsWith('/') || srcs.length > 1;
        const destAbs = inRoot(st, dest);
        for (const src of srcs) {
          if (flags.from) {
            const from = stages.find((s) => s.name === flags.from);
            if (!from) fail(`${where}: --from=${flags.from} is not an earlier stage`);
            const srcAbs = path.join(stageRoot(from), path.posix.resolve('/', src));
            if (!fs.existsSync(srcAbs)) fail(`${where}: ${src} not found in stage ${from.name}`);
            copyOne(srcAbs, fs.statSync(srcAbs).isDirectory(), destAbs, destIsDir);
          } else {
            const norm = path.posix
              .normalize(src)
              .replace(/^\.?\/+/, '')
              .replace(/\/+$/, '');
            const re = globToRegex(norm === '.' ? '**' : norm);
            const isGlob = /[*?[]/.test(norm);
            let matched = 0;
            if (norm === '.' || norm === '') {
              for (const f of ctxFiles) (copyEntry(path.join(context, f), path.join(destAbs, f)), matched++);
            } else if (isGlob) {
              for (const f of ctxFiles) {
                if (re.test(f))
                  (copyEntry(path.join(context, f), destIsDir ? path.join(destAbs, path.posix.basename(f)) : destAbs), matched++);
              }
            } else {
              for (const f of ctxFiles) {
                if (f === norm)
                  (copyEntry(path.join(context, f), destIsDir ? path.join(destAbs, path.posix.basename(f)) : destAbs), matched++);
                else if (f.startsWith(norm + '/'))
                  (copyEntry(path.join(context, f), path.join(destAbs, f.slice(norm.length + 1))), matched++);
              }
            }
            if (!matched) fail(`${where}: "${src}" matches nothing in the context (missing, or excluded by .dockerignore)`);
          }
        }
        log(`${ins.op} ${flags.from ? `--from=${flags.from} ` : ''}${srcs.join(' ')} -> ${path.posix.resolve(st.workdir, dest)}`);
        break;
      }
      case 'RUN': {
        if (ins.skip) {
          log(`RUN skipped ${ins.skip}: ${ins.rest.slice(0, 70)}${ins.rest.length > 70 ? '…' : ''}`);
          break;
        }
        const { rest } = takeFlags(ins.rest);
        const argv = isJsonArray(rest) ?? ['/bin/sh', '-c', rest];
        log(`RUN ${rest.replace(/\s+/g, ' ').slice(0, 110)}`);
        const started = Date.now();
        const r = spawnSync(argv[0], argv.slice(1), {
          cwd: inRoot(st, '.'),
          env: { ...process.env, ...st.env },
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        if (r.status !== 0) fail(`${where} failed with status ${r.status ?? r.signal}`);
        log(`  done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        break;
      }
      case 'SHELL':
      case 'ONBUILD':
      case 'STOPSIGNAL':
      default:
        fail(`${where}: instruction not supported by the replay`);
    }
  }
  return stages;
}

function copyOne(srcAbs, srcIsDir, destAbs, destIsDir) {
  if (srcIsDir) {
    fs.mkdirSync(destAbs, { recursive: true });
    fs.cpSync(srcAbs, destAbs, { recursive: true, verbatimSymlinks: true, force: true });
  } else copyEntry(srcAbs, destIsDir ? path.join(destAbs, path.basename(srcAbs)) : destAbs);
}

// ---------------------------------------------------------------- smoke run

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms).unref());

async function smoke(st) {
  const root = stageRoot(st);
  const cwd = inRoot(st, '.');
  const asRoot = process.getuid?.() === 0;
  const uid = 1000; // the official node image's "node" user
  const baseEnv = { ...process.env, ...st.env };
  // Paths in the image's ENV that point at a VOLUME are mapped to temp dirs.
  const volumeDirs = {};
  for (const v of st.volumes) {
    const hostDir = path.join(work, 'volumes', v.replace(/\W+/g, '_'));
    fs.mkdirSync(hostDir, { recursive: true });
    if (asRoot) fs.chownSync(hostDir, uid, uid);
    volumeDirs[v] = hostDir;
    for (const [k, val] of Object.entries(baseEnv)) if (val === v) baseEnv[k] = hostDir;
  }
  // A non-root user must be able to reach the code; mkdtemp dirs are 0700.
  for (let d = root; d !== path.dirname(work); d = path.dirname(d)) fs.chmodSync(d, 0o755);
  const wrap = (argv) => (asRoot ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...argv] : argv);

  const du = spawnSync('du', ['-sh', root], { encoding: 'utf8' }).stdout.split('\t')[0];
  log(`runtime stage "${st.name}": ${du} on disk, workdir ${st.workdir}, user ${st.user ?? 'root'}${asRoot ? ` (run as uid ${uid})` : ''}`);

  // 1. native modules load from the copied node_modules, and the ONNX runtime runs a model
  const probe = `
    const Database = require('better-sqlite3');
    new Database(':memory:').prepare('select 1 as x').get();
    require('sharp');
    const ort = require('onnxruntime-node');
    const fs = require('fs');
    const model = fs.existsSync('models') && fs.readdirSync('models').find((f) => f.endsWith('.onnx'));
    (model ? ort.InferenceSession.create('models/' + model).then((s) => 'onnxruntime loaded ' + model + ' (inputs ' + s.inputNames + ')') : Promise.resolve('no model to load'))
      .then((m) => { console.log('native modules: better-sqlite3, sharp, onnxruntime-node ok; ' + m); }, (e) => { console.error(e); process.exit(1); });`;
  const probeCmd = wrap(['node', '-e', probe]);
  const pr = spawnSync(probeCmd[0], probeCmd.slice(1), { cwd, env: baseEnv, encoding: 'utf8' });
  if (pr.status !== 0) fail(`native module probe failed:\n${pr.stdout}${pr.stderr}`);
  log(pr.stdout.trim());
  if (!st.cmd && !st.entrypoint) fail('the last stage has no CMD');

  const running = [];
  const abort = (msg) => {
    for (const inst of running) {
      inst.child.kill('SIGKILL');
      process.stderr.write(`--- ${inst.label} log\n${fs.readFileSync(inst.logFile, 'utf8')}`);
    }
    fail(msg);
  };

  /** Starts CMD as the image would, on free ports; resolves once /healthz answers 200. */
  async function start(label, extraEnv = {}) {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const env = { ...baseEnv, ...extraEnv, PORT: String(httpPort), GRPC_PORT: String(grpcPort), METAPIXEL_HOST: '127.0.0.1' };
    const cmd = wrap([...(st.entrypoint ?? []), ...(st.cmd ?? [])]);
    const logFile = path.join(work, `server-${label}.log`);
    const out = fs.openSync(logFile, 'w');
    const child = spawn(cmd[0], cmd.slice(1), { cwd, env, stdio: ['ignore', out, out] });
    const inst = { label, child, env, logFile, httpPort, grpcPort, exited: null };
    inst.exitP = new Promise((resolve) => child.on('exit', (code, signal) => resolve((inst.exited = { code, signal }))));
    running.push(inst);
    log(`[${label}] started ${cmd.join(' ')} (pid ${child.pid}) with PORT=${httpPort} GRPC_PORT=${grpcPort}`);
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && !inst.exited) {
      try {
        const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
        if (r.ok) {
          log(`[${label}] GET /healthz -> 200`);
          return inst;
        }
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    return abort(inst.exited ? `[${label}] server exited early (${JSON.stringify(inst.exited)})` : `[${label}] no /healthz within 30 s`);
  }

  /** HEALTHCHECK command, /readyz and the gRPC port. */
  async function check(inst) {
    if (st.healthcheck) {
      const hc = wrap(st.healthcheck.cmd);
      const r = spawnSync(hc[0], hc.slice(1), { cwd, env: inst.env, encoding: 'utf8', timeout: 10000 });
      if (r.status !== 0) abort(`[${inst.label}] HEALTHCHECK exited ${r.status}: ${r.stderr}`);
      log(`[${inst.label}] HEALTHCHECK command -> exit 0`);
    }
    const ready = await fetch(`http://127.0.0.1:${inst.httpPort}/readyz`);
    const body = await ready.text();
    if (ready.status !== 200) abort(`[${inst.label}] /readyz -> ${ready.status} ${body}`);
    log(`[${inst.label}] GET /readyz -> 200 ${body}`);
    await new Promise((resolve, reject) => {
      const sock = net.connect(inst.grpcPort, '127.0.0.1', () => {
        sock.end();
        resolve();
      });
      sock.on('error', (e) => reject(new Error(`[${inst.label}] gRPC port ${inst.grpcPort}: ${e.message}`)));
    }).catch((e) => abort(e.message));
    log(`[${inst.label}] gRPC port ${inst.grpcPort} accepts connections`);
    // which store it opened, from its JSON log ("store opened" line), if it says
    const line = fs
      .readFileSync(inst.logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"store opened"'));
    try {
      inst.store = line ? JSON.parse(line).store : undefined;
    } catch {
      inst.store = undefined;
    }
    if (inst.store) log(`[${inst.label}] store: ${inst.store}`);
  }

  /** SIGTERM must end the process with status 0 (it drains, then exits). */
  async function stop(inst) {
    inst.child.kill('SIGTERM');
    const res = await Promise.race([inst.exitP, sleep(40000).then(() => null)]);
    if (!res) abort(`[${inst.label}] no exit within 40 s of SIGTERM`);
    if (res.code !== 0) abort(`[${inst.label}] exit after SIGTERM: ${JSON.stringify(res)}`);
    running.splice(running.indexOf(inst), 1);
    log(`[${inst.label}] SIGTERM -> exit 0`);
  }

  // 2. the embedded store, as `docker run -v ...:/data` would run it
  const single = await start('embedded');
  await check(single);
  await stop(single);
  for (const [v, dir] of Object.entries(volumeDirs)) log(`volume ${v}: ${fs.readdirSync(dir).join(', ') || '(empty)'}`);

  // 3. optional: two replicas sharing one MongoDB, as the compose file / Helm chart run it
  if (args['mongo-uri']) {
    const a = await start('mongo-a', { MONGODB_URI: args['mongo-uri'] });
    const b = await start('mongo-b', { MONGODB_URI: args['mongo-uri'] });
    await check(a);
    await check(b);
    await Promise.all([stop(a), stop(b)]);
    if (single.store && a.store === single.store) fail(`MONGODB_URI was set but the server opened the ${a.store} store`);
  }
}

// ---------------------------------------------------------------- main

const ctxFiles = contextFiles(context);
if (args['list-context']) {
  for (const f of ctxFiles) console.log(f);
  process.exit(0);
}
const instructions = parseDockerfile(fs.readFileSync(dockerfile, 'utf8'));
log(`context ${context}: ${ctxFiles.length} files after .dockerignore`);
fs.mkdirSync(work, { recursive: true });
const stages = replay(instructions, ctxFiles);
log(`build steps replayed (${stages.map((s) => s.name).join(', ')})`);
if (args.smoke) await smoke(stages[stages.length - 1]);
log('ok');
process.exit(0);

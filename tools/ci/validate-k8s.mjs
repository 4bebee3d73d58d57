#!/usr/bin/env node
/**
 * Offline validation of rendered Kubernetes manifests (helm template output).
 *
 *   node tools/ci/validate-k8s.mjs --models DIR [--allow-external-secret NAME]... FILE...
 *
 * DIR is an npm prefix holding kubernetes-models and yaml (tools/ci/helm-check.sh installs
 * them into .tools/). For each file:
 *   - parses the multi-document YAML strictly (syntax errors and duplicate keys fail)
 *   - every object uses a GA apiVersion (no alpha/beta/extensions), and apiVersion + kind map to a kubernetes-models class, and
 *     `new Class(obj).validate()` must pass (types, required fields, formats; it does NOT
 *     catch unknown fields)
 *   - cross-object checks that a schema cannot make: workload selectors match their pod
 *     labels; Services, PDBs and HPAs point at something rendered; ConfigMaps, Secrets,
 *     PVCs and ServiceAccounts a pod refers to are rendered (or named with
 *     --allow-external-secret / are the "default" ServiceAccount); container ports named
 *     by probes and Services exist; names are unique per kind; every container has
 *     resources and a securityContext; JavaScript passed to `mongosh --eval` parses.
 * Exit status 1 on any finding.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
let modelsDir = null;
const externalSecrets = new Set();
const files = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--models') modelsDir = argv[++i];
  else if (argv[i] === '--allow-external-secret') externalSecrets.add(argv[++i]);
  else files.push(argv[i]);
}
if (!modelsDir || !files.length) {
  console.error('usage: validate-k8s.mjs --models DIR [--allow-external-secret NAME]... FILE...');
  process.exit(2);
}
const nm = path.resolve(modelsDir, 'node_modules');
const importFrom = (rel) => import(pathToFileURL(path.join(nm, rel)).href);
const YAML = await importFrom('yaml/dist/index.js');

const classCache = new Map();
async function modelClass(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!classCache.has(key)) {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion];
    const rel = group ? `kubernetes-models/${group}/${version}/${kind}.js` : `kubernetes-models/${version}/${kind}.js`;
    let cls = null;
    if (fs.existsSync(path.join(nm, rel))) cls = (await importFrom(rel))[kind] ?? null;
    classCache.set(key, cls);
  }
  return classCache.get(key);
}

/** JavaScript given to `mongosh --eval` in a container's command, args, probes or hooks. */
function mongoshEvals(container) {
  const out = [];
  const walk = (v) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        if (x === '--eval' && typeof v[i + 1] === 'string') out.push(v[i + 1]);
        else walk(x);
      });
    } else if (typeof v === 'string') {
      for (const m of v.matchAll(/mongosh\b[^']*--eval\s+'([^']*)'/g)) out.push(m[1]);
    } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk([container.command, container.args, container.livenessProbe, container.readinessProbe, container.startupProbe, container.lifecycle]);
  return out;
}

let total = 0;
let failures = 0;
for (const file of files) {
  const findings = [];
  const text = fs.readFileSync(file, 'utf8');
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  const objects = [];
  for (const doc of docs) {
    for (const e of doc.errors) findings.push(`YAML error: ${e.message}`);
    for (const w of doc.warnings) findings.push(`YAML warning: ${w.message}`);
    const obj = doc.toJS();
    if (obj == null) continue; // empty document
    objects.push(obj);
  }
  const id = (o) => `${o.kind ?? '?'}/${o.metadata?.name ?? '?'}`;

  for (const obj of objects) {
    if (!obj.apiVersion || !obj.kind) {
      findings.push(`object without apiVersion/kind: ${JSON.stringify(obj).slice(0, 80)}`);
      continue;
    }
    if (/alpha|beta/.test(obj.apiVersion) || obj.apiVersion.startsWith('extensions/')) {
      findings.push(`${id(obj)}: ${obj.apiVersion} is not a GA API (removed or due for removal; the chart targets GA APIs only)`);
    }
    const Cls = await modelClass(obj.apiVersion, obj.kind);
    if (!Cls) {
      findings.push(`${id(obj)}: no schema for ${obj.apiVersion} ${obj.kind} (wrong or removed apiVersion?)`);
      continue;
    }
    try {
      new Cls(obj).validate();
    } catch (e) {
      const details = e.errors ? e.errors.map((x) => `${x.instancePath || '/'} ${x.message ?? x.keyword}`).join('; ') : e.message;
      findings.push(`${id(obj)}: ${details}`);
    }
  }

  // ---- cross-object checks
  const byKind = (k) => objects.filter((o) => o.kind === k);
  const names = (k) => new Set(byKind(k).map((o) => o.metadata?.name));
  const seen = new Set();
  for (const o of objects) {
    const k = `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
    if (seen.has(k)) findings.push(`duplicate object ${id(o)}`);
    seen.add(k);
  }
  const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => (labels ?? {})[k] === v);
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
  for (const w of workloads) {
    const pod = w.spec?.template;
    const sel = w.spec?.selector?.matchLabels;
    if (!sel || !Object.keys(sel).length) findings.push(`${id(w)}: empty selector`);
    else if (!matches(sel, pod?.metadata?.labels)) findings.push(`${id(w)}: selector ${JSON.stringify(sel)} does not match pod labels`);
    const spec = pod?.spec ?? {};
    const sa = spec.serviceAccountName;
    if (sa && sa !== 'default' && !names('ServiceAccount').has(sa)) findings.push(`${id(w)}: ServiceAccount ${sa} not rendered`);
    const volNames = new Set((spec.volumes ?? []).map((v) => v.name));
    for (const v of spec.volumes ?? []) {
      if (v.configMap && !names('ConfigMap').has(v.configMap.name))
        findings.push(`${id(w)}: volume ConfigMap ${v.configMap.name} not rendered`);
      if (v.secret && !names('Secret').has(v.secret.secretName) && !externalSecrets.has(v.secret.secretName))
        findings.push(`${id(w)}: volume Secret ${v.secret.secretName} not rendered`);
      if (v.persistentVolumeClaim && !names('PersistentVolumeClaim').has(v.persistentVolumeClaim.claimName))
        findings.push(`${id(w)}: PVC ${v.persistentVolumeClaim.claimName} not rendered`);
    }
    for (const t of w.spec?.volumeClaimTemplates ?? []) volNames.add(t.metadata?.name);
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const cid = `${id(w)} container ${c.name}`;
      if (!c.resources || !Object.keys(c.resources).length) findings.push(`${cid}: no resources`);
      if (!c.securityContext) findings.push(`${cid}: no securityContext`);
      for (const m of c.volumeMounts ?? []) if (!volNames.has(m.name)) findings.push(`${cid}: mounts unknown volume ${m.name}`);
      const portNames = new Set((c.ports ?? []).map((p) => p.name).filter(Boolean));
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const p = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port ?? c[probe]?.grpc?.port;
        if (typeof p === 'string' && !portNames.has(p)) findings.push(`${cid}: ${probe} port ${p} is not a named container port`);
      }
      for (const ef of c.envFrom ?? []) {
        if (ef.configMapRef && !ef.configMapRef.optional && !names('ConfigMap').has(ef.configMapRef.name))
          findings.push(`${cid}: envFrom ConfigMap ${ef.configMapRef.name} not rendered`);
        if (ef.secretRef && !ef.secretRef.optional && !names('Secret').has(ef.secretRef.name) && !externalSecrets.has(ef.secretRef.name))
          findings.push(`${cid}: envFrom Secret ${ef.secretRef.name} not rendered`);
      }
      for (const code of mongoshEvals(c)) {
        try {
          new Function(code);
        } catch (e) {
          findings.push(`${cid}: mongosh --eval script does not parse: ${e.message}`);
        }
      }
      const envNames = new Set();
      for (const e of c.env ?? []) {
        if (envNames.has(e.name)) findings.push(`${cid}: env ${e.name} set twice`);
        envNames.add(e.name);
        const sk = e.valueFrom?.secretKeyRef;
        if (sk && !externalSecrets.has(sk.name)) {
          const s = byKind('Secret').find((x) => x.metadata?.name === sk.name);
          if (!s) findings.push(`${cid}: env ${e.name} from Secret ${sk.name}, not rendered`);
          else if (!sk.optional && !(sk.key in (s.data ?? {})) && !(sk.key in (s.stringData ?? {})))
            findings.push(`${cid}: env ${e.name}: Secret ${sk.name} has no key ${sk.key}`);
        }
        const ck = e.valueFrom?.configMapKeyRef;
        if (ck && !ck.optional && !byKind('ConfigMap').some((x) => x.metadata?.name === ck.name && ck.key in (x.data ?? {})))
          findings.push(`${cid}: env ${e.name}: ConfigMap key ${ck.name}/${ck.key} not rendered`);
      }
    }
  }
  for (const s of byKind('Service')) {
    const targets = workloads.filter((w) => matches(s.spec?.selector, w.spec?.template?.metadata?.labels));
    if (s.spec?.selector && !targets.length) findings.push(`${id(s)}: selector matches no rendered workload`);
    for (const p of s.spec?.ports ?? []) {
      if (
        typeof p.targetPort === 'string' &&
        !targets.some((w) => (w.spec.template.spec.containers ?? []).some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)))
      ) {
        findings.push(`${id(s)}: targetPort ${p.targetPort} is no named container port of its pods`);
      }
    }
  }
  for (const s of byKind('StatefulSet')) {
    if (s.spec?.serviceName && !names('Service').has(s.spec.serviceName))
      findings.push(`${id(s)}: serviceName ${s.spec.serviceName} not rendered`);
  }
  for (const p of byKind('PodDisruptionBudget')) {
    if (!workloads.some((w) => matches(p.spec?.selector?.matchLabels, w.spec?.template?.metadata?.labels)))
      findings.push(`${id(p)}: selects no rendered workload`);
  }
  for (const h of byKind('HorizontalPodAutoscaler')) {
    const ref = h.spec?.scaleTargetRef;
    const target = workloads.find((w) => w.kind === ref?.kind && w.metadata?.name === ref?.name);
    if (!target) findings.push(`${id(h)}: scaleTargetRef ${ref?.kind}/${ref?.name} not rendered`);
    else if (target.spec?.replicas !== undefined) findings.push(`${id(h)}: ${id(target)} sets spec.replicas; it would fight the HPA`);
  }
  for (const ing of byKind('Ingress')) {
    for (const r of ing.spec?.rules ?? []) {
      for (const p of r.http?.paths ?? []) {
        const svc = byKind('Service').find((s) => s.metadata?.name === p.backend?.service?.name);
        if (!svc) findings.push(`${id(ing)}: backend Service ${p.backend?.service?.name} not rendered`);
        else if (p.backend.service.port?.name && !(svc.spec?.ports ?? []).some((sp) => sp.name === p.backend.service.port.name))
          findings.push(`${id(ing)}: Service ${svc.metadata.name} has no port ${p.backend.service.port.name}`);
      }
    }
  }

  total += objects.length;
  const kinds = [...new Set(objects.map((o) => o.kind))].join(', ');
  if (findings.length) {
    failures += findings.length;
    console.log(`FAIL ${file}: ${objects.length} objects (${kinds})`);
    for (const f of findings) console.log(`  - ${f}`);
  } else console.log(`ok   ${file}: ${objects.length} objects valid (${kinds})`);
}
console.log(`validate-k8s: ${total} objects, ${failures} finding(s)`);
process.exit(failures ? 1 : 0);

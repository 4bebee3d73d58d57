/**
 * The Helm chart reaches every setting the server reads: each environment variable read
 * in src/ (the settings table of src/config/config.ts and any other `env.NAME` read) has a
 * value in helm/metapixel/values.yaml, checked by values.schema.json with the server's own
 * rules, documented in the chart's README, and rendered into the container's environment.
 * A new setting without a Helm value fails here.
 *
 * The rendering tests run `helm template` (test/support/helm.ts). Without helm they are
 * skipped, except under CI=true, where a missing helm is a failure.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { DEFAULTS, ENV_NAMES, loadConfig, SETTING_SCHEMAS, type Config } from '../../src/config/config';
import { CHART, HELM, renderChart, type K8sObject } from '../support/helm';

const ROOT = path.resolve(__dirname, '..', '..');
const values = YAML.parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as JsonSchema;
interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  [k: string]: unknown;
}

/** Settings whose Helm value is not config.<same name>. */
const VALUE_OF_SETTING: Partial<Record<keyof Config, string>> = {
  port: 'service.httpPort',
  grpcPort: 'service.grpcPort',
  mongodbUri: 'mongodb.uri',
  apiKeys: 'auth.apiKeys',
  bearerTokens: 'auth.bearerTokens',
  metricsKey: 'auth.metricsKey',
};
/** Variables read outside the settings table. */
const VALUE_OF_OTHER_ENV: Record<string, string> = { METAPIXEL_CONFIG_FILE: 'configFile' };
/** Where the chart's default or schema differs from the server's on purpose. */
const CHART_DIFFERS = new Set<keyof Config>(['dataDir']); // an absolute path: the data volume is mounted there

const SETTING_KEYS = Object.keys(ENV_NAMES) as (keyof Config)[];
const CONFIG_KEYS = SETTING_KEYS.filter((k) => !VALUE_OF_SETTING[k]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every environment variable name read anywhere in src/ (`env.NAME`, `env['NAME']`) or in the settings table. */
function envRead(): Map<string, string> {
  const found = new Map<string, string>(); // name -> Helm value path
  for (const key of SETTING_KEYS) found.set(ENV_NAMES[key], VALUE_OF_SETTING[key] ?? `config.${key}`);
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)\b|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g)) {
      const name = m[1] ?? m[2];
      if (!found.has(name))
        found.set(name, VALUE_OF_OTHER_ENV[name] ?? `(no Helm value for ${name}, read in ${path.relative(ROOT, file)})`);
    }
  }
  return found;
}

const get = (obj: unknown, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
const schemaAt = (dotted: string): JsonSchema | undefined =>
  dotted.split('.').reduce<JsonSchema | undefined>((s, k) => s?.properties?.[k], schema);

describe('static: values.yaml, values.schema.json and README against the server', () => {
  test('the scan of src/ finds the variables it should (so it can find a new one)', () => {
    const read = envRead();
    expect(read.get('METAPIXEL_CONFIG_FILE')).toBe('configFile');
    expect(read.get('PORT')).toBe('service.httpPort');
    expect(read.size).toBe(SETTING_KEYS.length + 1);
  });

  test('every variable the server reads has a value in values.yaml and in values.schema.json', () => {
    const missing: string[] = [];
    for (const [name, valuePath] of envRead()) {
      if (get(values, valuePath) === undefined) missing.push(`${name}: values.yaml has no ${valuePath}`);
      if (!schemaAt(valuePath)) missing.push(`${name}: values.schema.json has no ${valuePath}`);
    }
    expect(missing).toEqual([]);
  });

  test('config.* is exactly the server settings, with the server schemas and defaults', () => {
    const config = values.config as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual([...CONFIG_KEYS].sort());
    expect(Object.keys(schemaAt('config')?.properties ?? {}).sort()).toEqual([...CONFIG_KEYS].sort());
    for (const key of CONFIG_KEYS.filter((k) => !CHART_DIFFERS.has(k))) {
      expect({ key, schema: schemaAt(`config.${key}`) }).toEqual({ key, schema: SETTING_SCHEMAS[key] });
      expect({ key, default: config[key] }).toEqual({ key, default: DEFAULTS[key] });
    }
    expect(config.dataDir).toBe('/data');
  });

  test('the helm template table maps each config.* key to its variable', () => {
    const helpers = readFileSync(path.join(CHART, 'templates', '_helpers.tpl'), 'utf8');
    const table = /define "metapixel\.configEnv" -\}\}\n([\s\S]*?)\{\{- end/.exec(helpers)?.[1] ?? '';
    expect(YAML.parse(table)).toEqual(Object.fromEntries(CONFIG_KEYS.map((k) => [k, ENV_NAMES[k]])));
  });

  test('the chart README documents every value that sets a variable', () => {
    const readme = readFileSync(path.join(CHART, 'README.md'), 'utf8');
    const undocumented = [...envRead()]
      .filter(([name, valuePath]) => !readme.includes(`\`${valuePath}\``) || !readme.includes(`\`${name}\``))
      .map(([name, valuePath]) => `${valuePath} (${name})`);
    expect(undocumented).toEqual([]);
    for (const key of ['extraEnv', 'extraEnvFrom', 'extraVolumes', 'extraVolumeMounts', 'existingSecret'])
      expect(readme).toContain(`\`${key}\``);
  });
});

// ---------------------------------------------------------------- rendering with helm

const withHelm = HELM ? test : test.skip;

test('helm is available when CI=true', () => {
  if (process.env.CI === 'true') expect(HELM).toBeDefined();
});

interface Container {
  name: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: Record<string, unknown>;
}
interface PodSpec {
  containers: Container[];
  volumes?: ({ name: string } & Record<string, unknown>)[];
  securityContext?: Record<string, unknown>;
}

const render = renderChart;

function pod(objects: K8sObject[]): { spec: PodSpec; container: Container } {
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const spec = (deployment?.spec as { template: { spec: PodSpec } }).template.spec;
  return { spec, container: spec.containers.find((c) => c.name === 'metapixel')! };
}

/** The container's environment as the kubelet would build it; values from Secrets or ConfigMaps not rendered by the chart read `<from name/key>`. */
function containerEnv(objects: K8sObject[]): Record<string, string> {
  const { container } = pod(objects);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const secretData = (name: string) =>
    Object.fromEntries(Object.entries(find('Secret', name)?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find('ConfigMap', from.configMapRef.name)?.data ?? {});
    if (from.secretRef) Object.assign(env, secretData(from.secretRef.name));
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef && find('Secret', ref!.name)) {
      const v = secretData(ref!.name)[ref!.key];
      if (v !== undefined) env[e.name] = v;
    } else if (e.valueFrom?.configMapKeyRef && find('ConfigMap', ref!.name)) {
      const v = find('ConfigMap', ref!.name)?.data?.[ref!.key];
      if (v !== undefined) env[e.name] = v;
    } else if (ref) env[e.name] = `<from ${ref.name}/${ref.key}>`;
  }
  return env;
}

/** A valid value of each setting that differs from its default, made from its schema. */
function sampleValue(key: keyof Config): unknown {
  const s = SETTING_SCHEMAS[key] as {
    type?: string;
    enum?: unknown[];
    minimum?: number;
    maximum?: number;
    exclusiveMinimum?: number;
    exclusiveMaximum?: number;
  };
  const d = DEFAULTS[key];
  if (key === 'dataDir') return '/srv/metapixel-data';
  if (key === 'indexShard') return '1/3';
  if (key === 'gcsEndpoint') return 'https://storage.example.com';
  if (key === 'consoleStaging') return 'gs://shop-staging/console/';
  if (s.type === 'boolean') return !d;
  if (s.enum) return s.enum.find((x) => x !== d);
  if (s.type === 'integer') return s.maximum !== undefined && (d as number) + 1 > s.maximum ? (d as number) - 1 : (d as number) + 1;
  if (s.type === 'number') return ((d as number) + (s.exclusiveMinimum ?? s.minimum ?? 0)) / 2;
  return `sample-${key.toLowerCase()}`;
}

withHelm('every variable the server reads is set from its Helm value', () => {
  const config = Object.fromEntries(CONFIG_KEYS.map((k) => [k, sampleValue(k)]));
  const ajv = new Ajv();
  for (const k of CONFIG_KEYS)
    if (!CHART_DIFFERS.has(k)) expect({ k, valid: ajv.validate(SETTING_SCHEMAS[k], config[k]) }).toEqual({ k, valid: true });
  const others = {
    service: { httpPort: 18080, grpcPort: 15051 },
    auth: { apiKeys: 'k1=projA;k2=*', bearerTokens: 't1=*', metricsKey: 'm1' },
    mongodb: { mode: 'external', uri: 'mongodb://m0,m1/metapixel?replicaSet=rs0' },
    configFile: '/etc/metapixel/settings.json',
  };
  const { objects, error } = render({ config, ...others });
  expect(error).toBeUndefined();
  const env = containerEnv(objects);
  const wrong: string[] = [];
  for (const [name, valuePath] of envRead()) {
    const want = String(get({ config, ...others }, valuePath));
    if (env[name] !== want) wrong.push(`${name} (${valuePath}): rendered ${JSON.stringify(env[name])}, expected ${JSON.stringify(want)}`);
  }
  expect(wrong).toEqual([]);
  // and the server reads them back as given
  const loaded = loadConfig({ ...env, METAPIXEL_CONFIG_FILE: undefined });
  expect(loaded).toEqual({
    ...config,
    port: 18080,
    grpcPort: 15051,
    apiKeys: 'k1=projA;k2=*',
    bearerTokens: 't1=*',
    metricsKey: 'm1',
    mongodbUri: others.mongodb.uri,
  });
});

withHelm('chart defaults give the server defaults (dataDir: /data)', () => {
  const { objects, error } = render({});
  expect(error).toBeUndefined();
  expect(loadConfig(containerEnv(objects))).toEqual({ ...DEFAULTS, dataDir: '/data' });
});

withHelm('a setting set to null is left out (the server default or configFile applies)', () => {
  const { objects, error } = render({ config: { detectMirror: null, urlAllowList: '' } });
  expect(error).toBeUndefined();
  const env = containerEnv(objects);
  expect(env).not.toHaveProperty('METAPIXEL_DETECT_MIRROR');
  expect(env).not.toHaveProperty('METAPIXEL_URL_ALLOWLIST');
  expect(env).toHaveProperty('METAPIXEL_CODE_BITS', '128');
});

withHelm('existingSecret supplies API keys, bearer tokens and the MongoDB URI', () => {
  const { objects } = render({ existingSecret: 'mine', mongodb: { mode: 'external' } });
  expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  const env = containerEnv(objects);
  expect(env.METAPIXEL_API_KEYS).toBe('<from mine/METAPIXEL_API_KEYS>');
  expect(env.METAPIXEL_BEARER_TOKENS).toBe('<from mine/METAPIXEL_BEARER_TOKENS>');
  expect(env.MONGODB_URI).toBe('<from mine/MONGODB_URI>');
});

withHelm('extraEnv, extraEnvFrom, extraVolumes, extraVolumeMounts and the pod security defaults', () => {
  const { objects, error } = render({
    config: { dataDir: '/var/lib/metapixel' },
    configFile: '/etc/metapixel/settings.json',
    extraEnv: [{ name: 'EXTRA_ONE', value: '1' }],
    extraEnvFrom: [{ secretRef: { name: 'more-settings' } }],
    extraVolumes: [{ name: 'settings', configMap: { name: 'metapixel-settings' } }],
    extraVolumeMounts: [{ name: 'settings', mountPath: '/etc/metapixel', readOnly: true }],
  });
  expect(error).toBeUndefined();
  const { spec, container } = pod(objects);
  expect(container.env).toContainEqual({ name: 'EXTRA_ONE', value: '1' });
  expect(container.envFrom).toContainEqual({ secretRef: { name: 'more-settings' } });
  expect(spec.volumes).toContainEqual({ name: 'settings', configMap: { name: 'metapixel-settings' } });
  expect(container.volumeMounts).toContainEqual({ name: 'settings', mountPath: '/etc/metapixel', readOnly: true });
  // the only writable places: /tmp (emptyDir) and the data directory
  expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/metapixel' });
  expect(spec.volumes).toContainEqual({ name: 'tmp', emptyDir: {} });
  expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  expect(container.securityContext).toMatchObject({
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  });
});

withHelm(
  'Cloud Storage identity: a credentials Secret is mounted and named by METAPIXEL_GCS_KEY_FILE; workload identity annotates the ServiceAccount',
  () => {
    const { objects, error } = render({
      config: { gcsKeyFile: '/elsewhere.json' },
      gcs: { credentialsSecret: 'metapixel-gcs', credentialsKey: 'sa.json' },
      serviceAccount: { annotations: { 'iam.gke.io/gcp-service-account': 'metapixel@proj.iam.gserviceaccount.com' } },
    });
    expect(error).toBeUndefined();
    const { spec, container } = pod(objects);
    expect(spec.volumes).toContainEqual({
      name: 'gcs-credentials',
      secret: { secretName: 'metapixel-gcs', items: [{ key: 'sa.json', path: 'sa.json' }] },
    });
    expect(container.volumeMounts).toContainEqual({ name: 'gcs-credentials', mountPath: '/var/run/secrets/metapixel-gcs', readOnly: true });
    // The explicit variable wins over the ConfigMap's (env over envFrom).
    expect(container.env).toContainEqual({ name: 'METAPIXEL_GCS_KEY_FILE', value: '/var/run/secrets/metapixel-gcs/sa.json' });
    expect(containerEnv(objects).METAPIXEL_GCS_KEY_FILE).toBe('/var/run/secrets/metapixel-gcs/sa.json');
    const sa = objects.find((o) => o.kind === 'ServiceAccount') as { metadata: { annotations?: Record<string, string> } } | undefined;
    expect(sa?.metadata.annotations).toEqual({ 'iam.gke.io/gcp-service-account': 'metapixel@proj.iam.gserviceaccount.com' });
    // Without them: no volume, no variable, Application Default Credentials.
    const plain = pod(render({}).objects);
    expect(plain.spec.volumes?.map((v) => v.name)).not.toContain('gcs-credentials');
    expect(plain.container.env?.map((e) => e.name)).not.toContain('METAPIXEL_GCS_KEY_FILE');
  },
);

withHelm('values.schema.json refuses a value of the wrong type for every config.* key, and unknown keys', () => {
  const bad = Object.fromEntries(
    CONFIG_KEYS.map((k) => {
      const s = SETTING_SCHEMAS[k] as { type?: string; enum?: unknown[] };
      return [k, s.type === 'string' ? 12 : s.enum ? 'not-a-member' : 'not-a-number'];
    }),
  );
  const { error } = render({ config: { ...bad, notASetting: 1 } });
  expect(error).toBeDefined();
  for (const k of CONFIG_KEYS) expect(error).toContain(`config.${k}:`);
  expect(error).toContain('Additional property notASetting is not allowed');
  expect(render({ config: { dataDir: 'relative/data' } }).error).toContain('config.dataDir');
});

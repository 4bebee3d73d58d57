/**
 * REST routes derived from the protos' google.api.http rules, as gax's transcoding does on
 * the client side. Nothing about a route is written here by hand except the Operations
 * bindings, which Vision declares in its service config rather than in the protos.
 */
import protobuf from 'protobufjs';

export type Verb = 'get' | 'post' | 'patch' | 'put' | 'delete';

export interface Route {
  verb: Verb;
  template: string;
  /** '' (no body), '*' (the whole request) or the request field that is the body. */
  body: string;
  /** `${service}/${method}` */
  method: string;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
  regex: RegExp;
  /** Request field paths (snake_case, dotted) bound to the regex's capture groups. */
  vars: string[];
  /** Per variable, what its percent-decoded value must still match. */
  varPatterns: RegExp[];
}

interface RawRule {
  get?: string;
  post?: string;
  patch?: string;
  put?: string;
  delete?: string;
  body?: string;
  additional_bindings?: RawRule | RawRule[];
}

const OPERATION_NAMES = ['projects/*/locations/*/operations/*', 'projects/*/operations/*', 'locations/*/operations/*', 'operations/*'];

/** Vision's service-config bindings for google.longrunning.Operations. */
const OPERATIONS_RULES: Record<string, RawRule[]> = {
  GetOperation: OPERATION_NAMES.map((n) => ({ get: `/v1/{name=${n}}` })),
  DeleteOperation: OPERATION_NAMES.map((n) => ({ delete: `/v1/{name=${n}}` })),
  CancelOperation: OPERATION_NAMES.map((n) => ({ post: `/v1/{name=${n}}:cancel`, body: '*' })),
  ListOperations: [{ get: '/v1/{name=projects/*/locations/*}/operations' }, { get: '/v1/{name=projects/*}/operations' }],
};

export function buildRoutes(root: protobuf.Root, services: readonly string[]): Route[] {
  const routes: Route[] = [];
  for (const serviceName of services) {
    const service = root.lookupService(serviceName);
    for (const m of service.methodsArray) {
      m.resolve();
      const rules = serviceName === 'google.longrunning.Operations' ? (OPERATIONS_RULES[m.name] ?? []) : rulesOf(m);
      for (const rule of rules) routes.push(compile(rule, `${serviceName}/${m.name}`, m));
    }
  }
  // A custom verb (`…/operations/*}:progress`) is matched before a bare template
  // (`…/operations/*}`), whose last segment would otherwise take "ID:progress" as the ID.
  const hasVerb = (r: Route) => /\}:[A-Za-z]\w*$/.test(r.template);
  return routes.filter(hasVerb).concat(routes.filter((r) => !hasVerb(r)));
}

function rulesOf(m: protobuf.Method): RawRule[] {
  const options = (m.parsedOptions ?? []) as Record<string, unknown>[];
  const opt = options.find((o) => o['(google.api.http)'])?.['(google.api.http)'] as RawRule | undefined;
  if (!opt) return [];
  const extra = opt.additional_bindings;
  return [opt, ...(Array.isArray(extra) ? extra : extra ? [extra] : [])];
}

function compile(rule: RawRule, method: string, m: protobuf.Method): Route {
  const verb = (['get', 'post', 'patch', 'put', 'delete'] as Verb[]).find((v) => rule[v])!;
  const template = rule[verb]!;
  const vars: string[] = [];
  const varPatterns: RegExp[] = [];
  let pattern = '';
  for (const part of template.split(/(\{[^}]+\})/)) {
    const v = /^\{([^=}]+)(?:=([^}]+))?\}$/.exec(part);
    if (!v) {
      pattern += escape(part);
      continue;
    }
    vars.push(v[1]);
    const segments = (v[2] ?? '*').split('/').map((s) => (s === '**' ? '.+' : s === '*' ? '[^/]+' : escape(s)));
    pattern += `(${segments.join('/')})`;
    varPatterns.push(new RegExp(`^${segments.join('/')}$`));
  }
  return {
    verb,
    template,
    body: rule.body ?? '',
    method,
    requestType: m.resolvedRequestType!,
    responseType: m.resolvedResponseType!,
    regex: new RegExp(`^${pattern}$`),
    vars,
    varPatterns,
  };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function matchRoute(routes: Route[], verb: string, path: string): { route: Route; values: string[] } | null {
  for (const route of routes) {
    if (route.verb !== verb) continue;
    const m = route.regex.exec(path);
    if (m) return { route, values: m.slice(1) };
  }
  return null;
}

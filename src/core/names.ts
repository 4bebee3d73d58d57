/**
 * Resource names as typed values. Every name that enters the core is parsed here; a name
 * that does not match its template is INVALID_ARGUMENT before any lookup happens.
 */
import { invalidArgument } from './errors';

/** A tenant scope: every catalog resource lives under exactly one of these. */
export interface LocationName {
  project: string;
  location: string;
}
export interface ProductSetName extends LocationName {
  productSet: string;
}
export interface ProductName extends LocationName {
  product: string;
}
export interface ReferenceImageName extends ProductName {
  referenceImage: string;
}
/** Operations may also live directly under a project (async annotate without a location). */
export interface OperationName {
  project: string;
  location: string | null;
  operation: string;
}

/** One name segment: no '/', no control characters. */
const SEGMENT = '([^/\\u0000-\\u001f\\u007f]+)';

/** A `a/{x}/b/{y}` template that parses into and renders from a record of segments. */
class PathTemplate<K extends string> {
  private readonly keys: K[];
  private readonly re: RegExp;

  constructor(private readonly pattern: string) {
    this.keys = [...pattern.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as K);
    this.re = new RegExp('^' + pattern.replace(/\{\w+\}/g, SEGMENT) + '$');
  }

  match(name: string): Record<K, string> | null {
    const m = this.re.exec(name);
    if (!m) return null;
    const out = {} as Record<K, string>;
    this.keys.forEach((k, i) => (out[k] = m[i + 1]));
    return out;
  }

  render(values: Record<K, string>): string {
    return this.pattern.replace(/\{(\w+)\}/g, (_, k: K) => values[k]);
  }
}

const T = {
  location: new PathTemplate<'project' | 'location'>('projects/{project}/locations/{location}'),
  productSet: new PathTemplate<'project' | 'location' | 'productSet'>('projects/{project}/locations/{location}/productSets/{productSet}'),
  product: new PathTemplate<'project' | 'location' | 'product'>('projects/{project}/locations/{location}/products/{product}'),
  referenceImage: new PathTemplate<'project' | 'location' | 'product' | 'referenceImage'>(
    'projects/{project}/locations/{location}/products/{product}/referenceImages/{referenceImage}',
  ),
  locationOperation: new PathTemplate<'project' | 'location' | 'operation'>(
    'projects/{project}/locations/{location}/operations/{operation}',
  ),
  projectOperation: new PathTemplate<'project' | 'operation'>('projects/{project}/operations/{operation}'),
  project: new PathTemplate<'project'>('projects/{project}'),
};

function parse<K extends string>(t: PathTemplate<K>, field: string, kind: string, value: unknown) {
  if (typeof value !== 'string' || value === '') throw invalidArgument(`Missing required field: ${field}.`);
  const m = t.match(value);
  if (!m) throw invalidArgument(`Invalid ${field} "${truncate(value)}": expected a ${kind} resource name.`);
  return m;
}

export const names = {
  parseLocation: (v: unknown, field = 'parent'): LocationName => parse(T.location, field, 'projects/*/locations/*', v),
  parseProductSet: (v: unknown, field = 'name'): ProductSetName => parse(T.productSet, field, 'projects/*/locations/*/productSets/*', v),
  parseProduct: (v: unknown, field = 'name'): ProductName => parse(T.product, field, 'projects/*/locations/*/products/*', v),
  parseReferenceImage: (v: unknown, field = 'name'): ReferenceImageName =>
    parse(T.referenceImage, field, 'projects/*/locations/*/products/*/referenceImages/*', v),
  parseOperation(v: unknown, field = 'name'): OperationName {
    if (typeof v !== 'string' || v === '') throw invalidArgument(`Missing required field: ${field}.`);
    const withLocation = T.locationOperation.match(v);
    if (withLocation) return withLocation;
    const withProject = T.projectOperation.match(v);
    if (withProject) return { ...withProject, location: null };
    throw invalidArgument(`Invalid ${field} "${truncate(v)}": expected an operation resource name.`);
  },

  /** `projects/P` or `projects/P/locations/L` (annotate parents, operation collections). */
  parseProjectScope(v: unknown, field: string): { project: string; location: string | null } {
    if (typeof v === 'string') {
      const withLocation = T.location.match(v);
      if (withLocation) return withLocation;
      const projectOnly = T.project.match(v);
      if (projectOnly) return { ...projectOnly, location: null };
    }
    throw invalidArgument(
      `Invalid ${field} "${truncate(v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v))}": expected projects/* or projects/*/locations/*.`,
    );
  },

  location: (n: LocationName) => T.location.render(n),
  productSet: (n: ProductSetName) => T.productSet.render(n),
  product: (n: ProductName) => T.product.render(n),
  referenceImage: (n: ReferenceImageName) => T.referenceImage.render(n),
  operation: (n: OperationName) =>
    n.location === null ? T.projectOperation.render(n) : T.locationOperation.render({ ...n, location: n.location }),
};

function truncate(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

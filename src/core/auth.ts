/**
 * Who is calling, and which projects they may touch. Credentials are API keys
 * (`x-goog-api-key` or `?key=`) and bearer tokens, each mapped to a list of projects or
 * to every project ('*'). With none configured the server is open (and says so at start).
 * Both adapters extract Credentials and call `authenticate` once per call; the core asks
 * the Principal before touching a project, so no route can forget the check.
 */
import { permissionDenied, unauthenticated } from './errors';

export interface Credentials {
  apiKey?: string;
  bearerToken?: string;
}

/** credential -> the projects it may use ('*' = all). */
export type Grants = ReadonlyMap<string, ReadonlySet<string> | '*'>;

export interface Principal {
  readonly id: string;
  /** Throws PERMISSION_DENIED unless this caller may use `project`. */
  assertProject(project: string): void;
  /**
   * The project a call without a project in it is billed to, as a Google API key belongs
   * to one project: the first project listed for the credential. None for '*' and open.
   */
  readonly defaultProject?: string;
}

const OPEN: Principal = { id: 'anonymous', assertProject: () => undefined };

export class Authenticator {
  constructor(
    private readonly apiKeys: Grants,
    private readonly bearerTokens: Grants,
  ) {}

  get isOpen(): boolean {
    return this.apiKeys.size === 0 && this.bearerTokens.size === 0;
  }

  authenticate(creds: Credentials): Principal {
    if (this.isOpen) return OPEN;
    const byKey = creds.apiKey !== undefined ? this.apiKeys.get(creds.apiKey) : undefined;
    const byToken = creds.bearerToken !== undefined ? this.bearerTokens.get(creds.bearerToken) : undefined;
    const grant = byKey ?? byToken;
    if (!grant) {
      const presented = creds.apiKey !== undefined || creds.bearerToken !== undefined;
      throw unauthenticated(
        presented
          ? 'The API key or bearer token is not valid.'
          : 'Request is missing required authentication credential: an API key (x-goog-api-key or ?key=) or a bearer token.',
      );
    }
    const id = byKey ? `key:${creds.apiKey!.slice(0, 4)}…` : `token:${creds.bearerToken!.slice(0, 4)}…`;
    return {
      id,
      defaultProject: grant === '*' ? undefined : [...grant][0],
      assertProject(project: string) {
        if (grant !== '*' && !grant.has(project)) {
          throw permissionDenied(`Permission denied on resource project ${project}.`);
        }
      },
    };
  }
}

/**
 * Parses `cred=projA,projB;cred2=*` (the METAPIXEL_API_KEYS / METAPIXEL_BEARER_TOKENS
 * format). Whitespace around items is ignored; an empty string means none.
 */
export function parseGrants(spec: string): Map<string, ReadonlySet<string> | '*'> {
  const out = new Map<string, ReadonlySet<string> | '*'>();
  for (const entry of spec
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`bad credential entry "${entry.slice(0, 8)}…": expected CREDENTIAL=project[,project…] or CREDENTIAL=*`);
    const cred = entry.slice(0, eq).trim();
    const projects = entry
      .slice(eq + 1)
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (projects.length === 0) throw new Error(`credential "${cred.slice(0, 4)}…" names no project`);
    out.set(cred, projects.includes('*') ? '*' : new Set(projects));
  }
  return out;
}

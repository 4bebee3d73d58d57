/**
 * Which projects each Cloud Storage bucket belongs to (METAPIXEL_GCS_BUCKETS =
 * `project=bucket,project=bucket2,…`). When set, every gs:// read and write made for a call
 * or an operation needs the caller to have one of the bucket's projects (a bucket may be
 * listed for several); an unlisted bucket is nobody's. Unset, gs:// is not partitioned
 * (the server logs a warning at start when API keys are configured).
 */
import { permissionDenied } from '../core/errors';
import { currentCall } from '../core/context';

export class BucketPolicy {
  private readonly owners: Map<string, Set<string>> | undefined;

  constructor(spec: string) {
    const entries = spec
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    if (entries.length === 0) return;
    this.owners = new Map();
    for (const entry of entries) {
      const m = /^([^=\s]+)\s*=\s*([^=\s]+)$/.exec(entry);
      if (!m) throw new Error(`bad METAPIXEL_GCS_BUCKETS entry "${entry.slice(0, 80)}": expected project=bucket`);
      const [, project, bucket] = m;
      if (!this.owners.has(bucket)) this.owners.set(bucket, new Set());
      this.owners.get(bucket)!.add(project);
    }
  }

  get partitioned(): boolean {
    return this.owners !== undefined;
  }

  /** Throws PERMISSION_DENIED unless the current call or operation may use `bucket`. */
  check(bucket: string, access: 'read' | 'write'): void {
    if (!this.owners) return;
    const call = currentCall();
    if (!call) return; // the server's own work (the CLI, start-up), not a tenant's
    const projects = this.owners.get(bucket);
    const mayUse = [...(projects ?? [])].some((p) => {
      try {
        call.principal.assertProject(p);
        return true;
      } catch {
        return false;
      }
    });
    if (!mayUse) {
      throw permissionDenied(
        `The caller does not have storage.objects.${access === 'read' ? 'get' : 'create'} access to the Google Cloud Storage bucket ${bucket}.`,
      );
    }
  }
}

/** No partition: every bucket for everyone (the CLI, tests of other things). */
export const OPEN_BUCKETS = new BucketPolicy('');

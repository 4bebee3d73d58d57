/**
 * What an import stores and shows: the operation's request and metadata
 * (BatchOperationMetadata), its per-line result items, and the ImportProductSetsResponse
 * assembled from the result chunks when the operation is read.
 */
import type { ReferenceImageMsg } from '../../core/messages';
import type { StatusRecord } from '../../store/catalog-store';
import type { OperationRecord, OperationStore } from '../../store/operation-store';
import { opName } from '../operations-service';

export const IMPORT_KIND = 'import-product-sets';
export const RESPONSE_TYPE = 'type.googleapis.com/google.cloud.vision.v1.ImportProductSetsResponse';
const PAGE = 100;

/** The operation's request as stored. */
export interface ImportRequest {
  csvUri: string;
}

/** One line's outcome. `change` (the line's product in its set) is used while running, not stored. */
export interface LineResult {
  s: StatusRecord;
  ri?: ReferenceImageMsg;
  change?: { setId: string; productId: string };
}

/**
 * statuses[i] is line i's status; referenceImages lists each imported image once, as its
 * last line left it (lines adding regions to one image grow its polygons).
 */
export async function assembleImportResponse(store: OperationStore, rec: OperationRecord): Promise<unknown> {
  const statuses: StatusRecord[] = [];
  const images = new Map<string, ReferenceImageMsg>();
  for (let after = -1; ;) {
    const chunks = await store.listOperationResults(opName(rec), after, PAGE);
    for (const c of chunks) {
      for (const item of c.items as LineResult[]) {
        statuses.push(item.s);
        if (item.ri?.name) images.set(item.ri.name, item.ri); // first-seen order, last version
      }
    }
    if (chunks.length < PAGE) break;
    after = chunks[chunks.length - 1].chunk;
  }
  return { '@type': RESPONSE_TYPE, referenceImages: [...images.values()], statuses };
}

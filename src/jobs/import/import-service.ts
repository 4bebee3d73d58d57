/**
 * The ImportProductSets RPC: checks the request and the caller's project, then queues the
 * import as a persisted operation (run by ImportJob) and answers the Operation.
 */
import type { CallContext } from '../../core/context';
import { invalidArgument } from '../../core/errors';
import { names } from '../../core/names';
import { parseGsUri } from '../../images/gcs-fetch';
import type { OperationsService } from '../operations-service';
import { batchMetadata, toOperationMsg } from '../operation-view';
import { IMPORT_KIND, type ImportRequest } from './import-format';

export interface ImportProductSetsRequestMsg {
  parent?: string;
  inputConfig?: { gcsSource?: { csvFileUri?: string } | null; source?: string } | null;
}

export class ImportService {
  constructor(
    private readonly operations: OperationsService,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async importProductSets(req: ImportProductSetsRequestMsg, ctx: CallContext) {
    const scope = names.parseLocation(req.parent);
    ctx.principal.assertProject(scope.project);
    const uri = req.inputConfig?.gcsSource?.csvFileUri;
    if (!uri) throw invalidArgument('Missing required field: input_config.gcs_source.csv_file_uri.');
    parseGsUri(uri, 'input_config.gcs_source.csv_file_uri');
    const request: ImportRequest = { csvUri: uri };
    const rec = await this.operations.enqueue({
      ...scope,
      kind: IMPORT_KIND,
      request,
      metadata: batchMetadata(this.clock(), 'PROCESSING'),
    });
    return toOperationMsg(rec);
  }
}

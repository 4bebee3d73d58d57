/**
 * The image half of the composition root: vision models, fetcher, decoder and hasher,
 * built from the config. The server (server.ts) and the local CLI (`metapixel encode`)
 * both build them here, so codes made without a server are those a server would make.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { HttpImageFetcher } from '../images/http-fetch';
import { GcsImageFetcher } from '../images/gcs-fetch';
import { cloudStorage, type CloudStorage } from '../images/cloud-storage';
import { ImageFetcher } from '../images/image-fetcher';
import { ImageDecoder } from '../images/image-decoder';
import { BucketPolicy } from '../images/bucket-policy';
import { loadVisionModels, type VisionModels } from '../vision/vision-models';
import { ItqHasher } from '../search/hasher';
import { hashingFileListed, readItqParams } from '../search/hasher/itq-params';
import { OnnxProjection, projectionFile } from '../search/onnx-projection';
import { CompactEmbeddingCodec } from '../search/compact-embedding';
import { EncodeService } from '../encode/encode-service';

export interface ImagePipeline {
  modelsDir: string;
  vision: VisionModels;
  fetcher: ImageFetcher;
  /** METAPIXEL_GCS_BUCKETS: which projects' callers may use which buckets. */
  buckets: BucketPolicy;
  /** Cloud Storage for gs:// reads and writes (unused when METAPIXEL_GCS_DIR is set). */
  storage: CloudStorage;
  decoder: ImageDecoder;
  hasher: ItqHasher;
  /** The index's compact re-rank data: projections onto the leading PCA directions
   *  (METAPIXEL_RERANK_DIMS of 256), at METAPIXEL_RERANK_BITS a coordinate. */
  rerankCodec: CompactEmbeddingCodec;
  /** What ingestion stores: int8 over all 256 directions whatever the index keeps, so the
   *  re-rank settings change without re-projecting the stored embeddings. */
  storedCodec: CompactEmbeddingCodec;
  /** Closes the inference workers. */
  close(): Promise<void>;
}

export async function buildImagePipeline(
  config: Readonly<Config>,
  onRun?: (model: string, seconds: number) => void,
): Promise<ImagePipeline> {
  const modelsDir = config.modelsDir || path.resolve(__dirname, '..', '..', 'models');
  const hashingDir = path.join(modelsDir, 'hashing');
  // The hasher first: a bad code length fails before the models' worker threads start.
  const hashParams = await readItqParams(hashingDir, config.codeBits);
  const hasher = new ItqHasher(hashParams);
  // itq-256's rows are an orthonormal basis of the 256 leading PCA directions (rotated or not).
  const basis = await readItqParams(hashingDir, 256);
  // Queries are projected in onnxruntime (one run for all of a query's regions); a models
  // directory without the graph (one copied before it shipped) projects them in WebAssembly.
  const batch = (await hashingFileListed(hashingDir, projectionFile(basis.bits)))
    ? await OnnxProjection.load(hashingDir, basis)
    : undefined;
  const rerankCodec = new CompactEmbeddingCodec(basis, [hashParams], { dims: config.rerankDims, columnBits: config.rerankBits, batch });
  const storedCodec = rerankCodec.dims === basis.bits ? rerankCodec : new CompactEmbeddingCodec(basis, [hashParams]);
  const vision = await loadVisionModels(modelsDir, {
    onRun,
    intraOpNumThreads: config.onnxThreads,
    maxQueue: config.inferenceQueue,
    concurrency: config.inferenceConcurrency,
    workers: config.inferenceWorkers,
    detector: { defaultMinScore: config.minObjectScore, defaultMaxResults: config.defaultMaxResults, mirror: config.detectMirror },
  }).catch(async (err: unknown) => {
    await batch?.close();
    throw err;
  });
  const buckets = new BucketPolicy(config.gcsBuckets);
  const storage = cloudStorage(config, config.fetchTimeoutMs);
  const fetcher = new ImageFetcher(
    new HttpImageFetcher({
      timeoutMs: config.fetchTimeoutMs,
      maxBytes: config.maxImageBytes,
      maxRedirects: config.fetchMaxRedirects,
      allowList: config.urlAllowList
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    }),
    new GcsImageFetcher({ storage, localDir: config.gcsDir, timeoutMs: config.fetchTimeoutMs, maxBytes: config.maxImageBytes, buckets }),
    config.maxImageBytes,
  );
  const decoder = new ImageDecoder({ maxPixels: config.maxImagePixels, maxSide: config.maxDecodedImageSide, minSide: config.minImageSide });
  const close = async () => {
    try {
      await vision.close();
    } finally {
      await batch?.close();
    }
  };
  return { modelsDir, vision, fetcher, buckets, storage, decoder, hasher, rerankCodec, storedCodec, close };
}

/** images:encode over a pipeline; the server and `metapixel encode` both build it here. */
export function buildEncodeService(p: ImagePipeline, config: Readonly<Config>, log: Logger): EncodeService {
  return new EncodeService(
    p.fetcher,
    p.decoder,
    p.vision.objectDetector,
    p.vision.embedder,
    p.hasher,
    {
      maxImagesPerRequest: config.maxImagesPerRequest,
      defaultMaxResults: config.defaultMaxResults,
    },
    log,
  );
}

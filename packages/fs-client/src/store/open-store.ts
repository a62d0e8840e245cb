import { S3Client } from "@aws-sdk/client-s3";
import type { CollectableStore } from "./blob-store";
import { LocalDirStore } from "./local-dir-store";
import { S3BlobStore } from "./s3-blob-store";

export interface StoreSettings {
  /** The embedded default: blobs as files under this directory. */
  localDir: string;
  /** Set to use an S3-compatible bucket instead. */
  s3?: { bucket: string; prefix?: string; endpoint?: string; region?: string };
}

/**
 * The content store a deployment configured. S3 credentials come from the SDK's usual sources
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role); a custom endpoint
 * (MinIO, Ceph, R2) uses path-style addressing, which all of them accept.
 */
export function openBlobStore(settings: StoreSettings): CollectableStore {
  if (!settings.s3) return new LocalDirStore(settings.localDir);
  const { bucket, prefix, endpoint, region } = settings.s3;
  const client = new S3Client({ region: region ?? "us-east-1", ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
  return new S3BlobStore({ client, bucket, prefix });
}

/** Reads CELLAR_S3_BUCKET (and CELLAR_S3_PREFIX, CELLAR_S3_ENDPOINT, CELLAR_S3_REGION) from `env`. */
export function storeSettingsFromEnv(env: NodeJS.ProcessEnv, localDir: string): StoreSettings {
  const bucket = env.CELLAR_S3_BUCKET;
  if (!bucket) return { localDir };
  return { localDir, s3: { bucket, prefix: env.CELLAR_S3_PREFIX, endpoint: env.CELLAR_S3_ENDPOINT, region: env.CELLAR_S3_REGION } };
}

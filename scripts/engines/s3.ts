// An S3-compatible server on a free localhost port: s3rver (npm, already used by
// packages/fs-client's tests), run from its own CLI in a child process so it keeps serving while
// the launcher is busy, with one bucket created at start. Objects live as files under `dir`, so a
// cluster restarted in the same directory finds its content store again. A stand-in for a real
// object store: path-style addressing, fixed credentials (S3RVER / S3RVER).
import { createRequire } from "node:module";
import path from "node:path";
import { spawnEngine } from "./engine-process";
import { startWithFreePort } from "./free-port";
import { waitUntil } from "./wait-until";

export interface S3Engine {
  port: number;
  /** http://127.0.0.1:PORT, what CELLAR_S3_ENDPOINT takes. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The settings the gateway's storeSettingsFromEnv reads, plus the SDK's credentials. */
  env(prefix?: string): Record<string, string>;
  stop(): Promise<void>;
}

export interface S3Options {
  dir: string;
  /** Created at start if missing; default "cellar". */
  bucket?: string;
  timeoutMs?: number;
}

const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export function startS3(opts: S3Options): Promise<S3Engine> {
  const bucket = opts.bucket ?? "cellar";
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve("s3rver/package.json")), "bin/s3rver.js");
  return startWithFreePort(async (port) => {
    const proc = spawnEngine(
      process.execPath,
      [
        cli,
        "--directory",
        path.join(opts.dir, "data"),
        "--address",
        "127.0.0.1",
        "--port",
        String(port),
        "--silent",
        "--configure-bucket",
        bucket,
      ],
      { dir: opts.dir, name: "s3rver" },
    );
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      // s3rver creates its buckets before it listens: any answer means the bucket is there.
      await waitUntil(
        `starting s3rver on port ${port}`,
        async () => (await fetch(`${endpoint}/${bucket}`, { method: "HEAD" })).status < 500,
        {
          timeoutMs: opts.timeoutMs,
          gone: proc.exited,
        },
      );
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return {
      port,
      endpoint,
      bucket,
      ...CREDENTIALS,
      env: (prefix = "cas/") => ({
        CELLAR_S3_BUCKET: bucket,
        CELLAR_S3_PREFIX: prefix,
        CELLAR_S3_ENDPOINT: endpoint,
        CELLAR_S3_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      }),
      stop: () => proc.stop(),
    };
  });
}

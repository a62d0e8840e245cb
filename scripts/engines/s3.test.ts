import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import { startS3 } from "./s3";

function client(s3: { endpoint: string; accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}

describe("startS3", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-engine-s3-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("serves its bucket through the AWS SDK, keeps objects across a restart in the same directory, and stops", async () => {
    const s3 = await startS3({ dir, bucket: "cellar" });
    expect(s3.env()).toMatchObject({ CELLAR_S3_BUCKET: "cellar", CELLAR_S3_ENDPOINT: s3.endpoint, CELLAR_S3_PREFIX: "cas/" });
    await client(s3).send(new PutObjectCommand({ Bucket: "cellar", Key: "cas/a", Body: "bytes" }));
    await s3.stop();
    await expect(fetch(s3.endpoint)).rejects.toThrow();

    const again = await startS3({ dir, bucket: "cellar" });
    try {
      const got = await client(again).send(new GetObjectCommand({ Bucket: "cellar", Key: "cas/a" }));
      expect(await got.Body?.transformToString()).toBe("bytes");
    } finally {
      await again.stop();
    }
  });
});

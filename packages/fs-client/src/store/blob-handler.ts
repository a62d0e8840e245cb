import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { BlobIntegrityError, DEFAULT_MAX_BLOB_BYTES, verifyBlob } from "../fetch/verify";
import type { BlobStore } from "./blob-store";

export const BLOB_ROUTE_PREFIX = "/cas/blobs/";
export const REF_ROUTE_PREFIX = "/cas/refs/";

export interface BlobHandlerOptions {
  /** Decides whether a request may read blobs; false answers 401. Runs before any lookup. */
  authorize?: (req: IncomingMessage) => boolean | Promise<boolean>;
  /**
   * Decides whether a request may add blobs or set refs (PUT); without it the store is
   * read-only over HTTP and PUT answers 405.
   */
  authorizeWrite?: (req: IncomingMessage) => boolean | Promise<boolean>;
  /** Largest uncompressed blob a PUT may carry. Default 256 MiB. */
  maxPutBytes?: number;
  /** Called with unexpected store errors (answered 500). */
  onError?: (err: unknown, req: IncomingMessage) => void;
}

/**
 * Node http handler for `GET|HEAD /cas/blobs/<hash>`: the compressed blob, with single-range
 * support so a worker can resume a large blob. ETag is the hash: the content can never change.
 * The blob is served as opaque bytes (no Content-Encoding), so no HTTP client decompresses it
 * before the fetcher checks it.
 *
 * Returns true when it handled the request, false when the path is not under the prefix, so a
 * gateway can fall through to its other routes.
 */
export function createBlobHandler(store: BlobStore, options: BlobHandlerOptions = {}) {
  return async function handleBlobRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const isBlob = url.pathname.startsWith(BLOB_ROUTE_PREFIX);
    if (!isBlob && !url.pathname.startsWith(REF_ROUTE_PREFIX)) return false;
    try {
      if (req.method === "PUT") {
        if (!options.authorizeWrite) {
          res.setHeader("Allow", "GET, HEAD");
          return (sendError(res, 405, "this store is read-only"), true);
        }
        if (!(await options.authorizeWrite(req))) {
          res.setHeader("WWW-Authenticate", "Bearer");
          return (sendError(res, 401, "unauthorized"), true);
        }
        if (isBlob) await putBlob(store, options, url.pathname.slice(BLOB_ROUTE_PREFIX.length), req, res);
        else await putRef(store, url.pathname.slice(REF_ROUTE_PREFIX.length), req, res);
      } else if (isBlob) {
        await serve(store, options, url.pathname.slice(BLOB_ROUTE_PREFIX.length), req, res);
      } else {
        await serveRef(store, options, url.pathname.slice(REF_ROUTE_PREFIX.length), req, res);
      }
    } catch (err) {
      options.onError?.(err, req);
      if (!res.headersSent) sendError(res, 500, "internal error");
      else res.destroy();
    }
    return true;
  };
}

async function serve(
  store: BlobStore,
  options: BlobHandlerOptions,
  hash: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return sendError(res, 405, "method not allowed");
  }
  if (options.authorize && !(await options.authorize(req))) {
    res.setHeader("WWW-Authenticate", "Bearer");
    return sendError(res, 401, "unauthorized");
  }
  if (!/^[0-9a-f]{64}$/.test(hash)) return sendError(res, 400, "not a sha256 hex hash");
  // A HEAD is how a remote writer asks before skipping an upload (BlobFetcher.hasBlob), so it is
  // a reuse like has(): the blob's age is refreshed and the collector leaves it for a grace.
  // GET is a read and leaves the age alone.
  if (req.method === "HEAD" && !(await store.has(hash))) return sendError(res, 404, "no such blob");
  const size = await store.size(hash);
  if (size === null) return sendError(res, 404, "no such blob");

  const etag = `"${hash}"`;
  res.setHeader("ETag", etag);
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
  res.setHeader("Content-Type", "application/octet-stream");
  if (req.headers["if-none-match"]?.split(",").some((t) => t.trim() === etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }

  let range: { start: number; end: number } | undefined;
  const header = req.headers.range;
  const ifRange = req.headers["if-range"];
  if (header && (ifRange === undefined || ifRange === etag)) {
    const parsed = parseRange(header, size);
    if (parsed === "unsatisfiable") {
      res.setHeader("Content-Range", `bytes */${size}`);
      return sendError(res, 416, "range not satisfiable");
    }
    range = parsed ?? undefined;
  }

  if (range) {
    res.statusCode = 206;
    res.setHeader("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
    res.setHeader("Content-Length", range.end - range.start + 1);
  } else {
    res.statusCode = 200;
    res.setHeader("Content-Length", size);
  }
  if (req.method === "HEAD" || size === 0) {
    res.end();
    return;
  }
  await pipeline(await store.createReadStream(hash, range), res);
}

/** A blob is stored only once it decompresses to bytes that hash to its name. */
async function putBlob(
  store: BlobStore,
  options: BlobHandlerOptions,
  hash: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(hash)) return sendError(res, 400, "not a sha256 hex hash");
  const maxBytes = options.maxPutBytes ?? DEFAULT_MAX_BLOB_BYTES;
  const body = await readLimited(req, maxBytes + 1024 * 1024);
  if (body === null) return sendError(res, 413, `blob exceeds ${maxBytes} bytes`);
  try {
    await verifyBlob(hash, body, maxBytes);
  } catch (err) {
    if (err instanceof BlobIntegrityError) return sendError(res, 422, err.message);
    throw err;
  }
  const existed = await store.has(hash); // a reuse when it is there: see BlobStore.has
  if (!existed) await store.put(hash, body);
  res.statusCode = existed ? 200 : 201;
  res.end();
}

async function serveRef(
  store: BlobStore,
  options: BlobHandlerOptions,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "GET") {
    res.setHeader("Allow", "GET, PUT");
    return sendError(res, 405, "method not allowed");
  }
  if (options.authorize && !(await options.authorize(req))) {
    res.setHeader("WWW-Authenticate", "Bearer");
    return sendError(res, 401, "unauthorized");
  }
  if (!isRefName(name)) return sendError(res, 400, "not a ref name (<kind>/<sha256 hex>)");
  const target = await store.getRef(name);
  if (target === null) return sendError(res, 404, "no such ref");
  res.statusCode = 200;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.end(target + "\n");
}

/** A ref may only point at a blob the store holds, so a reader never follows it into a 404. */
async function putRef(store: BlobStore, name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!isRefName(name)) return sendError(res, 400, "not a ref name (<kind>/<sha256 hex>)");
  const body = await readLimited(req, 1024);
  const target = body?.toString("utf8").trim() ?? "";
  if (!/^[0-9a-f]{64}$/.test(target)) return sendError(res, 400, "the body must be a sha256 hex hash");
  if (!(await store.has(target))) return sendError(res, 409, `no blob ${target} to point at`);
  await store.putRef(name, target);
  res.statusCode = 204;
  res.end();
}

const isRefName = (name: string) => /^[a-z][a-z0-9-]*\/[0-9a-f]{64}$/.test(name);

/** The request body, or null once it passes `limit` bytes. */
async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size > limit) {
      req.resume();
      return null;
    }
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts, size);
}

/**
 * One `bytes=` range (RFC 9110). Multiple ranges or a malformed header give null, which means
 * "send the whole blob", as the RFC allows.
 */
export function parseRange(header: string, size: number): { start: number; end: number } | null | "unsatisfiable" {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return "unsatisfiable";
  if (end < start) return null;
  return { start, end };
}

function sendError(res: ServerResponse, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.removeHeader("ETag");
  res.end(message + "\n");
}

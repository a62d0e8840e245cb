// The one HTTP entry point: login by token, then the API, then the static web app. Everything
// except the health check needs the token or its cookie.
import http from "node:http";
import sirv from "sirv";
import { createBlobHandler, type BlobStore } from "@cellar/fs-client";
import type { Notebook } from "@cellar/protocol";
import { secretMatches } from "../secrets";
import { isAuthorized, sessionCookie } from "./auth";
import { handleNotebooksApi, HttpError, sendJson, type NotebookApiStore } from "./notebooks-api";
import { handleNotebookFilesApi, type NotebookFileStore } from "./notebook-files-api";
import { handleWorkspaceFilesApi, type WorkspaceFilesDeps } from "./workspace-files-api";
import { handleKernelApi, type KernelApiDeps } from "./kernel-api";

export interface HttpDeps {
  token: string;
  webDir: string;
  store: NotebookApiStore & NotebookFileStore;
  userId: string;
  workers(): unknown;
  /** Every worker drops its image cache (operators: to reclaim disk, or to measure a cold attach). */
  dropWorkerCaches?(): Promise<unknown>;
  onNotebookSaved(notebookId: string, notebook?: Notebook): void;
  /** The images notebooks can choose (GET /api/images). */
  images?(): Array<{ name: string; description: string }>;
  /** Optional so test setups need not care; the gateway stops the notebook's kernel. */
  onNotebookDeleted?(notebookId: string): void;
  /** Image blobs for workers, authenticated with the worker secret (not the browser token). */
  blobs: { store: BlobStore; workerSecret: string };
  /** Notebooks' workspace files, relayed to the worker that holds them. */
  workspaceFiles?: WorkspaceFilesDeps;
  /** Kernel actions (suspend now). */
  kernels?: KernelApiDeps;
}

export function createHttpServer(deps: HttpDeps): http.Server {
  const serveWeb = sirv(deps.webDir, { dev: false, etag: true, extensions: ["html"] });
  const isWorker = (req: http.IncomingMessage) => secretMatches(req.headers.authorization?.replace(/^Bearer /, ""), deps.blobs.workerSecret);
  // Workers also write: the boot profiles they record and, later, kernel snapshots.
  const serveBlobs = createBlobHandler(deps.blobs.store, { authorize: isWorker, authorizeWrite: isWorker });

  return http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/api/health") return void sendJson(res, 200, { ok: true });
      // socket.io authenticates its own handshakes (see sockets/); never answer them here.
      if (url.pathname.startsWith("/socket.io/")) return;
      if (await serveBlobs(req, res)) return;

      if (!isAuthorized(req, deps.token)) {
        if (url.pathname.startsWith("/api/")) return void sendJson(res, 401, { error: "Missing or invalid token" });
        res.writeHead(401, { "content-type": "text/html; charset=utf-8" });
        return void res.end("<!doctype html><title>Cellar</title><p>Open Cellar with the URL (including <code>?token=…</code>) printed by <code>npm start</code>.</p>");
      }
      // The token in a URL becomes a cookie, and is then dropped from the address bar.
      if (url.searchParams.has("token")) {
        url.searchParams.delete("token");
        res.writeHead(302, { "set-cookie": sessionCookie(deps.token), location: url.pathname + url.search });
        return void res.end();
      }
      if (url.pathname === "/api/workers") return void sendJson(res, 200, deps.workers());
      if (url.pathname === "/api/workers/drop-cache") {
        if (req.method !== "POST") return void sendJson(res, 405, { error: "Use POST" });
        if (!deps.dropWorkerCaches) return void sendJson(res, 404, { error: "Not found" });
        return void sendJson(res, 200, await deps.dropWorkerCaches());
      }
      if (deps.workspaceFiles && (await handleWorkspaceFilesApi(req, res, deps.workspaceFiles))) return;
      if (await handleNotebookFilesApi(req, res, deps.store, deps.userId)) return;
      if (deps.kernels && (await handleKernelApi(req, res, deps.kernels))) return;
      if (url.pathname === "/api/images") return void sendJson(res, 200, deps.images?.() ?? []);
      const imageExists = (name: string) => !deps.images || deps.images().some((i) => i.name === name);
      if (await handleNotebooksApi(req, res, deps.store, deps.userId, deps.onNotebookSaved, deps.onNotebookDeleted, imageExists)) return;
      if (url.pathname.startsWith("/api/")) return void sendJson(res, 404, { error: "Not found" });
      serveWeb(req, res, () => {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("Not found");
      });
    } catch (err) {
      if (err instanceof HttpError) return void sendJson(res, err.status, { error: err.message });
      console.error("gateway: request failed:", err);
      if (!res.headersSent) sendJson(res, 500, { error: "Internal error" });
      else res.end();
    }
  });
}

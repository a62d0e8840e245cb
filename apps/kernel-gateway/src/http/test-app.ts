// Tests' gateway HTTP app: a fresh SQLite database, web folder and content store in a temporary
// directory, listening on a free port.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "@cellar/db";
import { LocalDirStore } from "@cellar/fs-client";
import { Identity } from "../auth/identity";
import { createHttpApp, type HttpDeps } from "./http-app";

export const TEST_TOKEN = "t0ken";
export const TEST_WORKER_SECRET = "worker-secret";

export interface TestApp {
  base: string;
  db: Database;
  close(): Promise<void>;
}

/** `webFiles`: the web app's files by name; `deps`: what the test adds or replaces. */
export async function startTestApp(
  opts: { webFiles?: Record<string, string>; deps?: (db: Database) => Partial<HttpDeps> } = {},
): Promise<TestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-gw-"));
  fs.mkdirSync(path.join(dir, "web"));
  for (const [name, text] of Object.entries(opts.webFiles ?? {})) fs.writeFileSync(path.join(dir, "web", name), text);
  const db = await openDatabase(`file:${path.join(dir, "db.sqlite")}`, { log: () => {} });
  const app = createHttpApp({
    identity: new Identity({ accounts: db.accounts, accessTokens: db.accessTokens, token: TEST_TOKEN, ownerId: db.localUserId }),
    accounts: db.accounts,
    accessTokens: db.accessTokens,
    shares: db.shares,
    schedules: db.schedules,
    identities: db.identities,
    webDir: path.join(dir, "web"),
    store: db.notebooks,
    workers: () => [],
    onNotebookSaved: () => {},
    blobs: { store: new LocalDirStore(path.join(dir, "cas")), workerSecret: TEST_WORKER_SECRET },
    ...opts.deps?.(db),
  });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    base,
    db,
    close: async () => {
      // A test's keep-alive connections (fetch's pool, http.get's global agent) are not ours to
      // wait for: Fastify's close waited on them for up to its 72 s keep-alive timeout.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
      await db.close();
    },
  };
}

// The notebook's workspace files through the gateway (which relays to the worker holding them).
import type { WorkspaceEntry } from "@cellar/protocol";
import { send } from "../../shared/api";

const base = (notebookId: string) => `/api/notebooks/${encodeURIComponent(notebookId)}/files`;
const q = (path: string) => `?path=${encodeURIComponent(path)}`;

const call = (method: string, url: string, body?: BodyInit) => send(method, url, { body });

export const workspaceFiles = {
  list: async (notebookId: string, path: string) =>
    (await (await call("GET", base(notebookId) + q(path))).json()) as { path: string; entries: WorkspaceEntry[] },
  read: async (notebookId: string, path: string) => new Uint8Array(await (await call("GET", base(notebookId) + "/content" + q(path))).arrayBuffer()),
  /** Saves or uploads; `createOnly` fails with 409 instead of replacing an existing file. */
  write: async (notebookId: string, path: string, content: BodyInit, opts: { createOnly?: boolean } = {}) =>
    (await (await call("PUT", base(notebookId) + "/content" + q(path) + (opts.createOnly ? "&createOnly=1" : ""), content)).json()) as WorkspaceEntry,
  mkdir: async (notebookId: string, path: string) => (await (await call("POST", base(notebookId) + "/dirs" + q(path))).json()) as WorkspaceEntry,
  remove: async (notebookId: string, path: string) => void (await call("DELETE", base(notebookId) + q(path))),
  rename: async (notebookId: string, from: string, to: string) =>
    (await (await call("POST", base(notebookId) + "/rename", JSON.stringify({ from, to }))).json()) as WorkspaceEntry,
  downloadUrl: (notebookId: string, path: string) => base(notebookId) + "/content" + q(path),
};

/** The file's text if it is UTF-8 without NUL bytes (what an editor can show), else null. */
export function textOf(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

export const joinPath = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
export const parentOf = (path: string) => path.split("/").slice(0, -1).join("/");

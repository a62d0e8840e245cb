// The gateway's HTTP API, typed, for the web app (same origin, the session cookie
// authenticates), the CLI and tests (a base URL and the token). The reply shapes below are the
// routes' as they are today; this file is the one to point at the gateway's route schemas.
import type { Notebook, NotebookSummary, NotebookUpdate, WorkerResources, WorkspaceEntry } from "@cellar/protocol";

export interface ImageInfo { name: string; description: string }
export interface WorkerInfo { id: string; resources: WorkerResources; sessions: number }
export interface DroppedCache { id: string; ok: boolean; droppedBytes?: number; error?: string }
/** An imported or duplicated notebook, with the path of its page. */
export type StoredNotebook = Notebook & { url: string };
export interface FolderListing { path: string; entries: WorkspaceEntry[] }

export class GatewayError extends Error {
  override name = "GatewayError";
  /** 0 when the gateway could not be reached. */
  constructor(readonly status: number, message: string, readonly problems: string[] = []) {
    super(message);
  }
}

export const isNotFound = (e: unknown) => e instanceof GatewayError && e.status === 404;
export const isUnauthorized = (e: unknown) => e instanceof GatewayError && e.status === 401;

export interface GatewayClientOptions {
  /** The gateway's origin (and path prefix); "" (default) for relative URLs in a page it serves. */
  baseUrl?: string;
  /** Sent as a bearer token; without it a page's session cookie authenticates. */
  token?: string;
  /** Called on every 401, before the GatewayError is thrown (a page asks for the token). */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
}

type Body = string | Uint8Array | Blob | ArrayBuffer;

const enc = encodeURIComponent;
const notebookPath = (id: string) => `/api/notebooks/${enc(id)}`;
const filesPath = (notebookId: string, sub = "") => `${notebookPath(notebookId)}/files${sub}`;
const pathQuery = (path: string) => `?path=${enc(path)}`;

export class GatewayClient {
  private readonly baseUrl: string;

  constructor(private readonly options: GatewayClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? "";
  }

  /** The absolute URL of a gateway path (a notebook's page, an export to download). */
  url(path: string): string {
    return this.baseUrl + path;
  }

  readonly notebooks = {
    list: () => this.json<NotebookSummary[]>("GET", "/api/notebooks"),
    create: (title?: string) => this.json<Notebook>("POST", "/api/notebooks", title === undefined ? {} : { title }),
    get: (id: string) => this.json<Notebook>("GET", notebookPath(id)),
    update: (id: string, update: NotebookUpdate, init?: RequestInit) => this.json<Notebook>("PUT", notebookPath(id), update, init),
    rename: (id: string, title: string) => this.json<Notebook>("PUT", notebookPath(id), { title }),
    remove: (id: string) => this.none("DELETE", notebookPath(id)),
    duplicate: (id: string) => this.json<StoredNotebook>("POST", `${notebookPath(id)}/duplicate`),
    /** Uploads .ipynb text; the gateway validates it (a 400 lists every problem) and stores it.
     * `title` may be the file name: ".ipynb" is dropped. */
    import: (ipynb: string, title: string) => this.json<StoredNotebook>("POST", `/api/notebooks/import?title=${enc(title)}`, ipynb),
    /** The notebook as .ipynb text. */
    export: async (id: string) => (await this.send("GET", this.exportPath(id))).text(),
    exportPath: (id: string) => this.exportPath(id),
  };

  readonly kernels = {
    /** Checkpoints the notebook's idle kernel now; the next cell resumes it. */
    suspend: (notebookId: string) => this.json<{ ok: true }>("POST", `${notebookPath(notebookId)}/kernel/suspend`),
  };

  readonly images = {
    list: () => this.json<ImageInfo[]>("GET", "/api/images"),
  };

  readonly workers = {
    list: () => this.json<WorkerInfo[]>("GET", "/api/workers"),
    /** Every worker drops its image chunk cache. */
    dropCaches: () => this.json<DroppedCache[]>("POST", "/api/workers/drop-cache"),
  };

  /** A notebook's workspace files (relayed by the gateway to the worker holding them). */
  readonly files = {
    list: (notebookId: string, path: string) => this.json<FolderListing>("GET", filesPath(notebookId) + pathQuery(path)),
    read: async (notebookId: string, path: string) =>
      new Uint8Array(await (await this.send("GET", filesPath(notebookId, "/content") + pathQuery(path))).arrayBuffer()),
    /** Saves or uploads; `createOnly` fails with 409 instead of replacing an existing file. */
    write: (notebookId: string, path: string, content: Body, opts: { createOnly?: boolean } = {}) =>
      this.json<WorkspaceEntry>("PUT", filesPath(notebookId, "/content") + pathQuery(path) + (opts.createOnly ? "&createOnly=1" : ""), content, undefined, false),
    mkdir: (notebookId: string, path: string) => this.json<WorkspaceEntry>("POST", filesPath(notebookId, "/dirs") + pathQuery(path)),
    remove: (notebookId: string, path: string) => this.none("DELETE", filesPath(notebookId) + pathQuery(path)),
    rename: (notebookId: string, from: string, to: string) => this.json<WorkspaceEntry>("POST", filesPath(notebookId, "/rename"), { from, to }),
    /** Where the browser downloads the file (always as an attachment). */
    downloadPath: (notebookId: string, path: string) => filesPath(notebookId, "/content") + pathQuery(path),
  };

  health = () => this.json<{ ok: true }>("GET", "/api/health");

  /** A request to the gateway: the response when it is OK, else a GatewayError with the
   * gateway's message and problems. */
  async send(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.options.token) headers.set("authorization", `Bearer ${this.options.token}`);
    let res: Response;
    try {
      res = await (this.options.fetch ?? fetch)(this.url(path), { method, credentials: "same-origin", ...init, headers });
    } catch (error) {
      const where = this.baseUrl ? ` at ${this.baseUrl} (${(error as Error).cause ?? (error as Error).message})` : "";
      throw new GatewayError(0, `Cannot reach the Cellar gateway${where}.`);
    }
    if (res.status === 401) this.options.onUnauthorized?.();
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let message = text || `The gateway answered ${res.status} ${res.statusText}`;
    let problems: string[] = [];
    try {
      const parsed = JSON.parse(text) as { error?: string; problems?: string[] };
      message = parsed.error ?? message;
      problems = parsed.problems ?? [];
    } catch {
      /* not JSON: keep the text */
    }
    throw new GatewayError(res.status, message, problems);
  }

  private exportPath(id: string) {
    return `${notebookPath(id)}/export`;
  }

  /** A JSON body (an object) or a raw one (.ipynb text, file bytes) in; the JSON reply out. */
  private async json<T>(method: string, path: string, body?: unknown, init: RequestInit = {}, asJson = body !== undefined && typeof body !== "string"): Promise<T> {
    const headers = new Headers(init.headers);
    if (asJson) headers.set("content-type", "application/json");
    const res = await this.send(method, path, {
      ...init,
      headers,
      body: body === undefined ? undefined : asJson ? JSON.stringify(body) : (body as BodyInit),
    });
    return (await res.json()) as T;
  }

  private async none(method: string, path: string): Promise<void> {
    await this.send(method, path);
  }
}

// The gateway's HTTP API, typed, for the web app (same origin, the session cookie
// authenticates), the CLI and tests (a base URL and the token). Every call is built from
// @cellar/protocol's route table (method, URL template, what it takes and answers; see
// api-types.ts), so a route's shape is stated once, in the gateway's schemas.
import {
  apiRoutes,
  errorReplySchema,
  SHARE_LINK_HEADER,
  type ApiRouteName,
  type ApiRouteSchema,
  type FieldError,
  type JsonValue,
  type NotebookUpdate,
  type RunStatus,
  type ScheduleInput,
  type ScheduleUpdate,
  type SharedRole,
} from "@cellar/protocol";
import type { ApiReply, ApiRequest, RawBody } from "./api-types";

export type ImageInfo = ApiReply<"listImages">[number];
export type ImageBuildLog = ApiReply<"imageBuildLog">;
export type WorkerInfo = ApiReply<"listWorkers">[number];
export type DroppedCache = ApiReply<"dropWorkerCaches">[number];
const runQuery = ({ status, limit }: { status?: RunStatus[]; limit?: number }) => ({
  ...(status?.length && { status: status.join(",") }),
  ...(limit !== undefined && { limit }),
});

/** An imported or duplicated notebook, with the path of its page. */
export type StoredNotebook = ApiReply<"importNotebook">;
export type FolderListing = ApiReply<"listFiles">;

export class GatewayError extends Error {
  override name = "GatewayError";
  /** 0 when the gateway could not be reached. */
  constructor(
    readonly status: number,
    message: string,
    readonly problems: string[] = [],
    /** A form's fields found wrong (a schedule's 400), for the form to show beside each. */
    readonly fields: FieldError[] = [],
  ) {
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
  /** The share link the caller holds (a page opened with `?link=`), sent with every request; read
   * at each request. */
  shareLink?: () => string | null | undefined;
  /** Called on every 401, before the GatewayError is thrown (a page asks for the token). */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
  /** Checks every JSON reply against its route's schema (a GatewayError 502 when it does not
   * match). Off by default: the gateway already serializes through the same schemas; tests
   * turn it on to catch a route that answers what it does not declare. */
  checkReplies?: boolean;
}

/** A route's path with its `:params` filled in and its query appended. */
export function apiPath<N extends ApiRouteName>(name: N, request: Pick<ApiRequest<N>, "params" | "query">): string {
  return fillPath(apiRoutes[name].url, request);
}

function fillPath(url: string, request: { params?: unknown; query?: unknown }): string {
  const params = (request.params ?? {}) as Record<string, string>;
  const path = url.replace(/:(\w+)/g, (_, key: string) => encodeURIComponent(params[key] ?? ""));
  const query = Object.entries((request.query ?? {}) as Record<string, unknown>)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return query.length ? `${path}?${query.join("&")}` : path;
}

export class GatewayClient {
  private readonly baseUrl: string;

  constructor(private readonly options: GatewayClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? "";
  }

  /** The absolute URL of a gateway path (a notebook's page, an export to download). */
  url(path: string): string {
    return this.baseUrl + path;
  }

  /** A path the browser follows by itself (a download link), which no header goes with: it
   * carries the share link in its query, so a guest's download is not refused. */
  private followable(path: string): string {
    const link = this.options.shareLink?.();
    return link ? `${path}${path.includes("?") ? "&" : "?"}link=${encodeURIComponent(link)}` : path;
  }

  readonly notebooks = {
    list: () => this.call("listNotebooks", {}),
    create: (title?: string) => this.call("createNotebook", { body: title === undefined ? {} : { title } }),
    get: (id: string) => this.call("getNotebook", { params: { id } }),
    update: (id: string, update: NotebookUpdate, init?: RequestInit) => this.call("updateNotebook", { params: { id }, body: update }, init),
    rename: (id: string, title: string) => this.call("updateNotebook", { params: { id }, body: { title } }),
    remove: (id: string) => this.call("deleteNotebook", { params: { id } }),
    duplicate: (id: string) => this.call("duplicateNotebook", { params: { id } }),
    /** Uploads .ipynb text; the gateway validates it (a 400 lists every problem) and stores it.
     * `title` may be the file name: ".ipynb" is dropped. */
    import: (ipynb: string, title: string) => this.call("importNotebook", { query: { title }, body: ipynb }),
    /** The notebook as .ipynb text. */
    export: async (id: string) => (await this.call("exportNotebook", { params: { id } })).text(),
    exportPath: (id: string) => this.followable(apiPath("exportNotebook", { params: { id } })),
    /** Where the browser downloads the notebook as one self-contained HTML file. */
    exportHtmlPath: (id: string) => this.followable(apiPath("exportNotebookHtml", { params: { id } })),
  };

  readonly kernels = {
    /** Checkpoints the notebook's idle kernel now; the next cell resumes it. */
    suspend: (notebookId: string) => this.call("suspendKernel", { params: { id: notebookId } }),
  };

  /** Signing in and out (the session cookie), the signed-in user, signing up with an invite. */
  readonly auth = {
    me: () => this.call("me", {}),
    login: (email: string, password: string) => this.call("login", { body: { email, password } }),
    logout: () => this.call("logout", {}),
    logoutEverywhere: () => this.call("logoutEverywhere", {}),
    setCredentials: (email: string, password: string) => this.call("setCredentials", { body: { email, password } }),
    signup: (body: { invite: string; name: string; email: string; password: string }) => this.call("signup", { body }),
    /** The sign-in methods besides a password (single sign-on's name, whether it answers). */
    providers: () => this.call("authProviders", {}),
    /** Where a browser starts single sign-on (a page to go to, not a request to make). */
    singleSignOnPath: (query: { next?: string; invite?: string }) => apiPath("oidcStart", { query }),
  };

  /** Personal access tokens: what the CLI and scripts sign in with (a bearer token). */
  readonly accessTokens = {
    list: () => this.call("listAccessTokens", {}),
    create: (name: string, expiresInDays?: number) =>
      this.call("createAccessToken", { body: expiresInDays === undefined ? { name } : { name, expiresInDays } }),
    remove: (id: string) => this.call("deleteAccessToken", { params: { id } }),
  };

  /** Sharing a notebook (its owner only): teammates' roles by email, and share links. */
  readonly shares = {
    grants: (notebookId: string) => this.call("listGrants", { params: { id: notebookId } }),
    /** Shares with the teammate of that email, or changes their role. */
    grant: (notebookId: string, email: string, role: SharedRole) =>
      this.call("addGrant", { params: { id: notebookId }, body: { email, role } }),
    changeRole: (notebookId: string, userId: string, role: SharedRole) =>
      this.call("updateGrant", { params: { id: notebookId, userId }, body: { role } }),
    removeGrant: (notebookId: string, userId: string) => this.call("removeGrant", { params: { id: notebookId, userId } }),
    links: (notebookId: string) => this.call("listShareLinks", { params: { id: notebookId } }),
    /** A new link; its secret (in `url`) is in this answer only. */
    createLink: (notebookId: string, role: SharedRole, expiresInDays?: number) =>
      this.call("createShareLink", {
        params: { id: notebookId },
        body: expiresInDays === undefined ? { role } : { role, expiresInDays },
      }),
    revokeLink: (notebookId: string, linkId: string) => this.call("revokeShareLink", { params: { id: notebookId, linkId } }),
  };

  /** Invite links (owners make them; anyone holding one can check it before signing up). */
  readonly invites = {
    check: (token: string) => this.call("checkInvite", { params: { token } }),
    list: () => this.call("listInvites", {}),
    create: (expiresInHours?: number) => this.call("createInvite", { body: expiresInHours === undefined ? {} : { expiresInHours } }),
    remove: (id: string) => this.call("deleteInvite", { params: { id } }),
  };

  readonly images = {
    list: () => this.call("listImages", {}),
    /** Builds an image from a spec (owners only); resolves once built or found cached. */
    build: (body: { spec: Record<string, unknown>; requirements?: string; lock?: string }) => this.call("buildImage", { body }),
    /** What this gateway's last build of the image printed (404 when none since it started). */
    log: (name: string) => this.call("imageBuildLog", { params: { name } }),
    /** The notebook's %pip packages and lock saved as the image `name` (its editors), built at once. */
    saveFromNotebook: (notebookId: string, body: { name: string; description?: string }) =>
      this.call("saveNotebookImage", { params: { id: notebookId }, body }),
  };

  /** Schedules: a notebook's, the caller's (the Jobs page), and changes to one. */
  readonly schedules = {
    ofNotebook: (notebookId: string) => this.call("listNotebookSchedules", { params: { id: notebookId } }),
    mine: () => this.call("listSchedules", {}),
    get: (scheduleId: string) => this.call("getSchedule", { params: { scheduleId } }),
    create: (notebookId: string, schedule: ScheduleInput) => this.call("createSchedule", { params: { id: notebookId }, body: schedule }),
    update: (scheduleId: string, change: ScheduleUpdate) => this.call("updateSchedule", { params: { scheduleId }, body: change }),
    remove: (scheduleId: string) => this.call("deleteSchedule", { params: { scheduleId } }),
    pause: (scheduleId: string) => this.call("pauseSchedule", { params: { scheduleId } }),
    resume: (scheduleId: string) => this.call("resumeSchedule", { params: { scheduleId } }),
    /** "Run now", with the schedule's parameters or these. */
    runNow: (scheduleId: string, parameters?: Record<string, JsonValue>) =>
      this.call("runScheduleNow", { params: { scheduleId }, body: parameters ? { parameters } : {} }),
  };

  /** Runs of schedules, and the caller's notices about them. */
  readonly runs = {
    ofNotebook: (notebookId: string, filter: { status?: RunStatus[]; limit?: number } = {}) =>
      this.call("listNotebookRuns", { params: { id: notebookId }, query: runQuery(filter) }),
    ofSchedule: (scheduleId: string, filter: { status?: RunStatus[]; limit?: number } = {}) =>
      this.call("listScheduleRuns", { params: { scheduleId }, query: runQuery(filter) }),
    get: (runId: string) => this.call("getRun", { params: { runId } }),
    cancel: (runId: string) => this.call("cancelRun", { params: { runId } }),
    diff: (runId: string) => this.call("runDiff", { params: { runId } }),
  };

  readonly notices = {
    list: () => this.call("listNotices", {}),
    markRead: (ids?: string[]) => this.call("markNoticesRead", { body: ids ? { ids } : {} }),
  };

  readonly workers = {
    list: () => this.call("listWorkers", {}),
    /** Every worker drops its image chunk cache. */
    dropCaches: () => this.call("dropWorkerCaches", {}),
  };

  /** A notebook's workspace files (relayed by the gateway to the worker holding them). */
  readonly files = {
    list: (notebookId: string, path: string) => this.call("listFiles", { params: { id: notebookId }, query: { path } }),
    read: async (notebookId: string, path: string) =>
      new Uint8Array(await (await this.call("downloadFile", { params: { id: notebookId }, query: { path } })).arrayBuffer()),
    /** Saves or uploads; `createOnly` fails with 409 instead of replacing an existing file. */
    write: (notebookId: string, path: string, content: RawBody, opts: { createOnly?: boolean } = {}) =>
      this.call("uploadFile", {
        params: { id: notebookId },
        query: { path, createOnly: opts.createOnly ? "1" : undefined },
        body: content,
      }),
    mkdir: (notebookId: string, path: string) => this.call("createFolder", { params: { id: notebookId }, query: { path } }),
    remove: (notebookId: string, path: string) => this.call("deleteFile", { params: { id: notebookId }, query: { path } }),
    rename: (notebookId: string, from: string, to: string) => this.call("renameFile", { params: { id: notebookId }, body: { from, to } }),
    /** Where the browser downloads the file (always as an attachment). */
    downloadPath: (notebookId: string, path: string) =>
      this.followable(apiPath("downloadFile", { params: { id: notebookId }, query: { path } })),
  };

  health = () => this.call("health", {});

  /** One route of the table: its URL built from `params` and `query`, a JSON body as JSON and a
   * raw one as is; the parsed JSON reply, nothing for a 204, the Response for a file. */
  async call<N extends ApiRouteName>(name: N, request: ApiRequest<N>, init: RequestInit = {}): Promise<ApiReply<N>> {
    const route = apiRoutes[name];
    const raw: string | undefined = "raw" in route ? route.raw : undefined;
    const headers = new Headers(init.headers);
    const json = request.body !== undefined && raw !== "bytes-in" && raw !== "text-in";
    if (json) headers.set("content-type", "application/json");
    const res = await this.send(route.method, fillPath(route.url, request), {
      ...init,
      headers,
      body: request.body === undefined ? undefined : json ? JSON.stringify(request.body) : (request.body as BodyInit),
    });
    if (raw === "bytes-out") return res as ApiReply<N>;
    if (res.status === 204) return undefined as ApiReply<N>;
    const reply: unknown = await res.json();
    if (this.options.checkReplies) {
      const schema = (route.schema as ApiRouteSchema).response[res.status];
      const checked = schema?.safeParse(reply);
      if (!checked?.success)
        throw new GatewayError(
          502,
          `The gateway's ${res.status} reply to ${route.method} ${route.url} is not what the route declares: ${String(checked?.error ?? "no schema for this status")}`,
        );
    }
    return reply as ApiReply<N>;
  }

  /** A request to the gateway: the response when it is OK, else a GatewayError with the
   * gateway's message and problems. */
  async send(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.options.token) headers.set("authorization", `Bearer ${this.options.token}`);
    const link = this.options.shareLink?.();
    if (link) headers.set(SHARE_LINK_HEADER, link);
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
    const reply = errorReplySchema.safeParse(parseJson(text));
    if (reply.success) throw new GatewayError(res.status, reply.data.error, reply.data.problems, reply.data.fields);
    // Not the gateway's error body (a proxy's page, a crash): keep the text.
    throw new GatewayError(res.status, text || `The gateway answered ${res.status} ${res.statusText}`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

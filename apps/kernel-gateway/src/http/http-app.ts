// The one HTTP entry point: one Fastify app whose API routes are exactly @cellar/protocol's route
// table (apiRoutes), each with its handler. Before any route: the workers' blob store (worker
// secret), then login by token (everything except the health and readiness checks needs the token
// or its cookie).
// Requests no route takes go to the static web app. socket.io shares `app.server` and answers
// /socket.io/ itself, before Fastify sees it.
import type { IncomingMessage } from "node:http";
import fastify, { type FastifyInstance, type FastifyRequest, type RouteOptions } from "fastify";
import swagger from "@fastify/swagger";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import sirv from "sirv";
import { BLOB_ROUTE_PREFIX, REF_ROUTE_PREFIX, createBlobHandler, type BlobStore } from "@cellar/fs-client";
import {
  apiRoutes,
  errorReplySchema,
  MAX_WORKSPACE_FILE_BYTES,
  notebookIdSchema,
  type ApiRoute,
  type ApiRouteName,
  type Notebook,
  type NotebookUpdate,
} from "@cellar/protocol";
import { secretMatches } from "../secrets";
import type { ApiHandlers } from "./api-handlers";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import type { AccessTokenStore, AccountStore, IdentityStore, ScheduleStore, ShareStore } from "@cellar/db";
import type { Identity } from "../auth/identity";
import { requireNotebookRole } from "../auth/notebook-access";
import type { SingleSignOn } from "../auth/single-sign-on";
import { authApi } from "./auth-api";
import { loginHook } from "./auth";
import { gatewayApi, type GatewayApiDeps } from "./gateway-api";
import { imagesApi, type ImagesApiDeps } from "./images-api";
import { API_METHODS, HttpError, installErrorHandling, methodNotAllowed } from "./http-errors";
import { kernelApi, type KernelApiDeps } from "./kernel-api";
import { notebookFilesApi, type NotebookFileStore } from "./notebook-files-api";
import { notebooksApi, type NotebookApiStore } from "./notebooks-api";
import { schedulesApi } from "./schedules-api";
import { sharesApi, type AccessChange } from "./shares-api";
import { oidcApi } from "./oidc-api";
import { outputFrameHook, type OutputFrameDeps } from "./output-frames";
import { uploadTooLarge, workspaceFilesApi, type WorkspaceFilesDeps } from "./workspace-files-api";

/** Limit of every body but a file upload's. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;

export const OPENAPI_PATH = "/api/openapi.json";

export interface HttpDeps extends GatewayApiDeps, Omit<ImagesApiDeps, "store"> {
  /** Who is calling (instance token or session cookie). */
  identity: Identity;
  accounts: AccountStore;
  accessTokens: AccessTokenStore;
  /** Sign-ins through the OpenID Connect provider, linked to users. */
  identities: IdentityStore;
  /** Unset: no single sign-on. */
  singleSignOn?: SingleSignOn;
  webDir: string;
  store: NotebookApiStore & NotebookFileStore;
  /** Grants, share links, and every caller's role on a notebook (the notebook routes' check). */
  shares: ShareStore;
  /** Schedules, their runs and notices. */
  schedules: ScheduleStore;
  /** A grant was changed or removed, or a link revoked: the gateway re-checks the open sockets
   * it concerns. Optional so test setups need not care. */
  onAccessChanged?(change: AccessChange): void;
  /** Ends every open socket of a user (signed out everywhere). */
  disconnectUser?(userId: string): void;
  onNotebookSaved(notebookId: string, notebook: Notebook, update: NotebookUpdate): void;
  /** Optional so test setups need not care; the gateway stops the notebook's kernel. */
  onNotebookDeleted?(notebookId: string): void;
  /** Image blobs for workers, authenticated with the worker secret (not the browser token). */
  blobs: { store: BlobStore; workerSecret: string };
  /** Notebooks' workspace files, relayed to the worker that holds them. */
  workspaceFiles?: WorkspaceFilesDeps;
  /** Kernel actions (suspend now). */
  kernels?: KernelApiDeps;
  /** The output frame's files (/output-frame/) and the origin frames come from. Unset (test
   * setups): no /output-frame/ route. */
  outputFrames?: OutputFrameDeps;
}

/** What a page may load: only this gateway's own scripts, styles, fonts and sockets; images also
 * as data: and blob: URLs (plots are base64 PNGs); frames only from this gateway (the output
 * frame, output-frames.ts) or the output origin; no plugins, no framing by other sites, no form
 * posting elsewhere. The static export's pages bootstrap with inline scripts, hence
 * 'unsafe-inline' for scripts; outputs are sanitised before they reach the page regardless, and
 * those that run code run in the sandboxed output frame, never in the page. */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'unsafe-inline'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", "data:", "blob:"],
  fontSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  workerSrc: ["'self'", "blob:"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameSrc: ["'self'"],
  frameAncestors: ["'none'"],
  // helmet's default would send http://127.0.0.1 pages' own requests to https.
  upgradeInsecureRequests: null,
};

/** Per route: how many tries a client gets per minute (keyed by address and email). */
const RATE_LIMITED: Partial<Record<ApiRouteName, { max: number; timeWindow: string; keyGenerator(request: FastifyRequest): string }>> = {
  login: { max: 10, timeWindow: "1 minute", keyGenerator: (r) => `${r.ip}|${emailIn(r.body)}` },
  signup: { max: 10, timeWindow: "1 minute", keyGenerator: (r) => r.ip },
  checkInvite: { max: 30, timeWindow: "1 minute", keyGenerator: (r) => r.ip },
  // Each start makes a signed flow cookie and each callback calls the provider: a loop of either
  // would cost this gateway and the provider alike.
  oidcStart: { max: 20, timeWindow: "1 minute", keyGenerator: (r) => r.ip },
  oidcCallback: { max: 20, timeWindow: "1 minute", keyGenerator: (r) => r.ip },
};

const emailIn = (body: unknown) => String((body as { email?: unknown } | undefined)?.email ?? "").toLowerCase();

export function createHttpApp(deps: HttpDeps): FastifyInstance {
  const app = fastify({ bodyLimit: MAX_BODY_BYTES, routerOptions: { ignoreTrailingSlash: true } }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // The standard security headers on every answer, pages and API alike (set on the raw response,
  // so the web app's files, served past Fastify, carry them too).
  const frameSrc = [...CONTENT_SECURITY_POLICY.frameSrc, ...(deps.outputFrames?.origin ? [deps.outputFrames.origin] : [])];
  app.register(helmet, {
    contentSecurityPolicy: { directives: { ...CONTENT_SECURITY_POLICY, frameSrc } },
    crossOriginEmbedderPolicy: false,
  });

  const serveWeb = sirv(deps.webDir, { dev: false, etag: true, extensions: ["html"] });
  installErrorHandling(app, (request, reply) => {
    reply.hijack();
    serveWeb(request.raw, reply.raw, () => {
      reply.raw.writeHead(404, { "content-type": "text/plain" });
      reply.raw.end("Not found");
    });
  });

  // Workers read and write the content store (boot profiles, snapshots) with the worker secret;
  // the handler streams the bodies itself, so it runs before Fastify reads them.
  const isWorker = (req: IncomingMessage) => secretMatches(req.headers.authorization?.replace(/^Bearer /, ""), deps.blobs.workerSecret);
  const serveBlobs = createBlobHandler(deps.blobs.store, { authorize: isWorker, authorizeWrite: isWorker });
  app.addHook("onRequest", async (request, reply) => {
    if (!request.url.startsWith(BLOB_ROUTE_PREFIX) && !request.url.startsWith(REF_ROUTE_PREFIX)) return;
    reply.hijack();
    await serveBlobs(request.raw, reply.raw);
  });
  // The output frame's files need nobody (a frame's requests carry no cookie) and have their own
  // headers; before the login hook.
  if (deps.outputFrames) app.addHook("onRequest", outputFrameHook(deps.outputFrames));
  const openRoutes = new Set(
    [
      apiRoutes.health,
      apiRoutes.ready,
      apiRoutes.login,
      apiRoutes.signup,
      apiRoutes.checkInvite,
      apiRoutes.authProviders,
      apiRoutes.oidcStart,
      apiRoutes.oidcCallback,
    ].map((r) => r.url),
  );
  const guestRoutes = new Set(
    Object.values(apiRoutes as Record<string, ApiRoute>).flatMap((r) => (r.role && r.method === "GET" ? [r.url] : [])),
  );
  app.addHook("onRequest", loginHook(deps.identity, openRoutes, guestRoutes));
  // Guessing passwords (and invites) costs time: a few tries a minute per address and email.
  app.register(rateLimit, {
    global: false,
    hook: "preHandler",
    // Thrown, and answered like every other error ({error}).
    errorResponseBuilder: (_request, { after, statusCode }) =>
      Object.assign(new Error(`Too many tries from this address; try again in ${after}.`), { statusCode }),
  });

  // Bodies: raw bytes for an upload, text for an .ipynb import, JSON (whatever the content type
  // says, as the API always read them) where the route has a body schema; others are ignored.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body: Buffer, done) => {
    const { raw } = request.routeOptions.config;
    if (raw === "bytes-in") return done(null, body);
    if (raw === "text-in") return done(null, body.toString("utf8"));
    if (!request.routeOptions.schema?.body || body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString("utf8")));
    } catch {
      done(new HttpError(400, "Request body is not valid JSON"), undefined);
    }
  });
  // Every JSON answer is fresh: notebooks and listings change under the page.
  app.addHook("onSend", async (_request, reply, payload) => {
    if (!reply.hasHeader("cache-control") && String(reply.getHeader("content-type") ?? "").includes("json"))
      reply.header("cache-control", "no-store");
    return payload;
  });

  app.register(swagger, {
    openapi: { info: { title: "Cellar gateway", version: "0.0.0" } },
    transform: jsonSchemaTransform,
  });
  const maxFileBytes = deps.workspaceFiles?.maxFileBytes ?? MAX_WORKSPACE_FILE_BYTES;
  const handlers: ApiHandlers = {
    ...gatewayApi(deps),
    ...imagesApi({ store: deps.store, imageBuildLog: deps.imageBuildLog, saveNotebookImage: deps.saveNotebookImage }),
    ...authApi({ accounts: deps.accounts, accessTokens: deps.accessTokens, identity: deps.identity, disconnectUser: deps.disconnectUser }),
    ...oidcApi({ accounts: deps.accounts, identities: deps.identities, identity: deps.identity, singleSignOn: deps.singleSignOn }),
    ...notebooksApi({
      store: deps.store,
      sharedWith: (userId) => deps.shares.sharedWith(userId),
      onSaved: deps.onNotebookSaved,
      onDeleted: deps.onNotebookDeleted,
      imageExists: (name) => !deps.images || deps.images().some((i) => i.name === name),
    }),
    ...notebookFilesApi(deps.store),
    ...sharesApi({ shares: deps.shares, onAccessChanged: deps.onAccessChanged }),
    ...schedulesApi({
      schedules: deps.schedules,
      shares: deps.shares,
      notebooks: deps.store,
      userName: async (id) => (await deps.accounts.getUser(id))?.name ?? null,
    }),
    ...kernelApi(deps.kernels),
    ...workspaceFilesApi(deps.workspaceFiles),
  };
  // Registered once swagger is loaded, so that it sees every route.
  app.register(async (api) => {
    const methodsOf = new Map<string, Set<string>>();
    for (const name of Object.keys(apiRoutes) as ApiRouteName[]) {
      const { method, url, summary, raw, role, bodyCheckedBy, schema }: ApiRoute = apiRoutes[name];
      methodsOf.set(url, new Set([...(methodsOf.get(url) ?? []), method]));
      const upload = raw === "bytes-in";
      const tooLarge = upload ? uploadTooLarge(maxFileBytes) : `Request body over ${MAX_BODY_BYTES} bytes`;
      api.route({
        method,
        url,
        config: { raw, tooLarge, ...(RATE_LIMITED[name] && { rateLimit: RATE_LIMITED[name] }) },
        // A notebook's routes answer only callers with the route's role on it; to anyone without a
        // role it does not exist, whatever the request carries (checked before its body is read
        // or validated).
        onRequest: role ? (request) => requireNotebookRole(request, deps.shares, role) : undefined,
        bodyLimit: upload ? maxFileBytes : MAX_BODY_BYTES,
        // The body passes as sent; the handler checks it whole (params and query still here).
        ...(bodyCheckedBy && {
          validatorCompiler: (route) =>
            route.httpPart === "body"
              ? (data: unknown) => ({ value: data })
              : validatorCompiler(route as Parameters<typeof validatorCompiler>[0]),
        }),
        schema: {
          ...schema,
          summary,
          operationId: name,
          response: { ...schema.response, "4xx": errorReplySchema, "5xx": errorReplySchema },
        },
        // The table and the handler map are keyed alike; TypeScript cannot correlate the two unions.
        handler: handlers[name] as RouteOptions["handler"],
      });
    }
    for (const [url, methods] of methodsOf) {
      api.route({ method: API_METHODS.filter((m) => !methods.has(m)), url, schema: { hide: true }, handler: methodNotAllowed });
    }
    api.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
  });
  return app;
}

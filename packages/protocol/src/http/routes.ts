// The gateway's HTTP API, one entry per route: method, URL (Fastify syntax) and the zod schemas
// of its params, query, body and replies. The gateway registers exactly these (with a handler
// each), its OpenAPI document is generated from them, and a typed client can be built from them.
// Routes whose body or reply is not JSON say so in `raw`.
import { z } from "zod";
import {
  accessTokenParamsSchema,
  accessTokenReplySchema,
  authProvidersReplySchema,
  createAccessTokenBodySchema,
  createdAccessTokenReplySchema,
  createdInviteReplySchema,
  createInviteBodySchema,
  credentialsBodySchema,
  inviteCheckReplySchema,
  inviteIdParamsSchema,
  inviteParamsSchema,
  inviteReplySchema,
  loginBodySchema,
  meReplySchema,
  oidcCallbackQuerySchema,
  oidcStartQuerySchema,
  signupBodySchema,
} from "./accounts";
import type { NotebookRole } from "../roles";
import { errorReplySchema } from "./errors";
import {
  buildImageBodySchema,
  builtImageReplySchema,
  createNotebookBodySchema,
  dropCacheReplySchema,
  imageBuildLogReplySchema,
  imageParamsSchema,
  imageReplySchema,
  importedNotebookReplySchema,
  importNotebookQuerySchema,
  notebookParamsSchema,
  notebookReplySchema,
  notebookListEntryReplySchema,
  openedNotebookReplySchema,
  notebookUpdateBodySchema,
  okReplySchema,
  saveNotebookImageBodySchema,
  workerReplySchema,
} from "./notebooks";
import {
  addGrantBodySchema,
  createdShareLinkReplySchema,
  createShareLinkBodySchema,
  grantParamsSchema,
  grantReplySchema,
  shareLinkParamsSchema,
  shareLinkReplySchema,
  updateGrantBodySchema,
} from "./shares";
import {
  markNoticesReadBodySchema,
  noticeReplySchema,
  runDetailReplySchema,
  runDiffReplySchema,
  runListQuerySchema,
  runNowBodySchema,
  runParamsSchema,
  runReplySchema,
  scheduleParamsSchema,
  scheduleSummaryReplySchema,
} from "./runs";
import { scheduleBodySchema, scheduleUpdateBodySchema } from "./schedules";
import {
  filesItemQuerySchema,
  filesListingReplySchema,
  filesListQuerySchema,
  filesRenameBodySchema,
  filesUploadQuerySchema,
  workspaceEntryReplySchema,
} from "./workspace-files";

export interface ApiRouteSchema {
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  response: Record<number, z.ZodType>;
}

/** "bytes-in": the body is the raw bytes (an upload); "text-in": raw text (an .ipynb file);
 * "bytes-out": the 200 reply is a file, not JSON. */
export type ApiRawBody = "bytes-in" | "text-in" | "bytes-out";

export interface ApiRoute {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  summary: string;
  raw?: ApiRawBody;
  /** A notebook's route (/api/notebooks/:id…): the least role on that notebook it needs. Callers
   * with no role get 404 (the notebook does not exist for them), a weaker role 403. */
  role?: NotebookRole;
  /** "handler": the body schema documents the route, and the handler checks the body itself with
   * it and more (a schedule's cron and zone), so that a form hears every problem at once. */
  bodyCheckedBy?: "handler";
  schema: ApiRouteSchema;
}

const noContent = z.null().describe("no content");
const redirect = z.unknown().describe("a redirect (Location)");
const fileReply = z.unknown().describe("the file's bytes");

function route<const R extends ApiRoute>(r: R): R {
  return r;
}

export const apiRoutes = {
  health: route({
    method: "GET",
    url: "/api/health",
    summary: "Liveness; needs no token",
    schema: { response: { 200: okReplySchema } },
  }),
  ready: route({
    method: "GET",
    url: "/api/ready",
    summary: "Readiness: 200 while the database answers, 503 with the reason otherwise; needs no token",
    schema: { response: { 200: okReplySchema, 503: errorReplySchema } },
  }),
  me: route({
    method: "GET",
    url: "/api/auth/me",
    summary: "The signed-in user; 401 when nobody is",
    schema: { response: { 200: meReplySchema, 401: errorReplySchema } },
  }),
  login: route({
    method: "POST",
    url: "/api/auth/login",
    summary: "Signs in with email and password: a new session cookie; rate-limited; needs no session",
    schema: { body: loginBodySchema, response: { 200: meReplySchema, 401: errorReplySchema, 429: errorReplySchema } },
  }),
  logout: route({
    method: "POST",
    url: "/api/auth/logout",
    summary: "Ends this session",
    schema: { response: { 204: noContent } },
  }),
  logoutEverywhere: route({
    method: "POST",
    url: "/api/auth/logout-everywhere",
    summary: "Ends every session of the signed-in user, this one included",
    schema: { response: { 204: noContent } },
  }),
  setCredentials: route({
    method: "PUT",
    url: "/api/auth/credentials",
    summary: "Sets the signed-in user's email and password (the owner, after signing in by the printed URL)",
    schema: { body: credentialsBodySchema, response: { 200: meReplySchema, 409: errorReplySchema } },
  }),
  signup: route({
    method: "POST",
    url: "/api/auth/signup",
    summary: "Creates a member's account with an invite and signs them in; needs no session",
    schema: { body: signupBodySchema, response: { 200: meReplySchema, 409: errorReplySchema, 410: errorReplySchema } },
  }),
  authProviders: route({
    method: "GET",
    url: "/api/auth/providers",
    summary: "The sign-in methods besides a password (single sign-on's name), for the login page; needs no session",
    schema: { response: { 200: authProvidersReplySchema } },
  }),
  oidcStart: route({
    method: "GET",
    url: "/api/auth/oidc/start",
    summary:
      "Single sign-on: redirects to the OpenID Connect provider (a refusal redirects to the login page with ?error=); needs no session",
    schema: { querystring: oidcStartQuerySchema, response: { 302: redirect } },
  }),
  oidcCallback: route({
    method: "GET",
    url: "/api/auth/oidc/callback",
    summary:
      "Single sign-on: where the provider returns; signs in (a new session cookie) and redirects to next, or to the login page with ?error=; needs no session",
    schema: { querystring: oidcCallbackQuerySchema, response: { 302: redirect } },
  }),
  listAccessTokens: route({
    method: "GET",
    url: "/api/auth/tokens",
    summary: "The signed-in user's personal access tokens (for the CLI and API)",
    schema: { response: { 200: z.array(accessTokenReplySchema) } },
  }),
  createAccessToken: route({
    method: "POST",
    url: "/api/auth/tokens",
    summary: "A new personal access token, shown once; only from a signed-in browser",
    schema: { body: createAccessTokenBodySchema, response: { 201: createdAccessTokenReplySchema, 403: errorReplySchema } },
  }),
  deleteAccessToken: route({
    method: "DELETE",
    url: "/api/auth/tokens/:id",
    summary: "Revokes one of the signed-in user's personal access tokens",
    schema: { params: accessTokenParamsSchema, response: { 204: noContent } },
  }),
  checkInvite: route({
    method: "GET",
    url: "/api/invites/:token",
    summary: "Whether an invite can still be used, and who sent it; needs no session",
    schema: { params: inviteParamsSchema, response: { 200: inviteCheckReplySchema, 410: errorReplySchema } },
  }),
  listInvites: route({
    method: "GET",
    url: "/api/invites",
    summary: "The invites the signed-in owner made",
    schema: { response: { 200: z.array(inviteReplySchema), 403: errorReplySchema } },
  }),
  createInvite: route({
    method: "POST",
    url: "/api/invites",
    summary: "A single-use, expiring invite link (owners only)",
    schema: { body: createInviteBodySchema, response: { 201: createdInviteReplySchema, 403: errorReplySchema } },
  }),
  deleteInvite: route({
    method: "DELETE",
    url: "/api/invites/id/:id",
    summary: "Revokes an unused invite (owners only)",
    schema: { params: inviteIdParamsSchema, response: { 204: noContent, 403: errorReplySchema } },
  }),
  listImages: route({
    method: "GET",
    url: "/api/images",
    summary: "The images a notebook can choose",
    schema: { response: { 200: z.array(imageReplySchema) } },
  }),
  buildImage: route({
    method: "POST",
    url: "/api/images",
    // Checked by the handler, after the owner check: a member hears 403 whatever they sent.
    bodyCheckedBy: "handler",
    summary:
      "Builds an image from a spec (owners only: it runs the builder on the host) and offers it from then on; a cached build returns at once. 422 names the package or index at fault",
    schema: {
      body: buildImageBodySchema,
      response: { 200: builtImageReplySchema, 400: errorReplySchema, 403: errorReplySchema, 422: errorReplySchema },
    },
  }),
  imageBuildLog: route({
    method: "GET",
    url: "/api/images/:name/log",
    summary: "What this gateway's last build of the image printed (any signed-in user); 404 when it built none",
    schema: { params: imageParamsSchema, response: { 200: imageBuildLogReplySchema, 404: errorReplySchema } },
  }),
  listWorkers: route({
    method: "GET",
    url: "/api/workers",
    summary: "The connected workers",
    schema: { response: { 200: z.array(workerReplySchema) } },
  }),
  dropWorkerCaches: route({
    method: "POST",
    url: "/api/workers/drop-cache",
    summary: "Every worker drops its image chunk cache",
    schema: { response: { 200: z.array(dropCacheReplySchema) } },
  }),
  listNotebooks: route({
    method: "GET",
    url: "/api/notebooks",
    summary: "The user's notebooks and those shared with them, each with the user's role and its owner's name",
    schema: { response: { 200: z.array(notebookListEntryReplySchema) } },
  }),
  createNotebook: route({
    method: "POST",
    url: "/api/notebooks",
    summary: "A new, empty notebook",
    schema: { body: createNotebookBodySchema, response: { 201: notebookReplySchema } },
  }),
  importNotebook: route({
    method: "POST",
    url: "/api/notebooks/import",
    summary: "A new notebook from an .ipynb file (the body)",
    raw: "text-in",
    schema: { querystring: importNotebookQuerySchema, response: { 201: importedNotebookReplySchema } },
  }),
  getNotebook: route({
    method: "GET",
    url: "/api/notebooks/:id",
    role: "viewer",
    summary: "A notebook with its cells and outputs, and the caller's role on it",
    schema: { params: notebookParamsSchema, response: { 200: openedNotebookReplySchema } },
  }),
  updateNotebook: route({
    method: "PUT",
    url: "/api/notebooks/:id",
    role: "editor",
    summary: "Saves title, image, cell order and sources",
    schema: { params: notebookParamsSchema, body: notebookUpdateBodySchema, response: { 200: notebookReplySchema } },
  }),
  deleteNotebook: route({
    method: "DELETE",
    url: "/api/notebooks/:id",
    role: "owner",
    summary: "Deletes the notebook and stops its kernel",
    schema: { params: notebookParamsSchema, response: { 204: noContent } },
  }),
  exportNotebook: route({
    method: "GET",
    url: "/api/notebooks/:id/export",
    role: "viewer",
    summary: "The notebook as an .ipynb attachment",
    raw: "bytes-out",
    schema: { params: notebookParamsSchema, response: { 200: fileReply } },
  }),
  exportNotebookHtml: route({
    method: "GET",
    url: "/api/notebooks/:id/export.html",
    role: "viewer",
    summary:
      "The notebook as a self-contained HTML attachment (a run's executed copy too): markdown rendered, code with its outputs, HTML outputs sanitised, images inlined, no scripts",
    raw: "bytes-out",
    schema: { params: notebookParamsSchema, response: { 200: fileReply } },
  }),
  duplicateNotebook: route({
    method: "POST",
    url: "/api/notebooks/:id/duplicate",
    role: "viewer",
    summary: 'A copy with outputs, titled "<title> (copy)"',
    schema: { params: notebookParamsSchema, response: { 201: importedNotebookReplySchema } },
  }),
  saveNotebookImage: route({
    method: "POST",
    url: "/api/notebooks/:id/save-image",
    role: "editor",
    summary:
      "Saves the notebook's %pip packages (and their lock) as a named image over the image they were installed on, built at once (the same wheels: a cache hit). 400: no packages or a reserved name; 409: the name is taken",
    schema: {
      params: notebookParamsSchema,
      body: saveNotebookImageBodySchema,
      response: { 200: builtImageReplySchema, 400: errorReplySchema, 409: errorReplySchema, 422: errorReplySchema },
    },
  }),
  suspendKernel: route({
    method: "POST",
    url: "/api/notebooks/:id/kernel/suspend",
    role: "runner",
    summary: "Checkpoints the idle kernel now and frees its memory",
    schema: { params: notebookParamsSchema, response: { 200: okReplySchema } },
  }),
  listFiles: route({
    method: "GET",
    url: "/api/notebooks/:id/files",
    role: "runner",
    summary: "Lists a folder of the notebook's workspace",
    schema: { params: notebookParamsSchema, querystring: filesListQuerySchema, response: { 200: filesListingReplySchema } },
  }),
  deleteFile: route({
    method: "DELETE",
    url: "/api/notebooks/:id/files",
    role: "editor",
    summary: "Deletes a file, or a folder with its contents",
    schema: { params: notebookParamsSchema, querystring: filesItemQuerySchema, response: { 204: noContent } },
  }),
  downloadFile: route({
    method: "GET",
    url: "/api/notebooks/:id/files/content",
    role: "runner",
    summary: "A file's bytes, always as an attachment",
    raw: "bytes-out",
    schema: { params: notebookParamsSchema, querystring: filesItemQuerySchema, response: { 200: fileReply } },
  }),
  uploadFile: route({
    method: "PUT",
    url: "/api/notebooks/:id/files/content",
    role: "editor",
    summary: "Uploads or saves a file (the raw body)",
    raw: "bytes-in",
    schema: { params: notebookParamsSchema, querystring: filesUploadQuerySchema, response: { 200: workspaceEntryReplySchema } },
  }),
  createFolder: route({
    method: "POST",
    url: "/api/notebooks/:id/files/dirs",
    role: "editor",
    summary: "Creates a folder",
    schema: { params: notebookParamsSchema, querystring: filesItemQuerySchema, response: { 201: workspaceEntryReplySchema } },
  }),
  renameFile: route({
    method: "POST",
    url: "/api/notebooks/:id/files/rename",
    role: "editor",
    summary: "Renames or moves a file or folder",
    schema: { params: notebookParamsSchema, body: filesRenameBodySchema, response: { 200: workspaceEntryReplySchema } },
  }),
  listGrants: route({
    method: "GET",
    url: "/api/notebooks/:id/grants",
    role: "owner",
    summary: "Who the notebook is shared with, and their roles",
    schema: { params: notebookParamsSchema, response: { 200: z.array(grantReplySchema) } },
  }),
  addGrant: route({
    method: "POST",
    url: "/api/notebooks/:id/grants",
    role: "owner",
    summary: "Shares the notebook with the teammate of that email, or changes their role",
    schema: {
      params: notebookParamsSchema,
      body: addGrantBodySchema,
      response: { 200: grantReplySchema, 400: errorReplySchema, 404: errorReplySchema },
    },
  }),
  updateGrant: route({
    method: "PUT",
    url: "/api/notebooks/:id/grants/:userId",
    role: "owner",
    summary: "Changes a teammate's role on the notebook",
    schema: { params: grantParamsSchema, body: updateGrantBodySchema, response: { 200: grantReplySchema, 404: errorReplySchema } },
  }),
  removeGrant: route({
    method: "DELETE",
    url: "/api/notebooks/:id/grants/:userId",
    role: "owner",
    summary: "Stops sharing the notebook with a teammate; their open pages are cut off",
    schema: { params: grantParamsSchema, response: { 204: noContent, 404: errorReplySchema } },
  }),
  listShareLinks: route({
    method: "GET",
    url: "/api/notebooks/:id/links",
    role: "owner",
    summary: "The notebook's share links (never their secrets), expired ones too",
    schema: { params: notebookParamsSchema, response: { 200: z.array(shareLinkReplySchema) } },
  }),
  createShareLink: route({
    method: "POST",
    url: "/api/notebooks/:id/links",
    role: "owner",
    summary: "A share link with a role cap and an optional expiry, shown once",
    schema: { params: notebookParamsSchema, body: createShareLinkBodySchema, response: { 201: createdShareLinkReplySchema } },
  }),
  revokeShareLink: route({
    method: "DELETE",
    url: "/api/notebooks/:id/links/:linkId",
    role: "owner",
    summary: "Revokes a share link; pages opened with it are cut off",
    schema: { params: shareLinkParamsSchema, response: { 204: noContent, 404: errorReplySchema } },
  }),
  // Schedules (issue 14). A notebook's schedules and runs are seen by anyone who may view it; a
  // schedule is changed by its owner or the notebook's owner; runs execute as the schedule's owner.
  listNotebookSchedules: route({
    method: "GET",
    url: "/api/notebooks/:id/schedules",
    role: "viewer",
    summary: "The notebook's schedules, each with its next fire times and last 30 runs",
    schema: { params: notebookParamsSchema, response: { 200: z.array(scheduleSummaryReplySchema) } },
  }),
  createSchedule: route({
    method: "POST",
    url: "/api/notebooks/:id/schedules",
    role: "editor",
    bodyCheckedBy: "handler",
    summary: "Schedules the notebook (cron, time zone, parameters, policies); the caller owns the schedule and its runs run as them",
    schema: {
      params: notebookParamsSchema,
      body: scheduleBodySchema,
      response: { 201: scheduleSummaryReplySchema, 400: errorReplySchema },
    },
  }),
  listNotebookRuns: route({
    method: "GET",
    url: "/api/notebooks/:id/runs",
    role: "viewer",
    summary: "Runs of the notebook's schedules, latest fire time first",
    schema: { params: notebookParamsSchema, querystring: runListQuerySchema, response: { 200: z.array(runReplySchema) } },
  }),
  listSchedules: route({
    method: "GET",
    url: "/api/schedules",
    summary: "The caller's schedules on every notebook (the Jobs page)",
    schema: { response: { 200: z.array(scheduleSummaryReplySchema) } },
  }),
  getSchedule: route({
    method: "GET",
    url: "/api/schedules/:scheduleId",
    summary: "A schedule, for anyone who may view its notebook",
    schema: { params: scheduleParamsSchema, response: { 200: scheduleSummaryReplySchema, 404: errorReplySchema } },
  }),
  updateSchedule: route({
    method: "PUT",
    url: "/api/schedules/:scheduleId",
    bodyCheckedBy: "handler",
    summary: "Changes a schedule (its owner or the notebook's); the result is checked whole",
    schema: {
      params: scheduleParamsSchema,
      body: scheduleUpdateBodySchema,
      response: { 200: scheduleSummaryReplySchema, 400: errorReplySchema, 403: errorReplySchema, 404: errorReplySchema },
    },
  }),
  deleteSchedule: route({
    method: "DELETE",
    url: "/api/schedules/:scheduleId",
    summary: "Deletes a schedule with its runs and their executed notebooks",
    schema: { params: scheduleParamsSchema, response: { 204: noContent, 403: errorReplySchema, 404: errorReplySchema } },
  }),
  pauseSchedule: route({
    method: "POST",
    url: "/api/schedules/:scheduleId/pause",
    summary: "Pauses a schedule: no fire time runs until it is resumed (its queued runs are cancelled)",
    schema: { params: scheduleParamsSchema, response: { 200: scheduleSummaryReplySchema, 403: errorReplySchema, 404: errorReplySchema } },
  }),
  resumeSchedule: route({
    method: "POST",
    url: "/api/schedules/:scheduleId/resume",
    summary: "Resumes a schedule from now on (what was missed while paused is not caught up)",
    schema: {
      params: scheduleParamsSchema,
      response: { 200: scheduleSummaryReplySchema, 403: errorReplySchema, 404: errorReplySchema, 409: errorReplySchema },
    },
  }),
  runScheduleNow: route({
    method: "POST",
    url: "/api/schedules/:scheduleId/runs",
    summary: "Run now: a run of the schedule at once, with its parameters or those given",
    schema: {
      params: scheduleParamsSchema,
      body: runNowBodySchema,
      response: { 201: runReplySchema, 400: errorReplySchema, 403: errorReplySchema, 404: errorReplySchema, 409: errorReplySchema },
    },
  }),
  listScheduleRuns: route({
    method: "GET",
    url: "/api/schedules/:scheduleId/runs",
    summary: "The schedule's runs, latest fire time first",
    schema: {
      params: scheduleParamsSchema,
      querystring: runListQuerySchema,
      response: { 200: z.array(runReplySchema), 404: errorReplySchema },
    },
  }),
  getRun: route({
    method: "GET",
    url: "/api/runs/:runId",
    summary: "A run with its notifications' delivery and the previous successful run",
    schema: { params: runParamsSchema, response: { 200: runDetailReplySchema, 404: errorReplySchema } },
  }),
  cancelRun: route({
    method: "POST",
    url: "/api/runs/:runId/cancel",
    summary: "Cancels a queued run, or stops a running one (its kernel is stopped)",
    schema: {
      params: runParamsSchema,
      response: { 200: runReplySchema, 403: errorReplySchema, 404: errorReplySchema, 409: errorReplySchema },
    },
  }),
  runDiff: route({
    method: "GET",
    url: "/api/runs/:runId/diff",
    summary: "The run's outputs against the schedule's previous successful run, cell by cell",
    schema: { params: runParamsSchema, response: { 200: runDiffReplySchema, 404: errorReplySchema } },
  }),
  listNotices: route({
    method: "GET",
    url: "/api/notices",
    summary: "The caller's notices (runs that failed, recovered or succeeded; schedules disabled), newest first",
    schema: { response: { 200: z.array(noticeReplySchema) } },
  }),
  markNoticesRead: route({
    method: "POST",
    url: "/api/notices/read",
    summary: "Marks the caller's notices read (those listed, else all)",
    schema: { body: markNoticesReadBodySchema, response: { 204: noContent } },
  }),
} as const satisfies Record<string, ApiRoute>;

export type ApiRoutes = typeof apiRoutes;
export type ApiRouteName = keyof ApiRoutes;

// Request and reply shapes of sharing a notebook: teammates' grants (by email, with a role) and
// share links (a role cap and an optional expiry; the secret is shown once, when it is made).
import { z } from "zod";
import { notebookRoles } from "../roles";
import { notebookIdSchema } from "../validate";
import { emailSchema } from "./accounts";

export const notebookRoleSchema = z.enum(notebookRoles);
/** What a grant or a link may give: any role but the owner's. */
export const sharedRoleSchema = z.enum(["viewer", "runner", "editor"]);
export type SharedRole = z.infer<typeof sharedRoleSchema>;

/** The header a request may carry a share link's secret in (or the `link` query parameter). */
export const SHARE_LINK_HEADER = "x-cellar-link";

/** The longest share link secret looked up at all (the ones made are far shorter): anything
 * longer is not a link, and is refused before it reaches the database. */
export const SHARE_LINK_MAX_LENGTH = 200;

/** Whether `value` may be a share link's secret, as a socket's handshake or event carries it. */
export function isShareLinkSecret(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= SHARE_LINK_MAX_LENGTH;
}

export const grantReplySchema = z.object({
  userId: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  role: sharedRoleSchema,
  createdAt: z.string(),
});

export const addGrantBodySchema = z.object({ email: emailSchema, role: sharedRoleSchema });
export const updateGrantBodySchema = z.object({ role: sharedRoleSchema });
export const grantParamsSchema = z.object({ id: notebookIdSchema, userId: z.string().min(1).max(100) });

export const shareLinkReplySchema = z.object({
  id: z.string(),
  role: sharedRoleSchema,
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  createdByName: z.string(),
});

export const createShareLinkBodySchema = z.object({
  /** "editor" gives editing to signed-in teammates only; anyone else holding it may run. */
  role: sharedRoleSchema,
  /** Omitted: it does not expire. */
  expiresInDays: z.number().int().min(1).max(366).optional(),
});

/** A new link: `secret` is in `url`; never shown again. */
export const createdShareLinkReplySchema = shareLinkReplySchema.extend({ secret: z.string(), url: z.string() });
export const shareLinkParamsSchema = z.object({ id: notebookIdSchema, linkId: z.string().min(1).max(100) });

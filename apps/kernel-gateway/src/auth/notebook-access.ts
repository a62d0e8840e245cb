// The one answer to "what role has this caller on this notebook": the owner, a teammate's grant,
// or a share link the request carries (`?link=` or the x-cellar-link header). Every notebook
// route asks it before its body is read; the sockets ask it when a page opens a notebook.
import type { FastifyRequest } from "fastify";
import { isShareLinkSecret, type NotebookRole, notebookIdSchema, roleAtLeast, SHARE_LINK_HEADER } from "@cellar/protocol";
import { HttpError } from "../http/http-errors";

export interface NotebookAccess {
  /** The role of `userId` (null: signed out) on the notebook, or null for none (or no such notebook). */
  roleOf(userId: string | null, notebookId: string, linkSecret?: string | null): Promise<NotebookRole | null>;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The caller's role on the route's notebook, once checked (notebook routes only). */
    notebookRole?: NotebookRole;
  }
}

/** The share link's secret a request carries, if any (one too long to be a link is none). */
export function linkSecretOf(request: Pick<FastifyRequest, "headers" | "url">): string | undefined {
  const header = request.headers[SHARE_LINK_HEADER];
  if (isShareLinkSecret(header)) return header;
  const query = new URL(request.url, "http://x").searchParams.get("link");
  return isShareLinkSecret(query) ? query : undefined;
}

/**
 * Refuses the request unless its caller has at least `needed` on the notebook of its `:id`: 404
 * when they have no role at all (the notebook does not exist for them, whatever the request
 * carries), 403 naming the role when theirs is weaker. A malformed id is nobody's notebook: the
 * route's schema answers 400 for it, which tells nothing.
 */
export async function requireNotebookRole(request: FastifyRequest, access: NotebookAccess, needed: NotebookRole): Promise<void> {
  const id = (request.params as { id?: string }).id;
  if (!notebookIdSchema.safeParse(id).success) return;
  const role = await access.roleOf(request.caller?.user.id ?? null, id!, linkSecretOf(request));
  if (!role) throw new HttpError(404, "No such notebook");
  if (!roleAtLeast(role, needed)) throw new HttpError(403, `Needs the ${needed} role on this notebook`);
  request.notebookRole = role;
}

// Sharing a notebook: its owner adds teammates by email with a role, changes and removes them,
// and makes, lists and revokes share links. Only the owner reaches these (the route table's
// role); a change that takes access away is announced, so open sockets can be cut off.
import { GrantRefusedError, type GrantRecord, type ShareLinkRecord, type ShareStore } from "@cellar/db";
import type { ApiHandlers } from "./api-handlers";
import { userOf } from "./auth";
import { HttpError } from "./http-errors";
import { notebookPagePath } from "./notebook-files-api";

/** Whose access to which notebook may have shrunk: a teammate's (grant changed or removed) or a
 * link's holders' (revoked). */
export type AccessChange = { notebookId: string; userId: string } | { notebookId: string; linkId: string };

export interface SharesApiDeps {
  shares: ShareStore;
  onAccessChanged?(change: AccessChange): void;
}

const DAY_MS = 86_400_000;

/** The page a share link opens: the notebook's, with the secret. */
export const shareLinkPath = (notebookId: string, secret: string) => `${notebookPagePath(notebookId)}&link=${encodeURIComponent(secret)}`;

export function sharesApi(
  deps: SharesApiDeps,
): ApiHandlers<"listGrants" | "addGrant" | "updateGrant" | "removeGrant" | "listShareLinks" | "createShareLink" | "revokeShareLink"> {
  const { shares } = deps;
  const changed = (change: AccessChange) => deps.onAccessChanged?.(change);
  return {
    listGrants: async (req) => (await shares.listGrants(req.params.id)).map(grantReply),
    addGrant: async (req) => {
      let grant: GrantRecord;
      try {
        grant = await shares.grant(req.params.id, req.body.email, req.body.role);
      } catch (error) {
        if (error instanceof GrantRefusedError) throw new HttpError(error.reason === "owner" ? 400 : 404, error.message);
        throw error;
      }
      // Sharing again with a weaker role is a change like any other.
      changed({ notebookId: req.params.id, userId: grant.userId });
      return grantReply(grant);
    },
    updateGrant: async (req) => {
      const grant = (await shares.changeRole(req.params.id, req.params.userId, req.body.role)) ?? noGrant();
      changed({ notebookId: req.params.id, userId: grant.userId });
      return grantReply(grant);
    },
    removeGrant: async (req, reply) => {
      if (!(await shares.removeGrant(req.params.id, req.params.userId))) noGrant();
      changed({ notebookId: req.params.id, userId: req.params.userId });
      return reply.code(204).send(null);
    },
    listShareLinks: async (req) => (await shares.listLinks(req.params.id)).map(linkReply),
    createShareLink: async (req, reply) => {
      const { role, expiresInDays } = req.body;
      const link = await shares.createLink({
        notebookId: req.params.id,
        role,
        createdById: userOf(req).id,
        expiresAt: expiresInDays === undefined ? null : new Date(Date.now() + expiresInDays * DAY_MS),
      });
      return reply.code(201).send({ ...linkReply(link), secret: link.secret, url: shareLinkPath(req.params.id, link.secret) });
    },
    revokeShareLink: async (req, reply) => {
      if (!(await shares.revokeLink(req.params.id, req.params.linkId))) throw new HttpError(404, "No such link on this notebook");
      changed({ notebookId: req.params.id, linkId: req.params.linkId });
      return reply.code(204).send(null);
    },
  };
}

function noGrant(): never {
  throw new HttpError(404, "That person has no access to this notebook");
}

function grantReply(grant: GrantRecord) {
  return { userId: grant.userId, name: grant.name, email: grant.email, role: grant.role, createdAt: grant.createdAt.toISOString() };
}

function linkReply(link: ShareLinkRecord) {
  return {
    id: link.id,
    role: link.role,
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt?.toISOString() ?? null,
    createdByName: link.createdByName,
  };
}

// Server state of the Share dialog: a notebook's grants and share links (its owner's to see).
"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiReply } from "@cellar/kernel-client";
import type { SharedRole } from "@cellar/protocol";
import { gateway } from "../../shared/gateway";

export type Grant = ApiReply<"listGrants">[number];
export type ShareLink = ApiReply<"listShareLinks">[number];
export type CreatedShareLink = ApiReply<"createShareLink">;

export const shareKeys = {
  grants: (notebookId: string) => ["shares", notebookId, "grants"] as const,
  links: (notebookId: string) => ["shares", notebookId, "links"] as const,
};

export function useGrants(notebookId: string) {
  return useQuery({ queryKey: shareKeys.grants(notebookId), queryFn: () => gateway.shares.grants(notebookId) });
}

/** A mutation of the notebook's grants; the list is read again after it. */
function useGrantMutation<A>(notebookId: string, mutationFn: (arg: A) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: () => client.invalidateQueries({ queryKey: shareKeys.grants(notebookId), exact: true }),
  });
}

/** Shares with a teammate by email (or changes the role they have). */
export const useAddGrant = (notebookId: string) =>
  useGrantMutation(notebookId, ({ email, role }: { email: string; role: SharedRole }) => gateway.shares.grant(notebookId, email, role));

export const useChangeRole = (notebookId: string) =>
  useGrantMutation(notebookId, ({ userId, role }: { userId: string; role: SharedRole }) =>
    gateway.shares.changeRole(notebookId, userId, role),
  );

export const useRemoveGrant = (notebookId: string) =>
  useGrantMutation(notebookId, (userId: string) => gateway.shares.removeGrant(notebookId, userId));

export function useShareLinks(notebookId: string) {
  return useQuery({ queryKey: shareKeys.links(notebookId), queryFn: () => gateway.shares.links(notebookId) });
}

/** A new link; its secret is in this mutation's answer and nowhere else. */
export function useCreateShareLink(notebookId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ role, expiresInDays }: { role: SharedRole; expiresInDays?: number }) =>
      gateway.shares.createLink(notebookId, role, expiresInDays),
    onSuccess: () => client.invalidateQueries({ queryKey: shareKeys.links(notebookId), exact: true }),
  });
}

export function useRevokeShareLink(notebookId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (linkId: string) => gateway.shares.revokeLink(notebookId, linkId),
    onSuccess: () => client.invalidateQueries({ queryKey: shareKeys.links(notebookId), exact: true }),
  });
}

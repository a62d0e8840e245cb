// Server state of the account feature: the signed-in user, the owner's invites and the user's
// personal access tokens.
"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiReply } from "@cellar/kernel-client";
import { gateway } from "../../shared/gateway";
import { goTo } from "../../shared/navigation";

export type User = ApiReply<"me">["user"];
export type Invite = ApiReply<"listInvites">[number];
export type CreatedInvite = ApiReply<"createInvite">;
export type AccessToken = ApiReply<"listAccessTokens">[number];
export type CreatedAccessToken = ApiReply<"createAccessToken">;

export const accountKeys = {
  me: ["auth", "me"] as const,
  invites: ["invites"] as const,
  invite: (token: string) => ["invites", "check", token] as const,
  tokens: ["auth", "tokens"] as const,
  providers: ["auth", "providers"] as const,
};

/** Who is signed in; it changes only by signing in or out, which reload the page. */
export function useMe() {
  return useQuery({ queryKey: accountKeys.me, queryFn: async () => (await gateway.auth.me()).user, staleTime: Infinity });
}

/** The sign-in methods the gateway offers besides a password; fixed while the page is open. */
export function useAuthProviders() {
  return useQuery({ queryKey: accountKeys.providers, queryFn: gateway.auth.providers, staleTime: Infinity, retry: false });
}

/** Signs in (login) or signs up, then leaves for `to`: a full load, as the session changed. */
export function useSignIn<A>(call: (args: A) => Promise<unknown>, to: () => string) {
  return useMutation({ mutationFn: call, onSuccess: () => goTo(to()) });
}

/** Ends this session (or every session of the user) and goes to the sign-in page. */
export function useSignOut() {
  return useMutation({
    mutationFn: (everywhere: boolean) => (everywhere ? gateway.auth.logoutEverywhere() : gateway.auth.logout()),
    onSuccess: () => goTo("/login/"),
  });
}

export function useSetCredentials() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ email, password }: { email: string; password: string }) => gateway.auth.setCredentials(email, password),
    onSuccess: ({ user }) => client.setQueryData(accountKeys.me, user),
  });
}

/** Whether an invite can still be used; a 410 will not change by asking again. */
export function useInviteCheck(token: string | null) {
  return useQuery({
    queryKey: accountKeys.invite(token ?? ""),
    queryFn: () => gateway.invites.check(token!),
    enabled: !!token,
    retry: false,
  });
}

export function useInvites() {
  return useQuery({ queryKey: accountKeys.invites, queryFn: gateway.invites.list });
}

export function useCreateInvite() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => gateway.invites.create(),
    onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.invites, exact: true }),
  });
}

export function useRevokeInvite() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => gateway.invites.remove(id),
    onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.invites, exact: true }),
  });
}

/** The signed-in user's personal access tokens (never their secrets). */
export function useAccessTokens() {
  return useQuery({ queryKey: accountKeys.tokens, queryFn: gateway.accessTokens.list });
}

/** A new token; its secret is in this mutation's answer and nowhere else. */
export function useCreateAccessToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, expiresInDays }: { name: string; expiresInDays?: number }) => gateway.accessTokens.create(name, expiresInDays),
    onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.tokens, exact: true }),
  });
}

export function useRevokeAccessToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => gateway.accessTokens.remove(id),
    onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.tokens, exact: true }),
  });
}

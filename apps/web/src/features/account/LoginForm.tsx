"use client";
import { useState } from "react";
import { gateway } from "../../shared/gateway";
import { safeNextPath } from "../../shared/login-paths";
import { AccountPage, FormError } from "./AccountPage";
import { useSignIn } from "./account-queries";
import { SingleSignOnButton } from "./SingleSignOnButton";

/** Email and password, and single sign-on when the gateway has it; on success the page goes to
 * `next` (a path on this origin only) or "/". A refusal (wrong password, too many tries) stays on
 * the page with the gateway's words; `error` is one the gateway sent here (a refused single sign-on). */
export function LoginForm({ next, error }: { next: string | null; error?: string | null }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useSignIn(
    (c: { email: string; password: string }) => gateway.auth.login(c.email, c.password),
    () => safeNextPath(next),
  );
  return (
    <AccountPage title="Sign in">
      <form
        className="account-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!login.isPending) login.mutate({ email, password });
        }}
      >
        <label className="field">
          <span>Email</span>
          <input
            type="email"
            name="email"
            autoComplete="email"
            required
            autoFocus
            data-testid="login-email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            data-testid="login-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <FormError error={login.error ?? (error ? new Error(error) : null)} testId="login-error" />
        <button type="submit" className="button button-primary account-submit" data-testid="login-submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <SingleSignOnButton verb="Sign in" next={safeNextPath(next)} />
      <p className="muted account-hint">No account? Ask the owner of this Cellar for an invite link.</p>
    </AccountPage>
  );
}

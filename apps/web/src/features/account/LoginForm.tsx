"use client";
import { useState } from "react";
import { gateway } from "../../shared/gateway";
import { safeNextPath } from "../../shared/login-paths";
import { AccountPage, FormError } from "./AccountPage";
import { useSignIn } from "./account-queries";

/** Email and password; on success the page goes to `next` (a path on this origin only) or "/".
 * A refusal (wrong password, too many tries) stays on the page with the gateway's words. */
export function LoginForm({ next }: { next: string | null }) {
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
        <FormError error={login.error} testId="login-error" />
        <button type="submit" className="button button-primary account-submit" data-testid="login-submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="muted account-hint">No account? Ask the owner of this Cellar for an invite link.</p>
    </AccountPage>
  );
}

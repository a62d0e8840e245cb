"use client";
import { useState } from "react";
import { GatewayError } from "@cellar/kernel-client";
import { gateway } from "../../shared/gateway";
import { AccountPage, FormError } from "./AccountPage";
import { NewPasswordField } from "./NewPasswordField";
import { useInviteCheck, useSignIn } from "./account-queries";
import { SingleSignOnButton } from "./SingleSignOnButton";

const isGone = (e: unknown) => e instanceof GatewayError && e.status === 410;

/** Sign-up with an invite link (`?invite=TOKEN`): the invite is checked first, and only one that
 * can still be used gets a form. Signing up signs in, then the page goes home. */
export function SignupForm({ invite }: { invite: string | null }) {
  const check = useInviteCheck(invite);
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const signup = useSignIn(gateway.auth.signup, () => "/");

  if (!invite) return <NoForm message="This sign-up link has no invite in it. Ask the owner of this Cellar for an invite link." />;
  // Used, expired or revoked, now or while the form was open.
  if (isGone(check.error) || isGone(signup.error)) return <NoForm message="This invite has been used or has expired" />;
  if (check.error) return <NoForm message={`Could not check the invite: ${check.error.message}`} />;
  if (!check.data) return <NoForm message="Checking your invite…" quiet />;

  return (
    <AccountPage title="Create your account">
      <p className="account-invited-by" data-testid="signup-invited-by">
        {check.data.invitedBy} invited you to Cellar
      </p>
      <form
        className="account-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!signup.isPending) signup.mutate({ invite, name, email, password });
        }}
      >
        <label className="field">
          <span>Name</span>
          <input
            name="name"
            autoComplete="name"
            required
            autoFocus
            data-testid="signup-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Email</span>
          <input
            type="email"
            name="email"
            autoComplete="email"
            required
            data-testid="signup-email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <NewPasswordField testId="signup-password" value={password} onChange={setPassword} />
        <FormError error={signup.error} testId="signup-error" />
        <button type="submit" className="button button-primary account-submit" data-testid="signup-submit" disabled={signup.isPending}>
          {signup.isPending ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <SingleSignOnButton verb="Sign up" invite={invite} />
      <p className="muted account-hint">
        Already have an account? <a href="/login/">Sign in</a>
      </p>
    </AccountPage>
  );
}

function NoForm({ message, quiet }: { message: string; quiet?: boolean }) {
  return (
    <AccountPage title="Sign up">
      <p className={quiet ? "muted" : undefined} data-testid={quiet ? undefined : "signup-invite-gone"}>
        {message}
      </p>
      {!quiet && (
        <p className="muted account-hint">
          Already have an account? <a href="/login/">Sign in</a>
        </p>
      )}
    </AccountPage>
  );
}

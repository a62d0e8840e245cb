"use client";
import { gateway } from "../../shared/gateway";
import { useAuthProviders } from "./account-queries";

/** "Sign in with <provider>" (or "Sign up with", for an invite) when the gateway has single sign-on:
 * a link, since the gateway answers it by sending the browser to the provider. Nothing otherwise. */
export function SingleSignOnButton({ verb, next, invite }: { verb: "Sign in" | "Sign up"; next?: string; invite?: string }) {
  const oidc = useAuthProviders().data?.oidc;
  if (!oidc) return null;
  return (
    <div className="account-sso">
      <span className="account-sso-or muted">or</span>
      {oidc.reachable ? (
        <a className="button account-submit" data-testid="oidc-sign-in" href={gateway.url(gateway.auth.singleSignOnPath({ next, invite }))}>
          {verb} with {oidc.name}
        </a>
      ) : (
        <p className="muted account-hint" data-testid="oidc-unreachable">
          {oidc.name} cannot be reached right now.
        </p>
      )}
    </div>
  );
}

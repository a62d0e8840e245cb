"use client";
import { useState } from "react";
import { timeAgo } from "../../shared/format-time";
import { AccountDialog } from "./AccountDialog";
import { FormError } from "./AccountPage";
import { ExpirySelect, expiresInDays, expiryText, latestError, ShownOnce } from "./shown-once";
import { useAccessTokens, useCreateAccessToken, useRevokeAccessToken, type AccessToken } from "./account-queries";

const EXPIRY_CHOICES = [
  { value: "", label: "Never" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
];

/** "Access tokens": personal access tokens for the `cellar` command and scripts. A new token's
 * secret is shown right after it is made, the only time the gateway gives it out (it lives in
 * this dialog's mutation, so closing the dialog drops it); below, the user's tokens, each
 * revocable. */
export function AccessTokensDialog({ onClose }: { onClose(): void }) {
  const [name, setName] = useState("");
  const [expiry, setExpiry] = useState("30");
  const tokens = useAccessTokens();
  const create = useCreateAccessToken();
  const revoke = useRevokeAccessToken();
  const created = create.data;
  const now = Date.now();
  const error = latestError(create, revoke) ?? tokens.error;

  const onRevoke = (token: AccessToken) =>
    revoke.mutate(token.id, {
      onSuccess: () => {
        if (token.id === created?.id) create.reset(); // the secret above no longer works
      },
    });

  return (
    <AccountDialog title="Access tokens" testId="access-tokens-dialog" onClose={onClose}>
      <p className="confirm-dialog-body">
        A token lets the <code>cellar</code> command and scripts act as you. Anyone holding it can, so keep it like a password.
      </p>
      <form
        className="account-form token-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (create.isPending) return;
          create.mutate({ name, expiresInDays: expiresInDays(expiry) }, { onSuccess: () => setName("") });
        }}
      >
        <label className="field">
          <span>Name</span>
          <input
            required
            maxLength={100}
            placeholder="laptop CLI"
            autoComplete="off"
            autoFocus
            data-testid="token-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <ExpirySelect choices={EXPIRY_CHOICES} value={expiry} onChange={setExpiry} testId="token-expiry" />
        <button type="submit" className="button button-primary" data-testid="token-create" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create token"}
        </button>
      </form>
      {created && <NewToken secret={created.token} />}
      <FormError error={error} testId="token-error" />
      <h3 className="invite-pending-heading">Your tokens</h3>
      {tokens.data?.length === 0 && <p className="muted">None yet.</p>}
      <ul className="invite-pending">
        {(tokens.data ?? []).map((token) => (
          <li key={token.id} data-testid="token-row">
            <span>
              <strong>{token.name}</strong> · created {timeAgo(token.createdAt, now)} ·{" "}
              {token.lastUsedAt ? `last used ${timeAgo(token.lastUsedAt, now)}` : "never used"} · {expiryText(token.expiresAt, now)}
              {token.id === created?.id && <span className="muted"> (the one above)</span>}
            </span>
            <button
              type="button"
              className="button button-small button-danger"
              data-testid="token-revoke"
              aria-label={`Revoke ${token.name}`}
              onClick={() => onRevoke(token)}
              disabled={revoke.isPending && revoke.variables === token.id}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <div className="confirm-dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Done
        </button>
      </div>
    </AccountDialog>
  );
}

/** The secret, once, and how the CLI takes it: the gateway URL with `?token=`, as `npm start`
 * prints it for the owner. */
function NewToken({ secret }: { secret: string }) {
  const url = `${window.location.origin}/?token=${encodeURIComponent(secret)}`;
  return (
    <ShownOnce label="Your new token" value={secret} testId="token-secret" copyTestId="token-copy">
      <p className="field-hint">Use it from a terminal:</p>
      <pre className="token-usage" data-testid="token-usage">
        {`export CELLAR_URL='${url}'\nnpx cellar run analysis.ipynb -o out.ipynb`}
      </pre>
    </ShownOnce>
  );
}

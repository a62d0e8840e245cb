"use client";
import { useState } from "react";
import { fullDate, timeAgo } from "../../shared/format-time";
import { AccountDialog } from "./AccountDialog";
import { CopyField } from "./CopyField";
import { FormError } from "./AccountPage";
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
  // What the user did last decides what the alert says; a failed listing otherwise.
  const latestError =
    (create.submittedAt >= revoke.submittedAt ? (create.error ?? revoke.error) : (revoke.error ?? create.error)) ?? tokens.error;

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
          create.mutate({ name, expiresInDays: expiry ? Number(expiry) : undefined }, { onSuccess: () => setName("") });
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
        <label className="field">
          <span>Expires</span>
          <select data-testid="token-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button button-primary" data-testid="token-create" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create token"}
        </button>
      </form>
      {created && <NewToken secret={created.token} />}
      <FormError error={latestError} testId="token-error" />
      <h3 className="invite-pending-heading">Your tokens</h3>
      {tokens.data?.length === 0 && <p className="muted">None yet.</p>}
      <ul className="invite-pending">
        {(tokens.data ?? []).map((token) => (
          <li key={token.id} data-testid="token-row">
            <span>
              <strong>{token.name}</strong> · created {timeAgo(token.createdAt, now)} ·{" "}
              {token.lastUsedAt ? `last used ${timeAgo(token.lastUsedAt, now)}` : "never used"} · {expiryText(token, now)}
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
    <div className="token-new">
      <CopyField label="Your new token" value={secret} testId="token-secret" copyTestId="token-copy" />
      <p className="token-warning">
        <strong>Copy it now: it is not shown again.</strong>
      </p>
      <p className="field-hint">Use it from a terminal:</p>
      <pre className="token-usage" data-testid="token-usage">
        {`export CELLAR_URL='${url}'\nnpx cellar run analysis.ipynb -o out.ipynb`}
      </pre>
    </div>
  );
}

function expiryText(token: AccessToken, now: number): string {
  if (token.expiresAt === null) return "never expires";
  return Date.parse(token.expiresAt) <= now ? `expired ${fullDate(token.expiresAt)}` : `expires ${fullDate(token.expiresAt)}`;
}

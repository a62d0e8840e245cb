"use client";
import { useState } from "react";
import { AccountDialog } from "./AccountDialog";
import { FormError } from "./AccountPage";
import { NewPasswordField } from "./NewPasswordField";
import { useSetCredentials } from "./account-queries";

/** For the owner who came in by the URL `npm start` prints: an email and password of their own,
 * so they can sign in on the sign-in page later. */
export function CredentialsDialog({ onClose }: { onClose(): void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const save = useSetCredentials();
  return (
    <AccountDialog title="Set email and password" testId="credentials-dialog" onClose={onClose}>
      <form
        className="account-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!save.isPending) save.mutate({ email, password }, { onSuccess: onClose });
        }}
      >
        <p className="confirm-dialog-body">So you can sign in on the sign-in page, not only with the URL printed at start.</p>
        <label className="field">
          <span>Email</span>
          <input
            type="email"
            autoComplete="email"
            required
            autoFocus
            data-testid="credentials-email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <NewPasswordField testId="credentials-password" value={password} onChange={setPassword} />
        <FormError error={save.error} testId="credentials-error" />
        <div className="confirm-dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" data-testid="credentials-submit" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </AccountDialog>
  );
}

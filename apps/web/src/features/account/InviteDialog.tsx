"use client";
import { useEffect, useRef } from "react";
import { fullDate, timeAgo } from "../../shared/format-time";
import { AccountDialog } from "./AccountDialog";
import { CopyField } from "./CopyField";
import { FormError } from "./AccountPage";
import { useCreateInvite, useInvites, useRevokeInvite, type Invite } from "./account-queries";

/** "Invite a teammate" (owners): opening it makes a single-use, expiring invite and shows its
 * link, the only time the gateway gives it out; below, the invites not used yet, each revocable. */
export function InviteDialog({ onClose }: { onClose(): void }) {
  const create = useCreateInvite();
  const invites = useInvites();
  const revoke = useRevokeInvite();
  const started = useRef(false);
  useEffect(() => {
    // Once per opening, even when strict mode runs effects twice.
    if (started.current) return;
    started.current = true;
    create.mutate();
  }, [create]);

  const created = create.data;
  const now = Date.now();
  const pending = (invites.data ?? []).filter((i) => i.usedAt === null && Date.parse(i.expiresAt) > now);

  const onRevoke = (invite: Invite) =>
    revoke.mutate(invite.id, {
      onSuccess: () => {
        if (invite.id === created?.id) create.reset(); // its link no longer works: stop showing it
      },
    });

  return (
    <AccountDialog title="Invite a teammate" testId="invite-dialog" onClose={onClose}>
      <p className="confirm-dialog-body">
        Anyone with this link can create an account on this Cellar. It works once
        {created ? `, until ${fullDate(created.expiresAt)}` : ""}.
      </p>
      {create.isPending && <p className="muted">Creating a link…</p>}
      {created && <CopyField label="Invite link" value={created.url} testId="invite-link" copyTestId="invite-copy" />}
      <FormError error={create.error ?? revoke.error} testId="invite-error" />
      <div className="confirm-dialog-actions">
        <button type="button" className="button" data-testid="invite-create" onClick={() => create.mutate()} disabled={create.isPending}>
          New link
        </button>
        <button type="button" className="button button-primary" onClick={onClose}>
          Done
        </button>
      </div>
      <h3 className="invite-pending-heading">Pending invites</h3>
      {invites.error && <p className="error-text">Could not list invites: {invites.error.message}</p>}
      {invites.data && pending.length === 0 && <p className="muted">None.</p>}
      <ul className="invite-pending">
        {pending.map((invite) => (
          <li key={invite.id} data-testid="invite-pending">
            <span>
              Made {timeAgo(invite.createdAt, now)}, expires {fullDate(invite.expiresAt)}
              {invite.id === created?.id && <span className="muted"> (the link above)</span>}
            </span>
            <button
              type="button"
              className="button button-small button-danger"
              data-testid="invite-revoke"
              onClick={() => onRevoke(invite)}
              disabled={revoke.isPending && revoke.variables === invite.id}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
    </AccountDialog>
  );
}

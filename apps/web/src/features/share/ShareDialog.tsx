"use client";
import { useId, useState } from "react";
import type { SharedRole } from "@cellar/protocol";
import { fullDate } from "../../shared/format-time";
import { AccountDialog } from "../account/AccountDialog";
import { FormError } from "../account/AccountPage";
import { ExpirySelect, expiresInDays, expiryText, latestError, ShownOnce } from "../account/shown-once";
import { useMe } from "../account/account-queries";
import {
  useAddGrant,
  useChangeRole,
  useCreateShareLink,
  useGrants,
  useRemoveGrant,
  useRevokeShareLink,
  useShareLinks,
  type Grant,
  type ShareLink,
} from "./share-queries";

const PERSON_ROLES: Array<{ value: SharedRole; label: string }> = [
  { value: "editor", label: "Can edit" },
  { value: "runner", label: "Can run" },
  { value: "viewer", label: "Can view" },
];

const LINK_ROLES: Array<{ value: SharedRole; label: string }> = [
  { value: "viewer", label: "Can view" },
  { value: "runner", label: "Can run" },
  { value: "editor", label: "Can edit (signed-in teammates; others can run)" },
];

const LINK_EXPIRY = [
  { value: "", label: "Never" },
  { value: "1", label: "1 day" },
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
];

const roleLabel = (role: SharedRole) => PERSON_ROLES.find((r) => r.value === role)!.label;

/** "Share": who has access to the notebook (its owner first), adding teammates by email with a
 * role, changing and removing them; and share links with a role cap and an expiry, a new one's
 * address shown once (it lives in this dialog's mutation), each revocable. The owner's only; the
 * gateway refuses anyone else. */
export function ShareDialog({ notebookId, onClose }: { notebookId: string; onClose(): void }) {
  return (
    <AccountDialog title="Share" testId="share-dialog" onClose={onClose}>
      <People notebookId={notebookId} />
      <Links notebookId={notebookId} />
      <div className="confirm-dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Done
        </button>
      </div>
    </AccountDialog>
  );
}

function People({ notebookId }: { notebookId: string }) {
  const me = useMe();
  const grants = useGrants(notebookId);
  const add = useAddGrant(notebookId);
  const change = useChangeRole(notebookId);
  const remove = useRemoveGrant(notebookId);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<SharedRole>("editor");
  const roleId = useId();
  const error = latestError(add, change, remove) ?? grants.error;

  return (
    <section aria-labelledby="share-people-heading">
      <h3 id="share-people-heading" className="invite-pending-heading">
        People
      </h3>
      <form
        className="account-form token-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!add.isPending) add.mutate({ email, role }, { onSuccess: () => setEmail("") });
        }}
      >
        <label className="field">
          <span>Email</span>
          <input
            type="email"
            required
            placeholder="teammate@example.com"
            autoComplete="off"
            autoFocus
            data-testid="share-email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <div className="field">
          <label htmlFor={roleId}>Role</label>
          <RoleSelect id={roleId} value={role} onChange={setRole} choices={PERSON_ROLES} testId="share-role" />
        </div>
        <button type="submit" className="button button-primary" data-testid="share-add" disabled={add.isPending}>
          {add.isPending ? "Adding…" : "Add"}
        </button>
      </form>
      <FormError error={error} testId="share-error" />
      <ul className="invite-pending share-people" data-testid="share-people">
        {me.data && (
          <li data-testid="share-owner">
            <span>
              <strong>{me.data.name}</strong> (you) {me.data.email && <span className="muted">{me.data.email}</span>}
            </span>
            <span>Owner</span>
          </li>
        )}
        {(grants.data ?? []).map((grant) => (
          <li key={grant.userId} data-testid="share-person" data-email={grant.email ?? ""}>
            <span>
              <strong>{grant.name}</strong> {grant.email && <span className="muted">{grant.email}</span>}
            </span>
            <span className="share-person-actions">
              <RoleSelect
                value={grant.role}
                onChange={(next) => change.mutate({ userId: grant.userId, role: next })}
                choices={PERSON_ROLES}
                testId="share-person-role"
                label={`Role of ${grant.name}`}
              />
              <RemoveButton
                grant={grant}
                onRemove={() => remove.mutate(grant.userId)}
                busy={remove.isPending && remove.variables === grant.userId}
              />
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RemoveButton({ grant, onRemove, busy }: { grant: Grant; onRemove(): void; busy: boolean }) {
  return (
    <button
      type="button"
      className="button button-small button-danger"
      data-testid="share-person-remove"
      aria-label={`Remove ${grant.name}`}
      onClick={onRemove}
      disabled={busy}
    >
      Remove
    </button>
  );
}

function Links({ notebookId }: { notebookId: string }) {
  const links = useShareLinks(notebookId);
  const create = useCreateShareLink(notebookId);
  const revoke = useRevokeShareLink(notebookId);
  const [role, setRole] = useState<SharedRole>("viewer");
  const [expiry, setExpiry] = useState("");
  const roleId = useId();
  const created = create.data;
  const now = Date.now();
  const error = latestError(create, revoke) ?? links.error;

  const onRevoke = (link: ShareLink) =>
    revoke.mutate(link.id, {
      onSuccess: () => {
        if (link.id === created?.id) create.reset(); // the address above no longer works
      },
    });

  return (
    <section aria-labelledby="share-links-heading">
      <h3 id="share-links-heading" className="invite-pending-heading">
        Links
      </h3>
      <p className="field-hint">Anyone holding a link opens this notebook with its role, without an account.</p>
      <form
        className="account-form token-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!create.isPending) create.mutate({ role, expiresInDays: expiresInDays(expiry) });
        }}
      >
        <div className="field">
          <label htmlFor={roleId}>Role</label>
          <RoleSelect id={roleId} value={role} onChange={setRole} choices={LINK_ROLES} testId="share-link-role" />
        </div>
        <ExpirySelect choices={LINK_EXPIRY} value={expiry} onChange={setExpiry} testId="share-link-expiry" />
        <button type="submit" className="button button-primary" data-testid="share-link-create" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create link"}
        </button>
      </form>
      {created && (
        <ShownOnce
          label="Your new link"
          value={`${window.location.origin}${created.url}`}
          testId="share-link-url"
          copyTestId="share-link-copy"
        />
      )}
      <FormError error={error} testId="share-link-error" />
      {links.data?.length === 0 && <p className="muted">No links.</p>}
      <ul className="invite-pending">
        {(links.data ?? []).map((link) => (
          <li key={link.id} data-testid="share-link-row">
            <span>
              <strong>{roleLabel(link.role)}</strong> · by {link.createdByName} · created {fullDate(link.createdAt)} ·{" "}
              {expiryText(link.expiresAt, now)}
              {link.id === created?.id && <span className="muted"> (the one above)</span>}
            </span>
            <button
              type="button"
              className="button button-small button-danger"
              data-testid="share-link-revoke"
              aria-label={`Revoke the ${roleLabel(link.role).toLowerCase()} link`}
              onClick={() => onRevoke(link)}
              disabled={revoke.isPending && revoke.variables === link.id}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RoleSelect({
  id,
  value,
  onChange,
  choices,
  testId,
  label,
}: {
  value: SharedRole;
  onChange(role: SharedRole): void;
  choices: Array<{ value: SharedRole; label: string }>;
  testId: string;
  label?: string;
  id?: string;
}) {
  return (
    <select id={id} data-testid={testId} aria-label={label} value={value} onChange={(e) => onChange(e.target.value as SharedRole)}>
      {choices.map((c) => (
        <option key={c.value} value={c.value}>
          {c.label}
        </option>
      ))}
    </select>
  );
}

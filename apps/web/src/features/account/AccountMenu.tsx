"use client";
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { AccessTokensDialog } from "./AccessTokensDialog";
import { CredentialsDialog } from "./CredentialsDialog";
import { InviteDialog } from "./InviteDialog";
import { useMe, useSignOut, type User } from "./account-queries";

type Dialog = "invite" | "credentials" | "tokens" | null;

/** The signed-in user's name in the header, opening a menu: invites (owners), an email and
 * password for the owner who came in by the printed URL, personal access tokens (everyone), and
 * signing out here or everywhere.
 * Shows nothing until the gateway says who is signed in (a 401 sends the page to sign in). */
export function AccountMenu() {
  const me = useMe();
  const [open, setOpen] = useState(false);
  const [dialog, setDialog] = useState<Dialog>(null);
  const signOut = useSignOut();
  const root = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    // The first item takes focus, as in a menu button (WAI-ARIA APG).
    root.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [open]);

  const user = me.data;
  if (!user) return null;

  const choose = (action: () => void) => () => {
    setOpen(false);
    action();
  };
  const onMenuKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      setOpen(false);
      trigger.current?.focus();
      return;
    }
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    const items = [...e.currentTarget.querySelectorAll<HTMLElement>('[role="menuitem"]')];
    const at = items.indexOf(document.activeElement as HTMLElement);
    items[(at + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length]?.focus();
  };

  return (
    <div className="account-menu" ref={root}>
      <button
        ref={trigger}
        type="button"
        className="account-trigger"
        data-testid="account-menu"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="account-avatar" aria-hidden="true">
          {initial(user)}
        </span>
        <span data-testid="account-name">{user.name}</span>
      </button>
      {open && (
        <div className="account-dropdown" role="menu" id={menuId} aria-label="Account" tabIndex={-1} onKeyDown={onMenuKey}>
          <div className="account-who">
            <strong>{user.name}</strong>
            <span className="muted">{user.email ?? "no email yet"}</span>
          </div>
          {user.role === "owner" && (
            <MenuItem testId="invite-teammate" onClick={choose(() => setDialog("invite"))}>
              Invite a teammate
            </MenuItem>
          )}
          {user.role === "owner" && user.email === null && (
            <MenuItem testId="set-credentials" onClick={choose(() => setDialog("credentials"))}>
              Set email and password
            </MenuItem>
          )}
          <MenuItem testId="access-tokens" onClick={choose(() => setDialog("tokens"))}>
            Access tokens
          </MenuItem>
          <MenuItem testId="sign-out" onClick={choose(() => signOut.mutate(false))}>
            Sign out
          </MenuItem>
          <MenuItem testId="sign-out-everywhere" onClick={choose(() => signOut.mutate(true))}>
            Sign out everywhere
          </MenuItem>
        </div>
      )}
      {signOut.error && (
        <div className="account-error" role="alert" data-testid="account-error">
          Could not sign out: {signOut.error.message}
        </div>
      )}
      {dialog === "invite" && <InviteDialog onClose={() => setDialog(null)} />}
      {dialog === "credentials" && <CredentialsDialog onClose={() => setDialog(null)} />}
      {dialog === "tokens" && <AccessTokensDialog onClose={() => setDialog(null)} />}
    </div>
  );
}

function MenuItem({ testId, onClick, children }: { testId: string; onClick(): void; children: string }) {
  return (
    <button type="button" role="menuitem" className="account-item" data-testid={testId} tabIndex={-1} onClick={onClick}>
      {children}
    </button>
  );
}

const initial = (user: User) => (user.name.trim()[0] ?? "?").toLocaleUpperCase();

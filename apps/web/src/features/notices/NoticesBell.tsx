"use client";
import { useEffect, useRef, useState } from "react";
import { fullDate } from "../../shared/format-time";
import { runHref } from "../runs/run-format";
import { useMarkNoticesRead, useNotices } from "./notice-queries";
import "./notices.css";
import { BellIcon } from "../../shared/icons";

/** The header's bell: how many notices are unread (read every 30 s), and their list, newest
 * first, each with its run when it has one; "Mark all read". Nothing until the list has come. */
export function NoticesBell() {
  const notices = useNotices();
  const markRead = useMarkNoticesRead();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const list = notices.data;
  if (!list) return null;
  const unread = list.filter((n) => !n.readAt);
  return (
    <div className="notice-menu" ref={root}>
      <button
        type="button"
        className="notice-bell"
        data-testid="notice-bell"
        aria-label={unread.length ? `Notifications, ${unread.length} unread` : "Notifications"}
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <BellIcon />
        {unread.length > 0 && (
          <span className="notice-count" data-testid="notice-count">
            {unread.length}
          </span>
        )}
      </button>
      {open && (
        <div className="notice-dropdown" data-testid="notice-list">
          <div className="notice-dropdown-bar">
            <strong>Notifications</strong>
            <button
              type="button"
              className="link-button"
              data-testid="notice-mark-all-read"
              disabled={unread.length === 0 || markRead.isPending}
              onClick={() => markRead.mutate(undefined)}
            >
              Mark all read
            </button>
          </div>
          {list.length === 0 && (
            <p className="muted notice-empty" data-testid="notice-empty">
              Nothing yet.
            </p>
          )}
          <ul>
            {list.map((n) => (
              <li key={n.id} data-testid="notice-item" data-kind={n.kind} data-read={n.readAt !== null}>
                <span className="notice-message">{n.message}</span>
                <span className="muted notice-time">{fullDate(n.createdAt)}</span>
                <span className="notice-item-actions">
                  {n.runId && (
                    <a href={runHref(n.runId)} data-testid="notice-run-link" onClick={() => !n.readAt && markRead.mutate([n.id])}>
                      Open run
                    </a>
                  )}
                  {!n.readAt && (
                    <button type="button" className="link-button" data-testid="notice-mark-read" onClick={() => markRead.mutate([n.id])}>
                      Mark read
                    </button>
                  )}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

"use client";
import type { ReactNode } from "react";
import { fullDate } from "../../shared/format-time";
import { CopyField } from "./CopyField";

/** The pieces the dialogs that hand out a secret once share (access tokens, share links): an
 * expiry choice, a secret shown once with Copy, the expiry in words, and the error to show. */

export interface ExpiryChoice {
  value: string;
  label: string;
}

export function ExpirySelect({
  choices,
  value,
  onChange,
  testId,
}: {
  choices: ExpiryChoice[];
  value: string;
  onChange(value: string): void;
  testId: string;
}) {
  return (
    <label className="field">
      <span>Expires</span>
      <select data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)}>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** "" (never) or a number of days, as the create routes take it. */
export const expiresInDays = (choice: string): number | undefined => (choice ? Number(choice) : undefined);

export function ShownOnce({
  label,
  value,
  testId,
  copyTestId,
  children,
}: {
  label: string;
  value: string;
  testId: string;
  copyTestId: string;
  children?: ReactNode;
}) {
  return (
    <div className="token-new">
      <CopyField label={label} value={value} testId={testId} copyTestId={copyTestId} />
      <p className="token-warning">
        <strong>Copy it now: it is not shown again.</strong>
      </p>
      {children}
    </div>
  );
}

export function expiryText(expiresAt: string | null, now: number): string {
  if (expiresAt === null) return "never expires";
  return Date.parse(expiresAt) <= now ? `expired ${fullDate(expiresAt)}` : `expires ${fullDate(expiresAt)}`;
}

/** The error of the mutation the user made last, so the alert speaks of what they just did. */
export function latestError(...mutations: Array<{ submittedAt: number; error: Error | null }>): Error | null {
  const last = mutations.reduce((a, b) => (b.submittedAt > a.submittedAt ? b : a));
  return last.error;
}

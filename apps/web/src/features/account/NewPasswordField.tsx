"use client";
import { MIN_PASSWORD_LENGTH } from "@cellar/protocol";

/** A new password's field, with the gateway's one rule (its length) said and checked. */
export function NewPasswordField({ testId, value, onChange }: { testId: string; value: string; onChange(value: string): void }) {
  return (
    <label className="field">
      <span>Password</span>
      <input
        type="password"
        name="password"
        autoComplete="new-password"
        required
        minLength={MIN_PASSWORD_LENGTH}
        aria-describedby={`${testId}-hint`}
        data-testid={testId}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      <span className="field-hint" id={`${testId}-hint`}>
        At least {MIN_PASSWORD_LENGTH} characters.
      </span>
    </label>
  );
}

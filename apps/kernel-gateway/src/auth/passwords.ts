// Password hashing: argon2id through @node-rs/argon2 with its defaults (19 MiB, 2 passes: OWASP's
// minimum for argon2id). The hash string carries its own parameters, so stronger ones later still
// verify old hashes.
import { hash, verify } from "@node-rs/argon2";

export const hashPassword = (password: string): Promise<string> => hash(password);

// Checked against when the email is unknown, so that a wrong email takes as long as a wrong
// password and the answer time does not tell which accounts exist.
let decoy: Promise<string> | undefined;

/** Whether `password` matches `stored`; a user without a password (null) never matches. */
export async function passwordMatches(stored: string | null, password: string): Promise<boolean> {
  if (!stored) {
    decoy ??= hash("not a password anyone has");
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}

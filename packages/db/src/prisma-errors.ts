// Recognising Prisma's errors the stores turn into their own, whichever driver adapter raised them.

/** Prisma's unique-constraint error (P2002), however the driver adapter words it. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === "P2002" || /unique constraint/i.test(e?.message ?? "");
}

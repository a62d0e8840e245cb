// Request and reply shapes of the account routes: sign in and out, the signed-in user, invites
// and signing up with one. Emails are compared lower-cased; passwords are checked for length
// only (NIST 800-63B: no composition rules), and never come back in a reply.
import { z } from "zod";

export const instanceRoleSchema = z.enum(["owner", "member"]);
export type InstanceRole = z.infer<typeof instanceRoleSchema>;

/** Trimmed and lower-cased: accounts are found by email as stored. */
export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email("not an email address"))
  .transform((e) => e.toLowerCase());
/** The one rule a new password must meet (NIST 800-63B: length, no composition rules). */
export const MIN_PASSWORD_LENGTH = 10;
const passwordSchema = z.string().min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`).max(256, "at most 256 characters");

export const userReplySchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  role: instanceRoleSchema,
});
export type UserReply = z.infer<typeof userReplySchema>;

export const meReplySchema = z.object({ user: userReplySchema });

export const loginBodySchema = z.object({ email: emailSchema, password: z.string().min(1).max(256) });

export const signupBodySchema = z.object({
  invite: z.string().min(1).max(200),
  name: z.string().trim().min(1, "a name is needed").max(200),
  email: emailSchema,
  password: passwordSchema,
});

/** The owner who signed in with the instance token sets an email and password of their own. */
export const credentialsBodySchema = z.object({ email: emailSchema, password: passwordSchema });

export const createInviteBodySchema = z
  .object({
    expiresInHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 30)
      .optional(),
  })
  .nullish()
  .transform((b) => ({ expiresInHours: b?.expiresInHours ?? 72 }));

export const inviteReplySchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
});

/** A new invite: the only time its link (with the token) is shown. */
export const createdInviteReplySchema = inviteReplySchema.extend({ url: z.string(), token: z.string() });

export const inviteParamsSchema = z.object({ token: z.string().min(1).max(200) });
export const inviteIdParamsSchema = z.object({ id: z.string().min(1).max(100) });

/** What the sign-up page shows before anyone signs up with the invite. */
export const inviteCheckReplySchema = z.object({ invitedBy: z.string(), expiresAt: z.string() });

/** A personal access token as listed (its secret is shown once, when it is made). */
export const accessTokenReplySchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});

export const createAccessTokenBodySchema = z.object({
  name: z.string().trim().min(1, "a name is needed").max(100),
  /** Omitted: it does not expire. */
  expiresInDays: z.number().int().min(1).max(366).optional(),
});

/** A new token: `token` is the secret the CLI and API take as a bearer token; never shown again. */
export const createdAccessTokenReplySchema = accessTokenReplySchema.extend({ token: z.string() });

export const accessTokenParamsSchema = z.object({ id: z.string().min(1).max(100) });

/** The sign-in methods the login page offers: a password always; single sign-on when the gateway
 * is configured with an OpenID Connect provider (`reachable` false while its discovery fails). */
export const authProvidersReplySchema = z.object({
  oidc: z.object({ name: z.string(), reachable: z.boolean() }).nullable(),
});

/** Where single sign-on returns to (a path on this origin), and the invite it signs up with. */
export const oidcStartQuerySchema = z.object({
  next: z.string().max(2000).optional(),
  invite: z.string().min(1).max(200).optional(),
});

/** What the provider sends back (code, state, iss; or error): read by the OpenID Connect client. */
export const oidcCallbackQuerySchema = z.looseObject({});

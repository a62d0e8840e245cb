// The one error body every gateway route answers with (4xx and 5xx alike).
import { z } from "zod";

/** One field of a request found wrong, in words the form shows beside that field. `field` is the
 * body's key ("cron", "timezone", …; a nested one is dotted), "" for the body as a whole. */
export const fieldErrorSchema = z.object({ field: z.string(), message: z.string() });
export type FieldError = z.infer<typeof fieldErrorSchema>;

export const errorReplySchema = z.object({
  error: z.string(),
  /** One line per thing found wrong (an invalid .ipynb: which cell, which field). */
  problems: z.array(z.string()).optional(),
  /** A form's fields found wrong (a schedule's 400), each with its reason. */
  fields: z.array(fieldErrorSchema).optional(),
});
export type ErrorReply = z.infer<typeof errorReplySchema>;

/** A failed parse as field errors: one per issue, and one per unknown key (the schema's message
 * for the body as a whole would hide which key it was). */
export function fieldErrorsOf(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ field: [...issue.path, key].join("."), message: `Unknown field '${key}'` }))
      : [{ field: issue.path.join("."), message: issue.message }],
  );
}

// The one error body every gateway route answers with (4xx and 5xx alike).
import { z } from "zod";

export const errorReplySchema = z.object({
  error: z.string(),
  /** One line per thing found wrong (an invalid .ipynb: which cell, which field). */
  problems: z.array(z.string()).optional(),
});
export type ErrorReply = z.infer<typeof errorReplySchema>;

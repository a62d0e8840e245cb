// The one home of HTTP errors: handlers (and the body parser) throw HttpError; this turns it, a
// failed zod check, a body over its limit and an unknown route into the API's one error body,
// `{ error, problems? }`. A database that cannot be reached is a 503 with the reason (try again:
// nothing was half-written, since every change is one transaction). Anything else is a 500 that
// is logged and not explained to the client.
import { databaseUnavailableReason } from "@cellar/db";
import { ClusterUnavailableError } from "../cluster/kernel-router";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import type { ApiRawBody, ErrorReply, FieldError } from "@cellar/protocol";

export class HttpError extends Error {
  /** A form's fields found wrong (a schedule's 400), each with its reason. */
  fields?: FieldError[];
  constructor(
    readonly status: number,
    message: string,
    readonly problems?: string[],
  ) {
    super(message);
  }
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** How the route's body is read (raw bytes, text, or JSON when unset). */
    raw?: ApiRawBody;
    /** What the route answers when its body is over its limit. */
    tooLarge?: string;
  }
}

/** Field names as the error messages call them. */
const FIELD_LABELS: Record<string, string> = { id: "notebook id" };

/** "Bad path: path may not contain '..'", "Bad cells.0.cell_type: Invalid option…": the first
 * problem, naming the field, as the old hand-written checks did. */
function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  const field = first?.instancePath.split("/").filter(Boolean).join(".") ?? "";
  const label =
    FIELD_LABELS[field] ?? (field || (error.validationContext === "body" ? "request body" : (error.validationContext ?? "request")));
  return `Bad ${label}: ${first?.message ?? "invalid"}`;
}

/** Every problem of a body, for a form to show beside each field. */
function bodyFields(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((v) => ({
    field: v.instancePath.split("/").filter(Boolean).join("."),
    message: v.message ?? "invalid",
  }));
}

function errorReply(error: FastifyError, request: FastifyRequest): { status: number; body: ErrorReply } {
  if (error instanceof HttpError)
    return {
      status: error.status,
      body: { error: error.message, ...(error.problems && { problems: error.problems }), ...(error.fields && { fields: error.fields }) },
    };
  if (hasZodFastifySchemaValidationErrors(error))
    return {
      status: 400,
      body: { error: validationMessage(error), ...(error.validationContext === "body" && { fields: bodyFields(error) }) },
    };
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return { status: 413, body: { error: request.routeOptions.config.tooLarge ?? "Request body is too large" } };
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
    return { status: error.statusCode, body: { error: error.message } };
  if (error instanceof ClusterUnavailableError) return { status: 503, body: { error: error.message } };
  const unavailable = databaseUnavailableReason(error);
  if (unavailable) {
    console.warn(`gateway: database unavailable: ${unavailable}`);
    return { status: 503, body: { error: `The database is unavailable; try again shortly. (${unavailable})` } };
  }
  console.error("gateway: request failed:", error);
  return { status: 500, body: { error: "Internal error" } };
}

/** The methods the API answers; a route's URL answers the others with 405. */
export const API_METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"] as const;

/** The handler of a route's URL for the methods it does not have: Fastify would say 404, the
 * API has always said 405. */
export function methodNotAllowed(request: FastifyRequest): never {
  throw new HttpError(405, `${request.method} is not allowed here`);
}

/**
 * Installs the error handler, and the handler for requests no route takes: a 404 under /api/,
 * `fallback` (the web app) for any other path.
 */
export function installErrorHandling(app: FastifyInstance, fallback: (request: FastifyRequest, reply: FastifyReply) => void): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = errorReply(error, request);
    return reply.code(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const { pathname } = new URL(request.url, "http://x");
    if (!pathname.startsWith("/api/")) return fallback(request, reply);
    throw new HttpError(404, "Not found");
  });
}

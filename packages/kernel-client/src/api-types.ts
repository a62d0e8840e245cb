// What each gateway route takes and answers, read off @cellar/protocol's route table so that a
// route's shape is stated once: z.input for what the client sends (before the gateway's defaults
// and transforms), z.output for what it gets back.
import type { z } from "zod";
import type { ApiRouteName, ApiRoutes } from "@cellar/protocol";

type SchemaOf<N extends ApiRouteName> = ApiRoutes[N]["schema"];
type InputOf<S, K extends string> = S extends { [P in K]: infer T extends z.ZodType } ? z.input<T> : undefined;

export type ApiParams<N extends ApiRouteName> = InputOf<SchemaOf<N>, "params">;
export type ApiQuery<N extends ApiRouteName> = InputOf<SchemaOf<N>, "querystring">;

/** A raw body (an upload's bytes, an .ipynb file's text) or the route's JSON body. */
export type RawBody = string | Uint8Array | Blob | ArrayBuffer;
export type ApiBody<N extends ApiRouteName> = ApiRoutes[N] extends { raw: "bytes-in" | "text-in" } ? RawBody : InputOf<SchemaOf<N>, "body">;

type SuccessStatus = 200 | 201 | 204;
type ReplySchemaOf<N extends ApiRouteName> = SchemaOf<N>["response"][Extract<keyof SchemaOf<N>["response"], SuccessStatus>];

/** The success reply: the parsed JSON, nothing for a 204, the Response itself for a file. */
export type ApiReply<N extends ApiRouteName> = ApiRoutes[N] extends { raw: "bytes-out" }
  ? Response
  : 204 extends keyof SchemaOf<N>["response"]
    ? void
    : ReplySchemaOf<N> extends z.ZodType
      ? z.output<ReplySchemaOf<N>>
      : never;

/** What one call names: the URL's parameters, the query, the body; each only where the route has it. */
export type ApiRequest<N extends ApiRouteName> = (ApiParams<N> extends undefined ? { params?: undefined } : { params: ApiParams<N> }) &
  (ApiQuery<N> extends undefined ? { query?: undefined } : { query?: ApiQuery<N> }) &
  (ApiBody<N> extends undefined ? { body?: undefined } : { body?: ApiBody<N> });

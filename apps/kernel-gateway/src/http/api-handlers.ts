// The type of a handler for one entry of @cellar/protocol's route table: its params, query and
// body are the route's zod outputs, and what it sends must match the route's reply schema.
import type {
  ContextConfigDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { ApiRouteName, ApiRoutes } from "@cellar/protocol";

export type ApiHandler<N extends ApiRouteName> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  ApiRoutes[N]["schema"],
  ZodTypeProvider
>;

export type ApiHandlers<N extends ApiRouteName = ApiRouteName> = { [K in N]: ApiHandler<K> };

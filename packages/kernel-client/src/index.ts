export {
  KernelFuture,
  KernelFutureError,
  type KernelFutureCallbacks,
  type KernelFutureFailure,
  type KernelFutureOptions,
} from "./kernel-future";
export {
  CommClosedError,
  decodeBuffers,
  encodeBuffer,
  KernelComm,
  type CommBuffer,
  type CommCloseMsg,
  type CommData,
  type CommLink,
  type CommMsg,
  type CommOpenMsg,
} from "./kernel-comm";
export { CommExistsError, KernelComms, type CommTargetCallback } from "./kernel-comms";
export { futuresFor, KernelFutures, parentIdOf, type MessageLink, type SendMessage } from "./kernel-futures";
export { createGatewaySocket, isAuthRefusal, type AckResult, type GatewaySocket, type GatewaySocketOptions } from "./gateway-socket";
export { GatewayKernel, type ExecuteOptions, type GatewayKernelEvents, type GatewayKernelOptions } from "./gateway-kernel";
export {
  apiPath,
  GatewayClient,
  GatewayError,
  isNotFound,
  isUnauthorized,
  type DroppedCache,
  type FolderListing,
  type GatewayClientOptions,
  type ImageBuildLog,
  type ImageInfo,
  type StoredNotebook,
  type WorkerInfo,
} from "./gateway-client";
export type { ApiBody, ApiParams, ApiQuery, ApiReply, ApiRequest, RawBody } from "./api-types";

export {
  databaseUnavailableReason,
  openDatabase,
  pingDatabase,
  LOCAL_USER_ID,
  PING_TIMEOUT_MS,
  type Database,
  type OpenDatabaseOptions,
} from "./database";
export { migrate, MigrationError, type MigrateOptions } from "./migrate";
export {
  createNotebookStore,
  DuplicateCellIdError,
  type NotebookStore,
  type NotebookStoreOptions,
  type RecordedOutputs,
} from "./notebook-store";
export {
  createKernelSessionStore,
  storedStatus,
  type ClaimResult,
  type KernelSessionPatch,
  type KernelSessionRecord,
  type KernelSessionStore,
  type NewKernelSession,
} from "./kernel-session-store";
export {
  createAccountStore,
  EmailTakenError,
  InviteUnusableError,
  type AccountStore,
  type InstanceRole,
  type InviteRecord,
  type SessionRecord,
  type UserRecord,
} from "./account-store";
export { createDocumentStore, type DocumentSize, type DocumentStore, type StoredDocument } from "./document-store";
export {
  createIdentityStore,
  IdentityTakenError,
  type IdentityStore,
  type ProviderIdentity,
} from "./identity-store";
export { createAccessTokenStore, type AccessTokenRecord, type AccessTokenStore } from "./access-token-store";
export {
  createShareStore,
  GrantRefusedError,
  shareLinkId,
  type GrantRecord,
  type SharedNotebookRecord,
  type SharedRole,
  type ShareLinkRecord,
  type ShareStore,
} from "./share-store";
export {
  createScheduleStore,
  MISSED_WHILE_DOWN,
  NOTEBOOK_DELETED,
  PREVIOUS_RUN_GOING,
  ScheduleRefusedError,
  type ClaimedNotification,
  type ClaimedRun,
  type NewSchedule,
  type NoticeKind,
  type NoticeRecord,
  type NotificationRecord,
  type NotificationStatus,
  type ParameterValues,
  type RetryDelay,
  type RunAttemptRecord,
  type RunDetail,
  type RunDot,
  type RunFilter,
  type RunOutcome,
  type RunScope,
  type ScheduleRecord,
  type ScheduleRunRecord,
  type ScheduleSettings,
  type ScheduleStore,
  type ScheduleSummary,
} from "./schedule-store";
export { createPrismaClient, type PrismaClient } from "./prisma-client";
export type { Dialect } from "./paths";
export { defaultDatabaseUrl, dialectOf } from "./url";

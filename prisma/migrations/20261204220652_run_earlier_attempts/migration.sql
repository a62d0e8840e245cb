-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ScheduleRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "scheduleId" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "scheduledFor" DATETIME NOT NULL,
    "status" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "parameters" TEXT NOT NULL DEFAULT '{}',
    "image" TEXT NOT NULL,
    "workerId" TEXT,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "durationMs" INTEGER,
    "failingCellId" TEXT,
    "failingCellIndex" INTEGER,
    "errorName" TEXT,
    "errorValue" TEXT,
    "traceback" TEXT,
    "reason" TEXT,
    "executedNotebookId" TEXT,
    "leaseOwner" TEXT,
    "leaseExpiresAt" DATETIME,
    "nextAttemptAt" DATETIME NOT NULL,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "earlierAttempts" TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT "ScheduleRun_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "Schedule" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ScheduleRun_executedNotebookId_fkey" FOREIGN KEY ("executedNotebookId") REFERENCES "Notebook" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_ScheduleRun" ("attempt", "cancelRequested", "createdAt", "durationMs", "errorName", "errorValue", "executedNotebookId", "failingCellId", "failingCellIndex", "finishedAt", "id", "image", "leaseExpiresAt", "leaseOwner", "nextAttemptAt", "parameters", "reason", "scheduleId", "scheduledFor", "startedAt", "status", "traceback", "trigger", "workerId") SELECT "attempt", "cancelRequested", "createdAt", "durationMs", "errorName", "errorValue", "executedNotebookId", "failingCellId", "failingCellIndex", "finishedAt", "id", "image", "leaseExpiresAt", "leaseOwner", "nextAttemptAt", "parameters", "reason", "scheduleId", "scheduledFor", "startedAt", "status", "traceback", "trigger", "workerId" FROM "ScheduleRun";
DROP TABLE "ScheduleRun";
ALTER TABLE "new_ScheduleRun" RENAME TO "ScheduleRun";
CREATE INDEX "ScheduleRun_status_nextAttemptAt_idx" ON "ScheduleRun"("status", "nextAttemptAt");
CREATE INDEX "ScheduleRun_status_leaseExpiresAt_idx" ON "ScheduleRun"("status", "leaseExpiresAt");
CREATE INDEX "ScheduleRun_scheduleId_status_idx" ON "ScheduleRun"("scheduleId", "status");
CREATE INDEX "ScheduleRun_executedNotebookId_idx" ON "ScheduleRun"("executedNotebookId");
CREATE UNIQUE INDEX "ScheduleRun_scheduleId_scheduledFor_key" ON "ScheduleRun"("scheduleId", "scheduledFor");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateTable
CREATE TABLE "Schedule" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "notebookId" TEXT,
    "notebookTitle" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "parameters" TEXT NOT NULL DEFAULT '{}',
    "image" TEXT,
    "timeoutSeconds" INTEGER NOT NULL DEFAULT 3600,
    "retries" INTEGER NOT NULL DEFAULT 0,
    "retryBackoffSeconds" INTEGER NOT NULL DEFAULT 60,
    "overlap" TEXT NOT NULL DEFAULT 'skip',
    "maxConcurrent" INTEGER NOT NULL DEFAULT 1,
    "catchUp" TEXT NOT NULL DEFAULT 'skip',
    "backfillLimit" INTEGER NOT NULL DEFAULT 10,
    "prewarmSeconds" INTEGER NOT NULL DEFAULT 0,
    "notifyOnFailure" BOOLEAN NOT NULL DEFAULT true,
    "notifyOnSuccess" BOOLEAN NOT NULL DEFAULT false,
    "notifyOnRecovery" BOOLEAN NOT NULL DEFAULT false,
    "webhookUrl" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabledReason" TEXT,
    "cursor" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Schedule_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Schedule_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ScheduleRun" (
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
    CONSTRAINT "ScheduleRun_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "Schedule" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ScheduleRun_executedNotebookId_fkey" FOREIGN KEY ("executedNotebookId") REFERENCES "Notebook" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RunNotification" (
    "runId" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "event" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "deliveredAt" DATETIME,
    "nextAttemptAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("runId", "channel"),
    CONSTRAINT "RunNotification_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ScheduleRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Notice" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "scheduleId" TEXT,
    "runId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readAt" DATETIME,
    CONSTRAINT "Notice_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Notice_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "Schedule" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Notice_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ScheduleRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "Schedule_ownerId_createdAt_idx" ON "Schedule"("ownerId", "createdAt");

-- CreateIndex
CREATE INDEX "Schedule_notebookId_idx" ON "Schedule"("notebookId");

-- CreateIndex
CREATE INDEX "ScheduleRun_status_nextAttemptAt_idx" ON "ScheduleRun"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "ScheduleRun_status_leaseExpiresAt_idx" ON "ScheduleRun"("status", "leaseExpiresAt");

-- CreateIndex
CREATE INDEX "ScheduleRun_scheduleId_status_idx" ON "ScheduleRun"("scheduleId", "status");

-- CreateIndex
CREATE INDEX "ScheduleRun_executedNotebookId_idx" ON "ScheduleRun"("executedNotebookId");

-- CreateIndex
CREATE UNIQUE INDEX "ScheduleRun_scheduleId_scheduledFor_key" ON "ScheduleRun"("scheduleId", "scheduledFor");

-- CreateIndex
CREATE INDEX "RunNotification_status_nextAttemptAt_idx" ON "RunNotification"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Notice_userId_createdAt_idx" ON "Notice"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "Notice_scheduleId_idx" ON "Notice"("scheduleId");

-- CreateIndex
CREATE INDEX "Notice_runId_idx" ON "Notice"("runId");

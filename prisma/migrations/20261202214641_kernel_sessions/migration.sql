-- CreateTable
CREATE TABLE "KernelSession" (
    "notebookId" TEXT NOT NULL PRIMARY KEY,
    "sessionId" TEXT NOT NULL,
    "workerId" TEXT,
    "image" TEXT NOT NULL,
    "imageId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "checkpoint" TEXT,
    "startedBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "KernelSession_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "KernelSession_sessionId_key" ON "KernelSession"("sessionId");

-- CreateIndex
CREATE INDEX "KernelSession_workerId_idx" ON "KernelSession"("workerId");

-- CreateTable
CREATE TABLE "KernelSession" (
    "notebookId" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "workerId" TEXT,
    "image" TEXT NOT NULL,
    "imageId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "checkpoint" TEXT,
    "startedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "KernelSession_pkey" PRIMARY KEY ("notebookId")
);

-- CreateIndex
CREATE UNIQUE INDEX "KernelSession_sessionId_key" ON "KernelSession"("sessionId");

-- CreateIndex
CREATE INDEX "KernelSession_workerId_idx" ON "KernelSession"("workerId");

-- AddForeignKey
ALTER TABLE "KernelSession" ADD CONSTRAINT "KernelSession_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "Notebook" ADD COLUMN     "executedFromId" TEXT,
ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'notebook';

-- CreateIndex
CREATE INDEX "Cell_lastRunById_idx" ON "Cell"("lastRunById");

-- CreateIndex
CREATE INDEX "Notebook_executedFromId_idx" ON "Notebook"("executedFromId");

-- CreateIndex
CREATE INDEX "ShareLink_createdById_idx" ON "ShareLink"("createdById");

-- AddForeignKey
ALTER TABLE "Notebook" ADD CONSTRAINT "Notebook_executedFromId_fkey" FOREIGN KEY ("executedFromId") REFERENCES "Notebook"("id") ON DELETE SET NULL ON UPDATE CASCADE;

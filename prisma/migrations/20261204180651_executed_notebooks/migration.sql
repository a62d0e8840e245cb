-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Notebook" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "image" TEXT NOT NULL DEFAULT 'base',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastRunAt" DATETIME,
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "nbformatMinor" INTEGER NOT NULL DEFAULT 5,
    "kind" TEXT NOT NULL DEFAULT 'notebook',
    "executedFromId" TEXT,
    CONSTRAINT "Notebook_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Notebook_executedFromId_fkey" FOREIGN KEY ("executedFromId") REFERENCES "Notebook" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Notebook" ("createdAt", "id", "image", "lastRunAt", "metadata", "nbformatMinor", "title", "updatedAt", "userId") SELECT "createdAt", "id", "image", "lastRunAt", "metadata", "nbformatMinor", "title", "updatedAt", "userId" FROM "Notebook";
DROP TABLE "Notebook";
ALTER TABLE "new_Notebook" RENAME TO "Notebook";
CREATE INDEX "Notebook_userId_updatedAt_idx" ON "Notebook"("userId", "updatedAt");
CREATE INDEX "Notebook_executedFromId_idx" ON "Notebook"("executedFromId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Cell_lastRunById_idx" ON "Cell"("lastRunById");

-- CreateIndex
CREATE INDEX "ShareLink_createdById_idx" ON "ShareLink"("createdById");

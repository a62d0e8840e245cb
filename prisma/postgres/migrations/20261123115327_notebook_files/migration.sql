-- AlterTable
ALTER TABLE "Cell" ADD COLUMN     "attachments" TEXT;

-- AlterTable
ALTER TABLE "Notebook" ADD COLUMN     "metadata" TEXT NOT NULL DEFAULT '{}',
ADD COLUMN     "nbformatMinor" INTEGER NOT NULL DEFAULT 5;

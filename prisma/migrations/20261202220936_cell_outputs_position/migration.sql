-- AlterTable
ALTER TABLE "Cell" ADD COLUMN "outputsSeq" INTEGER;
ALTER TABLE "Cell" ADD COLUMN "outputsSession" TEXT;

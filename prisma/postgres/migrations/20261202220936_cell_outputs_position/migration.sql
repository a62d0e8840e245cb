-- AlterTable
ALTER TABLE "Cell" ADD COLUMN     "outputsSeq" INTEGER,
ADD COLUMN     "outputsSession" TEXT;

-- AlterTable
ALTER TABLE "ScheduleRun" ADD COLUMN     "earlierAttempts" TEXT NOT NULL DEFAULT '[]';

// A Prisma client over a driver adapter. Prisma's query compiler is built per provider, so each
// dialect has its own generated client (from prisma/schema.prisma and its PostgreSQL twin); both
// have the same models and API, and the SQLite one's type stands for both.
import type { PrismaClient } from "../generated/sqlite/client";
import type { Dialect } from "./paths";

export type { PrismaClient };

export async function createPrismaClient(url: string, dialect: Dialect): Promise<PrismaClient> {
  // Loaded on demand: each generated client carries its dialect's Wasm query compiler.
  if (dialect === "sqlite") {
    const [{ PrismaClient }, { PrismaLibSql }] = await Promise.all([
      import("../generated/sqlite/client"),
      import("@prisma/adapter-libsql"),
    ]);
    return new PrismaClient({ adapter: new PrismaLibSql({ url }) });
  }
  const [{ PrismaClient }, { PrismaPg }] = await Promise.all([import("../generated/postgres/client"), import("@prisma/adapter-pg")]);
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as PrismaClient;
}

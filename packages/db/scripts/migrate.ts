// `prisma migrate deploy` for Cellar: applies pending migrations to DATABASE_URL (or the URL
// given) and prints what it applied as JSON. The gateway does the same on every start.
//   npm run migrate -w @cellar/db [-- <url>]
import { migrate } from "../src/migrate";
import { defaultDatabaseUrl } from "../src/url";

const url = process.argv[2] ?? defaultDatabaseUrl();
try {
  const result = await migrate(url, { log: (message) => console.error(`[db] ${message}`) });
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(`[db] ${(error as Error).message}`);
  process.exit(1);
}

import { pendingSchemaChange } from "./scripts/migration-diff";
console.log(await pendingSchemaChange("sqlite"));
console.log(await pendingSchemaChange("postgresql", process.env.TEST_POSTGRES_URL));

#!/usr/bin/env node
// Cellar's packages ship TypeScript source; tsx compiles the CLI as it loads.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv);

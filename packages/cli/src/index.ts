export { main } from "./main";
export { resolveConnection, type Connection } from "./connection";
export { runNotebookCells, type RunResult, type CellFailure } from "./kernel-runner";

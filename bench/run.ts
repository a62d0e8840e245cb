export {};
// npm run bench [-- NAME ...]: runs the named benchmarks (all by default); each writes
// bench/results/NAME.json and prints a table.
const suites: Record<string, () => Promise<void>> = {
  "kernel-latency": async () => (await import("./kernel-latency")).run(),
  lazyfs: async () => (await import("./lazyfs")).run(),
  editor: async () => (await import("./editor")).run(),
  snapshots: async () => (await import("./snapshots")).run(),
  fanout: async () => (await import("./fanout")).run(),
  cluster: async () => (await import("./cluster")).run(),
  collab: async () => (await import("./collab")).run(),
  schedules: async () => (await import("./schedules")).run(),
  "device-switch": async () => (await import("./device-switch")).run(),
  images: async () => (await import("./images")).run(),
};

const names = process.argv.slice(2).filter((a) => !a.startsWith("-"));
for (const name of names.length ? names : Object.keys(suites)) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(suites).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n== ${name} ==`);
  await suite();
}
process.exit(0);

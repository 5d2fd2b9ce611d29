// Render every formula with the vendored KaTeX; print the ones that fail.
// stdin: JSON [[tex, displayMode], …]   stdout: JSON [[index, message], …]
const katex = require(process.argv[2]);
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const failures = [];
  JSON.parse(input).forEach(([tex, displayMode], index) => {
    try {
      katex.renderToString(tex, { displayMode, throwOnError: true, strict: "ignore" });
    } catch (err) {
      failures.push([index, String(err.message || err)]);
    }
  });
  process.stdout.write(JSON.stringify(failures));
});

// Render LaTeX blocks with KaTeX: stdin is a JSON list of strings; prints a JSON list of
// errors (null where a block rendered). Exit 0 whatever the verdicts; the test judges.
const path = require("path");
const katex = require(process.env.KATEX_PATH || path.join(__dirname, "..", "..", ".ci", "katex", "node_modules", "katex"));
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const blocks = JSON.parse(input);
  const out = blocks.map((tex) => {
    try {
      katex.renderToString(tex, { displayMode: true, throwOnError: true, strict: "error" });
      return null;
    } catch (e) {
      return String(e.message || e);
    }
  });
  process.stdout.write(JSON.stringify(out));
});

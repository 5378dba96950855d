// Renders a terminal session (text with ANSI colour codes) to PNG in Debian's Chromium, for the
// README. Usage: node terminal.mjs OUT.png < session.txt
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const out = process.argv[2];
if (!out) {
  console.error("usage: node terminal.mjs OUT.png < session.txt");
  process.exit(2);
}
const COLOURS = { 31: "#ff6b6b", 32: "#69db7c", 33: "#ffd43b", 36: "#66d9e8" };
const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
let html = "", open = 0;
for (const part of readFileSync(0, "utf8").split(/(\x1b\[[0-9;]*m)/)) {
  const code = part.match(/^\x1b\[([0-9;]*)m$/);
  if (!code) { html += escape(part); continue; }
  for (const n of code[1].split(";").map(Number)) {
    if (n === 0) { html += "</span>".repeat(open); open = 0; }
    else if (n === 1) { html += '<span style="font-weight:bold">'; open++; }
    else if (COLOURS[n]) { html += `<span style="color:${COLOURS[n]}">`; open++; }
  }
}
html += "</span>".repeat(open);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ deviceScaleFactor: 1.5, viewport: { width: 1100, height: 200 } });
  await page.setContent(`<html><body style="margin:0;background:#1e1e1e">
    <pre id="t" style="display:inline-block;margin:0;padding:16px 20px;color:#e6e6e6;background:#1e1e1e;
      font:14px/1.5 'WenQuanYi Micro Hei Mono','WenQuanYi Micro Hei',monospace">${html}</pre></body></html>`);
  await page.locator("#t").screenshot({ path: out });
  console.log(`terminal -> ${out}`);
} finally {
  await browser.close();
}

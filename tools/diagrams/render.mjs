// Renders BPMN diagrams to PNG with bpmn-js, the renderer inside Camunda Modeler, in Debian's
// Chromium (headless). Usage: node render.mjs OUT_DIR FILE.bpmn...
// Needs the Debian packages chromium and a Chinese font (fonts-wqy-microhei); see README.md.
import { readFileSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = fileURLToPath(new URL(".", import.meta.url));
const viewer = join(here, "node_modules/bpmn-js/dist/bpmn-viewer.production.min.js");
const css = ["diagram-js.css", "bpmn-js.css"].map((f) => readFileSync(join(here, "node_modules/bpmn-js/dist/assets", f), "utf8"));
const [outDir, ...files] = process.argv.slice(2);
if (!outDir || files.length === 0) {
  console.error("usage: node render.mjs OUT_DIR FILE.bpmn...");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ deviceScaleFactor: 1.5 });
  for (const file of files) {
    await page.setContent(`<html><head><style>${css.join("\n")}
      body { margin: 0; background: white; font-family: "WenQuanYi Micro Hei", sans-serif; }
      #canvas { width: 100vw; height: 100vh; }</style></head><body><div id="canvas"></div></body></html>`);
    await page.addScriptTag({ path: viewer });
    // the diagram's own extent, so the picture is the diagram at 100%, with a margin
    const size = await page.evaluate(async (xml) => {
      window.bpmnViewer = new BpmnJS({ container: "#canvas" });
      await window.bpmnViewer.importXML(xml);
      const box = window.bpmnViewer.get("canvas").getActiveLayer().getBBox();
      return { width: Math.ceil(box.width) + 60, height: Math.ceil(box.height) + 60 };
    }, readFileSync(file, "utf8"));
    await page.setViewportSize(size);
    await page.evaluate(() => {
      const canvas = window.bpmnViewer.get("canvas");
      canvas.resized();
      const box = canvas.getActiveLayer().getBBox();
      canvas.viewbox({ x: box.x - 30, y: box.y - 30, width: box.width + 60, height: box.height + 60 });
    });
    const out = join(outDir, basename(file).replace(/\.bpmn$/, ".png"));
    await page.screenshot({ path: out });
    console.log(`${file} -> ${out} (${size.width}x${size.height})`);
  }
} finally {
  await browser.close();
}

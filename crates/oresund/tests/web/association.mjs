// Loads the portal's association page in headless Chromium, runs a case/control test over a region,
// and prints what the page shows as ONE JSON line (node statuses, dots drawn in the Manhattan plot,
// the first rows of the top-variants table, the highest pooled dot); saves a full-page screenshot.
//
//   node association.mjs PORTAL_URL TOKEN TERM REGION SCREENSHOT.png
//
// TOKEN may be "" (no Authorization header). Exits non-zero if the page never shows an outcome.
import { openPage } from "./browser.mjs";

const [url, token, term, region, screenshot] = process.argv.slice(2);
const { browser, page, problems } = await openPage();
try {
  await page.goto(`${url.replace(/\/$/, "")}/association.html`, { waitUntil: "load" });
  const title = await page.title();
  await page.getByLabel("Case definition (HPO term)", { exact: true }).fill(term);
  await page.getByLabel("Region", { exact: true }).fill(region);
  await page.getByLabel("Access token", { exact: true }).fill(token || "");
  await page.getByRole("button", { name: "Test association" }).click();
  // The page marks its status line "done" once plot and table are drawn, "error" when refused.
  try {
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 30000 });
  } catch (error) {
    await page.screenshot({ path: screenshot, fullPage: true });
    throw error;
  }
  const status = (await page.locator("#status").textContent()).trim();
  const nodes = await page.locator("#nodes li").allTextContents();
  const dots = await page.locator('[data-testid^="dot-"]').evaluateAll((all) => {
    const counts = {};
    for (const dot of all) {
      const which = dot.dataset.testid.slice("dot-".length);
      counts[which] = (counts[which] || 0) + 1;
    }
    return counts;
  });
  const pooledDots = dots.pooled || 0;
  delete dots.pooled;
  // Every country in the node list, 0 when none of its dots was drawn (e.g. its node did not answer).
  for (const li of await page.locator('#nodes li[data-testid^="node-"]').evaluateAll((l) => l.map((x) => x.dataset.testid))) {
    dots[li.slice("node-".length)] ??= 0;
  }
  const top = await page.locator('[data-testid="top-variants"] tbody tr[data-variant]').evaluateAll((rows) =>
    rows.slice(0, 5).map((row) => {
      const cell = (id) => row.querySelector(`[data-testid="${id}"]`)?.textContent.trim() ?? null;
      const counts = {};
      for (const td of row.querySelectorAll('[data-testid^="counts-"]')) {
        counts[td.dataset.testid.slice("counts-".length)] = td.textContent.trim();
      }
      return { variant: row.querySelector("th").textContent.trim(), or: cell("or"), p: cell("p"), bdP: cell("bd-p"), counts };
    }));
  const highest = await page.evaluate(() => {
    const plot = document.querySelector('[data-testid="manhattan"]');
    const dots = [...document.querySelectorAll('[data-testid="dot-pooled"]')]
      .map((dot) => ({ variant: dot.dataset.variant, cy: Number(dot.getAttribute("cy")) }))
      .sort((a, b) => a.cy - b.cy);
    if (!plot || dots.length === 0) return null;
    return { variant: dots[0].variant, cy: dots[0].cy, secondCy: dots.length > 1 ? dots[1].cy : null,
             plotHeight: plot.viewBox.baseVal.height };
  });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ title, problems, status, nodes, pooledDots, dots, top, highest }));
} finally {
  await browser.close();
}

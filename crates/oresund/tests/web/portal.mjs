// Loads the network portal in headless Chromium, asks for a variant, and prints what the page
// shows as JSON (per-country and pooled AC/AN/AF, node statuses); saves a screenshot.
//
//   node portal.mjs PORTAL_URL VARIANT SCREENSHOT.png [PHENOTYPE]
import { openPage } from "./browser.mjs";

const [url, variant, screenshot, phenotype] = process.argv.slice(2);
const { browser, page, problems } = await openPage();
try {
  await page.goto(url, { waitUntil: "load" });
  const title = await page.title();
  await page.getByLabel("Variant or region").fill(variant);
  if (phenotype) await page.getByLabel("Phenotype (HPO, optional)").fill(phenotype);
  await page.getByRole("button", { name: "Ask the network" }).click();
  await page.waitForSelector('[data-testid="results"], [data-testid="no-results"]', { timeout: 15000 });
  const row = page.locator(`tr[data-variant]`).first();
  const cell = async (id) => (await row.locator(`[data-testid="${id}"]`).textContent()).trim();
  const shown = {};
  for (const country of ["DK", "SE"]) {
    shown[country] = { ac: await cell(`ac-${country}`), an: await cell(`an-${country}`), af: await cell(`af-${country}`) };
  }
  shown.pooled = { ac: await cell("ac-pooled"), an: await cell("an-pooled"), af: await cell("af-pooled") };
  const nodes = await page.locator("#nodes li").evaluateAll((items) =>
    items.map((li) => ({ testid: li.dataset.testid, status: li.dataset.status, text: li.textContent })));
  const status = (await page.locator("#status").textContent()).trim();
  const variantShown = (await row.locator("th").textContent()).trim();
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ title, status, variant: variantShown, shown, nodes, problems }));
} finally {
  await browser.close();
}

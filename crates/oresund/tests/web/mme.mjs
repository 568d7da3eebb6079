// Loads a node's clinicians' page (/mme.html) in headless Chromium: picks HPO terms through the
// autocomplete, adds a gene, asks for matches with the clinician's token, and prints what the page
// shows as ONE JSON line (suggestions offered, node statuses, result rows per node); saves a
// full-page screenshot.
//
//   node mme.mjs NODE_URL TOKEN GENE SCREENSHOT.png TYPED:HP_ID [TYPED:HP_ID …]
//
// Exits non-zero if the page never shows an outcome.
import { openPage } from "./browser.mjs";

const [url, token, gene, screenshot, ...terms] = process.argv.slice(2);
const { browser, page, problems } = await openPage();
try {
  await page.goto(`${url.replace(/\/$/, "")}/mme.html`, { waitUntil: "load" });
  const title = await page.title();
  const suggestions = {};
  for (const pair of terms) {
    const [typed, id] = pair.split(":HP:");
    const field = page.getByLabel("Phenotype (HPO term)", { exact: true });
    await field.fill(typed);
    // The datalist fills from /mme/terms; choose the suggestion whose id is asked for.
    const option = page.locator(`#term-options option[data-id="HP:${id}"]`);
    await option.waitFor({ state: "attached", timeout: 10000 });
    suggestions[typed] = await page.locator("#term-options option").evaluateAll((o) => o.map((x) => x.dataset.id));
    await field.fill(await option.getAttribute("value"));
    await page.getByRole("button", { name: "Add term" }).click();
  }
  const chosen = await page.locator("#terms li").evaluateAll((l) => l.map((x) => x.dataset.term));
  await page.getByLabel("Candidate gene", { exact: true }).fill(gene);
  await page.getByLabel("Clinician token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Find matches" }).click();
  try {
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 30000 });
  } catch (error) {
    await page.screenshot({ path: screenshot, fullPage: true });
    throw error;
  }
  const status = (await page.locator("#status").textContent()).trim();
  const nodes = await page.locator("#nodes li").allTextContents();
  const results = await page.locator('table[data-testid^="results-"]').evaluateAll((tables) =>
    Object.fromEntries(tables.map((t) => [t.dataset.testid.slice("results-".length),
      [...t.querySelectorAll("tbody tr")].map((row) => ({
        case: row.dataset.case,
        score: row.querySelector('[data-testid="score"]').textContent,
        features: row.querySelector('[data-testid="features"]').textContent,
        genes: row.querySelector('[data-testid="genes"]').textContent,
        contact: row.querySelector('[data-testid="contact"]').textContent,
      }))])));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ title, problems, suggestions, chosen, status, nodes, results }));
} finally {
  await browser.close();
}

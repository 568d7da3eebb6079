// Loads a node's portal page in headless Chromium, enters a token, lists the researcher's files
// and prints what the page shows as JSON (rows, status); saves a screenshot.
//
//   node files.mjs PAGE_URL TOKEN SCREENSHOT.png
import { openPage } from "./browser.mjs";

const [url, token, screenshot] = process.argv.slice(2);
const { browser, page, problems } = await openPage();
try {
  await page.goto(url, { waitUntil: "load" });
  await page.getByText("Access token").first().click();
  await page.getByLabel(/Bearer token/).fill(token);
  await page.getByRole("button", { name: "List my files" }).click();
  await page.waitForFunction(() => {
    const text = document.getElementById("files-status").textContent;
    return text && !text.startsWith("Asking");
  }, null, { timeout: 15000 });
  const status = (await page.locator("#files-status").textContent()).trim();
  const rows = await page.locator("tr[data-file]").evaluateAll((trs) => trs.map((tr) => ({
    id: tr.dataset.file,
    cells: [...tr.children].map((c) => c.textContent.trim()),
  })));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ status, rows, problems }));
} finally {
  await browser.close();
}

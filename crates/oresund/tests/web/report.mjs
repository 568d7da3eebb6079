// Opens a self-contained report page (file://…) in headless Chromium with the network cut off,
// and prints the figures it shows (every `data-metric` cell), the SVG charts it holds, any
// request it tried beyond its own file, and script or console errors. Saves a screenshot.
// Usage: node report.mjs URL SCREENSHOT
import { openPage } from "./browser.mjs";

const [url, screenshot] = process.argv.slice(2);
const { browser, page, problems } = await openPage();
const requests = [];
await page.route("**/*", (route) => {
  const wanted = route.request().url();
  if (wanted === url) return route.continue();
  requests.push(wanted);
  return route.abort();
});
await page.goto(url);
const shown = await page.evaluate(() => ({
  title: document.title,
  metrics: Object.fromEntries([...document.querySelectorAll("[data-metric]:not([data-node])")]
    .map((e) => [e.dataset.metric, e.textContent.trim()])),
  charts: [...document.querySelectorAll("svg[id]")].map((e) => e.id),
}));
await page.screenshot({ path: screenshot, fullPage: true });
await browser.close();
console.log(JSON.stringify({ ...shown, requests, problems }));

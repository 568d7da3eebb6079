// Øresund association page: sends the form to POST /network/association and draws the answer as a
// Manhattan plot (inline SVG) and a table of the top variants. All text from the API goes in through
// textContent / setAttribute, never as markup.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const REGION = /^([^:\s]+):([\d,]+)-([\d,]+)$/;
const TOP = 20;
// Pooled dots are filled circles; each country gets its own colour and hollow shape, in the order the
// nodes are listed (Okabe–Ito colours: distinguishable with the common colour-vision deficiencies).
const POOLED_COLOUR = "#0b5cad";
const COUNTRY_STYLES = [
  { colour: "#d55e00", shape: "square" },
  { colour: "#009e73", shape: "triangle" },
  { colour: "#cc79a7", shape: "diamond" },
  { colour: "#e69f00", shape: "square" },
];
const LINES = [
  { p: 5e-8, label: "5×10⁻⁸" },
  { p: 1e-5, label: "10⁻⁵" },
];

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child);
  return node;
}

// ---- Statistics -------------------------------------------------------------------------------

/**
 * log10 of the χ²(1) upper tail, P(X > x) = erfc(sqrt(x/2)), for plotting per-country allelic tests
 * (the response carries their χ², not their p). erfc is the Chebyshev fit of Numerical Recipes
 * (erfcc, fractional error < 1.2e-7 for all z ≥ 0), evaluated in log space: it has the form
 * t·exp(−z² + poly(t)), so its logarithm stays finite where p itself would underflow to 0.
 */
function log10ChiSquareTail(x) {
  const z = Math.sqrt(Math.max(x, 0) / 2);
  const t = 1 / (1 + 0.5 * z);
  const poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return (Math.log(t) - z * z + poly) / Math.LN10;
}

/** −log10 of the pooled p; from the χ² when p underflowed to 0 in the response. Null if untestable. */
function pooledScore(variant) {
  if (variant.p == null) return null;
  if (variant.p > 0) return -Math.log10(variant.p);
  return variant.chi2 == null ? null : -log10ChiSquareTail(variant.chi2);
}

// ---- Formatting -------------------------------------------------------------------------------

/** Three significant digits; exponent form outside [0.001, 1000). "NA" for an undefined statistic. */
function sig3(x) {
  if (x == null) return "NA";
  if (x === 0) return "0";
  const size = Math.abs(x);
  return size >= 0.001 && size < 1000 ? x.toPrecision(3) : x.toExponential(2);
}

/** A p-value, exponent form when small, from its −log10 when it is too small for a double. */
function formatP(p, score) {
  if (p == null) return "NA";
  if (p > 0 || score == null) return sig3(p);
  return formatScore(score);
}

/** 10^−score as "m.mme−N", for p-values below the smallest double. */
function formatScore(score) {
  let exponent = Math.floor(-score);
  let mantissa = 10 ** (-score - exponent);
  if (mantissa >= 9.995) { mantissa = 1; exponent += 1; }
  return `${mantissa.toFixed(2)}e${exponent}`;
}

function formatOr(variant) {
  const ci = variant.ci95 || [null, null];
  return `${sig3(variant.oddsRatio)} [${sig3(ci[0])}, ${sig3(ci[1])}]`;
}

/** A node's allele table as disclosed: case ALT/REF · control ALT/REF. */
function formatCounts(node) {
  if (!node || !node.testable) return "not testable";
  const counts = [node.caseAlt, node.caseRef, node.controlAlt, node.controlRef];
  if (counts.some((c) => typeof c !== "number")) return "counts suppressed";
  return `${counts[0]}/${counts[1]} · ${counts[2]}/${counts[3]}`;
}

function megabases(position) {
  return `${(position / 1e6).toFixed(2)} Mb`;
}

// ---- Nodes ------------------------------------------------------------------------------------

function nodeText(node) {
  const name = `${node.beaconId} (${node.country})`;
  if (node.status !== "ok") return `${name}: unavailable — ${node.error || node.status}`;
  const disclosure = node.exact ? "exact" : "suppressed below CONTROLLED";
  return `${name}: ok in ${node.latencyMs} ms · ${disclosure} · ${node.notTestable ?? 0} not testable`;
}

function renderNodes(nodes, contributors) {
  document.getElementById("nodes").replaceChildren(...nodes.map((node) => el("li", {
    class: node.status === "ok" ? "ok" : "down",
    "data-testid": `node-${node.country}`,
    "data-status": node.status,
  }, nodeText(node))));
  const countries = contributors.map((id) => {
    const node = nodes.find((n) => n.beaconId === id);
    return node ? `${node.country} (${id})` : id;
  });
  document.getElementById("contributors").textContent = countries.length
    ? `Contributed: ${countries.join(", ")}.` : "No country contributed.";
}

// ---- Manhattan plot ---------------------------------------------------------------------------

const WIDTH = 960;
const HEIGHT = 420;
const MARGIN = { top: 40, right: 70, bottom: 48, left: 56 };

/** A country's dot: a hollow square, triangle or diamond of its colour, centred at (x, y). */
function countryDot(style, x, y, testid) {
  const attributes = { fill: "none", stroke: style.colour, "stroke-width": 1.5 };
  if (testid) attributes["data-testid"] = testid;
  const r = 4;
  if (style.shape === "square") return svg("rect", { ...attributes, x: x - r, y: y - r, width: 2 * r, height: 2 * r });
  const points = style.shape === "triangle"
    ? [[x, y - r - 1], [x + r + 1, y + r], [x - r - 1, y + r]]
    : [[x, y - r - 1], [x + r + 1, y], [x, y + r + 1], [x - r - 1, y]];
  return svg("polygon", { ...attributes, points: points.map((p) => p.join(",")).join(" ") });
}

function legendSymbol(item, x, y) {
  if (item.line) return svg("line", { x1: x - 8, x2: x + 8, y1: y, y2: y, class: "threshold" });
  if (item.style) return countryDot(item.style, x, y, null);
  return svg("circle", { cx: x, cy: y, r: 4, fill: POOLED_COLOUR });
}

/** A round integer step (1, 2, 5, 10, 20, …) giving at most 10 ticks from 0 to `max`. */
function tickStep(max) {
  for (let step = 1; ; step *= 10) {
    for (const m of [1, 2, 5]) if (max / (m * step) <= 10) return m * step;
  }
}

/**
 * x: position across the region; y: −log10 p. The y range reaches at least 8 so that the genome-wide
 * line (7.3) is always in view and a flat plot reads as "nothing significant".
 */
function renderPlot(results, styles, region, label) {
  const container = document.getElementById("plot");
  const points = [];
  for (const variant of results) {
    const pooled = pooledScore(variant);
    const countries = Object.values(variant.nodes || {})
      .filter((node) => node.testable && node.allelicChi2 != null && styles.has(node.country))
      .map((node) => ({ node, score: Math.max(0, -log10ChiSquareTail(node.allelicChi2)) }));
    points.push({ variant, pooled, countries });
  }
  const scores = points.flatMap((p) => [p.pooled, ...p.countries.map((c) => c.score)]).filter((s) => s != null);
  const step = tickStep(Math.max(8, ...scores));
  const top = Math.max(8, step * Math.ceil(Math.max(0, ...scores) / step));
  const right = WIDTH - MARGIN.right;
  const bottom = HEIGHT - MARGIN.bottom;
  const x = (position) => MARGIN.left + (right - MARGIN.left) *
    Math.min(1, Math.max(0, (position - region.first) / Math.max(1, region.last - region.first)));
  const y = (score) => bottom - (bottom - MARGIN.top) * score / top;

  const plotted = points.filter((p) => p.pooled != null).length;
  const plot = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "data-testid": "manhattan", class: "manhattan",
    "aria-label": `Manhattan plot of ${label}: −log10 p of ${plotted} variants, pooled (CMH) and per country`,
  });
  container.replaceChildren(plot);

  // Axes: a few position ticks in Mb, integer −log10 p ticks (at most 10 of them).
  const axes = svg("g", { class: "axes" });
  axes.append(svg("line", { x1: MARGIN.left, x2: right, y1: bottom, y2: bottom }),
    svg("line", { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: bottom }));
  for (let i = 0; i <= 5; i += 1) {
    const position = region.first + (region.last - region.first) * i / 5;
    const at = x(position);
    axes.append(svg("line", { x1: at, x2: at, y1: bottom, y2: bottom + 5 }),
      svg("text", { x: at, y: bottom + 20, "text-anchor": "middle" }, megabases(position)));
  }
  for (let score = 0; score <= top; score += step) {
    axes.append(svg("line", { x1: MARGIN.left - 5, x2: MARGIN.left, y1: y(score), y2: y(score) }),
      svg("text", { x: MARGIN.left - 9, y: y(score) + 4, "text-anchor": "end" }, String(score)));
  }
  axes.append(
    svg("text", { x: (MARGIN.left + right) / 2, y: HEIGHT - 6, "text-anchor": "middle" }, `Position on chromosome ${region.chrom}`),
    svg("text", { x: 16, y: (MARGIN.top + bottom) / 2, "text-anchor": "middle",
      transform: `rotate(-90 16 ${(MARGIN.top + bottom) / 2})` }, "−log10 p"));
  // Threshold labels: genome-wide above its line, suggestive below, so they stay apart on a tall scale.
  for (const [i, line] of LINES.entries()) {
    const at = y(-Math.log10(line.p));
    axes.append(svg("line", { x1: MARGIN.left, x2: right, y1: at, y2: at, class: "threshold" }),
      svg("text", { x: right + 6, y: i === 0 ? at - 2 : at + 11 }, line.label));
  }
  plot.append(axes);

  // Countries first, pooled on top: the pooled result is the one the page is about.
  const dots = svg("g", { class: "dots" });
  for (const { variant, countries } of points) {
    for (const { node, score } of countries) {
      const dot = countryDot(styles.get(node.country), x(variant.position), y(score), `dot-${node.country}`);
      dot.append(svg("title", {}, `${variant.variantInternalId} — ${node.country} allelic p = ${formatP(10 ** -score, score)}`));
      dots.append(dot);
    }
  }
  for (const { variant, pooled } of points) {
    if (pooled == null) continue;
    dots.append(svg("circle", {
      cx: x(variant.position), cy: y(pooled), r: 4, fill: POOLED_COLOUR,
      "data-testid": "dot-pooled", "data-variant": variant.variantInternalId,
    }, svg("title", {}, `${variant.variantInternalId} — pooled CMH p = ${formatP(variant.p, pooled)}`)));
  }
  plot.append(dots);

  // Legend along the top margin, spaced by the rendered width of each label.
  const legend = svg("g", { class: "legend" });
  plot.append(legend);
  const items = [{ text: "Pooled (CMH)" },
    ...[...styles].map(([country, style]) => ({ text: `${country} (allelic)`, style })),
    { text: "p = 5×10⁻⁸, 10⁻⁵", line: true }];
  let at = MARGIN.left + 8;
  for (const item of items) {
    legend.append(legendSymbol(item, at, 18));
    const text = svg("text", { x: at + 12, y: 22 }, item.text);
    legend.append(text);
    at += 12 + text.getComputedTextLength() + 24;
  }
}

// ---- Top variants -----------------------------------------------------------------------------

function renderTop(results, countries) {
  const container = document.getElementById("top");
  const ranked = results.map((variant) => ({ variant, score: pooledScore(variant) }))
    .filter((r) => r.score != null)
    .sort((a, b) => b.score - a.score)
    .slice(0, TOP);
  if (ranked.length === 0) {
    container.replaceChildren(el("p", { "data-testid": "no-results" }, "No variant could be tested in this region."));
    return;
  }
  const table = el("table", { "data-testid": "top-variants" });
  table.append(el("caption", {}, `The ${ranked.length} variants with the smallest pooled p`));
  const head = el("tr", {});
  for (const title of ["Variant", "OR [95% CI]", "p", "Heterogeneity p", ...countries.map((c) => `${c} counts`)]) {
    head.append(el("th", { scope: "col" }, title));
  }
  table.append(el("thead", {}, head));
  const body = el("tbody");
  for (const { variant, score } of ranked) {
    const nodes = Object.values(variant.nodes || {});
    const row = el("tr", { "data-variant": variant.variantInternalId },
      el("th", { scope: "row" }, variant.variantInternalId),
      el("td", { "data-testid": "or" }, formatOr(variant)),
      el("td", { "data-testid": "p" }, formatP(variant.p, score)),
      el("td", { "data-testid": "bd-p" }, formatP(variant.breslowDayP, null)));
    for (const country of countries) {
      row.append(el("td", { "data-testid": `counts-${country}`, class: "counts" },
        formatCounts(nodes.find((n) => n.country === country))));
    }
    body.append(row);
  }
  table.append(body);
  container.replaceChildren(table);
}

// ---- The query --------------------------------------------------------------------------------

/** Sets the status line; data-state lets a test wait for the outcome ("done" or "error"). */
function setStatus(text, state) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.dataset.state = state;
}

function clearResults() {
  for (const id of ["nodes", "plot", "top"]) document.getElementById(id).replaceChildren();
  document.getElementById("contributors").textContent = "";
}

/** The region typed (1-based, inclusive) and the API's 0-based half-open coordinates for it. */
function parseRegion(text) {
  const match = REGION.exec(text);
  if (!match) return null;
  const [, chrom, start, end] = match;
  const first = Number(start.replaceAll(",", ""));
  const last = Number(end.replaceAll(",", ""));
  if (first < 1 || last < first) return null;
  return { chrom, first, last, start0: first - 1, end: last };
}

/** The error message of a refused request, whether or not its body is the API's JSON error. */
async function refusal(response) {
  try {
    const answer = await response.json();
    return (answer.error && answer.error.errorMessage) || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function test(event) {
  event.preventDefault();
  clearResults();
  const term = document.getElementById("term").value.trim();
  const regionText = document.getElementById("region").value.trim();
  const region = parseRegion(regionText);
  if (!term) return setStatus("Enter an HPO term for the cases, such as HP:0001250.", "error");
  if (!region) return setStatus(`“${regionText}” is not a region such as 22:16000000-17100000.`, "error");
  const headers = { "Content-Type": "application/json" };
  const token = document.getElementById("token").value.trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  const body = {
    cases: { filters: [{ id: term }] },
    controls: { filters: [] },
    referenceName: region.chrom,
    start: region.start0,
    end: region.end,
  };
  setStatus("Testing association across the network…", "busy");
  try {
    const response = await fetch("/network/association", { method: "POST", headers, body: JSON.stringify(body) });
    if (!response.ok) return setStatus(`The test was refused: ${await refusal(response)}`, "error");
    const answer = await response.json();
    const nodes = answer.info.nodes;
    const results = answer.response.results;
    const countries = [...new Set(nodes.map((n) => n.country))];
    const styles = new Map(countries.map((c, i) => [c, COUNTRY_STYLES[i % COUNTRY_STYLES.length]]));
    renderNodes(nodes, answer.info.contributors || []);
    renderPlot(results, styles, region, `${region.chrom}:${region.first}-${region.last}`);
    renderTop(results, countries);
    const answered = nodes.filter((n) => n.status === "ok").length;
    const tested = results.filter((v) => v.p != null).length;
    setStatus(`${answered} of ${nodes.length} nodes answered; ${tested} of ${results.length} variants have a pooled p` +
      (answered < nodes.length ? " — results are partial." : "."), "done");
  } catch (error) {
    setStatus(`The portal could not be reached: ${error}`, "error");
  }
}

document.getElementById("association").addEventListener("submit", test);

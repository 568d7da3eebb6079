// Øresund network portal: turns the form into a Beacon v2 network query and renders the answer.
"use strict";

const VARIANT = /^([^-\s]+)-(\d+)-([ACGTNacgtn]+)-([ACGTNacgtn]+)$/;
const REGION = /^([^:\s]+):([\d,]+)-([\d,]+)$/;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

/** Beacon v2 query parameters (0-based coordinates) for the text typed in. */
function parameters(text) {
  const variant = VARIANT.exec(text);
  if (variant) {
    const [, chrom, pos, ref, alt] = variant;
    return { referenceName: chrom, start: String(Number(pos) - 1), referenceBases: ref.toUpperCase(), alternateBases: alt.toUpperCase() };
  }
  const region = REGION.exec(text);
  if (region) {
    const [, chrom, start, end] = region;
    return { referenceName: chrom, start: String(Number(start.replaceAll(",", "")) - 1), end: end.replaceAll(",", "") };
  }
  return null;
}

function shown(value, precision) {
  return precision === "imprecise" ? `${value}†` : String(value);
}

function frequency(value) {
  return value === 0 ? "0" : value < 0.0001 ? value.toExponential(2) : value.toFixed(4);
}

function renderNodes(nodes, elapsed) {
  const list = document.getElementById("nodes");
  list.replaceChildren();
  let answered = 0;
  for (const node of nodes) {
    const ok = node.status === "ok";
    if (ok) answered += 1;
    const text = ok
      ? `${node.beaconId} (${node.country}): answered in ${node.latencyMs} ms`
      : `${node.beaconId} (${node.country}): did not answer — ${node.error}`;
    list.append(el("li", { class: ok ? "ok" : "down", "data-testid": `node-${node.country}`, "data-status": node.status }, text));
  }
  document.getElementById("status").textContent =
    `${answered} of ${nodes.length} nodes answered in ${elapsed} ms` + (answered < nodes.length ? " — results are partial." : ".");
}

function renderResults(pooled, countries) {
  const container = document.getElementById("results");
  container.replaceChildren();
  if (pooled.length === 0) {
    container.append(el("p", { "data-testid": "no-results" }, "Not observed in any node that answered."));
    return;
  }
  const table = el("table", { "data-testid": "results" });
  table.append(el("caption", {}, "Allele count (AC), allele number (AN) and frequency (AF) per country and pooled"));
  const head = el("tr", {}, el("th", { scope: "col" }, "Variant"));
  for (const country of countries) {
    for (const what of ["AC", "AN", "AF"]) head.append(el("th", { scope: "col" }, `${country} ${what}`));
  }
  for (const what of ["AC", "AN", "AF"]) head.append(el("th", { scope: "col" }, `Pooled ${what}`));
  table.append(el("thead", {}, head));
  const body = el("tbody");
  for (const variant of pooled) {
    const row = el("tr", { "data-variant": variant.variantInternalId },
      el("th", { scope: "row", title: variant.vrsId }, variant.variantInternalId));
    for (const country of countries) {
      const node = Object.values(variant.nodes).find((n) => n.country === country);
      if (node) {
        row.append(el("td", { "data-testid": `ac-${country}` }, shown(node.alleleCount, node.countPrecision)));
        row.append(el("td", { "data-testid": `an-${country}` }, String(node.alleleNumber)));
        row.append(el("td", { "data-testid": `af-${country}` }, frequency(node.alleleFrequency)));
      } else {
        for (const what of ["ac", "an", "af"]) row.append(el("td", { "data-testid": `${what}-${country}` }, "—"));
      }
    }
    row.append(el("td", { "data-testid": "ac-pooled" }, shown(variant.alleleCount, variant.countPrecision)));
    row.append(el("td", { "data-testid": "an-pooled" }, String(variant.alleleNumber)));
    row.append(el("td", { "data-testid": "af-pooled" }, frequency(variant.alleleFrequency)));
    body.append(row);
  }
  table.append(body);
  container.append(table);
}

async function ask(event) {
  event.preventDefault();
  const status = document.getElementById("status");
  const warnings = document.getElementById("warnings");
  warnings.hidden = true;
  const what = document.getElementById("what").value.trim();
  const query = parameters(what);
  if (!query) {
    status.textContent = `“${what}” is neither a variant (22-17000017-C-A) nor a region (22:16000000-16100000).`;
    return;
  }
  const filters = [document.getElementById("phenotype").value.trim(), document.getElementById("sex").value].filter(Boolean);
  if (filters.length) query.filters = filters.join(",");
  query.requestedGranularity = "count";
  query.includeResultsetResponses = "ALL";
  query.limit = "1000";
  const headers = {};
  const token = document.getElementById("token").value.trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  status.textContent = "Asking the network…";
  const started = performance.now();
  try {
    const response = await fetch(`/network/g_variants?${new URLSearchParams(query)}`, { headers });
    const answer = await response.json();
    const elapsed = Math.round(performance.now() - started);
    if (!response.ok) {
      status.textContent = `The query was refused: ${answer.error ? answer.error.errorMessage : response.status}`;
      document.getElementById("results").replaceChildren();
      return;
    }
    const nodes = answer.info.nodes;
    renderNodes(nodes, elapsed);
    const countries = [...new Set(nodes.map((n) => n.country))];
    renderResults(answer.info.pooled ? answer.info.pooled.variants : [], countries);
    const notes = nodes.flatMap((n) => n.warnings || []);
    if (notes.length) {
      warnings.textContent = [...new Set(notes)].join(" ");
      warnings.hidden = false;
    }
  } catch (error) {
    status.textContent = `The portal could not be reached: ${error}`;
  }
}

/** The caller's files on this node (GET /delivery/files), as a table of DRS and htsget addresses. */
async function listFiles() {
  const status = document.getElementById("files-status");
  const container = document.getElementById("files");
  container.replaceChildren();
  const token = document.getElementById("token").value.trim();
  if (!token) {
    status.textContent = "Enter your access token (under “Access token” above) to see your files.";
    return;
  }
  status.textContent = "Asking this node…";
  try {
    const response = await fetch("/delivery/files", { headers: { Authorization: `Bearer ${token}` } });
    if (response.status === 404) {
      status.textContent = "This portal holds no data of its own: open the portal of the node that holds your data.";
      return;
    }
    const answer = await response.json();
    if (!response.ok) {
      status.textContent = `Refused: ${answer.msg || response.status}`;
      return;
    }
    const files = answer.files;
    if (files.length === 0) {
      status.textContent = "Your token grants no dataset on this node (CONTROLLED access comes from the data access committee).";
      return;
    }
    status.textContent = `${files.length} file${files.length === 1 ? "" : "s"} you may receive.`;
    const table = el("table", { "data-testid": "files" });
    table.append(el("caption", {}, "Archived VCFs: DRS object and htsget endpoint (send your token with each request)"));
    const head = el("tr", {});
    for (const title of ["File", "Dataset", "Name", "DRS", "htsget"]) head.append(el("th", { scope: "col" }, title));
    table.append(el("thead", {}, head));
    const body = el("tbody");
    for (const file of files) {
      body.append(el("tr", { "data-file": file.id },
        el("th", { scope: "row" }, file.id),
        el("td", {}, file.dataset),
        el("td", {}, file.name),
        el("td", { class: "address" }, el("code", { "data-testid": "drs" }, file.self_uri)),
        el("td", { class: "address" }, el("code", { "data-testid": "htsget" }, file.htsget || "whole file only"))));
    }
    table.append(body);
    container.append(table);
  } catch (error) {
    status.textContent = `The node could not be reached: ${error}`;
  }
}

document.getElementById("query").addEventListener("submit", ask);
document.getElementById("list-files").addEventListener("click", listFiles);

// Øresund clinicians' page: HPO autocomplete from GET /mme/terms, the query sent to POST /mme/match
// with the clinician's token, the answer shown per country. All text from the API goes in through
// textContent / setAttribute, never as markup.
"use strict";

const MME = "application/vnd.ga4gh.matchmaker.v1.0+json";
const HPO_ID = /^HP:\d{7}$/;
const chosen = new Map(); // HPO id → label

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function setStatus(text, state) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.dataset.state = state;
}

// ---- Terms ------------------------------------------------------------------------------------

let lookup = 0;
async function suggest(text) {
  const mine = ++lookup;
  if (text.trim().length < 2) return;
  const response = await fetch(`/mme/terms?q=${encodeURIComponent(text)}`);
  if (!response.ok || mine !== lookup) return;
  const { terms } = await response.json();
  const list = document.getElementById("term-options");
  list.replaceChildren(...terms.map((t) => el("option", { value: `${t.label} (${t.id})`, "data-id": t.id })));
}

/** The HPO id and label of what the term field holds: a suggestion "Label (HP:…)" or a bare id. */
function termOf(text) {
  const suggestion = /^(.*) \((HP:\d{7})\)$/.exec(text.trim());
  if (suggestion) return { id: suggestion[2], label: suggestion[1] };
  const id = text.trim().toUpperCase();
  return HPO_ID.test(id) ? { id, label: id } : null;
}

function addTerm() {
  const input = document.getElementById("term");
  const term = termOf(input.value);
  if (!term) {
    setStatus(`“${input.value}” is not an HPO term: choose a suggestion or type HP:0000000.`, "error");
    return;
  }
  chosen.set(term.id, term.label);
  input.value = "";
  drawTerms();
}

function drawTerms() {
  const list = document.getElementById("terms");
  list.replaceChildren(...[...chosen].map(([id, label]) => {
    const remove = el("button", { type: "button", "aria-label": `Remove ${label}` }, "×");
    remove.addEventListener("click", () => { chosen.delete(id); drawTerms(); });
    return el("li", { "data-term": id }, `${label} (${id}) `, remove);
  }));
}

// ---- Query ------------------------------------------------------------------------------------

function patient() {
  const value = (id) => document.getElementById(id).value.trim();
  const genomic = [];
  if (value("gene")) {
    const feature = { gene: { id: value("gene") } };
    if (value("chrom") && value("position") && value("ref") && value("alt")) {
      feature.variant = {
        assembly: "GRCh38", referenceName: value("chrom").replace(/^chr/i, ""),
        start: Number(value("position")) - 1, // MME positions are 0-based
        referenceBases: value("ref").toUpperCase(), alternateBases: value("alt").toUpperCase(),
      };
    }
    genomic.push(feature);
  }
  return {
    id: "portal-query",
    contact: { name: "Øresund clinicians' page", href: location.origin + "/mme.html" },
    features: [...chosen.keys()].map((id) => ({ id })),
    genomicFeatures: genomic,
  };
}

async function find(event) {
  event.preventDefault();
  if (document.getElementById("term").value.trim()) addTerm();
  if (chosen.size === 0 && !document.getElementById("gene").value.trim()) {
    setStatus("Add at least one phenotype term or a gene.", "error");
    return;
  }
  setStatus("Asking…", "busy");
  const token = document.getElementById("token").value.trim();
  const headers = { "Content-Type": MME, Accept: MME };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response, answer;
  try {
    response = await fetch("/mme/match", { method: "POST", headers, body: JSON.stringify({ patient: patient() }) });
    answer = await response.json();
  } catch (error) {
    setStatus(`The node did not answer: ${error.message}`, "error");
    return;
  }
  if (!response.ok) {
    setStatus(`Refused (${response.status}): ${answer.message || "no reason given"}`, "error");
    return;
  }
  draw(answer);
}

function draw(answer) {
  const nodes = answer._nodes || [];
  document.getElementById("nodes").replaceChildren(...nodes.map((n) => {
    const text = n.status === "ok" ? `${n.node}: ${n.results} match${n.results === 1 ? "" : "es"}`
      : `${n.node}: ${n.status}${n.error ? ` (${n.error})` : ""}`;
    return el("li", { class: n.status === "ok" ? "ok" : "down", "data-testid": `node-${n.node}` }, text);
  }));
  document.getElementById("warnings").replaceChildren(...(answer._warnings || []).map((w) => el("li", {}, w)));
  const byNode = new Map(nodes.map((n) => [n.node, []]));
  for (const r of answer.results) {
    if (!byNode.has(r._node)) byNode.set(r._node, []);
    byNode.get(r._node).push(r);
  }
  const sections = [];
  for (const [node, results] of byNode) {
    if (results.length === 0) continue;
    const rows = results.map((r) => {
      const c = r.patient.contact || {};
      const contact = el("td", { "data-testid": "contact" }, c.name || "");
      if (c.institution) contact.append(`, ${c.institution}`);
      if (c.href && /^(mailto|https?):/i.test(c.href)) {
        contact.append(" ", el("a", { href: c.href, rel: "noopener" }, c.href.replace(/^mailto:/i, "")));
      }
      return el("tr", { "data-case": r.patient.id },
        el("th", { scope: "row" }, r.patient.id),
        el("td", { "data-testid": "score" }, r.score.patient.toFixed(3)),
        el("td", { "data-testid": "features" }, (r._sharedFeatures || []).join(", ") || "—"),
        el("td", { "data-testid": "genes" }, (r._sharedGenes || []).join(", ") || "—"),
        contact);
    });
    const table = el("table", { "data-testid": `results-${node}` },
      el("caption", {}, node),
      el("thead", {}, el("tr", {}, ...["Case", "Score", "Shared features", "Shared genes", "Contact"]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows));
    sections.push(table);
  }
  document.getElementById("results").replaceChildren(
    ...(sections.length ? sections : [el("p", {}, "No case scored above the threshold.")]));
  const total = answer.results.length;
  setStatus(`${total} match${total === 1 ? "" : "es"} from ${nodes.filter((n) => n.status === "ok").length} of ${nodes.length} nodes.`, "done");
}

document.getElementById("term").addEventListener("input", (e) => suggest(e.target.value));
document.getElementById("term").addEventListener("keydown", (e) => {
  if (e.key === "Enter") { e.preventDefault(); addTerm(); }
});
document.getElementById("add-term").addEventListener("click", addTerm);
document.getElementById("match").addEventListener("submit", find);

//! The report as one self-contained HTML page (inline CSS and SVG charts; no script, font, image or
//! link out, so it reads offline, as a file sent by mail), and the steering group's page of every
//! node's summary side by side.
//!
//! Every figure sits in a cell named by `data-metric` (the JSON's camelCase path, `holdings.files`;
//! keyed figures also carry `data-key` — a country, month or dataset — and take the CSV's names)
//! whose text is the JSON value: integers without separators, floats as Rust's `{}` prints them
//! (`0.25`, `40`), `—` for `null`. Its readable form (`1.2 GB`, `25.0 %`, `0.53 EUR`) is in
//! `data-readable`, shown by the style sheet as generated content, which is no part of the cell's
//! text: a browser test can compare the page with the JSON.

use std::fmt::Write as _;

use super::summary::Shared;
use super::{Committee, Cost, DatasetDelivery, MonthUse, Period, Report, Summary};

/// The tiers of the use chart, in order of access, and their colours (Okabe–Ito, told apart by
/// colour-blind readers too); a tier outside these counts as `unknown` in the chart.
const TIERS: [(&str, &str); 4] =
    [("public", "#009e73"), ("registered", "#56b4e9"), ("controlled", "#e69f00"), ("unknown", "#999999")];
const REFUSED: &str = "#d55e00";
const BAR: &str = "#0072b2";

/// The style sheet: a figure's readable form beneath its value (`data-readable`), and a white halo
/// round chart labels so that they read over bars.
const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:64rem;margin:1.5rem auto;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:600}th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}.meta,.note{color:#555}
[data-readable]::after{content:attr(data-readable);display:block;font-size:.8em;color:#666}
td[title]{text-decoration:underline dotted}td.unavailable{color:#a00}
svg{display:block;width:100%;max-width:44rem;height:auto;margin:1rem 0}
svg text{font:11px system-ui,sans-serif;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}";

/// The report's sections, in order: `id` and heading.
const SECTIONS: [(&str, &str); 8] = [
    ("holdings", "Holdings"),
    ("cost", "Cost"),
    ("usage", "Use"),
    ("access", "Access committee"),
    ("delivery", "Delivery"),
    ("matchmaking", "Matchmaking"),
    ("withdrawals", "Withdrawals"),
    ("privacy", "Privacy"),
];

/// The page of one node's report.
pub fn render(report: &Report) -> String {
    let (h, c, u, a, p) = (&report.holdings, &report.cost, &report.usage, &report.access, &report.privacy);
    let cur = c.currency.as_str();
    let holdings = figures(&[
        ("Datasets", "holdings.datasets", count(h.datasets)),
        ("Individuals", "holdings.individuals", count(h.individuals)),
        ("VCF files", "holdings.files", count(h.files)),
        ("File bytes", "holdings.fileBytes", sized(h.file_bytes)),
        ("Variant records", "holdings.variantRecords", count(h.variant_records)),
        ("Archive objects", "holdings.archiveObjects", count(h.archive_objects)),
        ("Archive bytes (encrypted)", "holdings.archiveBytes", sized(h.archive_bytes)),
    ]);
    let cost = figures(&[
        ("Currency", "cost.currency", (cur.to_string(), String::new())),
        ("Storage price per TB and month", "cost.storagePerTbMonth", priced(c.storage_per_tb_month, cur)),
        ("Price of 1,000 requests", "cost.per1000Requests", priced(c.per_1000_requests, cur)),
        ("Storage per month", "cost.storagePerMonth", priced(c.storage_per_month, cur)),
        ("Requests (answered and refused)", "cost.requests", count(c.requests)),
        ("Cost of the requests", "cost.requestsCost", priced(c.requests_cost, cur)),
        ("Days in the period", "cost.periodDays", (c.period_days.to_string(), String::new())),
        ("Cost per genome-year", "cost.perGenomeYear", maybe(c.per_genome_year, |v| money(v, cur), "no individuals")),
    ]) + &note(
        "A genome-year: a year of storage and of requests at the period's rate, per individual held.",
    ) + &cost_chart(c);
    let mut usage = figures(&[
        ("Requests answered", "usage.answered", count(u.answered)),
        ("Requests refused", "usage.refused", count(u.refused)),
        ("Cross-border share", "usage.crossBorderShare", maybe(u.cross_border_share, percent, "no known country")),
        ("Registered users", "usage.registeredUsers", count(u.registered_users)),
        ("Controlled users", "usage.controlledUsers", count(u.controlled_users)),
    ]);
    let rows: String = u
        .by_country
        .iter()
        .map(|(country, n)| row(country, &[cell(&keyed("usage.byCountry", country), &n.to_string(), "")]))
        .collect();
    usage += &table("Answered, by the caller's country", &["Country", "Answered"], &rows);
    usage += &months_table(&u.months);
    usage += &use_chart(&u.months);
    let days = |v: f64| format!("{v:.1} days");
    let access = figures(&[
        ("Requests filed", "access.requests", count(a.requests)),
        ("Approved", "access.approvals", count(a.approvals)),
        ("Rejected", "access.rejections", count(a.rejections)),
        ("Pending", "access.pending", count(a.pending)),
        ("Grants revoked", "access.revocations", count(a.revocations)),
        ("Median days to decision", "access.medianDays", maybe(a.median_days, days, "")),
        ("90th percentile of days to decision", "access.p90Days", maybe(a.p90_days, days, "")),
        ("DUO match: approvable", "access.duoApprovable", count(a.duo_approvable)),
        ("DUO match: needs review", "access.duoNeedsReview", count(a.duo_needs_review)),
        ("DUO match: deny", "access.duoDeny", count(a.duo_deny)),
    ]) + &decision_chart(a);
    let delivery = if report.delivery.is_empty() {
        note("No data delivered in this period.")
    } else {
        let cells = |d: &DatasetDelivery| {
            [("files", d.files), ("downloads", d.downloads), ("bytes", d.bytes), ("tickets", d.tickets)]
                .into_iter()
                .chain([("accessUrls", d.access_urls)])
                .map(|(m, n)| {
                    let readable = if m == "bytes" { bytes(n) } else { String::new() };
                    cell(&keyed(&format!("delivery.{m}"), &d.dataset), &n.to_string(), &readable)
                })
                .collect::<Vec<_>>()
        };
        let rows: String = report.delivery.iter().map(|d| row(&d.dataset, &cells(d))).collect();
        table("", &["Dataset", "Files", "Downloads", "Bytes", "htsget tickets", "DRS access URLs"], &rows)
    };
    let privacy = figures(&[
        ("Answers refused by the re-identification budget", "privacy.budgetRefusals", count(p.budget_refusals)),
        ("Refusals that locked a user", "privacy.budgetLocks", count(p.budget_locks)),
        ("Locks lifted by the operator", "privacy.budgetUnlocks", count(p.budget_unlocks)),
        ("Answers with small counts raised", "privacy.smallCountSuppressions", count(p.small_count_suppressions)),
        ("Credentials refused", "privacy.refusedCredentials", count(p.refused_credentials)),
    ]);
    let m = &report.matchmaking;
    let matchmaking = figures(&[
        ("Cases held", "matchmaking.cases", count(m.cases)),
        ("of them open to matching across the border", "matchmaking.crossBorderCases", count(m.cross_border_cases)),
        ("Clinicians who submitted them", "matchmaking.submitters", count(m.submitters)),
        ("Match requests of this node's clinicians", "matchmaking.clinicianRequests", count(m.clinician_requests)),
        ("Matches they were shown (all nodes)", "matchmaking.matchesFound", count(m.matches_found)),
        ("Match requests of partners", "matchmaking.partnerRequests", count(m.partner_requests)),
        ("Matches sent to partners", "matchmaking.matchesSent", count(m.matches_sent)),
        ("Partners asked", "matchmaking.partnersAsked", count(m.partners_asked)),
        ("Partners that did not answer", "matchmaking.partnersFailed", count(m.partners_failed)),
    ]);
    let w = &report.withdrawals;
    let withdrawals = figures(&[
        ("Participants withdrawn", "withdrawals.withdrawals", count(w.withdrawals)),
        ("Archived files rewritten without them", "withdrawals.filesRewritten", count(w.files_rewritten)),
        ("Files removed", "withdrawals.filesRemoved", count(w.files_removed)),
        ("Datasets removed", "withdrawals.datasetsRemoved", count(w.datasets_removed)),
        ("Archived versions shredded", "withdrawals.versionsShredded", count(w.versions_shredded)),
        ("Subject access reports", "withdrawals.subjectReports", count(w.subject_reports)),
    ]);
    let contents = [holdings, cost, usage, access, delivery, matchmaking, withdrawals, privacy];
    let nav: Vec<String> = SECTIONS.iter().map(|(id, heading)| format!("<a href=\"#{id}\">{heading}</a>")).collect();
    let mut body = format!(
        "<p class=\"meta\">Period {} · generated {} · <span data-metric=\"auditEntries\">{}</span> audit entries read</p>\n<nav>{}</nav>\n",
        escape(&period(&report.period)),
        escape(&report.generated),
        report.audit_entries,
        nav.join(" · ")
    );
    for ((id, heading), content) in SECTIONS.iter().zip(contents) {
        let _ = write!(body, "<section id=\"{id}\">\n<h2>{heading}</h2>\n{content}</section>\n");
    }
    page(&format!("Øresund report — {} ({})", report.node, report.country), &body)
}

/// The network's page: each node's summary side by side (or why it is missing).
pub fn network_page(nodes: &[(String, Result<Summary, String>)]) -> String {
    type Figure = fn(&Summary, &str) -> String;
    let figures: [(&str, &str, Figure); 19] = [
        ("Individuals", "individuals", |s, at| shared(at, &s.individuals)),
        ("Datasets", "datasets", |s, at| cell(at, &s.datasets.to_string(), "")),
        ("VCF files", "files", |s, at| cell(at, &s.files.to_string(), "")),
        ("Archive bytes", "archiveBytes", |s, at| cell(at, &s.archive_bytes.to_string(), &bytes(s.archive_bytes))),
        ("Cost per genome-year", "costPerGenomeYear", |s, at| {
            let readable = s.cost_per_genome_year.map_or_else(|| s.currency.clone(), |v| money(v, &s.currency));
            cell(at, &opt(s.cost_per_genome_year), &readable)
        }),
        ("Requests answered", "answered", |s, at| cell(at, &s.answered.to_string(), "")),
        ("Requests refused", "refused", |s, at| cell(at, &s.refused.to_string(), "")),
        ("Cross-border share", "crossBorderShare", |s, at| {
            cell(at, &opt(s.cross_border_share), &s.cross_border_share.map(percent).unwrap_or_default())
        }),
        ("Registered users", "registeredUsers", |s, at| shared(at, &s.registered_users)),
        ("Controlled users", "controlledUsers", |s, at| shared(at, &s.controlled_users)),
        ("Access requests", "accessRequests", |s, at| shared(at, &s.access_requests)),
        ("Approvals", "approvals", |s, at| shared(at, &s.approvals)),
        ("Rejections", "rejections", |s, at| shared(at, &s.rejections)),
        ("Revocations", "revocations", |s, at| shared(at, &s.revocations)),
        ("Median days to decision", "medianDays", |s, at| cell(at, &opt(s.median_days), "")),
        ("90th percentile of days", "p90Days", |s, at| cell(at, &opt(s.p90_days), "")),
        ("Delivered bytes", "deliveredBytes", |s, at| {
            cell(at, &s.delivered_bytes.to_string(), &bytes(s.delivered_bytes))
        }),
        ("Budget refusals", "budgetRefusals", |s, at| shared(at, &s.budget_refusals)),
        ("Small-count suppressions", "smallCountSuppressions", |s, at| {
            cell(at, &s.small_count_suppressions.to_string(), "")
        }),
    ];
    // The id shown: the summary's own, or the one it was asked of when it did not come.
    let id = |(asked, result): &(String, Result<Summary, String>)| escape(result.as_ref().map_or(asked, |s| &s.node));
    let mut head = String::from("<tr><th scope=\"col\">Figure</th>");
    let mut period_row = String::from("<tr><th scope=\"row\">Period</th>");
    for node in nodes {
        let id = id(node);
        let country = node.1.as_ref().map(|s| format!(" ({})", escape(&s.country))).unwrap_or_default();
        let _ = write!(head, "<th scope=\"col\" data-node=\"{id}\">{id}{country}</th>");
        let _ = match &node.1 {
            Ok(s) => write!(period_row, "<td data-node=\"{id}\">{}</td>", escape(&period(&s.period))),
            // One cell down the whole column, saying why.
            Err(why) => write!(
                period_row,
                "<td class=\"unavailable\" rowspan=\"{}\" data-node=\"{id}\">unavailable<br><small>{}</small></td>",
                figures.len() + 1,
                escape(why)
            ),
        };
    }
    let mut rows = period_row + "</tr>\n";
    for (label, metric, figure) in figures {
        let cells: Vec<String> = nodes
            .iter()
            .filter_map(|node| {
                node.1.as_ref().ok().map(|s| figure(s, &format!("data-node=\"{}\" data-metric=\"{metric}\"", id(node))))
            })
            .collect();
        rows += &row(label, &cells);
    }
    let body = format!(
        "<p class=\"meta\">{} nodes. “&lt;T”: a count from 1 to T − 1, withheld by the node's small-count rule; “—”: no value.</p>\n\
         <table>\n<thead>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n",
        nodes.len()
    );
    page("Øresund network — the nodes side by side", &body)
}

/// A whole page around `body`, with `title` as its title and first heading.
fn page(title: &str, body: &str) -> String {
    let title = escape(title);
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         <style>\n{STYLE}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n{body}</body>\n</html>\n"
    )
}

/// Text for HTML, in elements and in quoted attributes alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A figure's cell: `attrs` name it, its text is the plain `value`, and `readable` (if any) is shown
/// beneath it by the style sheet.
fn cell(attrs: &str, value: &str, readable: &str) -> String {
    let readable = if readable.is_empty() { String::new() } else { format!(" data-readable=\"{}\"", escape(readable)) };
    format!("<td class=\"n\" {attrs}{readable}>{}</td>", escape(value))
}

/// A shared count's cell: the count, or `<T` and why it is withheld.
fn shared(attrs: &str, count: &Shared) -> String {
    match count {
        Shared::Exact(n) => cell(attrs, &n.to_string(), ""),
        Shared::Below(text) => {
            let why = format!("fewer than {}: withheld by the node's small-count rule", text.trim_start_matches('<'));
            cell(&format!("{attrs} title=\"{}\"", escape(&why)), text, "")
        }
    }
}

/// The attributes of a keyed figure (`data-key` from the data, escaped).
fn keyed(metric: &str, key: &str) -> String {
    format!("data-metric=\"{metric}\" data-key=\"{}\"", escape(key))
}

/// A table row: a heading cell, then `cells`.
fn row(heading: &str, cells: &[String]) -> String {
    format!("<tr><th scope=\"row\">{}</th>{}</tr>\n", escape(heading), cells.concat())
}

/// A table with a caption (none when empty), column heads and rows; nothing without rows.
fn table(caption: &str, heads: &[&str], rows: &str) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let caption = if caption.is_empty() { String::new() } else { format!("<caption>{}</caption>", escape(caption)) };
    let heads: String = heads.iter().map(|h| format!("<th scope=\"col\">{}</th>", escape(h))).collect();
    format!("<table>{caption}\n<thead><tr>{heads}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n")
}

/// A table of one section's figures: label, metric and (value, readable).
fn figures(rows: &[(&str, &str, (String, String))]) -> String {
    let rows: String = rows
        .iter()
        .map(|(label, metric, (value, readable))| {
            row(label, &[cell(&format!("data-metric=\"{metric}\""), value, readable)])
        })
        .collect();
    table("", &["Figure", "Value"], &rows)
}

/// Requests per month: answered, refused, and answered by tier.
fn months_table(months: &[MonthUse]) -> String {
    if months.is_empty() {
        return note("No requests in this period.");
    }
    let mut tiers: Vec<&str> = TIERS.iter().map(|(tier, _)| *tier).collect();
    for tier in months.iter().flat_map(|m| m.by_tier.keys()) {
        if !tiers.contains(&tier.as_str()) {
            tiers.push(tier);
        }
    }
    let rows: String = months
        .iter()
        .map(|m| {
            let mut cells = vec![
                cell(&keyed("usage.answeredInMonth", &m.month), &m.answered.to_string(), ""),
                cell(&keyed("usage.refusedInMonth", &m.month), &m.refused.to_string(), ""),
            ];
            let by_tier = |tier: &&str| m.by_tier.get(*tier).copied().unwrap_or(0);
            cells.extend(
                tiers
                    .iter()
                    .map(|t| cell(&keyed("usage.byTier", &format!("{} {t}", m.month)), &by_tier(t).to_string(), "")),
            );
            row(&m.month, &cells)
        })
        .collect();
    let heads: Vec<String> = tiers.iter().map(|t| format!("Answered at {t}")).collect();
    let mut all = vec!["Month", "Answered", "Refused"];
    all.extend(heads.iter().map(String::as_str));
    table("Requests per month", &all, &rows)
}

// A figure's (value, readable): a count, bytes, an amount, a float or none.
fn count(n: u64) -> (String, String) {
    (n.to_string(), String::new())
}
fn sized(n: u64) -> (String, String) {
    (n.to_string(), bytes(n))
}
fn priced(v: f64, currency: &str) -> (String, String) {
    (v.to_string(), money(v, currency))
}
fn maybe(v: Option<f64>, readable: impl Fn(f64) -> String, missing: &str) -> (String, String) {
    (opt(v), v.map_or_else(|| missing.to_string(), readable))
}
fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| v.to_string())
}

/// Bytes in decimal units (10³, as the storage price's TB).
fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let (mut value, mut unit) = (n as f64 / 1000.0, 0);
    // 999.95 and above would print as 1000.0 of this unit.
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// An amount with cents, or four decimals below a cent (a genome-year can cost less).
fn money(v: f64, currency: &str) -> String {
    let decimals = if v != 0.0 && v.abs() < 0.01 { 4 } else { 2 };
    format!("{v:.decimals$} {currency}")
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn period(p: &Period) -> String {
    format!("{} – {}", p.since.as_deref().unwrap_or("the beginning"), p.until.as_deref().unwrap_or("now"))
}

fn note(text: &str) -> String {
    format!("<p class=\"note\">{}</p>\n", escape(text))
}

// SVG: coordinates pass through `finite`, so no NaN or infinity reaches an attribute.

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// An SVG chart's opening: a viewBox (it scales to the page) and a title, its accessible name.
fn svg(id: &str, (width, height): (u32, u32), title: &str) -> String {
    let title = escape(title);
    format!(
        "<svg id=\"{id}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{title}\">\n<title>{title}</title>\n"
    )
}

/// A bar, with its value as a tooltip.
fn rect(x: f64, y: f64, width: f64, height: f64, fill: &str, tip: &str) -> String {
    let [x, y, width, height] = [x, y, finite(width).max(0.0), finite(height).max(0.0)].map(finite);
    format!(
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"{fill}\"><title>{}</title></rect>\n",
        escape(tip)
    )
}

fn text(x: f64, y: f64, anchor: &str, content: &str) -> String {
    format!("<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>\n", finite(x), finite(y), escape(content))
}

fn hline(x: (f64, f64), y: f64, stroke: &str) -> String {
    let [x1, x2, y] = [x.0, x.1, y].map(finite);
    format!("<line x1=\"{x1:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" {stroke}/>\n")
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` (1 for nothing), so that grid values read round.
fn nice_top(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|s| s * magnitude).find(|&v| v >= max).unwrap_or(max)
}

/// Grid lines at 0, ½ and all of `top` over a plot spanning `x` and `y` (top, bottom), the unit above.
fn grid(x: (f64, f64), y: (f64, f64), top: f64, unit: &str) -> String {
    let mut out = text(x.0, y.0 - 10.0, "start", unit);
    for f in [0.0, 0.5, 1.0] {
        let at = y.1 - f * (y.1 - y.0);
        out += &hline(x, at, "stroke=\"#ddd\"");
        out += &text(x.0 - 4.0, at + 4.0, "end", &((f * top * 100.0).round() / 100.0).to_string());
    }
    out
}

/// A month's answered requests by tier, in the order of [`TIERS`] (other tiers as `unknown`).
fn tier_counts(m: &MonthUse) -> [u64; 4] {
    let [public, registered, controlled] =
        ["public", "registered", "controlled"].map(|t| m.by_tier.get(t).copied().unwrap_or(0));
    [public, registered, controlled, m.answered.saturating_sub(public + registered + controlled)]
}

/// Per month, a bar of answered requests stacked by tier and a bar of refused ones.
fn use_chart(months: &[MonthUse]) -> String {
    let (width, height) = (640.0, 280.0);
    let (left, right, top, bottom) = (48.0, width - 12.0, 44.0, height - 40.0);
    let mut out = svg("chart-use", (640, 280), "Requests per month: answered, by tier, and refused");
    if months.is_empty() {
        return out + &text(width / 2.0, height / 2.0, "middle", "No requests in this period.") + "</svg>\n";
    }
    for (i, (name, colour)) in TIERS.iter().copied().chain([("refused", REFUSED)]).enumerate() {
        let x = left + i as f64 * 110.0;
        out += &rect(x, 4.0, 10.0, 10.0, colour, name);
        out += &text(x + 14.0, 13.0, "start", name);
    }
    let max = months.iter().map(|m| tier_counts(m).iter().sum::<u64>().max(m.refused)).max().unwrap_or(0);
    let top_value = nice_top(max as f64);
    let scale = (bottom - top) / top_value;
    out += &grid((left, right), (top, bottom), top_value, "requests");
    let slot = ((right - left) / months.len() as f64).min(80.0); // few months: bars, not walls
    let every = months.len().div_ceil(12); // at most 12 month labels
    for (i, m) in months.iter().enumerate() {
        let x = left + i as f64 * slot;
        let mut y = bottom;
        for ((tier, colour), n) in TIERS.iter().zip(tier_counts(m)) {
            y -= n as f64 * scale;
            if n > 0 {
                let tip = format!("{} {tier}: {n}", m.month);
                out += &rect(x + slot * 0.1, y, slot * 0.4, n as f64 * scale, colour, &tip);
            }
        }
        let (refused, tip) = (m.refused as f64 * scale, format!("{} refused: {}", m.month, m.refused));
        out += &rect(x + slot * 0.5, bottom - refused, slot * 0.4, refused, REFUSED, &tip);
        if i % every == 0 {
            out += &text(x + slot / 2.0, bottom + 14.0, "middle", &m.month);
        }
    }
    out += &text((left + right) / 2.0, height - 6.0, "middle", "month (left: answered, by tier; right: refused)");
    out + "</svg>\n"
}

/// A bar per decided request, fastest to slowest, with the median and the 90th percentile marked.
fn decision_chart(a: &Committee) -> String {
    let days = &a.decision_days;
    if days.is_empty() {
        return note("No decisions in this period.");
    }
    let (width, height) = (640.0, 240.0);
    let (left, right, top, bottom) = (48.0, width - 12.0, 28.0, height - 32.0);
    let title = format!("Days from request to decision, {} decided requests", days.len());
    let mut out = svg("chart-decisions", (640, 240), &title);
    let max = days.iter().copied().chain(a.median_days).chain(a.p90_days).map(finite).fold(0.0, f64::max);
    let top_value = nice_top(max);
    let scale = (bottom - top) / top_value;
    out += &grid((left, right), (top, bottom), top_value, "days");
    let slot = ((right - left) / days.len() as f64).min(40.0);
    for (i, d) in days.iter().enumerate() {
        let x = left + i as f64 * slot + slot * 0.1;
        out += &rect(x, bottom - d * scale, slot * 0.8, d * scale, BAR, &format!("request {}: {d:.1} days", i + 1));
    }
    // The labels at opposite ends, so they do not overlap when the two values are close.
    for (label, value, colour, x, anchor) in
        [("median", a.median_days, REFUSED, left + 4.0, "start"), ("p90", a.p90_days, "#000", right, "end")]
    {
        if let Some(v) = value {
            let y = bottom - v * scale;
            out += &hline((left, right), y, &format!("stroke=\"{colour}\" stroke-dasharray=\"5 3\""));
            out += &text(x, y - 3.0, anchor, &format!("{label} {v:.1} days"));
        }
    }
    out += &text((left + right) / 2.0, height - 6.0, "middle", "decided requests, fastest to slowest");
    out + "</svg>\n"
}

/// A year of storage against a year of requests at the period's rate (none for an empty period).
fn cost_chart(c: &Cost) -> String {
    let requests = if c.period_days > 0.0 { c.requests_cost / c.period_days * 365.0 } else { 0.0 };
    let bars = [("Storage per year", c.storage_per_month * 12.0, BAR), ("Requests per year", requests, REFUSED)];
    let (height, left, right) = (120.0, 130.0, 640.0 - 120.0);
    let mut out = svg("chart-cost", (640, 120), &format!("Cost per year in {}: storage and requests", c.currency));
    let max = bars.iter().map(|b| finite(b.1)).fold(0.0, f64::max);
    let scale = if max > 0.0 { (right - left) / max } else { 0.0 };
    for (i, (label, v, colour)) in bars.into_iter().enumerate() {
        let y = 10.0 + i as f64 * 40.0;
        out += &text(left - 8.0, y + 18.0, "end", label);
        out += &rect(left, y, v * scale, 28.0, colour, &money(v, &c.currency));
        out += &text(left + finite(v * scale) + 6.0, y + 18.0, "start", &money(v, &c.currency));
    }
    out += &format!("<line x1=\"{left}\" y1=\"6\" x2=\"{left}\" y2=\"92\" stroke=\"#999\"/>\n");
    out += &text((left + right) / 2.0, height - 8.0, "middle", &format!("{} per year", c.currency));
    out + "</svg>\n"
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::report::{Holdings, Privacy, Usage};

    fn report(individuals: u64) -> Report {
        let tiers = BTreeMap::from([("public".to_string(), 7), ("controlled".to_string(), 2)]);
        let month =
            MonthUse { month: "2026-11".into(), answered: 9, refused: 1, by_tier: tiers, ..MonthUse::default() };
        Report {
            schema: crate::report::SCHEMA.into(),
            node: "DK-1".into(),
            country: "DK".into(),
            generated: "2026-12-01T00:00:00Z".into(),
            period: Period { since: Some("2026-11-01T00:00:00Z".into()), until: None },
            holdings: Holdings { datasets: 2, individuals, archive_bytes: 1_234_000_000, ..Holdings::default() },
            cost: Cost {
                currency: "DKK".into(),
                storage_per_tb_month: 150.0,
                per_1000_requests: 3.0,
                storage_per_month: 0.1851,
                requests: 9,
                requests_cost: 0.027,
                period_days: 30.0,
                per_genome_year: (individuals > 0).then_some(0.25),
            },
            usage: Usage {
                months: vec![month],
                answered: 9,
                refused: 1,
                cross_border_share: Some(0.25),
                ..Usage::default()
            },
            access: Committee {
                requests: 3,
                approvals: 2,
                median_days: Some(2.5),
                p90_days: Some(8.5),
                decision_days: vec![1.0, 2.5, 10.0],
                ..Committee::default()
            },
            delivery: vec![DatasetDelivery { dataset: "<b>x</b>".into(), bytes: 5, ..DatasetDelivery::default() }],
            matchmaking: Default::default(),
            withdrawals: Default::default(),
            privacy: Privacy { budget_refusals: 4, ..Privacy::default() },
            audit_entries: 10,
        }
    }

    #[test]
    fn a_report_is_one_offline_page_with_named_figures() {
        let page = render(&report(1234));
        assert!(page.starts_with("<!doctype html>") && page.contains("<meta charset=\"utf-8\">"));
        assert!(page.contains("<title>Øresund report — DK-1 (DK)</title>"));
        assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"));
        for id in ["chart-use", "chart-decisions", "chart-cost"] {
            assert!(page.contains(&format!("<svg id=\"{id}\"")), "{id}");
        }
        for (id, _) in SECTIONS {
            assert!(page.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        assert!(page.contains("data-metric=\"holdings.individuals\">1234</td>"));
        assert!(page.contains("data-metric=\"holdings.archiveBytes\" data-readable=\"1.2 GB\">1234000000</td>"));
        assert!(page.contains("data-metric=\"privacy.budgetRefusals\">4</td>"));
        assert!(page.contains("data-metric=\"usage.crossBorderShare\" data-readable=\"25.0 %\">0.25</td>"));
        assert!(page.contains("data-metric=\"usage.byTier\" data-key=\"2026-11 public\">7</td>"));
        assert!(page.contains("&lt;b&gt;x&lt;/b&gt;") && !page.contains("<b>x</b>"));
        assert!(page.contains("data-metric=\"withdrawals.versionsShredded\">0</td>"));
    }

    #[test]
    fn empty_data_renders_without_nan() {
        let mut empty = report(0);
        empty.usage = Usage::default();
        empty.access = Committee::default();
        empty.delivery.clear();
        empty.cost = Cost { period_days: 0.0, storage_per_month: 0.0, requests_cost: 0.0, ..empty.cost };
        let page = render(&empty);
        assert!(!page.contains("NaN") && !page.contains("inf"));
        assert!(page.contains("No decisions in this period.") && page.contains("No data delivered in this period."));
        assert!(page.contains("data-metric=\"cost.perGenomeYear\" data-readable=\"no individuals\">—</td>"));
        assert!(page.contains("<svg id=\"chart-use\"") && page.contains("<svg id=\"chart-cost\""));
    }

    #[test]
    fn the_network_page_shows_withheld_counts_and_missing_nodes() {
        let mut summary = Summary::of(&report(3), oresund_access::CountThreshold(5));
        summary.individuals = Shared::Below("<5".into());
        let nodes = [("DK-1".to_string(), Ok(summary)), ("SE-<1>".to_string(), Err("timed out & gone".to_string()))];
        let page = network_page(&nodes);
        assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"));
        assert!(page.contains(
            "data-node=\"DK-1\" data-metric=\"individuals\" title=\"fewer than 5: withheld by the node&#39;s small-count rule\">&lt;5</td>"
        ));
        assert!(page.contains("data-node=\"DK-1\" data-metric=\"answered\">9</td>"));
        assert!(page.contains("data-node=\"SE-&lt;1&gt;\">unavailable<br><small>timed out &amp; gone</small>"));
        assert!(page.contains("<th scope=\"col\" data-node=\"DK-1\">DK-1 (DK)</th>"));
    }
}

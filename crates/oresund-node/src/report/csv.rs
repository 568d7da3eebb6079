//! The report as CSV: one figure per row, `section,metric,key,value` (RFC 4180 quoting), so a
//! spreadsheet can pivot it and a script can pick one figure.

use std::fmt::Write as _;

use super::Report;

/// The CSV text of `report`.
pub fn render(report: &Report) -> String {
    let mut out = String::from("section,metric,key,value\r\n");
    let mut row = |section: &str, metric: &str, key: &str, value: String| {
        let _ = write!(out, "{},{},{},{}\r\n", quote(section), quote(metric), quote(key), quote(&value));
    };
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    row("report", "node", "", report.node.clone());
    row("report", "country", "", report.country.clone());
    row("report", "generated", "", report.generated.clone());
    row("report", "since", "", report.period.since.clone().unwrap_or_default());
    row("report", "until", "", report.period.until.clone().unwrap_or_default());
    row("report", "auditEntries", "", report.audit_entries.to_string());
    let h = &report.holdings;
    for (metric, value) in [
        ("datasets", h.datasets),
        ("individuals", h.individuals),
        ("files", h.files),
        ("fileBytes", h.file_bytes),
        ("variantRecords", h.variant_records),
        ("archiveObjects", h.archive_objects),
        ("archiveBytes", h.archive_bytes),
    ] {
        row("holdings", metric, "", value.to_string());
    }
    let c = &report.cost;
    row("cost", "currency", "", c.currency.clone());
    row("cost", "storagePerTbMonth", "", c.storage_per_tb_month.to_string());
    row("cost", "per1000Requests", "", c.per_1000_requests.to_string());
    row("cost", "storagePerMonth", "", c.storage_per_month.to_string());
    row("cost", "requests", "", c.requests.to_string());
    row("cost", "requestsCost", "", c.requests_cost.to_string());
    row("cost", "periodDays", "", c.period_days.to_string());
    row("cost", "perGenomeYear", "", opt(c.per_genome_year));
    let u = &report.usage;
    row("usage", "answered", "", u.answered.to_string());
    row("usage", "refused", "", u.refused.to_string());
    row("usage", "crossBorderShare", "", opt(u.cross_border_share));
    row("usage", "registeredUsers", "", u.registered_users.to_string());
    row("usage", "controlledUsers", "", u.controlled_users.to_string());
    for (country, n) in &u.by_country {
        row("usage", "byCountry", country, n.to_string());
    }
    for m in &u.months {
        row("usage", "answeredInMonth", &m.month, m.answered.to_string());
        row("usage", "refusedInMonth", &m.month, m.refused.to_string());
        for (tier, n) in &m.by_tier {
            row("usage", "byTier", &format!("{} {tier}", m.month), n.to_string());
        }
        for (endpoint, n) in &m.by_endpoint {
            row("usage", "byEndpoint", &format!("{} {endpoint}", m.month), n.to_string());
        }
    }
    let a = &report.access;
    for (metric, value) in [
        ("requests", a.requests),
        ("approvals", a.approvals),
        ("rejections", a.rejections),
        ("pending", a.pending),
        ("revocations", a.revocations),
        ("duoApprovable", a.duo_approvable),
        ("duoNeedsReview", a.duo_needs_review),
        ("duoDeny", a.duo_deny),
    ] {
        row("access", metric, "", value.to_string());
    }
    row("access", "medianDays", "", opt(a.median_days));
    row("access", "p90Days", "", opt(a.p90_days));
    for d in &report.delivery {
        row("delivery", "files", &d.dataset, d.files.to_string());
        row("delivery", "downloads", &d.dataset, d.downloads.to_string());
        row("delivery", "bytes", &d.dataset, d.bytes.to_string());
        row("delivery", "tickets", &d.dataset, d.tickets.to_string());
        row("delivery", "accessUrls", &d.dataset, d.access_urls.to_string());
    }
    let m = &report.matchmaking;
    for (metric, value) in [
        ("cases", m.cases),
        ("crossBorderCases", m.cross_border_cases),
        ("submitters", m.submitters),
        ("clinicianRequests", m.clinician_requests),
        ("matchesFound", m.matches_found),
        ("partnerRequests", m.partner_requests),
        ("matchesSent", m.matches_sent),
        ("partnersAsked", m.partners_asked),
        ("partnersFailed", m.partners_failed),
    ] {
        row("matchmaking", metric, "", value.to_string());
    }
    let w = &report.withdrawals;
    for (metric, value) in [
        ("withdrawals", w.withdrawals),
        ("filesRewritten", w.files_rewritten),
        ("filesRemoved", w.files_removed),
        ("datasetsRemoved", w.datasets_removed),
        ("versionsShredded", w.versions_shredded),
        ("subjectReports", w.subject_reports),
    ] {
        row("withdrawals", metric, "", value.to_string());
    }
    let p = &report.privacy;
    for (metric, value) in [
        ("budgetRefusals", p.budget_refusals),
        ("budgetLocks", p.budget_locks),
        ("budgetUnlocks", p.budget_unlocks),
        ("smallCountSuppressions", p.small_count_suppressions),
        ("refusedCredentials", p.refused_credentials),
    ] {
        row("privacy", metric, "", value.to_string());
    }
    out
}

/// A field quoted when it holds a comma, a quote or a line break (RFC 4180 §2).
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}

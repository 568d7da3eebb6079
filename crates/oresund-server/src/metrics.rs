//! Live operational metrics in the Prometheus text exposition format (version 0.0.4), served at
//! `/metrics`: requests by endpoint, tier, decision and status, latency histograms, the audit
//! writer's backlog, each peer's status and latency, budget refusals, small-count suppressions,
//! bytes delivered, and what the node holds. Labels carry route shapes, tiers, dataset and peer
//! ids only — never a path, a query value, a user id or a pseudonym.
//!
//! Counters live in this process and start at zero with it (Prometheus' `rate()` handles the
//! restarts); holdings are read from the catalog at each scrape.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_core::query_note::QueryNote;
use oresund_node::report::{Holdings, served_bytes};

/// Upper bounds of the latency buckets, in seconds (0.5 ms to 10 s).
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The content type of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A latency histogram: cumulative counts are computed when rendered.
#[derive(Debug, Clone, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|&upper| seconds <= upper) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (upper, n) in BUCKETS.iter().zip(self.buckets) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{upper}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// The labels of one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestLabels {
    /// The route shape (`/individuals/{id}`), from [`crate::request_log`].
    pub endpoint: String,
    /// `public`, `registered`, `controlled`, or `none` when the request answered no query.
    pub tier: &'static str,
    /// `allowed`, `denied`, or `none` when nothing was audited.
    pub decision: &'static str,
    pub status: u16,
}

#[derive(Debug, Default)]
struct Peer {
    country: String,
    up: bool,
    answered: u64,
    failed: u64,
    latency: Histogram,
}

/// The metrics of one server process (a node, or a portal without data).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<HashMap<RequestLabels, u64>>,
    latency: Mutex<HashMap<String, Histogram>>,
    peers: Mutex<BTreeMap<String, Peer>>,
    delivered: Mutex<BTreeMap<String, u64>>,
    audit_backlog: AtomicI64,
    audit_appended: AtomicU64,
    audit_failures: AtomicU64,
    budget_refusals: AtomicU64,
    suppressions: AtomicU64,
}

/// How a request was decided, as far as the middleware learns it from the audit record.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub tier: Option<&'static str>,
    pub decision: Option<Decision>,
}

impl Metrics {
    /// One answered request.
    pub fn request(&self, labels: RequestLabels, latency: Duration) {
        let seconds = latency.as_secs_f64();
        if let Ok(mut latency) = self.latency.lock() {
            match latency.get_mut(&labels.endpoint) {
                Some(h) => h.observe(seconds),
                None => latency.entry(labels.endpoint.clone()).or_default().observe(seconds),
            }
        }
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry(labels).or_insert(0) += 1;
        }
    }

    /// Learns from an audit record on its way to the log: budget refusals, suppressions, bytes
    /// delivered; returns how the request was decided, for its request line.
    pub fn audited(&self, record: &AuditRecord) -> Outcome {
        self.audit_backlog.fetch_add(1, Ordering::Relaxed);
        let note = QueryNote::parse(&record.detail);
        if note.raised {
            self.suppressions.fetch_add(1, Ordering::Relaxed);
        }
        if record.decision == Decision::Denied && oresund_access::budget::is_refusal(&record.detail) {
            self.budget_refusals.fetch_add(1, Ordering::Relaxed);
        }
        if record.action == AuditAction::DataServed
            && let Some(bytes) = served_bytes(&record.detail)
            && let Ok(mut delivered) = self.delivered.lock()
        {
            for dataset in &record.datasets {
                *delivered.entry(dataset.clone()).or_insert(0) += bytes;
            }
        }
        let tier = note.tier.and_then(|t| ["public", "registered", "controlled"].into_iter().find(|k| *k == t));
        Outcome { tier, decision: Some(record.decision) }
    }

    /// A group of `n` records appended, or failed (its records are dropped with their answers,
    /// which got 503): either way they leave the backlog.
    pub fn appended(&self, n: usize, ok: bool) {
        self.audit_backlog.fetch_sub(n as i64, Ordering::Relaxed);
        if ok {
            self.audit_appended.fetch_add(n as u64, Ordering::Relaxed);
        } else {
            self.audit_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One exchange with a peer and how it ended.
    pub fn peer(&self, id: &str, country: &str, latency: Duration, ok: bool) {
        if let Ok(mut peers) = self.peers.lock() {
            let peer = peers.entry(id.to_string()).or_default();
            peer.country = country.to_string();
            peer.up = ok;
            if ok {
                peer.answered += 1;
            } else {
                peer.failed += 1;
            }
            peer.latency.observe(latency.as_secs_f64());
        }
    }

    /// The exposition text; `holdings` (read from the catalog at scrape time) for a node, a portal has none.
    pub fn render(&self, holdings: Option<&Holdings>) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let _ = writeln!(out, "# HELP oresund_build_info The running Øresund version.");
        let _ = writeln!(out, "# TYPE oresund_build_info gauge");
        let _ = writeln!(out, "oresund_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));

        header(
            &mut out,
            "oresund_http_requests_total",
            "counter",
            "HTTP requests answered, by route, tier, decision and status.",
        );
        let mut requests: Vec<(RequestLabels, u64)> =
            self.requests.lock().map(|r| r.iter().map(|(k, v)| (k.clone(), *v)).collect()).unwrap_or_default();
        requests.sort();
        for (l, n) in requests {
            let _ = writeln!(
                out,
                "oresund_http_requests_total{{endpoint=\"{}\",tier=\"{}\",decision=\"{}\",status=\"{}\"}} {n}",
                escape(&l.endpoint),
                l.tier,
                l.decision,
                l.status
            );
        }
        let name = "oresund_http_request_duration_seconds";
        header(&mut out, name, "histogram", "Time from request to response headers, by route.");
        let mut latency: Vec<(String, Histogram)> =
            self.latency.lock().map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        latency.sort_by(|a, b| a.0.cmp(&b.0));
        for (endpoint, h) in latency {
            h.render(&mut out, name, &format!("endpoint=\"{}\"", escape(&endpoint)));
        }

        let gauge = |out: &mut String, name: &str, help: &str, value: i64| {
            header(out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        };
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            header(out, name, "counter", help);
            let _ = writeln!(out, "{name} {value}");
        };
        let backlog = self.audit_backlog.load(Ordering::Relaxed).max(0);
        gauge(&mut out, "oresund_audit_backlog_records", "Audit records queued and not yet appended.", backlog);
        let appended = self.audit_appended.load(Ordering::Relaxed);
        counter(&mut out, "oresund_audit_appended_records_total", "Audit records appended to the chain.", appended);
        let failures = self.audit_failures.load(Ordering::Relaxed);
        counter(
            &mut out,
            "oresund_audit_append_failures_total",
            "Failed audit appends (their requests got 503).",
            failures,
        );
        let refusals = self.budget_refusals.load(Ordering::Relaxed);
        counter(
            &mut out,
            "oresund_budget_refusals_total",
            "Answers refused by the re-identification budget.",
            refusals,
        );
        let raised = self.suppressions.load(Ordering::Relaxed);
        counter(
            &mut out,
            "oresund_small_count_suppressions_total",
            "Answers in which a small count was raised.",
            raised,
        );

        header(
            &mut out,
            "oresund_delivered_bytes_total",
            "counter",
            "Archived bytes served through data URLs, by dataset.",
        );
        if let Ok(delivered) = self.delivered.lock() {
            for (dataset, bytes) in delivered.iter() {
                let _ = writeln!(out, "oresund_delivered_bytes_total{{dataset=\"{}\"}} {bytes}", escape(dataset));
            }
        }

        if let Ok(peers) = self.peers.lock() {
            header(&mut out, "oresund_peer_up", "gauge", "Whether the last exchange with a peer succeeded.");
            for (id, p) in peers.iter() {
                let _ = writeln!(
                    out,
                    "oresund_peer_up{{peer=\"{}\",country=\"{}\"}} {}",
                    escape(id),
                    escape(&p.country),
                    u8::from(p.up)
                );
            }
            header(&mut out, "oresund_peer_exchanges_total", "counter", "Exchanges with each peer, by outcome.");
            for (id, p) in peers.iter() {
                for (outcome, n) in [("answered", p.answered), ("failed", p.failed)] {
                    let _ = writeln!(
                        out,
                        "oresund_peer_exchanges_total{{peer=\"{}\",outcome=\"{outcome}\"}} {n}",
                        escape(id)
                    );
                }
            }
            let name = "oresund_peer_duration_seconds";
            header(&mut out, name, "histogram", "Time a peer took to answer (or to fail), by peer.");
            for (id, p) in peers.iter() {
                p.latency.render(&mut out, name, &format!("peer=\"{}\"", escape(id)));
            }
        }

        if let Some(h) = holdings {
            gauge(&mut out, "oresund_datasets", "Datasets in the catalog.", h.datasets as i64);
            gauge(&mut out, "oresund_individuals", "Individuals in the catalog.", h.individuals as i64);
            gauge(&mut out, "oresund_ingested_files", "VCF files ingested.", h.files as i64);
            gauge(&mut out, "oresund_ingested_bytes", "Bytes of the VCF files ingested.", h.file_bytes as i64);
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the exposition format quotes it.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(endpoint: &str, status: u16) -> RequestLabels {
        RequestLabels { endpoint: endpoint.into(), tier: "public", decision: "allowed", status }
    }

    #[test]
    fn requests_and_histograms_render_in_the_exposition_format() {
        let metrics = Metrics::default();
        metrics.request(labels("/g_variants", 200), Duration::from_micros(700));
        metrics.request(labels("/g_variants", 200), Duration::from_millis(30));
        metrics.request(labels("/individuals/{id}", 403), Duration::from_secs(20));
        let text = metrics.render(None);
        assert!(text.contains(
            "oresund_http_requests_total{endpoint=\"/g_variants\",tier=\"public\",decision=\"allowed\",status=\"200\"} 2"
        ));
        assert!(text.contains("oresund_http_request_duration_seconds_bucket{endpoint=\"/g_variants\",le=\"0.001\"} 1"));
        assert!(text.contains("oresund_http_request_duration_seconds_bucket{endpoint=\"/g_variants\",le=\"0.05\"} 2"));
        assert!(
            text.contains("oresund_http_request_duration_seconds_bucket{endpoint=\"/individuals/{id}\",le=\"10\"} 0")
        );
        assert!(
            text.contains("oresund_http_request_duration_seconds_bucket{endpoint=\"/individuals/{id}\",le=\"+Inf\"} 1")
        );
        assert!(text.contains("oresund_http_request_duration_seconds_count{endpoint=\"/g_variants\"} 2"));
    }

    #[test]
    fn audit_records_feed_the_privacy_and_delivery_counters() {
        let metrics = Metrics::default();
        let record = |action, decision, detail: &str| AuditRecord {
            time: "2026-12-01T00:00:00Z".into(),
            actor: "u".into(),
            action,
            resource: "/".into(),
            datasets: vec!["DK-1".into()],
            granularity: None,
            decision,
            detail: detail.into(),
            subject: None,
        };
        let outcome =
            metrics.audited(&record(AuditAction::Query, Decision::Allowed, "tier=registered; small counts raised"));
        assert_eq!((outcome.tier, outcome.decision), (Some("registered"), Some(Decision::Allowed)));
        let refusal = format!("tier=registered; HTTP 403: {} take…", oresund_access::budget::LOCKING_REFUSAL);
        metrics.audited(&record(AuditAction::Query, Decision::Denied, &refusal));
        metrics.audited(&record(AuditAction::DataServed, Decision::Allowed, "1234 bytes served (crypt4gh)"));
        let outcome = metrics.audited(&record(AuditAction::Query, Decision::Denied, "tier=forged\"label"));
        assert_eq!(outcome.tier, None);
        metrics.appended(2, true);
        let text = metrics.render(None);
        for line in [
            "oresund_small_count_suppressions_total 1",
            "oresund_budget_refusals_total 1",
            "oresund_delivered_bytes_total{dataset=\"DK-1\"} 1234",
            "oresund_audit_backlog_records 2",
            "oresund_audit_appended_records_total 2",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

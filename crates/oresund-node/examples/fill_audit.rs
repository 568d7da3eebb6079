//! Appends N synthetic audit records to a node's log (for `bench/report.sh`): queries by
//! anonymous, registered and controlled callers over twelve months, with refusals, suppressions
//! and downloads mixed in, appended in batches as the server's writer does.
//!
//!   cargo run --release -p oresund-node --example fill_audit -- NODE_DIR N

use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_core::query_note::QueryNote;
use oresund_node::Node;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u64>().ok())) else {
        return Err("usage: fill_audit NODE_DIR N".into());
    };
    let node = Node::open(std::path::Path::new(dir))?;
    let mut batch = Vec::with_capacity(8192);
    for i in 0..n {
        let (tier, actor) = match i % 10 {
            0..=5 => ("public", "anonymous".to_string()),
            6..=8 => ("registered", format!("https://login.example.org/#user{}", i % 97)),
            _ => ("controlled", format!("researcher{}", i % 13)),
        };
        let (action, decision, detail) = match i % 50 {
            0 => (AuditAction::Query, Decision::Denied, QueryNote::render(tier, false, "HTTP 400: bad parameter")),
            1 => (AuditAction::DataServed, Decision::Allowed, "1048576 bytes served (crypt4gh)".to_string()),
            2 => (AuditAction::Query, Decision::Allowed, QueryNote::render(tier, true, "")),
            _ => (AuditAction::Query, Decision::Allowed, QueryNote::render(tier, false, "")),
        };
        let month = 1 + i * 12 / n.max(1);
        batch.push(AuditRecord {
            time: format!("2026-{month:02}-{:02}T{:02}:00:00Z", 1 + i % 28, i % 24),
            actor,
            action,
            resource: format!("/g_variants referenceName=22&start={}", 16_000_000 + i % 100_000),
            datasets: vec!["DK".into()],
            granularity: Some("count".into()),
            decision,
            detail,
            subject: None,
        });
        if batch.len() == 8192 {
            node.append_audit(&batch)?;
            batch.clear();
        }
    }
    node.append_audit(&batch)?;
    Ok(())
}

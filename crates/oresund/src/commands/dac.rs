//! `oresund dac`: the data access committee from the command line, acting on the node's store
//! directly (for operators; committee members use the REST API). Every action is in the audit
//! log with actor `operator`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oresund_core::time::rfc3339;
use oresund_node::Node;
use oresund_node::access::OwnIssuer;
use oresund_node::clock::unix_now;

/// Review data access requests: list them with their automatic DUO match, approve (issuing a
/// GA4GH ControlledAccessGrants visa signed by the node), reject, or revoke a grant.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  oresund dac list dk-node --status pending\n  \
oresund dac approve dk-node 3 --base-url https://beacon.ngc.dk\n  \
oresund dac reject dk-node 4 --note 'purpose not covered by consent'\n  \
oresund dac revoke dk-node 9f2c… --reason 'consent withdrawn'")]
pub struct DacArgs {
    #[command(subcommand)]
    pub command: DacCommand,
}

#[derive(Debug, Subcommand)]
pub enum DacCommand {
    /// List access requests (id, status, dataset, requester, automatic match) and grants.
    List {
        node_dir: PathBuf,
        /// Only requests in this state: pending, approved or rejected.
        #[arg(long)]
        status: Option<String>,
    },
    /// Approve a pending request: sign and record its visa.
    Approve {
        node_dir: PathBuf,
        id: u64,
        /// The node's public base URL, the visa's issuer (default: [server] base_url, else
        /// http://[server] listen) — the URL `serve` runs at, or callers' passports will not verify.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Reject a pending request.
    Reject {
        node_dir: PathBuf,
        id: u64,
        #[arg(long)]
        note: String,
    },
    /// Revoke a grant by its visa's jti: the visa stops working at once.
    Revoke {
        node_dir: PathBuf,
        jti: String,
        #[arg(long)]
        reason: String,
    },
}

/// Who the CLI acts as in the audit log.
const OPERATOR: &str = "operator";

pub fn run(args: DacArgs, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        DacCommand::List { node_dir, status } => {
            let node = Node::open(&node_dir)?;
            if let Some(status) = &status {
                anyhow::ensure!(
                    oresund_store::RequestStatus::parse(status).is_some(),
                    "--status must be pending, approved or rejected"
                );
            }
            println!("request\tstatus\tdataset\tuser\tautomatic\tcreated\tpurpose");
            for r in node.access_requests(None)? {
                if status.as_deref().is_some_and(|s| s != r.status.as_str()) {
                    continue;
                }
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.status.as_str(),
                    r.dataset,
                    r.user,
                    r.automatic,
                    r.created,
                    r.purpose
                );
            }
            println!("\ngrant\tdataset\tuser\texpires\trevoked");
            for g in node.grants(None)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    g.jti,
                    g.dataset,
                    g.user,
                    rfc3339(g.expires_at),
                    g.revoked.as_deref().unwrap_or("-")
                );
            }
        }
        DacCommand::Approve { node_dir, id, base_url } => {
            let node = Node::open(&node_dir)?;
            let base_url = base_url
                .or_else(|| node.config.server.base_url.clone())
                .unwrap_or_else(|| format!("http://{}", node.config.server.listen));
            let grant = node.approve_access_request(id, OPERATOR, &OwnIssuer::new(&base_url), unix_now())?;
            if !quiet {
                eprintln!(
                    "approved request {id}: {} may use {} until {}",
                    grant.user,
                    grant.dataset,
                    rfc3339(grant.expires_at)
                );
            }
            println!("{}", grant.visa);
        }
        DacCommand::Reject { node_dir, id, note } => {
            let node = Node::open(&node_dir)?;
            node.reject_access_request(id, OPERATOR, &note, unix_now())?;
            if !quiet {
                eprintln!("rejected request {id}");
            }
        }
        DacCommand::Revoke { node_dir, jti, reason } => {
            let node = Node::open(&node_dir)?;
            let grant = node.revoke_grant(&jti, OPERATOR, &reason, unix_now())?;
            if !quiet {
                eprintln!("revoked the grant of {} to {}; its visa stops working now", grant.dataset, grant.user);
            }
        }
    }
    Ok(())
}

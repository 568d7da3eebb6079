//! `oresund dac`: the data access committee from the command line, acting on the node's store
//! directly. Every action names the committee member (`--member`) it is recorded under in the
//! audit log, and says why (`--note`, `--reason`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oresund_core::audit::AuditAction;
use oresund_core::time::rfc3339;
use oresund_node::Node;
use oresund_node::access::OwnIssuer;
use oresund_node::clock::unix_now;
use oresund_node::dac::committee_read_records;

/// Review data access requests: list them with their automatic DUO match, approve (issuing a
/// GA4GH ControlledAccessGrants visa signed by the node), reject, or revoke a grant.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  oresund dac list dk-node --member 'Jens Hansen' --status pending\n  \
oresund dac approve dk-node 3 --member 'Jens Hansen' --note 'consent allows it' --base-url https://beacon.ngc.dk\n  \
oresund dac approve dk-node 5 --member 'Jens Hansen' --note 'IRB approval seen; 100 DS-only participants left out'\n  \
oresund dac reject dk-node 4 --member 'Jens Hansen' --note 'purpose not covered by consent'\n  \
oresund dac revoke dk-node 9f2c… --member 'Jens Hansen' --reason 'consent withdrawn'\n\n\
A grant reaches only the people whose consent (their DUO codes) allows the request's purpose.\n\
Approving a request whose automatic DUO match is needs_review leaves out the people whose consent\n\
does not allow the purpose; the command says how many.")]
pub struct DacArgs {
    #[command(subcommand)]
    pub command: DacCommand,
}

#[derive(Debug, Subcommand)]
pub enum DacCommand {
    /// List access requests (id, status, dataset, requester, automatic match) and grants.
    List {
        node_dir: PathBuf,
        /// The committee member reading them (the read is recorded under them and each researcher shown).
        #[arg(long)]
        member: String,
        /// Only requests in this state: pending, approved or rejected.
        #[arg(long)]
        status: Option<String>,
    },
    /// Approve a pending request: sign and record its visa (printed on stdout).
    Approve {
        node_dir: PathBuf,
        id: u64,
        /// The committee member approving it (recorded in the audit log).
        #[arg(long)]
        member: String,
        /// Why the committee approves (required; for a needs_review match, say why the people
        /// the grant leaves out may be left out).
        #[arg(long)]
        note: String,
        /// The node's public base URL, the visa's issuer (default: [server] base_url, else
        /// http://[server] listen) — the URL `serve` runs at, or callers' passports will not verify.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Reject a pending request.
    Reject {
        node_dir: PathBuf,
        id: u64,
        /// The committee member rejecting it (recorded in the audit log).
        #[arg(long)]
        member: String,
        /// Why (told to the researcher).
        #[arg(long)]
        note: String,
    },
    /// Revoke a grant by its visa's jti: the visa stops working at once.
    Revoke {
        node_dir: PathBuf,
        jti: String,
        /// The committee member revoking it (recorded in the audit log).
        #[arg(long)]
        member: String,
        #[arg(long)]
        reason: String,
    },
}

/// A member named on the command line, as the audit log records it.
fn member(name: &str) -> anyhow::Result<String> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "--member must name the committee member acting");
    Ok(name.to_string())
}

pub fn run(args: DacArgs, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        DacCommand::List { node_dir, member: name, status } => {
            let member = member(&name)?;
            let node = Node::open(&node_dir)?;
            if let Some(status) = &status {
                anyhow::ensure!(
                    oresund_store::RequestStatus::parse(status).is_some(),
                    "--status must be pending, approved or rejected"
                );
            }
            let requests = node.access_requests(None)?;
            let grants = node.grants(None)?;
            let now = unix_now();
            let shown: Vec<(&str, &str)> = requests.iter().map(|r| (r.user.as_str(), r.dataset.as_str())).collect();
            let mut read = committee_read_records(&member, AuditAction::DacList, "oresund dac list", &shown, now);
            let shown: Vec<(&str, &str)> = grants.iter().map(|g| (g.user.as_str(), g.dataset.as_str())).collect();
            read.extend(committee_read_records(&member, AuditAction::DacGrants, "oresund dac list", &shown, now));
            node.append_audit(&read)?;
            println!("request\tstatus\tdataset\tuser\tautomatic\tcreated\tpurpose");
            for r in requests {
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
            for g in grants {
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
        DacCommand::Approve { node_dir, id, member: name, note, base_url } => {
            let node = Node::open(&node_dir)?;
            let base_url = base_url
                .or_else(|| node.config.server.base_url.clone())
                .unwrap_or_else(|| format!("http://{}", node.config.server.listen));
            let issuer = OwnIssuer::new(&base_url);
            let approval = node.approve_access_request(id, &member(&name)?, Some(&note), &issuer, unix_now())?;
            let grant = &approval.grant;
            if !quiet {
                eprintln!(
                    "approved request {id}: {} may use {} for {} until {}; the grant reaches {} individuals and \
                     leaves out {} whose consent does not allow this purpose",
                    grant.user,
                    grant.dataset,
                    approval.purpose.describe(),
                    rfc3339(grant.expires_at),
                    approval.reached,
                    approval.left_out
                );
            }
            println!("{}", grant.visa);
        }
        DacCommand::Reject { node_dir, id, member: name, note } => {
            let node = Node::open(&node_dir)?;
            node.reject_access_request(id, &member(&name)?, &note, unix_now())?;
            if !quiet {
                eprintln!("rejected request {id}");
            }
        }
        DacCommand::Revoke { node_dir, jti, member: name, reason } => {
            let node = Node::open(&node_dir)?;
            let grant = node.revoke_grant(&jti, &member(&name)?, &reason, unix_now())?;
            if !quiet {
                eprintln!("revoked the grant of {} to {}; its visa stops working now", grant.dataset, grant.user);
            }
        }
    }
    Ok(())
}

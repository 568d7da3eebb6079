//! `oresund budget`: the operator's side of the re-identification budget.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oresund_core::audit::{AuditAction, AuditRecord, Decision};
use oresund_core::time::rfc3339;
use oresund_node::Node;
use oresund_node::clock::unix_now;

/// The re-identification budget of registered users. A user whose answer was refused for
/// exceeding a person's budget gets no further REGISTERED-tier genotype answers; after checking
/// with them, an operator may lift that lock. Spent budgets stay spent: the same questions are
/// still refused. Running `serve` processes remember a lock until restarted.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  oresund budget unlock dk-node --user 'https://login.elixir-czech.org/oidc/#d2c9' \
--reason 'confirmed with the researcher: automated QC script'")]
pub struct BudgetArgs {
    #[command(subcommand)]
    pub command: BudgetCommand,
}

#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Lift a user's lock (recorded in the audit log with the reason).
    Unlock {
        node_dir: PathBuf,
        /// The user id as in the audit log (`iss#sub`, or an operator token's user).
        #[arg(long)]
        user: String,
        /// Why; kept in the audit log.
        #[arg(long)]
        reason: String,
    },
}

pub fn run(args: BudgetArgs, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        BudgetCommand::Unlock { node_dir, user, reason } => {
            anyhow::ensure!(!reason.trim().is_empty(), "--reason must say why the lock is lifted");
            let node = Node::open(&node_dir)?;
            let record = AuditRecord {
                time: rfc3339(unix_now()),
                actor: "operator".into(),
                action: AuditAction::BudgetUnlock,
                resource: format!("budget of {user}"),
                datasets: Vec::new(),
                granularity: None,
                decision: Decision::Allowed,
                detail: reason,
                // Filed under the researcher whose budget it is.
                subject: Some(user.clone()),
            };
            anyhow::ensure!(node.unlock_budget(&user, &record)?, "user {user:?} is not locked");
            if !quiet {
                eprintln!("lifted the budget lock of {user}; restart running `serve` processes for it to take effect");
            }
        }
    }
    Ok(())
}

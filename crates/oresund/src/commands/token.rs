//! `oresund token`: operator-issued bearer tokens for registered and controlled callers — the path
//! for operators and scripts; researchers use GA4GH Passports (`[access]` in oresund.toml).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oresund_node::config::{NodeConfig, TokenConfig};

/// Manage operator bearer tokens (for operators and scripts; researchers send GA4GH Passports):
/// a token is shown once; the node keeps its SHA-256.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it (stdout), once.
    #[command(
        after_help = "Example:\n  oresund token add dk-node --user alice@ku.dk --registered --controlled DK-COHORT-1"
    )]
    Add {
        node_dir: PathBuf,
        /// Who holds the token (appears in audit records).
        #[arg(long)]
        user: String,
        /// A registered (bona fide) researcher: count answers.
        #[arg(long)]
        registered: bool,
        /// A dataset this user may see at the CONTROLLED tier (repeat for several).
        #[arg(long = "controlled", value_name = "DATASET")]
        controlled: Vec<String>,
        /// Register a token read from standard input instead of making one (the same token on
        /// several nodes of a network).
        #[arg(long)]
        token_stdin: bool,
    },
    /// List token holders (never the tokens).
    List { node_dir: PathBuf },
    /// Revoke every token of a user (running servers stop accepting them when restarted).
    Revoke {
        node_dir: PathBuf,
        #[arg(long)]
        user: String,
    },
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Add { node_dir, user, registered, controlled, token_stdin } => {
            let mut config = NodeConfig::load(&node_dir)?;
            let token = if token_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                let token = line.trim().to_string();
                anyhow::ensure!(token.len() >= 32, "a token must be at least 32 characters");
                token
            } else {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
                oresund_core::hex::encode(&secret)
            };
            let sha256 = oresund_access::authenticator::token_sha256(&token);
            config.beacon.tokens.push(TokenConfig { sha256, user: user.clone(), registered, controlled });
            config.validate().map_err(|e| anyhow::anyhow!(e))?;
            config.save(&node_dir)?;
            if token_stdin {
                eprintln!("token registered for {user} (a running `serve` picks it up on restart)");
            } else {
                eprintln!("token for {user} (shown once; a running `serve` picks it up on restart):");
                println!("{token}");
            }
        }
        TokenCommand::List { node_dir } => {
            let config = NodeConfig::load(&node_dir)?;
            for t in &config.beacon.tokens {
                println!("{}\tregistered={}\tcontrolled={}", t.user, t.registered, t.controlled.join(","));
            }
        }
        TokenCommand::Revoke { node_dir, user } => {
            let mut config = NodeConfig::load(&node_dir)?;
            let before = config.beacon.tokens.len();
            config.beacon.tokens.retain(|t| t.user != user);
            let removed = before - config.beacon.tokens.len();
            config.save(&node_dir)?;
            anyhow::ensure!(removed > 0, "no token of user {user:?} in {}", node_dir.display());
            // Operator tokens are read when `serve` starts; committee grants (passports) are the
            // revocation that takes effect at once.
            eprintln!("revoked {removed} token(s) of {user}; restart running `serve` processes for it to take effect");
        }
    }
    Ok(())
}

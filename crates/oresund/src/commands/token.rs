//! `oresund token`: operator-issued bearer tokens for registered and controlled callers — the path
//! for operators and scripts; researchers use GA4GH Passports (`[access]` in oresund.toml).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oresund_access::duo_match::ResearchPurpose;
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
    #[command(after_help = "Examples:\n  \
oresund token add dk-node --user alice@ku.dk --registered --controlled DK-COHORT-1 --purpose HMB\n  \
oresund token add dk-node --user bob@ku.dk --registered --controlled DK-COHORT-1 --purpose DS --disease MONDO:0005027\n  \
oresund token add dk-node --user dr.hansen@rh.dk --clinician\n\n\
A token with --controlled reaches, like a committee grant, only the people whose consent (DUO codes\n\
ingested with them) allows its --purpose. Without --purpose it reaches everyone: for the node's own\n\
staff only; researchers get controlled access from the data access committee (POST /dac/requests).")]
    Add {
        node_dir: PathBuf,
        /// Who holds the token (appears in audit records).
        #[arg(long)]
        user: String,
        /// A registered (bona fide) researcher: count answers.
        #[arg(long)]
        registered: bool,
        /// A clinician: submits matchmaking cases and asks for matches (`oresund mme`, `/mme`).
        #[arg(long)]
        clinician: bool,
        /// A dataset this user may see at the CONTROLLED tier (repeat for several).
        #[arg(long = "controlled", value_name = "DATASET")]
        controlled: Vec<String>,
        /// The research purpose of the controlled access: GRU, HMB, DS (with --disease) or POA.
        #[arg(long, requires = "controlled")]
        purpose: Option<String>,
        /// For --purpose DS: the disease studied (MONDO, HPO or ICD-10 term).
        #[arg(long, requires = "purpose")]
        disease: Option<String>,
        /// The purpose is commercial.
        #[arg(long, requires = "purpose")]
        commercial: bool,
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
        TokenCommand::Add {
            node_dir,
            user,
            registered,
            clinician,
            controlled,
            purpose,
            disease,
            commercial,
            token_stdin,
        } => {
            let purpose = purpose.map(|purpose| ResearchPurpose { purpose, disease, commercial, methods: false });
            if let Some(purpose) = &purpose {
                purpose.validate()?;
            }
            let purpose = purpose.map(|p| p.canonical());
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
            config.beacon.tokens.push(TokenConfig {
                sha256,
                user: user.clone(),
                registered,
                clinician,
                controlled,
                purpose,
            });
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
                let purpose = match (&t.purpose, t.controlled.is_empty()) {
                    (_, true) => "-".to_string(),
                    (None, false) => "everyone (staff)".to_string(),
                    (Some(p), false) => p.describe(),
                };
                println!(
                    "{}\tregistered={}\tclinician={}\tcontrolled={}\treach={purpose}",
                    t.user,
                    t.registered,
                    t.clinician,
                    t.controlled.join(",")
                );
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

//! `oresund keys`: the node's Crypt4GH key pair and its visa signing key.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use oresund_node::archive::error::ArchiveError;
use oresund_node::keys::{KeyRing, PASSPHRASE_ENV, passphrase_from_env};
use oresund_node::{Node, NodeError};
use zeroize::Zeroizing;

use crate::commands::c4gh::prompt;

/// Manage the node's keys: the Crypt4GH key pair, to which every archived header is encrypted,
/// and the ES256 key that signs the visas of its data access committee.
///
/// The Crypt4GH private key's passphrase is read from ORESUND_KEY_PASSPHRASE (or asked for on a
/// terminal). Without the variable at `oresund init`, the key is stored unsealed, protected by
/// its mode 0600 in the 0700 secrets/ directory, like the signing key (secrets/signing.jwk).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ORESUND_KEY_PASSPHRASE=... oresund keys rotate dk-node\n  oresund keys rotate --signing dk-node"
)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    Rotate(RotateArgs),
}

/// Re-encrypt every archived header to a new node key; bodies are not touched. With
/// `--signing`, replace the visa signing key instead.
///
/// Safe to interrupt: every object stays readable with the old or the new key (both are kept
/// until the catalog has switched), and running the command again finishes the rotation.
/// The new private key is sealed with ORESUND_KEY_PASSPHRASE when it is set. Ingests wait until
/// the rotation is done. Afterwards `oresund archive gc` removes headers an interruption left.
///
/// `--signing` makes a new current signing key (secrets/signing.jwk, 0600); the old public key
/// stays in /.well-known/jwks.json until the last visa it signed expires, so issued visas keep
/// working. A running `serve` picks the new key up within seconds.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  ORESUND_KEY_PASSPHRASE=... oresund keys rotate dk-node\n  \
oresund archive verify dk-node   # every object still decrypts\n  \
oresund keys rotate --signing dk-node")]
pub struct RotateArgs {
    /// Node directory.
    pub node_dir: PathBuf,
    /// Rotate the visa signing key (not the Crypt4GH key).
    #[arg(long)]
    pub signing: bool,
}

pub fn run(args: KeysArgs, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        KeysCommand::Rotate(args) if args.signing => {
            let node = Node::open(&args.node_dir)?;
            let rotation = node.rotate_signing_key(oresund_node::clock::unix_now())?;
            if !quiet {
                match rotation.old {
                    Some((old, until)) => eprintln!(
                        "rotated the visa signing key {old} → {}; {old} stays published until {}",
                        rotation.new,
                        oresund_core::time::rfc3339(until)
                    ),
                    None => eprintln!("created the visa signing key {}", rotation.new),
                }
            }
            Ok(())
        }
        KeysCommand::Rotate(args) => {
            let node = Node::open(&args.node_dir)?;
            let passphrase = node_passphrase(&node)?;
            let summary = node.rotate_keys(passphrase.as_deref().map(|p| &p[..]))?;
            if !quiet {
                match summary.old_key {
                    Some(old) => eprintln!(
                        "rotated the node key {old} → {}: {} file keys sealed anew, {} headers of older \
                         objects moved to file keys, bodies untouched",
                        summary.new_key, summary.file_keys, summary.headers
                    ),
                    None => eprintln!("created the node key {}", summary.new_key),
                }
            }
            Ok(())
        }
    }
}

/// The passphrase of the node's secret key: ORESUND_KEY_PASSPHRASE, none if the key is unsealed,
/// or asked for on the terminal.
pub fn node_passphrase(node: &Node) -> Result<Option<Zeroizing<Vec<u8>>>, NodeError> {
    if let Some(passphrase) = passphrase_from_env() {
        return Ok(Some(passphrase));
    }
    let files = node.key_files();
    if !files.secret_exists() {
        return Ok(None);
    }
    match files.read_secret(None) {
        Ok(_) => Ok(None),
        Err(ArchiveError::PassphraseRequired(path)) => {
            match prompt(&format!("Passphrase of the node key {}: ", path.display()), PASSPHRASE_ENV) {
                Ok(typed) => Ok(Some(typed)),
                Err(_) => Err(ArchiveError::PassphraseRequired(path).into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The node's secret keys, unlocked (see [`node_passphrase`]).
pub fn node_keys(node: &Node) -> Result<KeyRing, NodeError> {
    let passphrase = node_passphrase(node)?;
    Ok(node.load_keys(passphrase.as_deref().map(|p| &p[..]))?)
}

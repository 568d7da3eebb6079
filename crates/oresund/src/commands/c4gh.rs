//! `oresund c4gh`: GA4GH Crypt4GH files from the command line, with the Python `crypt4gh` tool's
//! commands and option names so scripts port over.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use oresund_c4gh::keys::{
    PASSPHRASE_ENV, passphrase_from_env, read_public_key_pem, read_secret_key_pem, write_public_key_pem,
    write_secret_key_pem,
};
use oresund_c4gh::{ByteRange, PublicKey, SecretKey};
use oresund_node::fsutil::read_key_file;
use zeroize::Zeroizing;

/// Encrypt, decrypt and re-address GA4GH Crypt4GH files (data on stdin, result on stdout).
///
/// Option names are those of the Python `crypt4gh` and `crypt4gh-keygen` tools (1.8.6), and key
/// files are interchangeable with theirs. Passphrases come from C4GH_PASSPHRASE, as in Python, or
/// are asked for on the terminal.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
oresund c4gh keygen --sk alice.sec --pk alice.pub\n  \
oresund c4gh encrypt --recipient_pk alice.pub --recipient_pk bob.pub < data.vcf.gz > data.vcf.gz.c4gh\n  \
oresund c4gh decrypt --sk alice.sec < data.vcf.gz.c4gh > data.vcf.gz\n  \
oresund c4gh reencrypt --sk alice.sec --recipient_pk carol.pub < data.vcf.gz.c4gh > for-carol.c4gh\n  \
oresund c4gh rearrange --sk alice.sec --range 0-65536 < data.vcf.gz.c4gh > first-64k.c4gh")]
pub struct C4ghArgs {
    #[command(subcommand)]
    pub command: C4ghCommand,
}

#[derive(Debug, Subcommand)]
pub enum C4ghCommand {
    Keygen(KeygenArgs),
    Encrypt(EncryptArgs),
    Decrypt(DecryptArgs),
    Reencrypt(ReencryptArgs),
    Rearrange(RearrangeArgs),
}

/// Create a Crypt4GH key pair (like `crypt4gh-keygen`).
///
/// The private key is sealed with a passphrase (scrypt + ChaCha20-Poly1305, the `c4gh-v1`
/// format) taken from C4GH_PASSPHRASE or asked for twice on the terminal; `--nocrypt` stores it
/// unsealed. The private key file is created with mode 0600.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  oresund c4gh keygen --sk alice.sec --pk alice.pub\n  \
C4GH_PASSPHRASE=... oresund c4gh keygen --sk alice.sec --pk alice.pub   # unattended")]
pub struct KeygenArgs {
    /// Private key file to write.
    #[arg(long, value_name = "FILE")]
    pub sk: PathBuf,
    /// Public key file to write.
    #[arg(long, value_name = "FILE")]
    pub pk: PathBuf,
    /// Do not seal the private key with a passphrase.
    #[arg(long)]
    pub nocrypt: bool,
    /// Comment stored in the sealed private key.
    #[arg(short = 'C', value_name = "COMMENT")]
    pub comment: Option<String>,
    /// Overwrite existing key files.
    #[arg(short = 'f')]
    pub force: bool,
}

/// Encrypt stdin for one or more readers.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  oresund c4gh encrypt --recipient_pk alice.pub < data.vcf.gz > data.vcf.gz.c4gh\n\n\
--range START-END encrypts bytes START up to END, END excluded, as the Python tool's help says.\n\
Note: Python crypt4gh 1.8.6 itself stops one byte earlier (it outputs END-START-1 bytes);\n\
to get its output for --range S-E, pass --range S-(E-1) here."
)]
pub struct EncryptArgs {
    /// A reader's public key (repeat for several readers).
    #[arg(long = "recipient_pk", value_name = "FILE", required = true)]
    pub recipient_pk: Vec<PathBuf>,
    /// The writer's private key (default: a fresh anonymous key, as in Python).
    #[arg(long, value_name = "FILE", env = "C4GH_SECRET_KEY")]
    pub sk: Option<PathBuf>,
    /// Only encrypt bytes START..END (END excluded) or START.. of the input.
    #[arg(long, value_name = "START-END", value_parser = parse_range)]
    pub range: Option<ByteRange>,
}

/// Decrypt stdin with your private key.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  oresund c4gh decrypt --sk alice.sec < data.vcf.gz.c4gh > data.vcf.gz\n\n\
Header packets for other readers are skipped; an edit list in the header is applied.")]
pub struct DecryptArgs {
    /// Your private key.
    #[arg(long, value_name = "FILE", env = "C4GH_SECRET_KEY")]
    pub sk: PathBuf,
}

/// Re-address stdin to other readers: only the header is rewritten, the body is copied unchanged.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  oresund c4gh reencrypt --sk alice.sec --recipient_pk bob.pub < in.c4gh > for-bob.c4gh"
)]
pub struct ReencryptArgs {
    /// Your private key (it must open the header).
    #[arg(long, value_name = "FILE", env = "C4GH_SECRET_KEY")]
    pub sk: PathBuf,
    /// A new reader's public key (repeat for several).
    #[arg(long = "recipient_pk", value_name = "FILE", required = true)]
    pub recipient_pk: Vec<PathBuf>,
    /// Drop the header packets you cannot decrypt (other readers').
    #[arg(short, long)]
    pub trim: bool,
}

/// Cut stdin down to a byte range without re-encrypting: a new header with an edit list, and
/// only the body segments that hold the range.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  oresund c4gh rearrange --sk alice.sec --range 1000-2000 < in.c4gh > part.c4gh\n\n\
START-END is in the data as you currently see it (after any edit list), END excluded.\n\
Python crypt4gh 1.8.6 keeps one byte less for the same option (END-START-1 bytes).")]
pub struct RearrangeArgs {
    /// Your private key.
    #[arg(long, value_name = "FILE", env = "C4GH_SECRET_KEY")]
    pub sk: PathBuf,
    /// Bytes to keep: START-END (END excluded) or START.
    #[arg(long, value_name = "START-END", value_parser = parse_range)]
    pub range: ByteRange,
}

/// Why a `--range` is not one.
#[derive(Debug, PartialEq, Eq)]
enum RangeError {
    NotAnOffset(String),
    EndNotAfterStart(String),
}

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeError::NotAnOffset(text) => write!(f, "{text:?} is not a byte offset"),
            RangeError::EndNotAfterStart(text) => write!(f, "{text:?}: END must be greater than START"),
        }
    }
}

impl std::error::Error for RangeError {}

/// `START-END` (END excluded) or `START`.
fn parse_range(text: &str) -> Result<ByteRange, RangeError> {
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| RangeError::NotAnOffset(s.to_string()));
    let range = match text.split_once('-') {
        Some((start, end)) => ByteRange::new(number(start)?, number(end)?),
        None => ByteRange::from_start(number(text)?),
    };
    if range.end.is_some_and(|end| end <= range.start) {
        return Err(RangeError::EndNotAfterStart(text.to_string()));
    }
    Ok(range)
}

pub fn run(args: C4ghArgs) -> anyhow::Result<()> {
    match args.command {
        C4ghCommand::Keygen(args) => keygen(args),
        C4ghCommand::Encrypt(args) => {
            let recipients = read_public_keys(&args.recipient_pk)?;
            let sender = match &args.sk {
                Some(path) => read_secret_key(path)?,
                None => SecretKey::generate()?,
            };
            let (input, mut output) = (stdin()?, stdout()?);
            oresund_c4gh::encrypt(input, &mut output, &recipients, &sender, args.range, 0).context("encrypt")?;
            Ok(())
        }
        C4ghCommand::Decrypt(args) => {
            let secret = read_secret_key(&args.sk)?;
            let (input, mut output) = (stdin()?, stdout()?);
            oresund_c4gh::decrypt(input, &mut output, &secret, 0).context("decrypt")?;
            Ok(())
        }
        C4ghCommand::Reencrypt(args) => {
            let secret = read_secret_key(&args.sk)?;
            let recipients = read_public_keys(&args.recipient_pk)?;
            let (input, mut output) = (stdin()?, stdout()?);
            oresund_c4gh::reencrypt(input, &mut output, &secret, &recipients, &secret, args.trim)
                .context("reencrypt")?;
            Ok(())
        }
        C4ghCommand::Rearrange(args) => {
            let secret = read_secret_key(&args.sk)?;
            let (input, mut output) = (stdin()?, stdout()?);
            oresund_c4gh::rearrange(input, &mut output, &secret, args.range).context("rearrange")?;
            Ok(())
        }
    }
}

fn keygen(args: KeygenArgs) -> anyhow::Result<()> {
    for path in [&args.sk, &args.pk] {
        if path.exists() && !args.force {
            bail!("{} exists; pass -f to overwrite it", path.display());
        }
    }
    let passphrase = if args.nocrypt {
        None
    } else {
        Some(match passphrase_from_env() {
            Some(p) => p,
            None => new_passphrase(&args.sk)?,
        })
    };
    let secret = SecretKey::generate()?;
    let pem = write_secret_key_pem(&secret, passphrase.as_deref().map(|p| &p[..]), args.comment.as_deref())
        .with_context(|| args.sk.display().to_string())?;
    oresund_node::fsutil::write_secret(&args.sk, pem.as_bytes())?;
    oresund_node::fsutil::write_atomic(&args.pk, write_public_key_pem(&secret.public_key()).as_bytes())?;
    Ok(())
}

/// Asks twice for a new passphrase on the terminal.
fn new_passphrase(sk: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let first = prompt(&format!("Passphrase for {}: ", sk.display()), PASSPHRASE_ENV)?;
    if first.is_empty() {
        bail!("empty passphrase; pass --nocrypt for an unsealed key");
    }
    let again = prompt("Passphrase (again): ", PASSPHRASE_ENV)?;
    if first != again {
        bail!("the passphrases differ");
    }
    Ok(first)
}

/// Reads a passphrase from the terminal (never from stdin, which carries data), without echo.
/// `env` names the variable to set instead when there is no terminal.
pub fn prompt(message: &str, env: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if !std::io::stderr().is_terminal() {
        bail!("a passphrase is needed and there is no terminal to ask on; set {env}");
    }
    let text = rpassword::prompt_password(message).with_context(|| format!("reading the passphrase (or set {env})"))?;
    Ok(Zeroizing::new(text.into_bytes()))
}

fn read_public_keys(paths: &[PathBuf]) -> anyhow::Result<Vec<PublicKey>> {
    paths
        .iter()
        .map(|path| {
            let text = read_key_file(path).with_context(|| path.display().to_string())?;
            read_public_key_pem(&text).with_context(|| path.display().to_string())
        })
        .collect()
}

/// Reads a private key, unsealing it with C4GH_PASSPHRASE or a passphrase asked on the terminal.
fn read_secret_key(path: &Path) -> anyhow::Result<SecretKey> {
    let text = Zeroizing::new(read_key_file(path).with_context(|| path.display().to_string())?);
    let passphrase = passphrase_from_env();
    match read_secret_key_pem(&text, passphrase.as_deref().map(|p| &p[..])) {
        Err(oresund_c4gh::Error::PassphraseRequired) => {
            let typed = prompt(&format!("Passphrase for {}: ", path.display()), PASSPHRASE_ENV)?;
            read_secret_key_pem(&text, Some(&typed)).with_context(|| path.display().to_string())
        }
        other => other.with_context(|| path.display().to_string()),
    }
}

/// Standard input as a plain file: no locking or line buffering between the data and the cipher.
fn stdin() -> anyhow::Result<impl Read> {
    Ok(File::from(std::io::stdin().as_fd().try_clone_to_owned().context("standard input")?))
}

/// Standard output as a plain file (Rust's stdout is line-buffered, which splits binary writes);
/// refused on a terminal, where binary output is never wanted.
pub fn stdout() -> anyhow::Result<impl Write> {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        bail!("refusing to write binary data to a terminal; redirect standard output to a file");
    }
    Ok(File::from(stdout.as_fd().try_clone_to_owned().context("standard output")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("10-20").unwrap(), ByteRange::new(10, 20));
        assert_eq!(parse_range("7").unwrap(), ByteRange::from_start(7));
        assert_eq!(parse_range("20-10"), Err(RangeError::EndNotAfterStart("20-10".into())));
        assert_eq!(parse_range("a-b"), Err(RangeError::NotAnOffset("a".into())));
    }
}

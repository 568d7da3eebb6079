//! Interoperability with the reference Python implementation, `crypt4gh`
//! 1.8.6 (`pip install crypt4gh==1.8.6`): files, headers, edit lists and key
//! files must pass in both directions with byte-identical plaintexts.
//!
//! These tests fail (they do not skip) when the Python tool is missing.
//!
//! Note on ranges: the Python CLI's `--range S-E` selects `E - S - 1` bytes
//! (`S..E-1`, an off-by-one in its `parse_range`); the expectations below
//! encode that behaviour explicitly.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use oresund_c4gh::{ByteRange, Error, KeyPair, SecretKey, decrypt, encrypt, keys, rearrange, reencrypt};
use tempfile::TempDir;

const INSTALL_HINT: &str = "the Python crypt4gh tool is required for these tests: pip install crypt4gh==1.8.6";
const PASSPHRASE: &str = "correct horse battery staple";

/// Checks once that the Python CLI is installed, failing loudly otherwise.
fn require_python_tool() {
    static CHECK: OnceLock<()> = OnceLock::new();
    CHECK.get_or_init(|| {
        for tool in ["crypt4gh", "crypt4gh-keygen"] {
            let out = Command::new(tool)
                .arg("--version")
                .output()
                .unwrap_or_else(|e| panic!("cannot run `{tool}` ({e}); {INSTALL_HINT}"));
            assert!(out.status.success(), "`{tool} --version` failed; {INSTALL_HINT}");
            let version = String::from_utf8_lossy(&out.stdout);
            if !version.contains("1.8.6") {
                eprintln!("warning: expected crypt4gh 1.8.6, found {version}");
            }
        }
    });
}

/// Deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Runs the Python `crypt4gh` CLI with `input` on stdin, returning stdout.
/// Stdin is a real file because `encrypt --range` seeks in it.
fn py(args: &[&str], input: &[u8], passphrase: Option<&str>) -> Vec<u8> {
    require_python_tool();
    let mut stdin = tempfile::tempfile().expect("temp file");
    stdin.write_all(input).expect("write temp file");
    stdin.seek(SeekFrom::Start(0)).expect("rewind temp file");
    let mut cmd = Command::new("crypt4gh");
    cmd.args(args).env_remove("C4GH_SECRET_KEY").env_remove("C4GH_PASSPHRASE").stdin(Stdio::from(stdin));
    if let Some(p) = passphrase {
        cmd.env("C4GH_PASSPHRASE", p);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run crypt4gh ({e}); {INSTALL_HINT}"));
    assert!(out.status.success(), "crypt4gh {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Generates a key pair with `crypt4gh-keygen`; `None` = `--nocrypt`.
///
/// The tool reads new passphrases with `getpass`, not from `C4GH_PASSPHRASE`;
/// run it without a controlling terminal (`setsid`) so getpass falls back
/// to stdin, where we feed the passphrase twice.
fn py_keygen(dir: &Path, name: &str, passphrase: Option<&str>) -> (PathBuf, PathBuf) {
    require_python_tool();
    let sk = dir.join(format!("{name}.sec"));
    let pk = dir.join(format!("{name}.pub"));
    let mut args = vec![
        "crypt4gh-keygen".to_string(),
        "-f".into(),
        "--sk".into(),
        sk.display().to_string(),
        "--pk".into(),
        pk.display().to_string(),
        "-C".into(),
        format!("{name}@test"),
    ];
    if passphrase.is_none() {
        args.push("--nocrypt".into());
    }
    let spawn = |program: &str, args: &[String]| {
        Command::new(program).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()
    };
    let mut child = match spawn("setsid", &args) {
        Ok(child) => child,
        Err(_) => {
            spawn(&args[0], &args[1..]).unwrap_or_else(|e| panic!("cannot run crypt4gh-keygen ({e}); {INSTALL_HINT}"))
        }
    };
    if let Some(p) = passphrase {
        let mut stdin = child.stdin.take().expect("stdin");
        write!(stdin, "{p}\n{p}\n").expect("write passphrase");
    }
    let out = child.wait_with_output().expect("keygen output");
    assert!(out.status.success(), "crypt4gh-keygen failed: {}", String::from_utf8_lossy(&out.stderr));
    (sk, pk)
}

/// A reader/writer identity known to both implementations.
struct Party {
    keys: KeyPair,
    sk_path: PathBuf,
    pk_path: PathBuf,
    passphrase: Option<&'static str>,
}

impl Party {
    /// Keys made by the Python tool, read by us.
    fn python(dir: &Path, name: &str, passphrase: Option<&'static str>) -> Party {
        let (sk_path, pk_path) = py_keygen(dir, name, passphrase);
        let secret = keys::read_secret_key_pem(&fs::read_to_string(&sk_path).unwrap(), passphrase.map(str::as_bytes))
            .expect("read Python secret key");
        let public = keys::read_public_key_pem(&fs::read_to_string(&pk_path).unwrap()).expect("read Python public key");
        assert_eq!(secret.public_key(), public, "derived public key matches Python's");
        Party { keys: KeyPair::from(secret), sk_path, pk_path, passphrase }
    }

    /// Keys made by us, written as key files for the Python tool.
    fn ours(dir: &Path, name: &str, passphrase: Option<&'static str>) -> Party {
        let keys = KeyPair::generate().unwrap();
        let sk_path = dir.join(format!("{name}.sec"));
        let pk_path = dir.join(format!("{name}.pub"));
        let pem = keys::write_secret_key_pem(&keys.secret, passphrase.map(str::as_bytes), Some(name)).unwrap();
        fs::write(&sk_path, pem.as_bytes()).unwrap();
        fs::write(&pk_path, keys::write_public_key_pem(&keys.public)).unwrap();
        Party { keys, sk_path, pk_path, passphrase }
    }

    fn sk(&self) -> &str {
        self.sk_path.to_str().unwrap()
    }

    fn pk(&self) -> &str {
        self.pk_path.to_str().unwrap()
    }

    fn secret(&self) -> &SecretKey {
        &self.keys.secret
    }

    /// Python decrypts `file` with this party's secret key.
    fn py_decrypt(&self, file: &[u8]) -> Vec<u8> {
        py(&["decrypt", "--sk", self.sk()], file, self.passphrase)
    }

    /// We decrypt `file` with this party's secret key.
    fn our_decrypt(&self, file: &[u8], threads: usize) -> Vec<u8> {
        let mut out = Vec::new();
        decrypt(file, &mut out, self.secret(), threads).expect("our decrypt");
        out
    }
}

fn our_encrypt(plain: &[u8], recipients: &[&Party], range: Option<ByteRange>, threads: usize) -> Vec<u8> {
    let writer = KeyPair::generate().unwrap();
    let pks: Vec<_> = recipients.iter().map(|p| p.keys.public).collect();
    let mut file = Vec::new();
    encrypt(plain, &mut file, &pks, &writer.secret, range, threads).expect("our encrypt");
    file
}

const SIZES: [usize; 6] = [0, 1, 65_535, 65_536, 65_537, 3 * 65_536 + 12_345];

#[test]
fn python_key_files_are_read() {
    let dir = TempDir::new().unwrap();
    let locked = Party::python(dir.path(), "locked", Some(PASSPHRASE));
    let clear = Party::python(dir.path(), "clear", None);
    assert_ne!(locked.keys.public, clear.keys.public);

    let locked_pem = fs::read_to_string(&locked.sk_path).unwrap();
    assert!(matches!(keys::read_secret_key_pem(&locked_pem, None), Err(Error::PassphraseRequired)));
    assert!(matches!(keys::read_secret_key_pem(&locked_pem, Some(b"wrong")), Err(Error::WrongPassphrase)));
    // The clear key needs no passphrase and ignores one.
    let clear_pem = fs::read_to_string(&clear.sk_path).unwrap();
    let again = keys::read_secret_key_pem(&clear_pem, Some(b"ignored")).unwrap();
    assert_eq!(*again.to_bytes(), *clear.secret().to_bytes());
    // Our public key file is byte-identical to Python's.
    assert_eq!(keys::write_public_key_pem(&clear.keys.public), fs::read_to_string(&clear.pk_path).unwrap());
}

#[test]
fn our_key_files_are_read_by_python() {
    let dir = TempDir::new().unwrap();
    let sender = Party::python(dir.path(), "sender", None);
    let plain = pseudo_random(100_000, 1);
    for passphrase in [Some(PASSPHRASE), None] {
        let ours = Party::ours(dir.path(), "ours", passphrase);
        // Python encrypts to our public key file and decrypts with our secret key file.
        let file = py(&["encrypt", "--sk", sender.sk(), "--recipient_pk", ours.pk()], &plain, None);
        assert_eq!(ours.py_decrypt(&file), plain);
        assert_eq!(ours.our_decrypt(&file, 1), plain);
    }
}

#[test]
fn bcrypt_and_pbkdf2_key_files_are_read() {
    // The Python tool only writes bcrypt keys where scrypt is unavailable,
    // so build them with its own encoder and KDFs.
    require_python_tool();
    let script = r#"
import sys, os
from base64 import b64encode
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from crypt4gh.keys import c4gh, kdf
from crypt4gh import sodium
sk = bytes(range(1, 33))
for name in (b'bcrypt', b'pbkdf2_hmac_sha256', b'scrypt'):
    saltsize, rounds = kdf.get_kdf(name)
    salt = os.urandom(saltsize)
    key = kdf.derive_key(name, sys.argv[1].encode(), salt, rounds)
    nonce = os.urandom(12)
    blob = (c4gh.MAGIC_WORD + c4gh.encode_string(name)
            + c4gh.encode_string(rounds.to_bytes(4, 'big') + salt)
            + c4gh.encode_string(b'chacha20_poly1305')
            + c4gh.encode_string(nonce + ChaCha20Poly1305(key).encrypt(nonce, sk, None)))
    print(name.decode(), b64encode(blob).decode(), sodium.derive_pk(sk).hex())
"#;
    let out = Command::new("python3").args(["-c", script, PASSPHRASE]).output().expect(INSTALL_HINT);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut seen = 0;
    for line in text.lines() {
        let mut parts = line.split(' ');
        let (kdf, b64, pk_hex) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let pem = format!("-----BEGIN CRYPT4GH PRIVATE KEY-----\n{b64}\n-----END CRYPT4GH PRIVATE KEY-----\n");
        let sk = keys::read_secret_key_pem(&pem, Some(PASSPHRASE.as_bytes())).unwrap_or_else(|e| panic!("{kdf}: {e}"));
        let want: Vec<u8> = (1..=32).collect();
        assert_eq!(&sk.to_bytes()[..], &want[..], "{kdf}");
        let pk_hex_ours = oresund_core::hex::encode(sk.public_key().as_bytes());
        assert_eq!(pk_hex_ours, pk_hex, "{kdf}");
        assert!(matches!(keys::read_secret_key_pem(&pem, Some(b"nope")), Err(Error::WrongPassphrase)), "{kdf}");
        seen += 1;
    }
    assert_eq!(seen, 3);
}

#[test]
fn python_files_decrypt_with_ours() {
    let dir = TempDir::new().unwrap();
    let writer = Party::python(dir.path(), "writer", Some(PASSPHRASE));
    let reader = Party::python(dir.path(), "reader", Some(PASSPHRASE));
    for (i, size) in SIZES.into_iter().enumerate() {
        let plain = pseudo_random(size, 10 + i as u64);
        let file = py(&["encrypt", "--sk", writer.sk(), "--recipient_pk", reader.pk()], &plain, Some(PASSPHRASE));
        for threads in [1, 2] {
            assert_eq!(reader.our_decrypt(&file, threads), plain, "size {size}, {threads} threads");
        }
    }
}

#[test]
fn our_files_decrypt_with_python() {
    let dir = TempDir::new().unwrap();
    let reader = Party::python(dir.path(), "reader", Some(PASSPHRASE));
    for (i, size) in SIZES.into_iter().enumerate() {
        let plain = pseudo_random(size, 20 + i as u64);
        for threads in [1, 2] {
            let file = our_encrypt(&plain, &[&reader], None, threads);
            assert_eq!(reader.py_decrypt(&file), plain, "size {size}, {threads} threads");
        }
    }
}

#[test]
fn multi_recipient_files_both_ways() {
    let dir = TempDir::new().unwrap();
    let writer = Party::python(dir.path(), "writer", None);
    let a = Party::python(dir.path(), "a", Some(PASSPHRASE));
    let b = Party::ours(dir.path(), "b", None);
    let c = Party::ours(dir.path(), "c", Some(PASSPHRASE));
    let plain = pseudo_random(200_000, 30);

    let file = py(
        &["encrypt", "--sk", writer.sk(), "--recipient_pk", a.pk(), "--recipient_pk", b.pk(), "--recipient_pk", c.pk()],
        &plain,
        None,
    );
    for party in [&a, &b, &c] {
        assert_eq!(party.our_decrypt(&file, 2), plain);
    }
    // Someone who is not a recipient gets a typed error.
    let mut sink = Vec::new();
    assert!(matches!(decrypt(&file[..], &mut sink, writer.secret(), 1), Err(Error::NoDecryptablePacket)));

    let file = our_encrypt(&plain, &[&a, &b, &c], None, 2);
    for party in [&a, &b, &c] {
        assert_eq!(party.py_decrypt(&file), plain);
    }
}

#[test]
fn reencrypted_headers_both_ways() {
    let dir = TempDir::new().unwrap();
    let first = Party::python(dir.path(), "first", None);
    let other = Party::python(dir.path(), "other", None);
    let second = Party::ours(dir.path(), "second", Some(PASSPHRASE));
    let plain = pseudo_random(150_000, 40);

    // Python re-encrypts our file: default (keeps `other`'s packet) and --trim.
    let ours = our_encrypt(&plain, &[&first, &other], None, 1);
    for trim in [false, true] {
        let mut args = vec!["reencrypt", "--sk", first.sk(), "--recipient_pk", second.pk()];
        if trim {
            args.push("--trim");
        }
        let re = py(&args, &ours, None);
        assert_eq!(second.our_decrypt(&re, 2), plain, "trim {trim}");
        let mut out = Vec::new();
        assert_eq!(decrypt(&re[..], &mut out, other.secret(), 1).is_ok(), !trim, "trim {trim}");
    }

    // We re-encrypt Python's file; Python decrypts it; the body is untouched.
    let theirs = py(&["encrypt", "--sk", first.sk(), "--recipient_pk", first.pk()], &plain, None);
    let mut re = Vec::new();
    reencrypt(&theirs[..], &mut re, first.secret(), &[second.keys.public], second.secret(), false).unwrap();
    assert_eq!(re.len(), theirs.len());
    assert_eq!(re[re.len() - 150_000..], theirs[theirs.len() - 150_000..]);
    assert_eq!(second.py_decrypt(&re), plain);
}

#[test]
fn python_ranges_and_edit_lists_decrypt_with_ours() {
    let dir = TempDir::new().unwrap();
    let p = Party::python(dir.path(), "p", Some(PASSPHRASE));
    let plain = pseudo_random(5 * 65_536 + 777, 50);
    let full = py(&["encrypt", "--sk", p.sk(), "--recipient_pk", p.pk()], &plain, Some(PASSPHRASE));
    for (s, e) in [(0usize, 2usize), (10, 20), (65_530, 65_545), (70_000, 140_000), (100, 327_000)] {
        let range = format!("{s}-{e}");
        // Python's --range S-E keeps S..E-1.
        let want = &plain[s..e - 1];
        let cut =
            py(&["encrypt", "--sk", p.sk(), "--recipient_pk", p.pk(), "--range", &range], &plain, Some(PASSPHRASE));
        assert_eq!(p.our_decrypt(&cut, 1), want, "encrypt --range {range}");
        let rearranged = py(&["rearrange", "--sk", p.sk(), "--range", &range], &full, Some(PASSPHRASE));
        for threads in [1, 2] {
            assert_eq!(p.our_decrypt(&rearranged, threads), want, "rearrange --range {range}");
        }
        // Our rearrange of the same range keeps the same segments and writes an
        // edit list of the same size. (Python keeps *every* segment when the
        // range ends inside segment 0, as its oracle tests `if end_segment:`.)
        let mut ours = Vec::new();
        rearrange(&full[..], &mut ours, p.secret(), ByteRange::new(s as u64, e as u64 - 1)).unwrap();
        assert_eq!(p.our_decrypt(&ours, 1), want);
        if (e - 1) / 65_536 > 0 {
            assert_eq!(ours.len(), rearranged.len(), "rearranged size for {range}");
        }
    }
}

#[test]
fn our_ranges_and_edit_lists_decrypt_with_python() {
    let dir = TempDir::new().unwrap();
    let p = Party::python(dir.path(), "p", None);
    let q = Party::ours(dir.path(), "q", None);
    let plain = pseudo_random(6 * 65_536 + 4_321, 60);
    let full = our_encrypt(&plain, &[&p], None, 2);
    let theirs = py(&["encrypt", "--sk", p.sk(), "--recipient_pk", p.pk()], &plain, None);
    for (s, e) in [(0u64, 1u64), (5, 65_536), (65_536, 65_537), (70_000, 300_000), (1_000, 390_000)] {
        let want = &plain[s as usize..e as usize];
        // Our encrypt with a range (no edit list).
        let cut = our_encrypt(&plain, &[&p], Some(ByteRange::new(s, e)), 1);
        assert_eq!(p.py_decrypt(&cut), want, "encrypt range {s}..{e}");
        // Our rearrange (edit list) of our file and of Python's file.
        for source in [&full, &theirs] {
            let mut rearranged = Vec::new();
            rearrange(&source[..], &mut rearranged, p.secret(), ByteRange::new(s, e)).unwrap();
            assert_eq!(p.py_decrypt(&rearranged), want, "rearrange {s}..{e}");
        }
    }
    // Composed edit lists (rearranging a rearranged file), then re-encrypted
    // for another reader: Python applies the multi-part edit list correctly.
    let mut once = Vec::new();
    rearrange(&full[..], &mut once, p.secret(), ByteRange::new(50_000, 350_000)).unwrap();
    let mut twice = Vec::new();
    rearrange(&once[..], &mut twice, p.secret(), ByteRange::from_start(123_456)).unwrap();
    let mut for_q = Vec::new();
    reencrypt(&twice[..], &mut for_q, p.secret(), &[q.keys.public], p.secret(), true).unwrap();
    assert_eq!(q.py_decrypt(&for_q), &plain[173_456..350_000]);
    // And Python can rearrange a file whose header we wrote.
    let py_cut = py(&["rearrange", "--sk", p.sk(), "--range", "100-200"], &full, None);
    assert_eq!(p.our_decrypt(&py_cut, 2), &plain[100..199]);
}

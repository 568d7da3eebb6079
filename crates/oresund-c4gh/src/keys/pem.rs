//! Crypt4GH key files, byte-compatible with the Python `crypt4gh` 1.8.6 tool.
//!
//! Public key: PEM label `CRYPT4GH PUBLIC KEY`, body = base64 of the 32 raw
//! bytes.
//!
//! Private key: PEM label `CRYPT4GH PRIVATE KEY`, body = base64 of
//!
//! ```text
//! "c4gh-v1"
//! string kdf_name                 "scrypt" | "bcrypt" | "pbkdf2_hmac_sha256" | "none"
//! string kdf_options              only if kdf_name != "none": u32-BE rounds ‖ salt
//! string cipher_name              "chacha20_poly1305" | "none"
//! string private_data             cipher none: the 32 key bytes;
//!                                 otherwise nonce(12) ‖ ChaCha20-Poly1305(key) ‖ MAC(16)
//! [string comment]                optional
//! ```
//!
//! where `string` is a u16 big-endian length followed by that many bytes.
//! Passphrase prompting is deliberately left to applications; the library
//! only offers [`passphrase_from_env`] for the `C4GH_PASSPHRASE` convention.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

use super::kdf::{Kdf, SALT_LEN};
use super::{KEY_LEN, PublicKey, SecretKey};
use crate::error::{Error, Result};

const PUBLIC_LABEL: &str = "CRYPT4GH PUBLIC KEY";
const PRIVATE_LABEL: &str = "CRYPT4GH PRIVATE KEY";
const MAGIC: &[u8] = b"c4gh-v1";
const CIPHER_CHACHA: &[u8] = b"chacha20_poly1305";
const NONE: &[u8] = b"none";
const NONCE_LEN: usize = 12;
const MAC_LEN: usize = 16;

/// Environment variable the Python tool reads the passphrase from.
pub const PASSPHRASE_ENV: &str = "C4GH_PASSPHRASE";

/// Reads the passphrase from `C4GH_PASSPHRASE`, as the Python tool does.
///
/// Returns `None` when the variable is unset or empty (the Python tool then
/// prompts; prompting is the application's job). Like the Python tool warns,
/// passing secrets in the environment is only suitable for automation and
/// tests.
pub fn passphrase_from_env() -> Option<Zeroizing<Vec<u8>>> {
    let value = std::env::var_os(PASSPHRASE_ENV)?;
    let bytes = Zeroizing::new(value.into_encoded_bytes());
    (!bytes.is_empty()).then_some(bytes)
}

/// Parses a `CRYPT4GH PUBLIC KEY` PEM file.
///
/// ```
/// use oresund_c4gh::keys::{read_public_key_pem, write_public_key_pem};
/// let pk = oresund_c4gh::KeyPair::generate()?.public;
/// assert_eq!(read_public_key_pem(&write_public_key_pem(&pk))?, pk);
/// # Ok::<(), oresund_c4gh::Error>(())
/// ```
pub fn read_public_key_pem(text: &str) -> Result<PublicKey> {
    let body = decode_pem(text, PUBLIC_LABEL)?;
    let bytes: [u8; KEY_LEN] = body.as_slice().try_into().map_err(|_| Error::KeyLength(body.len()))?;
    Ok(PublicKey::from_bytes(bytes))
}

/// Formats a public key as a `CRYPT4GH PUBLIC KEY` PEM file.
pub fn write_public_key_pem(key: &PublicKey) -> String {
    format!("-----BEGIN {PUBLIC_LABEL}-----\n{}\n-----END {PUBLIC_LABEL}-----\n", BASE64.encode(key.as_bytes()))
}

/// Parses a `CRYPT4GH PRIVATE KEY` PEM file in the `c4gh-v1` format.
///
/// Encrypted keys need `passphrase`; without one the error is
/// [`Error::PassphraseRequired`], with a wrong one [`Error::WrongPassphrase`].
/// For unencrypted (`none`) keys the passphrase is ignored.
///
/// ```
/// use oresund_c4gh::{Error, SecretKey, keys};
/// let sk = SecretKey::generate()?;
/// let pem = keys::write_secret_key_pem(&sk, Some(b"hunter2"), Some("alice"))?;
/// assert!(matches!(keys::read_secret_key_pem(&pem, None), Err(Error::PassphraseRequired)));
/// assert!(matches!(keys::read_secret_key_pem(&pem, Some(b"nope")), Err(Error::WrongPassphrase)));
/// let back = keys::read_secret_key_pem(&pem, Some(b"hunter2"))?;
/// assert_eq!(back.public_key(), sk.public_key());
/// # Ok::<(), oresund_c4gh::Error>(())
/// ```
pub fn read_secret_key_pem(text: &str, passphrase: Option<&[u8]>) -> Result<SecretKey> {
    let body = Zeroizing::new(decode_pem(text, PRIVATE_LABEL)?);
    parse_c4gh_v1(&body, passphrase)
}

/// Formats a secret key as a `CRYPT4GH PRIVATE KEY` PEM file.
///
/// With a passphrase the key is encrypted with ChaCha20-Poly1305 under a
/// scrypt-derived key (what the Python tool writes); with `None` it is stored
/// in clear (`kdf none`, `cipher none`, like `crypt4gh-keygen --nocrypt`).
/// An empty passphrase is refused ([`Error::EmptyPassphrase`]) rather than
/// silently writing a clear key.
pub fn write_secret_key_pem(
    key: &SecretKey,
    passphrase: Option<&[u8]>,
    comment: Option<&str>,
) -> Result<Zeroizing<String>> {
    let raw = key.to_bytes();
    let mut blob = Zeroizing::new(Vec::with_capacity(160));
    blob.extend_from_slice(MAGIC);
    match passphrase {
        None => {
            put_string(&mut blob, NONE)?;
            put_string(&mut blob, NONE)?;
            put_string(&mut blob, raw.as_ref())?;
        }
        Some([]) => return Err(Error::EmptyPassphrase),
        Some(pass) => {
            let kdf = Kdf::Scrypt;
            let mut salt = [0u8; SALT_LEN];
            getrandom::fill(&mut salt)?;
            let kek = kdf.derive(pass, &salt, 0)?;
            let mut nonce = [0u8; NONCE_LEN];
            getrandom::fill(&mut nonce)?;
            let mut sealed = Zeroizing::new(Vec::with_capacity(NONCE_LEN + KEY_LEN + MAC_LEN));
            sealed.extend_from_slice(&nonce);
            sealed.extend_from_slice(raw.as_ref());
            let cipher = ChaCha20Poly1305::new(&Key::from(*kek));
            let tag = cipher
                .encrypt_inout_detached(&Nonce::from(nonce), &[], (&mut sealed[NONCE_LEN..]).into())
                .map_err(|_| Error::KeyFormat("key encryption failed"))?;
            sealed.extend_from_slice(&tag);

            let mut options = Vec::with_capacity(4 + SALT_LEN);
            // scrypt's cost is fixed; the Python tool stores rounds = 0.
            options.extend_from_slice(&0u32.to_be_bytes());
            options.extend_from_slice(&salt);
            put_string(&mut blob, kdf.name())?;
            put_string(&mut blob, &options)?;
            put_string(&mut blob, CIPHER_CHACHA)?;
            put_string(&mut blob, &sealed)?;
        }
    }
    if let Some(comment) = comment {
        put_string(&mut blob, comment.as_bytes())?;
    }
    let encoded = Zeroizing::new(BASE64.encode(blob.as_slice()));
    Ok(Zeroizing::new(format!(
        "-----BEGIN {PRIVATE_LABEL}-----\n{}\n-----END {PRIVATE_LABEL}-----\n",
        encoded.as_str()
    )))
}

/// Extracts and base64-decodes the body of a PEM block with `label`.
/// Like the Python tool, blank lines and surrounding whitespace are ignored.
fn decode_pem(text: &str, label: &str) -> Result<Vec<u8>> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let (first, rest) = lines.split_first().ok_or_else(|| Error::NotPem("empty input".into()))?;
    let (last, body) = rest.split_last().ok_or_else(|| Error::NotPem("missing END line".into()))?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    if *first != begin {
        return Err(Error::NotPem(format!("expected `{begin}`")));
    }
    if *last != end {
        return Err(Error::NotPem(format!("expected `{end}`")));
    }
    let joined: Zeroizing<String> = Zeroizing::new(body.concat());
    BASE64.decode(joined.as_bytes()).map_err(|_| Error::Base64)
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) -> Result<()> {
    let len = u16::try_from(s.len()).map_err(|_| Error::KeyFormat("string longer than 65535 bytes"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s);
    Ok(())
}

/// Cursor over the decoded key blob; every read is bounds-checked.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(Error::KeyFormat(what));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn string(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let len = self.take(2, what)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        self.take(len, what)
    }
}

fn parse_c4gh_v1(blob: &[u8], passphrase: Option<&[u8]>) -> Result<SecretKey> {
    let mut cur = Cursor(blob);
    if cur.take(MAGIC.len(), "missing c4gh-v1 magic")? != MAGIC {
        return Err(Error::KeyFormat("missing c4gh-v1 magic (OpenSSH keys are not supported)"));
    }
    let kdf_name = cur.string("truncated KDF name")?;
    let kdf = if kdf_name == NONE {
        None
    } else {
        let kdf = Kdf::from_name(kdf_name)?;
        let options = cur.string("truncated KDF options")?;
        if options.len() < 4 {
            return Err(Error::KeyFormat("KDF options shorter than the rounds field"));
        }
        let (rounds, salt) = options.split_at(4);
        let rounds = u32::from_be_bytes([rounds[0], rounds[1], rounds[2], rounds[3]]);
        Some((kdf, rounds, salt))
    };
    let cipher = cur.string("truncated cipher name")?;
    let private = cur.string("truncated private key data")?;
    // A trailing comment may follow; it carries nothing we need.

    if cipher == NONE {
        let bytes: [u8; KEY_LEN] = private.try_into().map_err(|_| Error::KeyLength(private.len()))?;
        return Ok(SecretKey::from_bytes(bytes));
    }
    if cipher != CIPHER_CHACHA {
        return Err(Error::UnsupportedKeyCipher(String::from_utf8_lossy(cipher).into_owned()));
    }
    let (kdf, rounds, salt) = kdf.ok_or(Error::KeyFormat("encrypted key without a KDF"))?;
    let passphrase = passphrase.ok_or(Error::PassphraseRequired)?;
    if private.len() != NONCE_LEN + KEY_LEN + MAC_LEN {
        return Err(Error::KeyFormat("encrypted private key has the wrong length"));
    }
    let kek = kdf.derive(passphrase, salt, rounds)?;
    let (nonce, rest) = private.split_at(NONCE_LEN);
    let (sealed, tag) = rest.split_at(KEY_LEN);
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    key.copy_from_slice(sealed);
    let nonce = Nonce::try_from(nonce).map_err(|_| Error::KeyFormat("nonce length"))?;
    let tag = Tag::try_from(tag).map_err(|_| Error::KeyFormat("MAC length"))?;
    ChaCha20Poly1305::new(&Key::from(*kek))
        .decrypt_inout_detached(&nonce, &[], key.as_mut_slice().into(), &tag)
        .map_err(|_| Error::WrongPassphrase)?;
    Ok(SecretKey::from_bytes(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made by `crypt4gh-keygen --nocrypt` (Python crypt4gh 1.8.6).
    const PY_NOCRYPT_SK: &str = "-----BEGIN CRYPT4GH PRIVATE KEY-----\n\
        YzRnaC12MQAEbm9uZQAEbm9uZQAgboKUKJbyL7Wv/RkjtkB3hcYKDmQZWfeimFAFBLhwn0U=\n\
        -----END CRYPT4GH PRIVATE KEY-----\n";

    #[test]
    fn reads_python_unencrypted_key() {
        let sk = read_secret_key_pem(PY_NOCRYPT_SK, None).unwrap();
        assert_eq!(sk.to_bytes()[..4], [0x6e, 0x82, 0x94, 0x28]);
    }

    #[test]
    fn unencrypted_round_trip_is_byte_identical_to_python_layout() {
        let sk = read_secret_key_pem(PY_NOCRYPT_SK, None).unwrap();
        let pem = write_secret_key_pem(&sk, None, None).unwrap();
        assert_eq!(pem.as_str(), PY_NOCRYPT_SK.replace("        ", ""));
    }

    #[test]
    fn encrypted_round_trip_with_comment() {
        let sk = SecretKey::generate().unwrap();
        let pem = write_secret_key_pem(&sk, Some(b"pw"), Some("note")).unwrap();
        let back = read_secret_key_pem(&pem, Some(b"pw")).unwrap();
        assert_eq!(*back.to_bytes(), *sk.to_bytes());
        assert!(matches!(read_secret_key_pem(&pem, None), Err(Error::PassphraseRequired)));
        assert!(matches!(read_secret_key_pem(&pem, Some(b"pW")), Err(Error::WrongPassphrase)));
    }

    #[test]
    fn empty_passphrase_is_refused() {
        let sk = SecretKey::generate().unwrap();
        assert!(matches!(write_secret_key_pem(&sk, Some(b""), None), Err(Error::EmptyPassphrase)));
    }

    #[test]
    fn public_key_pem_round_trip_and_label_check() {
        let pk = SecretKey::from_bytes([1; 32]).public_key();
        let pem = write_public_key_pem(&pk);
        assert_eq!(read_public_key_pem(&pem).unwrap(), pk);
        assert!(matches!(read_secret_key_pem(&pem, None), Err(Error::NotPem(_))));
        let crlf = pem.replace('\n', "\r\n\r\n");
        assert_eq!(read_public_key_pem(&crlf).unwrap(), pk);
    }

    #[test]
    fn malformed_key_files_are_typed_errors() {
        let wrap = |blob: &[u8]| {
            format!("-----BEGIN {PRIVATE_LABEL}-----\n{}\n-----END {PRIVATE_LABEL}-----\n", BASE64.encode(blob))
        };
        assert!(matches!(read_secret_key_pem("", None), Err(Error::NotPem(_))));
        assert!(matches!(
            read_secret_key_pem("-----BEGIN CRYPT4GH PRIVATE KEY-----\n@@@\n-----END CRYPT4GH PRIVATE KEY-----", None),
            Err(Error::Base64)
        ));
        assert!(matches!(read_secret_key_pem(&wrap(b"openssh-key-v1"), None), Err(Error::KeyFormat(_))));
        assert!(matches!(read_secret_key_pem(&wrap(b"c4gh-v1\x00"), None), Err(Error::KeyFormat(_))));
        assert!(matches!(read_secret_key_pem(&wrap(b"c4gh-v1\x00\x06argon2"), None), Err(Error::UnsupportedKdf(_))));
        assert!(matches!(
            read_secret_key_pem(&wrap(b"c4gh-v1\x00\x04none\x00\x03aes\x00\x00"), None),
            Err(Error::UnsupportedKeyCipher(_))
        ));
        assert!(matches!(
            read_secret_key_pem(&wrap(b"c4gh-v1\x00\x04none\x00\x04none\x00\x02ab"), None),
            Err(Error::KeyLength(2))
        ));
        // Every truncation of a valid encrypted blob fails cleanly.
        let sk = SecretKey::generate().unwrap();
        let pem = write_secret_key_pem(&sk, Some(b"pw"), None).unwrap();
        let blob = decode_pem(&pem, PRIVATE_LABEL).unwrap();
        for cut in 0..blob.len() {
            assert!(read_secret_key_pem(&wrap(&blob[..cut]), Some(b"pw")).is_err(), "cut {cut}");
        }
    }
}

//! GA4GH Crypt4GH v1 file encryption on audited RustCrypto primitives, body segments sealed by
//! AWS-LC.
//!
//! A Crypt4GH file is a header followed by a body (spec §2.2):
//!
//! * the **header** ([`header`], §3.2–§3.3) holds packets encrypted for each
//!   reader with X25519 + ChaCha20-Poly1305, the shared key derived like
//!   libsodium's `crypto_kx` (private `kx` module, §3.3.1); packets carry
//!   the data key(s) and an optional edit list;
//! * the **body** ([`body`], §3.4, §4.1) is the plaintext cut into 64 KiB
//!   segments, each sealed with ChaCha20-Poly1305 under the data key
//!   ([`SegmentCipher`]: AWS-LC's, a single pass over the data);
//! * an **edit list** ([`edit_list`], §3.2.4, §4.3) lets a file expose only
//!   part of its plaintext, so byte ranges can be served without
//!   re-encrypting ([`plan_range`], [`rearrange`]).
//!
//! Key files ([`keys`]) are compatible with the Python `crypt4gh` 1.8.6
//! tool (`c4gh-v1` private keys with scrypt, bcrypt, pbkdf2 or no KDF).
//! Secrets are zeroised when dropped. Malformed input never panics: every
//! failure is an [`Error`] variant naming the spec rule it enforces.
//!
//! Section numbers (§) follow the current GA4GH File Encryption Standard
//! (`crypt4gh.pdf`, samtools/hts-specs); the section *titles* are quoted
//! where numbering differs from the 2019 v1.0 printing (which lacks the AEAD
//! sections, so "Edit List" is §4.2 there, §4.3 here). The AEAD data method
//! (`chacha20_ietf_poly1305_with_AEAD`) is not implemented, matching the
//! Python tool.
//!
//! ```
//! use oresund_c4gh::{KeyPair, encrypt, decrypt};
//! let (alice, writer) = (KeyPair::generate()?, KeyPair::generate()?);
//! let plain = vec![7u8; 200_000];
//! let mut file = Vec::new();
//! encrypt(&plain[..], &mut file, &[alice.public], &writer.secret, None, 2)?;
//! let mut out = Vec::new();
//! decrypt(&file[..], &mut out, &alice.secret, 2)?;
//! assert_eq!(out, plain);
//! # Ok::<(), oresund_c4gh::Error>(())
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod body;
pub mod edit_list;
mod error;
mod file;
pub mod header;
pub mod keys;
mod kx;
mod pipeline;
mod segment;
mod segment_cipher;

pub use body::{BodyStats, SEGMENT_SIZE, decrypt_body, encrypt_body};
pub use edit_list::{ByteRange, EditList, RangePlan, SegmentRun, plan_range};
pub use error::{Error, Result};
pub use file::{decrypt, encrypt, rearrange, reencrypt};
pub use header::{DecryptedHeader, Header, read_header_bytes, rearrange_header, reencrypt_header};
pub use keys::{DataKey, KeyPair, PublicKey, SecretKey};
pub use segment_cipher::{SegmentCipher, Unauthentic};

#[cfg(test)]
pub(crate) mod test_util {
    /// Parses 64 hex digits.
    pub(crate) fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}

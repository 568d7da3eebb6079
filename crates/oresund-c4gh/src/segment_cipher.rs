//! The segment cipher: ChaCha20-Poly1305 with a 96-bit nonce and no associated data (RFC 8439;
//! spec §3.4.2, method `chacha20_ietf_poly1305`), from AWS-LC through `aws-lc-rs`, which the node
//! links anyway for TLS. Its x86-64 code runs ChaCha20 and Poly1305 together in one pass over the
//! data: on an AVX2 CPU without AVX-512 it sealed 2.25-2.42 GB/s a core against 1.27-1.39 for the
//! RustCrypto crates, and where AVX-512 gives those their fastest code the two were level
//! (2.2-2.5 against 2.37-2.47 GB/s; BENCHMARKS.md, "Crypt4GH against `cat`"). Headers and key
//! files, a few dozen bytes each, keep RustCrypto's `chacha20poly1305`.

use aws_lc_rs::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

use crate::error::{Error, Result};
use crate::keys::DataKey;
use crate::segment::{MAC_LEN, NONCE_LEN};

/// A data key's cipher for body segments.
pub struct SegmentCipher(LessSafeKey);

/// A segment whose MAC did not match: the wrong key, or damaged bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthentic;

impl SegmentCipher {
    /// The cipher of `key`.
    pub fn new(key: &DataKey) -> Result<Self> {
        // AWS-LC refuses only a key of another length than 32 bytes, which `DataKey` cannot be.
        let key = UnboundKey::new(&CHACHA20_POLY1305, key.as_bytes())
            .map_err(|_| Error::Io(std::io::Error::other("AWS-LC refused a 32-byte ChaCha20-Poly1305 key")))?;
        Ok(SegmentCipher(LessSafeKey::new(key)))
    }

    /// Encrypts `data` in place under `nonce`; returns the MAC.
    pub fn seal(&self, nonce: [u8; NONCE_LEN], data: &mut [u8]) -> Result<[u8; MAC_LEN]> {
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), data)
            // Only for messages over 256 GiB, never for a segment.
            .map_err(|_| Error::Io(std::io::Error::other("segment encryption failed")))?;
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(tag.as_ref());
        Ok(mac)
    }

    /// Authenticates and decrypts `sealed` (ciphertext followed by its MAC) in place; returns the
    /// plaintext, the ciphertext's length at the start of `sealed`. When the MAC does not match,
    /// what `sealed` then holds is unspecified: a caller with another key to try keeps a copy.
    pub fn open<'a>(&self, nonce: [u8; NONCE_LEN], sealed: &'a mut [u8]) -> Result<&'a mut [u8], Unauthentic> {
        self.0.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), sealed).map_err(|_| Unauthentic)
    }
}

//! Keyed pseudonyms: a person's local id (CPR number, personnummer) never leaves the ingest step;
//! the node keeps HMAC-SHA256(node secret, local id) instead. The same person always maps to the
//! same pseudonym on one node; without the secret the mapping cannot be reversed or recomputed.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// A pseudonym's 128 bits: a 16-byte key for maps of many people. The text is a heap string of 32
/// digits: two maps of 60,000 text keys took about 12 MB at their peak (heaptrack), of the 64 MB a
/// whole ingest may take (issue #19).
pub type PseudonymBits = [u8; 16];

/// A pseudonym: 128 bits of the HMAC, as 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pseudonym(String);

impl Pseudonym {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pseudonym whose bits these are.
    pub fn from_bits(bits: &PseudonymBits) -> Self {
        Self(crate::hex::encode(bits))
    }

    /// Its bits; `None` for a text that is not 32 hex digits (only [`Pseudonym::parse`] checks).
    pub fn bits(&self) -> Option<PseudonymBits> {
        let hex = self.0.len() == 32 && self.0.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| u128::from_str_radix(&self.0, 16).ok()).flatten().map(u128::to_be_bytes)
    }

    /// Accepts a stored pseudonym (32 hex digits).
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
            .then(|| Self(text.to_string()))
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The node's pseudonymisation key.
pub struct Pseudonymiser {
    mac: Hmac<Sha256>,
}

impl Pseudonymiser {
    /// The secret must be at least 32 random bytes (made by `oresund init`).
    pub fn new(secret: &[u8]) -> Option<Self> {
        if secret.len() < 32 {
            return None;
        }
        Hmac::<Sha256>::new_from_slice(secret).ok().map(|mac| Self { mac })
    }

    /// The pseudonym of a local id; surrounding white space is ignored.
    pub fn pseudonym(&self, local_id: &str) -> Pseudonym {
        Pseudonym::from_bits(&self.bits(local_id))
    }

    /// The bits of [`Pseudonymiser::pseudonym`], without the text.
    pub fn bits(&self, local_id: &str) -> PseudonymBits {
        let mut mac = self.mac.clone();
        mac.update(local_id.trim().as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut bits = [0; 16];
        bits.copy_from_slice(&tag[..16]);
        bits
    }
}

impl fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymiser(<secret>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_keyed_and_opaque() {
        let a = Pseudonymiser::new(&[7u8; 32]).unwrap();
        let b = Pseudonymiser::new(&[8u8; 32]).unwrap();
        let p = a.pseudonym("070248-4770");
        assert_eq!(p, a.pseudonym(" 070248-4770\t"));
        assert_ne!(p, b.pseudonym("070248-4770"));
        assert_eq!(p.as_str().len(), 32);
        assert!(!p.as_str().contains("070248"));
        assert_eq!(Pseudonym::parse(p.as_str()), Some(p.clone()));
        let bits = a.bits("070248-4770");
        assert_eq!((p.bits(), Pseudonym::from_bits(&bits)), (Some(bits), p.clone()));
        assert_eq!(Pseudonym(format!("+{}", &p.as_str()[1..])).bits(), None);
        assert!(Pseudonymiser::new(&[1u8; 16]).is_none());
    }

    #[test]
    fn matches_hmac_sha256_test_vector() {
        // python3 -c "import hmac,hashlib; print(hmac.new(b'\x0b'*32, b'Hi There', hashlib.sha256).hexdigest()[:32])"
        let p = Pseudonymiser::new(&[0x0b; 32]).unwrap().pseudonym("Hi There");
        assert_eq!(p.as_str(), "198a607eb44bfbc69903a0f1cf2bbdc5");
    }
}

//! GA4GH digests: `sha512t24u` and refget sequence identifiers.
//!
//! VRS 2.0 §"Computed Identifiers": `sha512t24u(blob) = base64url(SHA-512(blob)[..24])`, no padding.
//! refget v2: a sequence's identifier is `SQ.` + `sha512t24u` of the upper-case sequence.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha512};

/// `sha512t24u` of `blob`: the first 24 bytes of its SHA-512, base64url without padding (32 characters).
///
/// ```
/// assert_eq!(oresund_core::digest::sha512t24u(b""), "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXc");
/// ```
pub fn sha512t24u(blob: &[u8]) -> String {
    encode_truncated(&Sha512::digest(blob))
}

/// The text of a SHA-512's first 24 bytes.
fn encode_truncated(hash: &[u8]) -> String {
    let mut text = String::with_capacity(32);
    let mut first = [0u8; 24];
    first.copy_from_slice(&hash[..24]);
    push_sha512t24u_text(&first, &mut text);
    text
}

/// The 24 bytes a `sha512t24u` text stands for, when `text` is exactly such a text (stores keep
/// identifiers in 24 bytes instead of 32 characters).
///
/// ```
/// use oresund_core::digest::{push_sha512t24u_text, sha512t24u, sha512t24u_bytes};
/// let text = sha512t24u(b"");
/// let mut back = String::new();
/// push_sha512t24u_text(&sha512t24u_bytes(&text).unwrap(), &mut back);
/// assert_eq!(back, text);
/// assert_eq!(sha512t24u_bytes("not-a-digest"), None);
/// ```
pub fn sha512t24u_bytes(text: &str) -> Option<[u8; 24]> {
    let bytes: [u8; 24] = URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()?;
    // 32 characters carry exactly 24 bytes, but check: only a text that comes back unchanged.
    (encode_truncated(&bytes) == text).then_some(bytes)
}

/// The base64url alphabet (RFC 4648 §5).
const URL_SAFE_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Appends the text of 24 `sha512t24u` bytes to `out` (an id with its prefix in one allocation).
///
/// Written out rather than through the `base64` engine: a region count formats one id per
/// variant, and 24 bytes are exactly eight 3-byte groups, so there is no padding to handle.
pub fn push_sha512t24u_text(bytes: &[u8; 24], out: &mut String) {
    let mut text = [0u8; 32];
    for (group, quad) in bytes.chunks_exact(3).zip(text.chunks_exact_mut(4)) {
        let bits = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        for (c, shift) in quad.iter_mut().zip([18, 12, 6, 0]) {
            *c = URL_SAFE_ALPHABET[(bits >> shift & 63) as usize];
        }
    }
    // The alphabet is ASCII, so this never falls back to the empty string.
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// Incremental refget digest of a sequence fed in chunks (a chromosome need not fit in memory).
///
/// ```
/// let mut digest = oresund_core::digest::RefgetDigest::default();
/// digest.update(b"ac");
/// digest.update(b"GT");
/// assert_eq!(digest.finish(), "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2");
/// ```
#[derive(Default)]
pub struct RefgetDigest {
    hasher: Sha512,
    upper: Vec<u8>,
}

impl RefgetDigest {
    /// Adds sequence bytes; they are upper-cased as refget requires.
    pub fn update(&mut self, chunk: &[u8]) {
        self.upper.clear();
        self.upper.extend(chunk.iter().map(u8::to_ascii_uppercase));
        self.hasher.update(&self.upper);
    }

    /// The `SQ.`-prefixed refget identifier.
    pub fn finish(self) -> String {
        format!("SQ.{}", encode_truncated(&self.hasher.finalize()))
    }
}

/// refget identifier of a whole in-memory sequence.
pub fn refget_id(sequence: &[u8]) -> String {
    let mut digest = RefgetDigest::default();
    digest.update(sequence);
    digest.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refget_test_vector_from_the_brief() {
        assert_eq!(refget_id(b"ACGT"), "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2");
        assert_eq!(refget_id(b"acgt"), "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2");
    }

    #[test]
    fn ids_are_written_as_the_base64_engine_writes_them() {
        // Every byte value in every position of a group, and digests of many blobs.
        let mut cases: Vec<[u8; 24]> = (0..=255u8).map(|b| std::array::from_fn(|i| b.wrapping_add(i as u8))).collect();
        cases.extend((0..1000u32).map(|n| -> [u8; 24] { Sha512::digest(n.to_le_bytes())[..24].try_into().unwrap() }));
        for bytes in cases {
            let mut text = "ga4gh:VA.".to_string();
            push_sha512t24u_text(&bytes, &mut text);
            assert_eq!(text, format!("ga4gh:VA.{}", URL_SAFE_NO_PAD.encode(bytes)));
        }
    }
}

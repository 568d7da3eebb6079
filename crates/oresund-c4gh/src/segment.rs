//! The segment geometry of an encrypted body (spec §3.4.1), apart from the code that seals and
//! opens segments so that edit lists and the pipeline can use it without depending on that code.

/// Plaintext bytes per segment (§3.4.1).
pub const SEGMENT_SIZE: usize = 65_536;
/// Nonce bytes at the start of every encrypted segment.
pub const NONCE_LEN: usize = 12;
/// Poly1305 MAC bytes at the end of every encrypted segment.
pub const MAC_LEN: usize = 16;
/// Size of a full encrypted segment: 65,564 bytes (§3.4.1).
pub const CIPHER_SEGMENT_SIZE: usize = NONCE_LEN + SEGMENT_SIZE + MAC_LEN;

//! How a Crypt4GH key is named: the catalog records, per archived object, the id of the key its
//! header is encrypted to, and sealed file keys are named by theirs and their node key's.

use oresund_c4gh::PublicKey;
use sha2::{Digest, Sha256};

/// The id of a key (a node key or a file key): 16 hex digits of SHA-256 of its public key.
pub fn key_id(public: &PublicKey) -> String {
    oresund_core::hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

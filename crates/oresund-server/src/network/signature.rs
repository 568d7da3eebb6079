//! How national nodes recognise each other: every network query carries
//!
//! ```text
//! X-Oresund-Peer:      <sender id>
//! X-Oresund-Timestamp: <unix seconds>
//! X-Oresund-Signature: hex HMAC-SHA256(shared secret,
//!                        PEER \n METHOD \n PATH?QUERY \n TIMESTAMP \n hex SHA-256(body) \n AUTHORIZATION)
//! ```
//!
//! The secret is shared by exactly two nodes; the sender's id is signed too, so a secret reused
//! for two peers still does not let one speak as the other. Signing the caller's `Authorization` value binds the
//! forwarded credential to the query; the timestamp bounds replay to [`MAX_SKEW`].

use hmac::{Hmac, KeyInit, Mac};
use oresund_core::hex;
use sha2::{Digest, Sha256};

pub const PEER_HEADER: &str = "x-oresund-peer";
pub const TIMESTAMP_HEADER: &str = "x-oresund-timestamp";
pub const SIGNATURE_HEADER: &str = "x-oresund-signature";
/// Set on a 401 that refuses the signature of a network query (not the caller's credentials).
pub const REFUSED_HEADER: &str = "x-oresund-peer-refused";

/// Largest accepted clock difference between two nodes, seconds.
pub const MAX_SKEW: u64 = 300;

/// The parts of a request a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// The sender's id, as in `X-Oresund-Peer`.
    pub peer: &'a str,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub body: &'a [u8],
    /// The forwarded `Authorization` header value, or "".
    pub authorization: &'a str,
}

impl Signed<'_> {
    fn mac(&self, secret: &str, timestamp: u64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; the config requires at least 32 characters.
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        let message = format!(
            "{}\n{}\n{}\n{timestamp}\n{}\n{}",
            self.peer,
            self.method,
            self.path_and_query,
            hex::encode(&Sha256::digest(self.body)),
            self.authorization
        );
        mac.update(message.as_bytes());
        mac
    }

    /// The signature at `timestamp`.
    pub fn sign(&self, secret: &str, timestamp: u64) -> String {
        hex::encode(&self.mac(secret, timestamp).finalize().into_bytes())
    }

    /// Checks a signature (in constant time) and the timestamp against `now`.
    pub fn verify(&self, secret: &str, timestamp: &str, now: u64, signature: &str) -> Result<(), PeerAuthError> {
        let timestamp: u64 = timestamp.trim().parse().map_err(|_| PeerAuthError::Stale)?;
        if timestamp.abs_diff(now) > MAX_SKEW {
            return Err(PeerAuthError::Stale);
        }
        let bytes = (0..signature.len() / 2)
            .map(|i| u8::from_str_radix(signature.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| PeerAuthError::BadSignature)?;
        self.mac(secret, timestamp).verify_slice(&bytes).map_err(|_| PeerAuthError::BadSignature)
    }
}

/// Why a network query was refused (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerAuthError {
    #[error("{0:?} is not a configured peer of this node")]
    UnknownPeer(String),
    #[error("the request timestamp is missing, malformed or more than {MAX_SKEW} s away from this node's clock")]
    Stale,
    #[error("the peer signature does not match")]
    BadSignature,
    #[error("network queries need the X-Oresund-Peer, X-Oresund-Timestamp and X-Oresund-Signature headers")]
    Missing,
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn signatures_bind_every_part_of_the_request() {
        let now = 1_800_000_000;
        let request = Signed {
            peer: "PORTAL",
            method: "GET",
            path_and_query: "/network/g_variants?start=5",
            body: b"",
            authorization: "Bearer x",
        };
        let sig = request.sign(SECRET, now);
        assert!(request.verify(SECRET, &now.to_string(), now + 10, &sig).is_ok());
        let other = |method, path_and_query, authorization| Signed {
            peer: "PORTAL",
            method,
            path_and_query,
            body: b"",
            authorization,
        };
        for changed in [
            Signed { peer: "DK-NGC", ..request },
            other("POST", "/network/g_variants?start=5", "Bearer x"),
            other("GET", "/network/g_variants?start=6", "Bearer x"),
            other("GET", "/network/g_variants?start=5", "Bearer y"),
        ] {
            assert_eq!(changed.verify(SECRET, &now.to_string(), now, &sig), Err(PeerAuthError::BadSignature));
        }
        let wrong_secret = "another secret of 32 characters!!";
        assert_eq!(request.verify(wrong_secret, &now.to_string(), now, &sig), Err(PeerAuthError::BadSignature));
        assert_eq!(request.verify(SECRET, &(now - 1000).to_string(), now, &sig), Err(PeerAuthError::Stale));
        assert_eq!(request.verify(SECRET, "soon", now, &sig), Err(PeerAuthError::Stale));
        assert_eq!(request.verify(SECRET, &now.to_string(), now, "zz"), Err(PeerAuthError::BadSignature));
    }
}

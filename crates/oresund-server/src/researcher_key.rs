//! The researcher's Crypt4GH public key, as htsget-rs's Crypt4GH extension sends it:
//! `Htsget-Context-Public-Key: base64(the public key file)`. The key file is the Crypt4GH /
//! OpenSSH-style PEM (`-----BEGIN CRYPT4GH PUBLIC KEY-----`); its bare base64 body (the 32
//! key bytes) is accepted too.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oresund_c4gh::PublicKey;
use oresund_c4gh::keys::read_public_key_pem;

use crate::delivery_error::DeliveryFailure;

pub const HEADER: &str = "htsget-context-public-key";

/// The key a request names, if it names one.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<PublicKey>, DeliveryFailure> {
    let Some(value) = headers.get(HEADER) else { return Ok(None) };
    let bad = || {
        DeliveryFailure::invalid_input(
            "Htsget-Context-Public-Key must be the base64 of a Crypt4GH public key file (base64 -w0 researcher.pub)",
        )
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    let decoded = STANDARD.decode(text).map_err(|_| bad())?;
    if let Ok(raw) = <[u8; 32]>::try_from(decoded.as_slice()) {
        return Ok(Some(PublicKey::from_bytes(raw)));
    }
    let pem = std::str::from_utf8(&decoded).map_err(|_| bad())?;
    read_public_key_pem(pem).map(Some).map_err(|_| bad())
}

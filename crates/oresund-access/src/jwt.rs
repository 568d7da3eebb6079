//! Compact JWS (RFC 7515) as GA4GH Passports use it: only RS256 and ES256 (AAI spec), never `none`
//! or HMAC, with a size limit so a hostile token cannot make us work hard.

use serde_json::Value;
use signature::Verifier;

use crate::jwk::{PublicJwk, b64};

/// Largest token accepted (a passport with many visas stays far below).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// A JWS split and decoded, not yet verified.
#[derive(Debug, Clone)]
pub struct UnverifiedJwt {
    pub header: Value,
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("not a compact JWS (header.payload.signature, base64url)")]
    Malformed,
    #[error("algorithm {0:?} is not allowed; GA4GH Passports accept RS256 and ES256 only")]
    Algorithm(String),
    #[error("no key of the issuer's key set verifies the signature")]
    BadSignature,
    #[error("the header lists critical extensions ({0}) this node does not understand (RFC 7515 §4.1.11)")]
    Critical(String),
}

impl UnverifiedJwt {
    pub fn parse(token: &str) -> Result<Self, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtError::TooLarge);
        }
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let json = |part: &str| -> Result<Value, JwtError> {
            let bytes = b64(part).ok_or(JwtError::Malformed)?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)?;
            value.is_object().then_some(value).ok_or(JwtError::Malformed)
        };
        let parsed = Self {
            header: json(header)?,
            claims: json(payload)?,
            signing_input: format!("{header}.{payload}"),
            signature: b64(signature).ok_or(JwtError::Malformed)?,
        };
        if let Some(critical) = parsed.header.get("crit") {
            return Err(JwtError::Critical(critical.to_string()));
        }
        match parsed.algorithm() {
            "RS256" | "ES256" => Ok(parsed),
            other => Err(JwtError::Algorithm(other.to_string())),
        }
    }

    pub fn algorithm(&self) -> &str {
        self.header["alg"].as_str().unwrap_or("")
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header[name].as_str()
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims[name].as_str()
    }

    /// Verifies the signature with one key; the key's type must match the algorithm, so an RSA
    /// public key can never be used as an HMAC secret or under another algorithm.
    pub fn verify_with(&self, key: &PublicJwk) -> bool {
        let message = self.signing_input.as_bytes();
        match (self.algorithm(), key) {
            ("RS256", PublicJwk::Rsa { key, .. }) => rsa::pkcs1v15::Signature::try_from(self.signature.as_slice())
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            ("ES256", PublicJwk::Ec { key, .. }) => p256::ecdsa::Signature::from_slice(&self.signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            _ => false,
        }
    }

    /// Verifies against any candidate key of a key set.
    pub fn verify<'a>(&self, keys: impl IntoIterator<Item = &'a PublicJwk>) -> Result<(), JwtError> {
        if keys.into_iter().any(|k| self.verify_with(k)) { Ok(()) } else { Err(JwtError::BadSignature) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[test]
    fn refuses_none_hmac_and_garbage() {
        let claims = encode(&serde_json::json!({"iss": "x"}));
        for alg in ["none", "HS256", "RS512", ""] {
            let token = format!("{}.{claims}.", encode(&serde_json::json!({"alg": alg})));
            assert!(matches!(UnverifiedJwt::parse(&token), Err(JwtError::Algorithm(_))), "{alg}");
        }
        assert_eq!(UnverifiedJwt::parse("a.b").unwrap_err(), JwtError::Malformed);
        assert_eq!(UnverifiedJwt::parse("!!.!!.!!").unwrap_err(), JwtError::Malformed);
        assert_eq!(UnverifiedJwt::parse(&"a".repeat(MAX_TOKEN_BYTES + 1)).unwrap_err(), JwtError::TooLarge);
        let critical = format!("{}.{claims}.AA", encode(&serde_json::json!({"alg": "ES256", "crit": ["exp"]})));
        assert!(matches!(UnverifiedJwt::parse(&critical), Err(JwtError::Critical(_))));
    }
}

//! JSON Web Keys (RFC 7517) for the two algorithms GA4GH Passports allow (AAI spec §"Signing
//! Algorithms": RS256 and ES256): RSA public keys and EC P-256 public keys, in JWKS documents.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// One public key.
#[derive(Debug, Clone)]
pub enum PublicJwk {
    Rsa { kid: Option<String>, key: rsa::pkcs1v15::VerifyingKey<rsa::sha2::Sha256> },
    Ec { kid: Option<String>, key: p256::ecdsa::VerifyingKey },
}

/// Why a JWKS or JWK could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    #[error("the JWKS is not JSON with a `keys` array")]
    NotAJwks,
    #[error("key {0}: {1}")]
    BadKey(String, String),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    /// `sig` or `enc` (RFC 7517 §4.2); an encryption key never verifies a signature.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    usage: Option<String>,
}

/// Smallest RSA modulus accepted: 2048 bits (NIST SP 800-131A; shorter keys can be factored).
pub const MIN_RSA_BITS: usize = 2048;

pub(crate) fn b64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

impl PublicJwk {
    pub fn kid(&self) -> Option<&str> {
        match self {
            PublicJwk::Rsa { kid, .. } | PublicJwk::Ec { kid, .. } => kid.as_deref(),
        }
    }

    fn from_raw(raw: &RawJwk) -> Result<Self, JwkError> {
        let label = raw.kid.clone().unwrap_or_else(|| "(no kid)".into());
        let bad = |why: &str| JwkError::BadKey(label.clone(), why.to_string());
        match raw.kty.as_str() {
            "RSA" => {
                let n = raw.n.as_deref().and_then(b64).ok_or_else(|| bad("RSA key without n"))?;
                let e = raw.e.as_deref().and_then(b64).ok_or_else(|| bad("RSA key without e"))?;
                let key = rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(&n), rsa::BigUint::from_bytes_be(&e))
                    .map_err(|e| bad(&format!("not a usable RSA key: {e}")))?;
                if rsa::traits::PublicKeyParts::size(&key) * 8 < MIN_RSA_BITS {
                    return Err(bad(&format!("RSA keys shorter than {MIN_RSA_BITS} bits are refused")));
                }
                Ok(PublicJwk::Rsa { kid: raw.kid.clone(), key: rsa::pkcs1v15::VerifyingKey::new(key) })
            }
            "EC" => {
                if raw.crv.as_deref() != Some("P-256") {
                    return Err(bad("only the P-256 curve (ES256) is accepted"));
                }
                let x = raw.x.as_deref().and_then(b64).filter(|x| x.len() == 32).ok_or_else(|| bad("bad x"))?;
                let y = raw.y.as_deref().and_then(b64).filter(|y| y.len() == 32).ok_or_else(|| bad("bad y"))?;
                let point = p256::EncodedPoint::from_affine_coordinates(
                    p256::FieldBytes::from_slice(&x),
                    p256::FieldBytes::from_slice(&y),
                    false,
                );
                let key =
                    p256::ecdsa::VerifyingKey::from_encoded_point(&point).map_err(|_| bad("not a P-256 point"))?;
                Ok(PublicJwk::Ec { kid: raw.kid.clone(), key })
            }
            other => Err(bad(&format!("key type {other:?} is not RSA or EC"))),
        }
    }

    /// The JWK JSON of an EC key (for publishing this node's keys).
    pub fn ec_json(key: &p256::ecdsa::VerifyingKey, kid: &str) -> serde_json::Value {
        let point = key.to_encoded_point(false);
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "use": "sig",
            "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(point.x().map(|x| x.as_slice()).unwrap_or_default()),
            "y": URL_SAFE_NO_PAD.encode(point.y().map(|y| y.as_slice()).unwrap_or_default()),
        })
    }
}

/// A key set, as published at a `jku`.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

impl Jwks {
    /// Parses a JWKS document. Keys this node cannot use for RS256/ES256 signatures (other key
    /// types, other curves, `use: enc`) are skipped, so an issuer publishing them beside its
    /// signing keys still works; a malformed RSA or P-256 key is an error.
    pub fn parse(text: &[u8]) -> Result<Self, JwkError> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(text).map_err(|_| JwkError::NotAJwks)?;
        let mut keys = Vec::new();
        for value in document.keys {
            let raw: RawJwk = serde_json::from_value(value).map_err(|_| JwkError::NotAJwks)?;
            let signing = raw.usage.as_deref().is_none_or(|u| u == "sig");
            let usable = raw.kty == "RSA" || (raw.kty == "EC" && raw.crv.as_deref() == Some("P-256"));
            if signing && usable {
                keys.push(PublicJwk::from_raw(&raw)?);
            }
        }
        Ok(Self { keys })
    }

    /// Keys that may have made a signature with header `kid` (all keys when the header has none).
    pub fn candidates<'a>(&'a self, kid: Option<&'a str>) -> impl Iterator<Item = &'a PublicJwk> + 'a {
        self.keys.iter().filter(move |k| kid.is_none() || k.kid() == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_keys_are_skipped_and_weak_ones_refused() {
        let key = crate::signing::NodeSigningKey::generate().unwrap();
        let p384 = serde_json::json!({"kty": "EC", "crv": "P-384", "kid": "other", "x": "AA", "y": "AA"});
        let enc = {
            let mut k = key.public_jwk();
            k["use"] = "enc".into();
            k["kid"] = "enc".into();
            k
        };
        let oct = serde_json::json!({"kty": "oct", "k": "c2VjcmV0"});
        let document = serde_json::json!({"keys": [p384, enc, oct, key.public_jwk()]}).to_string();
        let jwks = Jwks::parse(document.as_bytes()).unwrap();
        assert_eq!(jwks.keys.iter().map(|k| k.kid()).collect::<Vec<_>>(), [Some(key.kid.as_str())]);
        // A 512-bit modulus (n = 2^511 + 1 is odd and large enough to parse as a key).
        let mut n = vec![0u8; 64];
        n[0] = 0x80;
        n[63] = 1;
        let weak =
            serde_json::json!({"keys": [{"kty": "RSA", "kid": "weak", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB"}]});
        let err = Jwks::parse(weak.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("2048"), "{err}");
        assert_eq!(Jwks::parse(b"{}").unwrap_err(), JwkError::NotAJwks);
    }
}

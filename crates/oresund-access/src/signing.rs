//! The node's own signing key (ES256, P-256): it signs the ControlledAccessGrants visas its data
//! access committee issues, and its public half is published at `/.well-known/jwks.json`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};

use crate::jwk::{PublicJwk, b64};

/// A private ES256 key with its key id.
pub struct NodeSigningKey {
    pub kid: String,
    key: SigningKey,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningKeyError {
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("the signing key file is not a private EC P-256 JWK")]
    Malformed,
}

impl NodeSigningKey {
    /// A fresh key; its id is derived from its public point, so it is stable and unique.
    pub fn generate() -> Result<Self, SigningKeyError> {
        loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| SigningKeyError::Random(e.to_string()))?;
            // A random 32-byte string is a valid scalar with overwhelming probability.
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                let kid = Self::kid_of(&key);
                return Ok(Self { kid, key });
            }
        }
    }

    fn kid_of(key: &SigningKey) -> String {
        use sha2::Digest;
        let point = key.verifying_key().to_encoded_point(false);
        let digest = sha2::Sha256::digest(point.as_bytes());
        URL_SAFE_NO_PAD.encode(&digest[..12])
    }

    /// The private JWK (keep it 0600, outside anything served).
    pub fn to_private_jwk(&self) -> Value {
        let mut jwk = self.public_jwk();
        jwk["d"] = json!(URL_SAFE_NO_PAD.encode(self.key.to_bytes()));
        jwk
    }

    pub fn from_private_jwk(jwk: &Value) -> Result<Self, SigningKeyError> {
        let d = jwk["d"].as_str().and_then(b64).ok_or(SigningKeyError::Malformed)?;
        let key = SigningKey::from_slice(&d).map_err(|_| SigningKeyError::Malformed)?;
        let kid = jwk["kid"].as_str().map(str::to_string).unwrap_or_else(|| Self::kid_of(&key));
        Ok(Self { kid, key })
    }

    /// The public JWK, for the node's JWKS.
    pub fn public_jwk(&self) -> Value {
        PublicJwk::ec_json(self.key.verifying_key(), &self.kid)
    }

    /// The public key as a verifier would load it.
    pub fn public(&self) -> PublicJwk {
        PublicJwk::Ec { kid: Some(self.kid.clone()), key: *self.key.verifying_key() }
    }

    /// Signs `claims` as a compact JWS with header `{alg: ES256, typ, kid, jku}`.
    pub fn sign(&self, claims: &Value, typ: &str, jku: &str) -> String {
        let header = json!({"alg": "ES256", "typ": typ, "kid": self.kid, "jku": jku});
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::UnverifiedJwt;

    #[test]
    fn signs_and_verifies_and_round_trips() {
        let key = NodeSigningKey::generate().unwrap();
        let token =
            key.sign(&json!({"iss": "https://node", "sub": "alice"}), "JWT", "https://node/.well-known/jwks.json");
        let jwt = UnverifiedJwt::parse(&token).unwrap();
        assert_eq!(jwt.header_str("kid"), Some(key.kid.as_str()));
        assert!(jwt.verify_with(&key.public()));
        let again = NodeSigningKey::from_private_jwk(&key.to_private_jwk()).unwrap();
        assert_eq!(again.kid, key.kid);
        assert!(jwt.verify_with(&again.public()));
        let other = NodeSigningKey::generate().unwrap();
        assert!(!jwt.verify_with(&other.public()));
        let jwks = crate::jwk::Jwks::parse(json!({"keys": [key.public_jwk()]}).to_string().as_bytes()).unwrap();
        assert!(jwt.verify(jwks.candidates(Some(&key.kid))).is_ok());
    }
}

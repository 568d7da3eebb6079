//! Short-lived data URLs: a ticket's URLs carry a token, signed by the node, naming the object,
//! the bytes, the form they are served in, the requester and an expiry — so a client can follow
//! them without the passport (htslib does not resend it), and they open nothing else.
//!
//! `base64url(JSON claims) "." base64url(HMAC-SHA256(key, claims))`; the key is derived from
//! the node's archive secret key, so every `serve` of one node accepts the others' tokens and a
//! key rotation retires them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use oresund_c4gh::SecretKey;

/// How the bytes of a data URL are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// Plaintext bytes of the stored file, decrypted on the way out.
    Plain,
    /// Bytes of the stored Crypt4GH body, as stored.
    Cipher,
    /// The whole file as delivered (its header renamed to pseudonyms), plain.
    Whole,
    /// The whole file as delivered, as one Crypt4GH stream for `recipient`.
    WholeCrypt4gh,
}

/// What a token allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Accession of the archived object.
    #[serde(rename = "o")]
    pub object: String,
    #[serde(rename = "f")]
    pub form: Form,
    /// Byte range, `start..end`.
    #[serde(rename = "s")]
    pub start: u64,
    #[serde(rename = "e")]
    pub end: u64,
    /// The requester (user id), for the audit log.
    #[serde(rename = "u")]
    pub user: String,
    /// Dataset the object belongs to (for the audit log).
    #[serde(rename = "d")]
    pub dataset: String,
    /// Expiry, seconds since the epoch.
    #[serde(rename = "x")]
    pub expires: i64,
    /// For [`Form::WholeCrypt4gh`]: the recipient's public key (base64 of its 32 bytes).
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
}

/// Why a token is refused (each is a 401/403 to the caller; the message says which).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the data URL's token is malformed")]
    Malformed,
    #[error("the data URL's token was not issued by this node (or the node's key has changed since)")]
    BadSignature,
    #[error("the data URL's token expired; ask for a new ticket")]
    Expired,
    #[error("the data URL's token is for another object")]
    OtherObject,
}

/// Signs and checks tokens.
#[derive(Clone)]
pub struct TokenSigner {
    /// The HMAC key, zero-padded to SHA-256's block size as HMAC pads it (RFC 2104 §2).
    key: [u8; 64],
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl TokenSigner {
    /// The signer of a node whose current archive key is `secret`.
    pub fn from_node_key(secret: &SecretKey) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"oresund delivery token key v1\0");
        hash.update(&secret.to_bytes()[..]);
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&hash.finalize());
        TokenSigner { key }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new(&self.key.into())
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The claims of `token` if this node signed it, it has not expired at `now`, and it is for
    /// `object`.
    pub fn verify(&self, token: &str, object: &str, now: i64) -> Result<Claims, TokenError> {
        let (body, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&signature).map_err(|_| TokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if claims.expires <= now {
            return Err(TokenError::Expired);
        }
        if claims.object != object {
            return Err(TokenError::OtherObject);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            object: "DK-NGC-F000001".into(),
            form: Form::Plain,
            start: 10,
            end: 20,
            user: "alice".into(),
            dataset: "DK-COHORT-1".into(),
            expires: 1_000,
            recipient: None,
        }
    }

    #[test]
    fn tokens_open_one_object_until_they_expire_and_cannot_be_edited() {
        let signer = TokenSigner::from_node_key(&SecretKey::generate().unwrap());
        let token = signer.sign(&claims());
        assert_eq!(signer.verify(&token, "DK-NGC-F000001", 999), Ok(claims()));
        assert_eq!(signer.verify(&token, "DK-NGC-F000001", 1_000), Err(TokenError::Expired));
        assert_eq!(signer.verify(&token, "DK-NGC-F000002", 999), Err(TokenError::OtherObject));
        // Another range, same signature: refused.
        let (_, signature) = token.split_once('.').unwrap();
        let wider = Claims { end: 1 << 40, ..claims() };
        let forged = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wider).unwrap()));
        assert_eq!(signer.verify(&forged, "DK-NGC-F000001", 999), Err(TokenError::BadSignature));
        // Another node's token: refused.
        let other = TokenSigner::from_node_key(&SecretKey::generate().unwrap());
        assert_eq!(other.verify(&token, "DK-NGC-F000001", 999), Err(TokenError::BadSignature));
        assert_eq!(signer.verify("garbage", "DK-NGC-F000001", 999), Err(TokenError::Malformed));
        assert_eq!(signer.verify("a.b", "DK-NGC-F000001", 999), Err(TokenError::Malformed));
    }
}

//! X25519 key pairs and symmetric data keys (spec §2.1).
//!
//! * [`SecretKey`] / [`PublicKey`]: the reader's and writer's asymmetric keys
//!   ($K_{sr}$, $K_{pr}$, $K_{sw}$, $K_{pw}$ in §2.1.1). Public keys are
//!   derived as `X25519(K_s, 9)` (§3.3.1).
//! * [`DataKey`]: the symmetric $K_{data}$ (§2.1.2) that encrypts the body.
//!
//! Secret material is wiped from memory when dropped ([`zeroize`]).
//! Key *files* (PEM, `c4gh-v1`) are handled by the functions re-exported
//! from the `pem` submodule: [`read_public_key_pem`], [`write_public_key_pem`],
//! [`read_secret_key_pem`], [`write_secret_key_pem`].

mod kdf;
mod pem;

use std::fmt;

use x25519_dalek::StaticSecret;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::Result;

pub use pem::{
    PASSPHRASE_ENV, passphrase_from_env, read_public_key_pem, read_secret_key_pem, write_public_key_pem,
    write_secret_key_pem,
};

/// Length in bytes of every key in this format (X25519 keys and data keys).
pub const KEY_LEN: usize = 32;

/// An X25519 public key ($K_p$, §2.1.1).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// Wraps 32 raw key bytes (as stored base64-encoded in a public key file).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        PublicKey(bytes)
    }

    /// The raw 32 key bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub(crate) fn to_dalek(self) -> x25519_dalek::PublicKey {
        x25519_dalek::PublicKey::from(self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// An X25519 secret key ($K_s$, §2.1.1), wiped from memory on drop.
///
/// ```
/// use oresund_c4gh::SecretKey;
/// let sk = SecretKey::generate()?;
/// let again = SecretKey::from_bytes(*sk.to_bytes());
/// assert_eq!(sk.public_key(), again.public_key());
/// # Ok::<(), oresund_c4gh::Error>(())
/// ```
#[derive(Clone)]
pub struct SecretKey {
    // StaticSecret zeroizes itself on drop; it keeps the unclamped bytes, as
    // libsodium and the Python tool store them, and clamps when used.
    secret: StaticSecret,
    public: PublicKey,
}

impl SecretKey {
    /// Generates a new random secret key from the operating system's CSPRNG
    /// (§5.2: secret keys MUST come from a CSPRNG).
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(bytes.as_mut())?;
        Ok(Self::from_bytes(*bytes))
    }

    /// Builds a secret key from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let mut bytes = bytes;
        let secret = StaticSecret::from(bytes);
        bytes.zeroize();
        let public = PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes());
        SecretKey { secret, public }
    }

    /// The raw 32 secret bytes, in a buffer that is wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The matching public key, `X25519(K_s, 9)` (§3.3.1).
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    pub(crate) fn dalek(&self) -> &StaticSecret {
        &self.secret
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey").field("secret", &"<redacted>").field("public", &self.public).finish()
    }
}

impl ZeroizeOnDrop for SecretKey {}

/// A secret key together with its public key.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The secret half.
    pub secret: SecretKey,
    /// The public half, derived from `secret`.
    pub public: PublicKey,
}

impl KeyPair {
    /// Generates a fresh random key pair.
    ///
    /// ```
    /// let kp = oresund_c4gh::KeyPair::generate()?;
    /// assert_eq!(kp.public, kp.secret.public_key());
    /// # Ok::<(), oresund_c4gh::Error>(())
    /// ```
    pub fn generate() -> Result<Self> {
        let secret = SecretKey::generate()?;
        let public = secret.public_key();
        Ok(KeyPair { secret, public })
    }
}

impl From<SecretKey> for KeyPair {
    fn from(secret: SecretKey) -> Self {
        let public = secret.public_key();
        KeyPair { secret, public }
    }
}

/// The symmetric data key $K_{data}$ (§2.1.2) for `chacha20_ietf_poly1305`
/// body encryption, wiped from memory on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    /// Generates a random data key (§2.1.2: one per file, from a CSPRNG).
    pub fn generate() -> Result<Self> {
        let mut key = DataKey([0u8; KEY_LEN]);
        getrandom::fill(&mut key.0)?;
        Ok(key)
    }

    /// Wraps 32 raw key bytes.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        DataKey(bytes)
    }

    /// The raw key bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::hex32;

    #[test]
    fn public_key_matches_rfc7748_vector() {
        // RFC 7748 §6.1, Alice's key pair.
        let sk = hex32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let pk = hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        assert_eq!(SecretKey::from_bytes(sk).public_key(), PublicKey::from_bytes(pk));
    }

    #[test]
    fn secret_key_keeps_unclamped_bytes() {
        // The Python tool stores the raw 32 random bytes; we must round-trip
        // them unchanged so key files written by either side are identical.
        let raw = [0xffu8; 32];
        assert_eq!(*SecretKey::from_bytes(raw).to_bytes(), raw);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let sk = SecretKey::from_bytes([7; 32]);
        let dk = DataKey::from_bytes([9; 32]);
        let text = format!("{sk:?} {dk:?}");
        assert!(!text.contains("0707"));
        assert!(text.contains("redacted"));
    }

    #[test]
    fn generated_keys_differ() {
        let a = KeyPair::generate().unwrap();
        let b = KeyPair::generate().unwrap();
        assert_ne!(a.public, b.public);
        assert_ne!(DataKey::generate().unwrap(), DataKey::generate().unwrap());
    }
}

//! Passphrase key derivation for `c4gh-v1` private key files.
//!
//! Mirrors the Python tool's `crypt4gh/keys/kdf.py`: the derived key is
//! always 32 bytes; `scrypt` uses the fixed cost N=2^14, r=8, p=1 (the stored
//! `rounds` is written as 0 and ignored), `bcrypt` is OpenSSH's
//! `bcrypt_pbkdf` with the stored rounds, `pbkdf2_hmac_sha256` uses the
//! stored iteration count.

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Salt length the Python tool uses for every KDF.
pub(super) const SALT_LEN: usize = 16;

/// Key derivation functions understood in `c4gh-v1` key files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kdf {
    Scrypt,
    Bcrypt,
    Pbkdf2HmacSha256,
}

impl Kdf {
    pub(super) fn from_name(name: &[u8]) -> Result<Self> {
        match name {
            b"scrypt" => Ok(Kdf::Scrypt),
            b"bcrypt" => Ok(Kdf::Bcrypt),
            b"pbkdf2_hmac_sha256" => Ok(Kdf::Pbkdf2HmacSha256),
            other => Err(Error::UnsupportedKdf(String::from_utf8_lossy(other).into_owned())),
        }
    }

    pub(super) fn name(self) -> &'static [u8] {
        match self {
            Kdf::Scrypt => b"scrypt",
            Kdf::Bcrypt => b"bcrypt",
            Kdf::Pbkdf2HmacSha256 => b"pbkdf2_hmac_sha256",
        }
    }

    /// Derives the 32-byte key-encryption key from `passphrase`.
    pub(super) fn derive(self, passphrase: &[u8], salt: &[u8], rounds: u32) -> Result<Zeroizing<[u8; 32]>> {
        let mut out = Zeroizing::new([0u8; 32]);
        match self {
            Kdf::Scrypt => {
                let params =
                    scrypt::Params::new(14, 8, 1).map_err(|_| Error::KeyFormat("invalid scrypt parameters"))?;
                scrypt::scrypt(passphrase, salt, &params, out.as_mut())
                    .map_err(|_| Error::KeyFormat("scrypt output length"))?;
            }
            Kdf::Bcrypt => {
                bcrypt_pbkdf::bcrypt_pbkdf(passphrase, salt, rounds, out.as_mut())
                    .map_err(|_| Error::KeyFormat("invalid bcrypt parameters (salt, rounds or passphrase)"))?;
            }
            Kdf::Pbkdf2HmacSha256 => {
                if rounds == 0 {
                    return Err(Error::KeyFormat("pbkdf2 with zero rounds"));
                }
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, salt, rounds, out.as_mut());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrypt_matches_python_hashlib() {
        // hashlib.scrypt(b"password", salt=b"0123456789abcdef", n=2**14, r=8, p=1, dklen=32)
        let k = Kdf::Scrypt.derive(b"password", b"0123456789abcdef", 0).unwrap();
        assert_eq!(hex(k.as_ref()), "02974558af0dba6c98dbd12bf6912dfbeece662102bdca8f4177886b245cec29");
    }

    #[test]
    fn pbkdf2_matches_python_hashlib() {
        // hashlib.pbkdf2_hmac("sha256", b"password", b"0123456789abcdef", 1000, dklen=32)
        let k = Kdf::Pbkdf2HmacSha256.derive(b"password", b"0123456789abcdef", 1000).unwrap();
        assert_eq!(hex(k.as_ref()), "8514638175a45bc45eb1f22f04ff7d27f4f8be480498c455ff4b494ce8d1e7d2");
    }

    #[test]
    fn bcrypt_matches_python_bcrypt_kdf() {
        // bcrypt.kdf(b"password", salt=b"0123456789abcdef", desired_key_bytes=32, rounds=16)
        let k = Kdf::Bcrypt.derive(b"password", b"0123456789abcdef", 16).unwrap();
        assert_eq!(hex(k.as_ref()), "17dd6b0c799561ea4c1b2eab910b922dc38a5a22eadbea5fc5f8c6ae3e1f14f2");
    }

    #[test]
    fn unknown_kdf_is_rejected() {
        assert!(matches!(
            Kdf::from_name(b"argon2"),
            Err(Error::UnsupportedKdf(name)) if name == "argon2"
        ));
        assert!(Kdf::Bcrypt.derive(b"pw", b"salt", 0).is_err());
        assert!(Kdf::Pbkdf2HmacSha256.derive(b"pw", b"salt", 0).is_err());
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}

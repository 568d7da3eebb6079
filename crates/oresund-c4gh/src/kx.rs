//! Shared-key derivation for header packets (spec §3.3.1, §3.3.2).
//!
//! ```text
//! K_dh     = X25519(K_sw, K_pr) = X25519(K_sr, K_pw)
//! K_shared = first 32 bytes of Blake2b-512(K_dh ‖ K_pr ‖ K_pw)
//! ```
//!
//! This is libsodium's `crypto_kx` with the writer as the "server" (its
//! transmit key) and the reader as the "client" (its receive key), which is
//! exactly how the Python tool calls it (`kx_server` when encrypting,
//! `kx_client` when decrypting). Note the hash always takes the *reader's*
//! public key first, whichever side computes it.

use blake2::{Blake2b512, Digest};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey};

/// A 32-byte ChaCha20-Poly1305 key for one header packet.
pub(crate) type SharedKey = Zeroizing<[u8; 32]>;

/// Writer side (§3.3.1): shared key for a packet addressed to `reader`.
pub(crate) fn writer_shared_key(writer: &SecretKey, reader: &PublicKey) -> Result<SharedKey> {
    derive(writer, reader, reader, &writer.public_key())
}

/// Reader side (§3.3.2): shared key for a packet written by `writer`.
pub(crate) fn reader_shared_key(reader: &SecretKey, writer: &PublicKey) -> Result<SharedKey> {
    derive(reader, writer, &reader.public_key(), writer)
}

fn derive(own: &SecretKey, peer: &PublicKey, reader_pk: &PublicKey, writer_pk: &PublicKey) -> Result<SharedKey> {
    let dh = own.dalek().diffie_hellman(&peer.to_dalek());
    // libsodium's crypto_scalarmult rejects an all-zero result (low-order
    // peer key); so do we, so both implementations accept the same packets.
    if !dh.was_contributory() {
        return Err(Error::WeakPublicKey);
    }
    let mut hasher = Blake2b512::new();
    hasher.update(dh.as_bytes());
    hasher.update(reader_pk.as_bytes());
    hasher.update(writer_pk.as_bytes());
    // Finalize into a buffer we wipe; only the first 32 bytes are the key.
    let mut digest = Zeroizing::new([0u8; 64]);
    hasher.finalize_into((&mut *digest).into());
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&digest[..32]);
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::hex32;

    /// Known answer from Python crypt4gh 1.8.6 (libsodium):
    /// `sodium.kx_server(pk_w, sk_w, pk_r)` and `sodium.kx_client(pk_r, sk_r, pk_w)`
    /// with sk_r = bytes(range(32)), sk_w = bytes(range(32, 64)).
    #[test]
    fn matches_libsodium_crypto_kx() {
        let sk_r = SecretKey::from_bytes(std::array::from_fn(|i| i as u8));
        let sk_w = SecretKey::from_bytes(std::array::from_fn(|i| (i + 32) as u8));
        assert_eq!(
            sk_r.public_key().as_bytes(),
            &hex32("8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f")
        );
        assert_eq!(
            sk_w.public_key().as_bytes(),
            &hex32("358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254")
        );
        let expected = hex32("09fcadb630f490a255a9461619a3a32586c5ec11be9a584832de0aad99099e02");
        let w = writer_shared_key(&sk_w, &sk_r.public_key()).unwrap();
        let r = reader_shared_key(&sk_r, &sk_w.public_key()).unwrap();
        assert_eq!(*w, expected);
        assert_eq!(*r, expected);
    }

    #[test]
    fn low_order_point_is_rejected() {
        let sk = SecretKey::from_bytes([5; 32]);
        let zero = PublicKey::from_bytes([0; 32]);
        assert!(matches!(writer_shared_key(&sk, &zero), Err(Error::WeakPublicKey)));
        assert!(matches!(reader_shared_key(&sk, &zero), Err(Error::WeakPublicKey)));
    }
}

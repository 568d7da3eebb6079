//! Where the passphrase of the node's secret key comes from when no one types it.

use zeroize::Zeroizing;

/// Environment variable holding the passphrase of the node's secret key.
pub const PASSPHRASE_ENV: &str = "ORESUND_KEY_PASSPHRASE";

/// The passphrase from `ORESUND_KEY_PASSPHRASE`, if set and not empty (wiped on drop).
pub fn passphrase_from_env() -> Option<Zeroizing<Vec<u8>>> {
    let value = std::env::var_os(PASSPHRASE_ENV)?;
    let bytes = Zeroizing::new(value.into_encoded_bytes());
    (!bytes.is_empty()).then_some(bytes)
}

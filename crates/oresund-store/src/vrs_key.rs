//! The key both stores index VRS ids by (`vrs_keys`): a variant looked up by its VRS id is found
//! through a 32-bit key of the id to the blocks and slots holding it. A key shared by chance
//! costs one more entry read; the id in the entry decides.

/// FNV-1a of a VRS id: the key the embedded schema step 4 stored whole in its `variants` table.
pub(crate) fn vrs_hash(vrs_id: &str) -> u64 {
    vrs_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The key kept of an entry's VRS id: the hash's high 32 bits as a signed number, so that SQLite
/// stores 4 bytes (its step 5 takes step 4's keys `>> 32`, the same value) and PostgreSQL an
/// `integer`.
pub(crate) fn vrs_key(vrs_id: &str) -> i32 {
    ((vrs_hash(vrs_id) as i64) >> 32) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_hashs_high_half() {
        let id = "ga4gh:VA.dGkLFceEhx-tVVYEA7TvGFrzzwglWu0g";
        assert_eq!(i64::from(vrs_key(id)), (vrs_hash(id) as i64) >> 32);
        assert_ne!(vrs_key(id), vrs_key("ga4gh:VA.dGkLFceEhx-tVVYEA7TvGFrzzwglWu0h"));
    }
}

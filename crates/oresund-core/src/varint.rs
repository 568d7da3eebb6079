//! Unsigned LEB128 integers: seven bits a byte, low bits first, the high bit set on every byte but
//! the last. Small numbers (gaps between carriers, field lengths) take one byte instead of four.

/// Appends `value`.
pub fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Bytes [`put`] writes for `value`.
pub fn len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Reads one integer from the front of `bytes`, advancing it; `None` when truncated or longer than
/// a u64 (damaged bytes are an error for the caller, never a panic).
#[inline]
pub fn get(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        if i == 9 && bits > 1 {
            return None;
        }
        value |= bits << (7 * i);
        if byte < 0x80 {
            *bytes = &bytes[i + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_sizes() {
        for value in [0, 1, 127, 128, 300, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put(&mut out, value);
            assert_eq!(out.len(), len(value), "{value}");
            let mut bytes = &out[..];
            assert_eq!(get(&mut bytes), Some(value));
            assert!(bytes.is_empty());
        }
        assert_eq!(len(127), 1);
        assert_eq!(len(128), 2);
    }

    #[test]
    fn damaged_bytes_are_none() {
        assert_eq!(get(&mut &[][..]), None);
        assert_eq!(get(&mut &[0x80][..]), None);
        assert_eq!(get(&mut &[0xff; 11][..]), None);
        // Ten bytes whose last carries more than the one bit a u64 has left.
        assert_eq!(get(&mut &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02][..]), None);
    }
}

//! Whole-file operations: header followed by body (spec §2.2 "File
//! Structure"), mirroring the Python tool's `encrypt`, `decrypt`,
//! `reencrypt` and `rearrange` commands.

use std::io::{self, Read, Write};

use crate::body::{self, BodyStats, CIPHER_SEGMENT_SIZE};
use crate::edit_list::ByteRange;
use crate::error::{Error, Result};
use crate::header::{DecryptedHeader, Header, read_header_bytes, rearrange_header, reencrypt_header};
use crate::keys::{DataKey, PublicKey, SecretKey};
use crate::pipeline::read_full;

/// Encrypts `plain` into a Crypt4GH file for `recipients`.
///
/// A fresh data key is generated; the header is written by `sender` (pass a
/// freshly generated key for an anonymous writer, §3.3.1). With `range`,
/// only those plaintext bytes are encrypted (like the Python tool's
/// `encrypt --range`, which also writes no edit list). `threads` as for
/// [`body::encrypt_body`]. Returns the body statistics; the header adds
/// `16 + 108 × recipients` bytes.
///
/// ```
/// use oresund_c4gh::{KeyPair, ByteRange, encrypt, decrypt};
/// let (alice, writer) = (KeyPair::generate()?, KeyPair::generate()?);
/// let plain = b"ACGT".repeat(50_000);
/// let mut file = Vec::new();
/// encrypt(&plain[..], &mut file, &[alice.public], &writer.secret, Some(ByteRange::new(2, 10)), 1)?;
/// let mut out = Vec::new();
/// decrypt(&file[..], &mut out, &alice.secret, 1)?;
/// assert_eq!(out, b"GTACGTAC");
/// # Ok::<(), oresund_c4gh::Error>(())
/// ```
pub fn encrypt(
    plain: impl Read,
    mut out: impl Write,
    recipients: &[PublicKey],
    sender: &SecretKey,
    range: Option<ByteRange>,
    threads: usize,
) -> Result<BodyStats> {
    let key = DataKey::generate()?;
    let header = Header::encrypt(&DecryptedHeader::new(key.clone()), sender, recipients)?;
    let mut plain = plain;
    let limit = match range {
        None => u64::MAX,
        Some(r) => {
            let end = r.end.unwrap_or(u64::MAX);
            if r.start >= end {
                return Err(Error::InvalidRange { start: r.start, end });
            }
            let skipped = io::copy(&mut (&mut plain).take(r.start), &mut io::sink())?;
            if skipped < r.start {
                // Range starts past the end: the body is empty.
                return write_empty(out, &header);
            }
            end - r.start
        }
    };
    out.write_all(&header)?;
    body::encrypt_body(plain.take(limit), out, &key, threads)
}

fn write_empty(mut out: impl Write, header: &[u8]) -> Result<BodyStats> {
    out.write_all(header)?;
    out.flush()?;
    Ok(BodyStats::default())
}

/// Decrypts a whole Crypt4GH file for `reader`, honouring its edit list.
/// Returns the number of plaintext bytes written.
pub fn decrypt(mut input: impl Read, out: impl Write, reader: &SecretKey, threads: usize) -> Result<u64> {
    let content = Header::read_from(&mut input)?.decrypt_for(reader)?;
    body::decrypt_body(input, out, &content, threads)
}

/// Re-addresses a file to `recipients`: new header, body copied unchanged
/// (see [`reencrypt_header`] for `trim`). Returns the bytes written.
pub fn reencrypt(
    mut input: impl Read,
    mut out: impl Write,
    reader: &SecretKey,
    recipients: &[PublicKey],
    sender: &SecretKey,
    trim: bool,
) -> Result<u64> {
    let header = read_header_bytes(&mut input)?;
    let header = reencrypt_header(&header, reader, recipients, sender, trim)?;
    out.write_all(&header)?;
    let body = io::copy(&mut input, &mut out)?;
    out.flush()?;
    Ok(header.len() as u64 + body)
}

/// Cuts a file down to `range` without re-encrypting the body (like the
/// Python tool's `rearrange`): the new header, addressed to `reader` itself,
/// gets an edit list, and only the segments covering the range are copied.
/// Works on files that already have an edit list too. Returns the bytes
/// written.
pub fn rearrange(mut input: impl Read, mut out: impl Write, reader: &SecretKey, range: ByteRange) -> Result<u64> {
    let header = read_header_bytes(&mut input)?;
    let (header, plan) = rearrange_header(&header, reader, range, reader, &[reader.public_key()])?;
    out.write_all(&header)?;
    let mut written = header.len() as u64;
    let mut segment = vec![0u8; CIPHER_SEGMENT_SIZE];
    let end = plan.segments_end().unwrap_or(u64::MAX);
    let mut index = 0u64;
    while index < end {
        let n = read_full(&mut input, &mut segment)?;
        if n == 0 {
            break;
        }
        if plan.contains_segment(index) {
            out.write_all(&segment[..n])?;
            written += n as u64;
        }
        index += 1;
    }
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::SEGMENT_SIZE;
    use crate::keys::KeyPair;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8 ^ (i >> 16) as u8).collect()
    }

    fn dec(file: &[u8], sk: &SecretKey) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        decrypt(file, &mut out, sk, 2)?;
        Ok(out)
    }

    #[test]
    fn encrypt_ranges() {
        let (a, w) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
        let plain = data(3 * SEGMENT_SIZE + 11);
        for (range, want) in [
            (None, &plain[..]),
            (Some(ByteRange::new(5, 70_000)), &plain[5..70_000]),
            (Some(ByteRange::from_start(SEGMENT_SIZE as u64)), &plain[SEGMENT_SIZE..]),
            (Some(ByteRange::new(0, 10_000_000)), &plain[..]),
            (Some(ByteRange::from_start(10_000_000)), &[][..]),
        ] {
            let mut file = Vec::new();
            encrypt(&plain[..], &mut file, &[a.public], &w.secret, range, 2).unwrap();
            assert_eq!(dec(&file, &a.secret).unwrap(), want, "{range:?}");
        }
        let mut file = Vec::new();
        assert!(matches!(
            encrypt(&plain[..], &mut file, &[a.public], &w.secret, Some(ByteRange::new(4, 4)), 1),
            Err(Error::InvalidRange { .. })
        ));
    }

    #[test]
    fn reencrypt_then_rearrange_twice() {
        let (a, b, w) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
        let plain = data(7 * SEGMENT_SIZE + 99);
        let mut file = Vec::new();
        encrypt(&plain[..], &mut file, &[a.public], &w.secret, None, 1).unwrap();

        let mut for_b = Vec::new();
        reencrypt(&file[..], &mut for_b, &a.secret, &[b.public], &a.secret, true).unwrap();
        assert_eq!(for_b.len(), file.len());
        assert_eq!(for_b[124..], file[124..], "body unchanged");
        assert_eq!(dec(&for_b, &b.secret).unwrap(), plain);
        assert!(dec(&for_b, &a.secret).is_err());

        let mut cut = Vec::new();
        rearrange(&for_b[..], &mut cut, &b.secret, ByteRange::new(100_000, 300_000)).unwrap();
        // Segments 1..=4 (65536..327680) are kept.
        assert_eq!(cut.len(), 16 + 108 + 92 + 4 * CIPHER_SEGMENT_SIZE);
        assert_eq!(dec(&cut, &b.secret).unwrap(), &plain[100_000..300_000]);

        let mut cut2 = Vec::new();
        rearrange(&cut[..], &mut cut2, &b.secret, ByteRange::new(70_000, 70_010)).unwrap();
        assert_eq!(dec(&cut2, &b.secret).unwrap(), &plain[170_000..170_010]);
        assert_eq!(cut2.len(), 16 + 108 + 92 + CIPHER_SEGMENT_SIZE);
    }
}

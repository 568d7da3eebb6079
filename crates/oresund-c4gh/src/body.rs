//! The encrypted body: 64 KiB segments sealed with ChaCha20-Poly1305
//! (spec §3.4 "Encrypted Data", §4.1 decryption, §4.3 edit lists).
//!
//! Each plaintext segment of [`SEGMENT_SIZE`] bytes (the last one may be
//! shorter) becomes `nonce(12) ‖ ciphertext ‖ MAC(16)` under the data key,
//! with a fresh random nonce per segment (§5.3) and no associated data
//! (method `chacha20_ietf_poly1305`, §3.4.2). A body whose plaintext length
//! is a multiple of 64 KiB ends with a full segment (no empty trailer), like
//! the Python tool.
//!
//! Both directions stream with constant memory, encrypting in place in
//! reused buffers, and can spread the work over several threads while
//! keeping output order (see the `pipeline` module). Decryption tries every data
//! key of the header on each segment (most recently successful first, §4.1),
//! and with an edit list neither decrypts segments it would discard entirely
//! nor reads past the last kept byte.

use std::io::{Read, Write};

use crate::edit_list::{EditList, Spans};
use crate::error::{Error, Result};
use crate::header::DecryptedHeader;
use crate::keys::DataKey;
use crate::pipeline::{self, Batch, Input, Process, SEGMENTS_PER_BATCH, read_full};
use crate::segment_cipher::SegmentCipher;

pub use crate::segment::{CIPHER_SEGMENT_SIZE, MAC_LEN, NONCE_LEN, SEGMENT_SIZE};

const SEG: u64 = SEGMENT_SIZE as u64;
const OVERHEAD: usize = NONCE_LEN + MAC_LEN;

/// Byte counts of an encryption run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BodyStats {
    /// Plaintext bytes consumed.
    pub plaintext_bytes: u64,
    /// Encrypted bytes written.
    pub ciphertext_bytes: u64,
    /// Segments written.
    pub segments: u64,
}

/// Length of the encrypted body for a plaintext of `plaintext_len` bytes.
pub const fn ciphertext_len(plaintext_len: u64) -> u64 {
    let full = plaintext_len / SEG;
    let rest = plaintext_len % SEG;
    full * CIPHER_SEGMENT_SIZE as u64 + if rest > 0 { rest + OVERHEAD as u64 } else { 0 }
}

/// Plaintext length of an encrypted body of `body_len` bytes (no edit list
/// applied). Fails if the length cannot come from valid segments.
pub fn plaintext_len(body_len: u64) -> Result<u64> {
    let cseg = CIPHER_SEGMENT_SIZE as u64;
    let (full, rest) = (body_len / cseg, body_len % cseg);
    if rest != 0 && rest <= OVERHEAD as u64 {
        return Err(Error::TruncatedSegment { segment: full, len: rest as usize });
    }
    Ok(full * SEG + rest.saturating_sub(OVERHEAD as u64))
}

/// Resolves the `threads` argument: 0 means "all available cores".
fn worker_count(threads: usize) -> usize {
    if threads == 0 { std::thread::available_parallelism().map_or(1, usize::from) } else { threads }
}

struct Sealer {
    cipher: SegmentCipher,
}

impl Process for Sealer {
    fn process(&self, batch: &mut Batch) {
        let mut nonces = [0u8; NONCE_LEN * SEGMENTS_PER_BATCH];
        // One getrandom call per batch rather than per segment.
        if let Err(e) = getrandom::fill(&mut nonces[..NONCE_LEN * batch.count]) {
            batch.error = Some(e.into());
            return;
        }
        for k in 0..batch.count {
            let len = batch.lens[k];
            let mut nonce = [0u8; NONCE_LEN];
            nonce.copy_from_slice(&nonces[k * NONCE_LEN..(k + 1) * NONCE_LEN]);
            let slot = batch.slot_mut(k);
            let (nonce_out, rest) = slot.split_at_mut(NONCE_LEN);
            nonce_out.copy_from_slice(&nonce);
            let (data, mac) = rest.split_at_mut(len);
            match self.cipher.seal(nonce, data) {
                Ok(tag) => mac[..MAC_LEN].copy_from_slice(&tag),
                Err(e) => {
                    batch.error = Some(e);
                    return;
                }
            }
        }
    }
}

/// Encrypts a plaintext stream into a Crypt4GH body (§3.4) under `key`.
///
/// `threads`: 1 = on the calling thread; n > 1 = the calling thread (which
/// also does the I/O) and n - 1 worker threads; 0 = one thread per available
/// core.
///
/// ```
/// use oresund_c4gh::{DataKey, encrypt_body, body::ciphertext_len};
/// let key = DataKey::generate()?;
/// let plain = vec![42u8; 100_000];
/// let mut body = Vec::new();
/// let stats = encrypt_body(&plain[..], &mut body, &key, 2)?;
/// assert_eq!(stats.ciphertext_bytes, body.len() as u64);
/// assert_eq!(body.len() as u64, ciphertext_len(100_000));
/// # Ok::<(), oresund_c4gh::Error>(())
/// ```
pub fn encrypt_body(mut plain: impl Read, mut out: impl Write, key: &DataKey, threads: usize) -> Result<BodyStats> {
    let sealer = Sealer { cipher: SegmentCipher::new(key)? };
    let mut stats = BodyStats::default();
    pipeline::run(
        &sealer,
        worker_count(threads),
        |batch| {
            batch.count = 0;
            for k in 0..SEGMENTS_PER_BATCH {
                let data = &mut batch.slot_mut(k)[NONCE_LEN..NONCE_LEN + SEGMENT_SIZE];
                let n = read_full(&mut plain, data)?;
                if n == 0 {
                    return Ok(Input::Done);
                }
                batch.lens[k] = n;
                batch.count += 1;
                if n < SEGMENT_SIZE {
                    return Ok(Input::Done);
                }
            }
            Ok(Input::More)
        },
        |batch| {
            // Every slot but the last is full, so the batch is contiguous.
            let last = batch.count - 1;
            let total = last * CIPHER_SEGMENT_SIZE + batch.lens[last] + OVERHEAD;
            out.write_all(&batch.buf[..total])?;
            let plain_bytes: usize = batch.lens[..batch.count].iter().sum();
            stats.plaintext_bytes += plain_bytes as u64;
            stats.ciphertext_bytes += total as u64;
            stats.segments += batch.count as u64;
            Ok(())
        },
    )?;
    out.flush()?;
    Ok(stats)
}

struct Opener {
    ciphers: Vec<SegmentCipher>,
}

impl Opener {
    fn new(keys: &[DataKey]) -> Result<Self> {
        Ok(Opener { ciphers: keys.iter().map(SegmentCipher::new).collect::<Result<_>>()? })
    }

    /// Authenticates and decrypts one encrypted segment in place, trying
    /// `preferred` first; returns the index of the key that worked.
    fn open(&self, segment: &mut [u8], index: u64, preferred: usize) -> Result<usize> {
        if segment.len() < OVERHEAD {
            return Err(Error::TruncatedSegment { segment: index, len: segment.len() });
        }
        let (nonce, sealed) = segment.split_at_mut(NONCE_LEN);
        let mut nonce_bytes = [0u8; NONCE_LEN];
        nonce_bytes.copy_from_slice(nonce);
        // A failed try leaves the buffer unspecified: with more keys to try, each starts from a
        // copy of the ciphertext (files of one data key, nearly all, copy nothing).
        let original = (self.ciphers.len() > 1).then(|| sealed.to_vec());
        let order = std::iter::once(preferred).chain((0..self.ciphers.len()).filter(|&i| i != preferred));
        for (attempt, i) in order.enumerate() {
            let Some(cipher) = self.ciphers.get(i) else {
                continue;
            };
            if attempt > 0
                && let Some(original) = &original
            {
                sealed.copy_from_slice(original);
            }
            if cipher.open(nonce_bytes, sealed).is_ok() {
                return Ok(i);
            }
        }
        Err(Error::SegmentAuthentication { segment: index })
    }
}

impl Process for Opener {
    fn process(&self, batch: &mut Batch) {
        let mut preferred = 0;
        for k in 0..batch.count {
            if !batch.wanted[k] {
                continue;
            }
            let len = batch.lens[k];
            let index = batch.first_segment + k as u64;
            let slot = &mut batch.buf[k * CIPHER_SEGMENT_SIZE..k * CIPHER_SEGMENT_SIZE + len];
            match self.open(slot, index, preferred) {
                Ok(i) => preferred = i,
                Err(e) => {
                    batch.error = Some(e);
                    return;
                }
            }
        }
    }
}

/// Decrypts a Crypt4GH body with the data keys and edit list of `header`,
/// writing the (edited) plaintext to `out`. Returns the bytes written.
///
/// A segment that no key authenticates fails with
/// [`Error::SegmentAuthentication`] naming its index; a body cut inside a
/// segment's nonce/MAC envelope fails with [`Error::TruncatedSegment`].
/// Note that Crypt4GH v1 cannot detect a body truncated exactly at a segment
/// boundary (§5.4: segment removal is not protected against).
///
/// `threads` as for [`encrypt_body`].
pub fn decrypt_body(cipher: impl Read, out: impl Write, header: &DecryptedHeader, threads: usize) -> Result<u64> {
    decrypt_body_with(cipher, out, header.data_keys(), header.edit_list(), threads)
}

/// [`decrypt_body`] with explicit data keys and edit list.
pub fn decrypt_body_with(
    mut cipher: impl Read,
    mut out: impl Write,
    keys: &[DataKey],
    edit_list: Option<&EditList>,
    threads: usize,
) -> Result<u64> {
    if keys.is_empty() {
        return Err(Error::NoDataKey);
    }
    let spans = match edit_list {
        Some(e) => Some(e.spans()?),
        None => None,
    };
    let kept_end = spans.as_ref().map_or(u64::MAX, Spans::end);
    let opener = Opener::new(keys)?;
    let mut written = 0u64;
    pipeline::run(
        &opener,
        worker_count(threads),
        |batch| {
            batch.count = 0;
            let n = read_full(&mut cipher, &mut batch.buf)?;
            let mut offset = batch.first_segment.saturating_mul(SEG);
            let mut pos = 0;
            while pos < n {
                let k = batch.count;
                let len = (n - pos).min(CIPHER_SEGMENT_SIZE);
                let plain = len.saturating_sub(OVERHEAD) as u64;
                batch.lens[k] = len;
                // Truncated envelopes before the end of the kept data are
                // "wanted" so that the worker reports them.
                batch.wanted[k] = offset < kept_end
                    && (len < OVERHEAD
                        || spans.as_ref().is_none_or(|s| s.intersects(offset, offset.saturating_add(plain))));
                batch.count += 1;
                pos += len;
                offset = offset.saturating_add(SEG);
            }
            // Stop at end of input, or once past the last byte the edit list keeps.
            let more = n == batch.buf.len() && offset < kept_end;
            Ok(if more { Input::More } else { Input::Done })
        },
        |batch| {
            for k in 0..batch.count {
                if !batch.wanted[k] {
                    continue;
                }
                let start = k * CIPHER_SEGMENT_SIZE + NONCE_LEN;
                let plain = &batch.buf[start..start + batch.lens[k] - OVERHEAD];
                match &spans {
                    None => {
                        out.write_all(plain)?;
                        written += plain.len() as u64;
                    }
                    Some(spans) => {
                        let base = (batch.first_segment + k as u64).saturating_mul(SEG);
                        let end = base.saturating_add(plain.len() as u64);
                        for (lo, hi) in spans.overlaps(base, end) {
                            // lo..hi lies within base..end, so these fit in usize.
                            out.write_all(&plain[(lo - base) as usize..(hi - base) as usize])?;
                            written += hi - lo;
                        }
                    }
                }
            }
            Ok(())
        },
    )?;
    out.flush()?;
    Ok(written)
}

/// Authenticates and decrypts one encrypted segment in place (for random
/// access to a stored body), returning its plaintext.
///
/// `segment` is the whole encrypted segment (`nonce ‖ ciphertext ‖ MAC`),
/// `index` is only used in error messages.
///
/// ```
/// use oresund_c4gh::{DataKey, encrypt_body, body::{decrypt_segment, CIPHER_SEGMENT_SIZE}};
/// let key = DataKey::generate()?;
/// let plain: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
/// let mut body = Vec::new();
/// encrypt_body(&plain[..], &mut body, &key, 1)?;
/// let second = &mut body[CIPHER_SEGMENT_SIZE..2 * CIPHER_SEGMENT_SIZE];
/// assert_eq!(decrypt_segment(second, std::slice::from_ref(&key), 1)?, &plain[65_536..131_072]);
/// # Ok::<(), oresund_c4gh::Error>(())
/// ```
pub fn decrypt_segment<'a>(segment: &'a mut [u8], keys: &[DataKey], index: u64) -> Result<&'a [u8]> {
    Opener::new(keys)?.open(segment, index, 0)?;
    let end = segment.len() - MAC_LEN;
    Ok(&segment[NONCE_LEN..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
    }

    fn encrypt(plain: &[u8], key: &DataKey, threads: usize) -> Vec<u8> {
        let mut body = Vec::new();
        let stats = encrypt_body(plain, &mut body, key, threads).unwrap();
        assert_eq!(stats.plaintext_bytes, plain.len() as u64);
        assert_eq!(stats.ciphertext_bytes, body.len() as u64);
        body
    }

    fn decrypt(body: &[u8], keys: &[DataKey], edits: Option<&EditList>, threads: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let n = decrypt_body_with(body, &mut out, keys, edits, threads)?;
        assert_eq!(n, out.len() as u64);
        Ok(out)
    }

    #[test]
    fn round_trip_sizes_and_threads() {
        let key = DataKey::generate().unwrap();
        let sizes = [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 16 * SEGMENT_SIZE, 40 * SEGMENT_SIZE + 7];
        for size in sizes {
            let plain = data(size);
            for threads in [1, 2, 3] {
                let body = encrypt(&plain, &key, threads);
                assert_eq!(body.len() as u64, ciphertext_len(size as u64), "size {size}");
                assert_eq!(plaintext_len(body.len() as u64).unwrap(), size as u64);
                for dthreads in [1, 2, 4] {
                    assert_eq!(decrypt(&body, std::slice::from_ref(&key), None, dthreads).unwrap(), plain);
                }
            }
        }
    }

    #[test]
    fn several_data_keys_are_tried_per_segment() {
        let (k1, k2, k3) = (DataKey::generate().unwrap(), DataKey::generate().unwrap(), DataKey::generate().unwrap());
        let (a, b) = (data(3 * SEGMENT_SIZE), data(SEGMENT_SIZE + 5));
        let mut body = encrypt(&a, &k1, 1);
        body.extend(encrypt(&b, &k2, 1));
        let want = [a, b].concat();
        for threads in [1, 2] {
            assert_eq!(decrypt(&body, &[k3.clone(), k2.clone(), k1.clone()], None, threads).unwrap(), want);
        }
        let err = decrypt(&body, &[k1], None, 1).unwrap_err();
        assert!(matches!(err, Error::SegmentAuthentication { segment: 3 }), "{err}");
    }

    #[test]
    fn tampered_segment_is_named() {
        let key = DataKey::generate().unwrap();
        let plain = data(20 * SEGMENT_SIZE);
        let mut body = encrypt(&plain, &key, 2);
        body[17 * CIPHER_SEGMENT_SIZE + 100] ^= 1;
        for threads in [1, 2, 3] {
            let err = decrypt(&body, std::slice::from_ref(&key), None, threads).unwrap_err();
            assert!(matches!(err, Error::SegmentAuthentication { segment: 17 }), "{err}");
        }
    }

    #[test]
    fn truncation_inside_envelope_is_reported() {
        let key = DataKey::generate().unwrap();
        let body = encrypt(&data(2 * SEGMENT_SIZE + 100), &key, 1);
        let cut = &body[..2 * CIPHER_SEGMENT_SIZE + 20];
        let err = decrypt(cut, std::slice::from_ref(&key), None, 1).unwrap_err();
        assert!(matches!(err, Error::TruncatedSegment { segment: 2, len: 20 }), "{err}");
        assert!(plaintext_len(cut.len() as u64).is_err());
        let cut = &body[..body.len() - 1];
        let err = decrypt(cut, std::slice::from_ref(&key), None, 2).unwrap_err();
        assert!(matches!(err, Error::SegmentAuthentication { segment: 2 }), "{err}");
    }

    #[test]
    fn edit_lists_skip_and_stop_early() {
        let key = DataKey::generate().unwrap();
        let plain = data(10 * SEGMENT_SIZE + 300);
        let mut body = encrypt(&plain, &key, 1);
        let lists = [
            vec![0, 10],
            vec![70_000, 5, 200_000, 1],
            vec![3 * SEGMENT_SIZE as u64],
            vec![10, 20, 30],
            vec![0, 655_000, 5_000_000, 1],
        ];
        for list in &lists {
            let e = EditList::new(list.clone());
            for threads in [1, 2] {
                assert_eq!(
                    decrypt(&body, std::slice::from_ref(&key), Some(&e), threads).unwrap(),
                    e.apply(&plain).unwrap()
                );
            }
        }
        // Segments the edit list skips entirely are not even decrypted, and
        // reading stops after the last kept byte: corrupting them is harmless.
        body[5 * CIPHER_SEGMENT_SIZE + 50] ^= 0xff;
        body.truncate(8 * CIPHER_SEGMENT_SIZE + 3);
        let e = EditList::new(vec![10, 100, 4 * SEGMENT_SIZE as u64, 10]);
        assert_eq!(decrypt(&body, std::slice::from_ref(&key), Some(&e), 2).unwrap(), e.apply(&plain).unwrap());
    }

    #[test]
    fn no_keys_is_an_error() {
        assert!(matches!(decrypt(&[], &[], None, 1), Err(Error::NoDataKey)));
    }
}

//! A delivery as one Crypt4GH stream for the researcher's key, without decrypting or
//! re-encrypting the stored body.
//!
//! The stream is a header for the researcher (spec §3.2, §3.3), holding the stored data key, a
//! fresh data key and an edit list (§3.2.4, §4.3), followed by body segments (§3.4):
//! * a stored part's segments are the stored cipher segments, byte for byte; the edit list skips
//!   what of their plaintext lies outside the part;
//! * an inline part (a re-compressed boundary block, the header, the EOF block) is sealed in
//!   fresh 64 KiB segments under the fresh key (§2.1.2: parts of a body may use different data
//!   keys; a reader tries each), zero-padded to whole segments — every segment but the last
//!   must be full — and the edit list skips the padding.
//! * the stored body's last segment is usually short, and a short segment may only end a
//!   stream: when more follows it, its kept bytes are re-sealed like an inline part.
//!
//! Decrypting the stream gives exactly the concatenated parts.

use std::ops::Range;

use oresund_c4gh::{DataKey, DecryptedHeader, EditList, PublicKey, SecretKey, encrypt_body};

use crate::delivery::error::DeliveryError;
use crate::delivery::plan::Part;
use crate::delivery::source::{CSEG, PlainSource, SEG};

/// A piece of a delivered stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes made for this delivery (the Crypt4GH header, freshly sealed segments, or plain
    /// BGZF bytes).
    Bytes(Vec<u8>),
    /// Plaintext bytes of the stored file, served decrypted.
    Plain(Range<u64>),
    /// Bytes of the stored Crypt4GH body, served as stored.
    Cipher(Range<u64>),
}

/// The stored file: its data key(s), and the sizes of its plaintext and its body.
pub struct StoredBody<'a> {
    pub keys: &'a [DataKey],
    pub plaintext_size: u64,
    pub body_size: u64,
}

/// Pieces of a plain delivery: inline parts as bytes, stored parts decrypted.
pub fn plain_pieces(parts: Vec<Part>) -> Vec<Piece> {
    parts
        .into_iter()
        .map(|part| match part {
            Part::Inline(bytes) => Piece::Bytes(bytes),
            Part::Stored(range) => Piece::Plain(range),
        })
        .collect()
}

/// `parts` with a stored part that ends in the body's short last segment, when more follows,
/// split there: the bytes in that segment become inline (read through `source`).
fn no_short_segment_inside(
    parts: &[Part],
    stored: &StoredBody<'_>,
    source: &mut (impl PlainSource + ?Sized),
) -> Result<Vec<Part>, DeliveryError> {
    let last_start = (stored.plaintext_size.saturating_sub(1) / SEG) * SEG;
    let short = !stored.plaintext_size.is_multiple_of(SEG);
    let parts: Vec<&Part> = parts.iter().filter(|p| !p.is_empty()).collect();
    let mut out = Vec::with_capacity(parts.len() + 1);
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Stored(range) if short && range.end > last_start && i + 1 < parts.len() => {
                let split = range.start.max(last_start);
                if range.start < split {
                    out.push(Part::Stored(range.start..split));
                }
                out.push(Part::Inline(source.read_range(split, range.end)?));
            }
            other => out.push((*other).clone()),
        }
    }
    Ok(out)
}

/// Pieces of a Crypt4GH stream for `recipient` that decrypts to the concatenated `parts` (the
/// stored file's plaintext read through `source` where a stored segment must be re-sealed).
pub fn encrypted_pieces(
    parts: &[Part],
    stored: &StoredBody<'_>,
    recipient: &PublicKey,
    source: &mut (impl PlainSource + ?Sized),
) -> Result<Vec<Piece>, DeliveryError> {
    let parts = no_short_segment_inside(parts, stored, source)?;
    let fresh = DataKey::generate()?;
    let mut pieces = Vec::with_capacity(parts.len() + 1);
    let mut lengths: Vec<u64> = Vec::with_capacity(2 * parts.len());
    // Plaintext bytes after the last kept one, to skip before the next keep.
    let mut skip = 0u64;
    for part in &parts {
        match part {
            Part::Inline(bytes) => {
                let mut sealed = Vec::with_capacity(bytes.len().div_ceil(SEG as usize) * CSEG as usize);
                for chunk in bytes.chunks(SEG as usize) {
                    let mut segment = chunk.to_vec();
                    segment.resize(SEG as usize, 0);
                    encrypt_body(&segment[..], &mut sealed, &fresh, 1)?;
                }
                lengths.extend([skip, bytes.len() as u64]);
                skip = SEG - (bytes.len() as u64 - 1) % SEG - 1;
                pieces.push(Piece::Bytes(sealed));
            }
            Part::Stored(range) => {
                let (first, end) = (range.start / SEG, (range.end - 1) / SEG + 1);
                let segments_plain_end = (end * SEG).min(stored.plaintext_size);
                if range.end > segments_plain_end {
                    return Err(DeliveryError::OutOfFile(range.end));
                }
                lengths.extend([skip + (range.start - first * SEG), range.end - range.start]);
                skip = segments_plain_end - range.end;
                pieces.push(Piece::Cipher(first * CSEG..(end * CSEG).min(stored.body_size)));
            }
        }
    }
    let mut keys = stored.keys.to_vec();
    keys.push(fresh);
    let content = DecryptedHeader::with_data_keys(keys, Some(EditList::new(lengths)))?;
    // An ephemeral writer key (§3.3.1), as for the archive itself.
    let header = content.encrypt(&SecretKey::generate()?, &[*recipient])?;
    pieces.insert(0, Piece::Bytes(header));
    Ok(join_bytes(pieces))
}

/// Neighbouring byte pieces as one.
pub fn join_bytes(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match (out.last_mut(), piece) {
            (Some(Piece::Bytes(bytes)), Piece::Bytes(more)) => bytes.extend_from_slice(&more),
            (_, piece) => out.push(piece),
        }
    }
    out
}

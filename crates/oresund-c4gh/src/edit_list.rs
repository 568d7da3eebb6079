//! Data edit lists and byte-range planning (spec §3.2.4, §4.3).
//!
//! An edit list is a sequence of byte counts applied to the decrypted body:
//! skip, keep, skip, keep, ... When the list has an odd length the last
//! skip is followed by "keep everything that remains"; with an even length
//! everything after the last keep is discarded (§4.3 `ApplyEditList`).
//!
//! Internally a list is turned into the sorted, disjoint set of plaintext
//! spans it keeps, which makes range selection ([`plan_range`]) and
//! segment skipping during decryption straightforward.

use std::ops::{Range, RangeFrom};

use crate::error::{Error, Result};
use crate::segment::{CIPHER_SEGMENT_SIZE, SEGMENT_SIZE};

const SEG: u64 = SEGMENT_SIZE as u64;
const CSEG: u64 = CIPHER_SEGMENT_SIZE as u64;

fn overflow() -> Error {
    Error::InvalidEditList("lengths overflow a 64-bit offset")
}

/// Marks a span (or run) that extends to the end of the data.
const OPEN: u64 = u64::MAX;

/// A data edit list (§3.2.4): alternating skip / keep byte counts over the
/// decrypted body plaintext, starting with a skip.
///
/// ```
/// use oresund_c4gh::EditList;
/// // Spec §4.3 example, truncated: keep bytes 0..7853, then 79574..387503.
/// let e = EditList::new(vec![0, 7853, 71721, 307929]);
/// let text: Vec<u8> = (0..400_000u32).map(|i| i as u8).collect();
/// let out = e.apply(&text)?;
/// assert_eq!(out.len(), 7853 + 307929);
/// assert_eq!(out[7853], text[79574]);
/// # Ok::<(), oresund_c4gh::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EditList(Vec<u64>);

impl EditList {
    /// Wraps the raw lengths, first one being a skip.
    pub fn new(lengths: Vec<u64>) -> Self {
        EditList(lengths)
    }

    /// The raw lengths as stored in the header packet.
    pub fn lengths(&self) -> &[u64] {
        &self.0
    }

    /// Applies the list to a whole plaintext in memory (§4.3 `ApplyEditList`).
    /// Streaming decryption does the same segment by segment.
    pub fn apply(&self, input: &[u8]) -> Result<Vec<u8>> {
        let spans = self.spans()?;
        let mut out = Vec::new();
        for (s, e) in spans.overlaps(0, input.len() as u64) {
            // Both bounds are at most input.len(), so the casts are lossless.
            out.extend_from_slice(&input[s as usize..e as usize]);
        }
        Ok(out)
    }

    /// The plaintext spans this list keeps, in body-plaintext coordinates.
    pub(crate) fn spans(&self) -> Result<Spans> {
        let mut spans = Vec::with_capacity(self.0.len() / 2 + 1);
        let mut pos = 0u64;
        let mut chunks = self.0.chunks(2);
        for pair in &mut chunks {
            pos = pos.checked_add(pair[0]).ok_or_else(overflow)?;
            match pair.get(1) {
                Some(&keep) => {
                    let end = pos.checked_add(keep).ok_or_else(overflow)?;
                    push_span(&mut spans, pos, end);
                    pos = end;
                }
                None => push_span(&mut spans, pos, OPEN),
            }
        }
        if self.0.is_empty() {
            // §4.3: an empty list keeps the input unchanged.
            push_span(&mut spans, 0, OPEN);
        }
        Ok(Spans(spans))
    }

    /// Builds the list that keeps exactly `spans` (sorted, disjoint).
    fn from_spans(spans: &[Span]) -> Self {
        let mut lengths = Vec::with_capacity(spans.len() * 2);
        let mut prev = 0;
        for span in spans {
            lengths.push(span.start - prev);
            if span.end == OPEN {
                break;
            }
            lengths.push(span.end - span.start);
            prev = span.end;
        }
        EditList(lengths)
    }
}

/// Half-open plaintext interval `[start, end)`; `end == u64::MAX` means "to
/// the end of the data".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

fn push_span(spans: &mut Vec<Span>, start: u64, end: u64) {
    if start >= end {
        return; // a zero-length keep outputs nothing
    }
    match spans.last_mut() {
        // A zero-length skip between two keeps joins them.
        Some(last) if last.end == start => last.end = end,
        _ => spans.push(Span { start, end }),
    }
}

/// Sorted, disjoint kept spans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Spans(Vec<Span>);

impl Spans {
    /// Keeps everything.
    pub(crate) fn all() -> Self {
        Spans(vec![Span { start: 0, end: OPEN }])
    }

    fn first_ending_after(&self, pos: u64) -> usize {
        self.0.partition_point(|s| s.end <= pos)
    }

    /// Whether any kept byte lies in `[start, end)`.
    pub(crate) fn intersects(&self, start: u64, end: u64) -> bool {
        self.0.get(self.first_ending_after(start)).is_some_and(|s| s.start < end)
    }

    /// The kept sub-intervals `(lo, hi)` of `[start, end)`, in order.
    pub(crate) fn overlaps(&self, start: u64, end: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0[self.first_ending_after(start)..]
            .iter()
            .take_while(move |span| span.start < end)
            .map(move |span| (span.start.max(start), span.end.min(end)))
    }

    /// Offset after which nothing is kept (`u64::MAX` if unbounded).
    pub(crate) fn end(&self) -> u64 {
        self.0.last().map_or(0, |s| s.end)
    }
}

/// A range of bytes of the (edited) plaintext: `start..end`, end exclusive,
/// `end == None` meaning "to the end of the data".
///
/// Note: the Python tool's `--range S-E` option selects `E - S - 1` bytes
/// (`S..E-1`); this type uses ordinary half-open ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte (inclusive).
    pub start: u64,
    /// End (exclusive); `None` = through the end of the data.
    pub end: Option<u64>,
}

impl ByteRange {
    /// `start..end`.
    pub const fn new(start: u64, end: u64) -> Self {
        ByteRange { start, end: Some(end) }
    }

    /// `start..` (to the end of the data).
    pub const fn from_start(start: u64) -> Self {
        ByteRange { start, end: None }
    }

    fn bounds(self) -> Result<(u64, u64)> {
        let end = self.end.unwrap_or(OPEN);
        if self.start >= end {
            return Err(Error::InvalidRange { start: self.start, end });
        }
        Ok((self.start, end))
    }
}

impl From<Range<u64>> for ByteRange {
    fn from(r: Range<u64>) -> Self {
        ByteRange::new(r.start, r.end)
    }
}

impl From<RangeFrom<u64>> for ByteRange {
    fn from(r: RangeFrom<u64>) -> Self {
        ByteRange::from_start(r.start)
    }
}

/// A run of consecutive body segments, `start..end` by segment index
/// (`end == None`: through the last segment of the body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentRun {
    /// First segment index (inclusive).
    pub start: u64,
    /// End segment index (exclusive); `None` = through the last segment.
    pub end: Option<u64>,
}

impl SegmentRun {
    /// Byte offsets of these segments within the encrypted body
    /// (`start..end`, end exclusive, `None` = to the end of the body). The
    /// last segment of a body may be shorter, so a bounded end can lie past
    /// the end of the body; read up to it or to EOF.
    pub fn ciphertext_bytes(&self) -> (u64, Option<u64>) {
        (self.start.saturating_mul(CSEG), self.end.map(|e| e.saturating_mul(CSEG)))
    }

    fn contains(&self, segment: u64) -> bool {
        segment >= self.start && self.end.is_none_or(|e| segment < e)
    }
}

/// Which encrypted segments to ship, and which edit list to put in the new
/// header, to deliver a byte range without re-encrypting the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangePlan {
    runs: Vec<SegmentRun>,
    edit_list: EditList,
}

impl RangePlan {
    /// The segments to keep, in order. Their concatenation forms the new body.
    pub fn segments(&self) -> &[SegmentRun] {
        &self.runs
    }

    /// The edit list for the new header, relative to the new body.
    pub fn edit_list(&self) -> &EditList {
        &self.edit_list
    }

    /// Whether segment `index` of the original body is part of the new body.
    pub fn contains_segment(&self, index: u64) -> bool {
        self.runs.iter().any(|r| r.contains(index))
    }

    /// Index one past the last kept segment, or `None` if the plan keeps
    /// segments through the end of the body.
    pub fn segments_end(&self) -> Option<u64> {
        self.runs.last().map_or(Some(0), |r| r.end)
    }
}

/// Plans the extraction of `range` (in coordinates of the data as a reader
/// currently sees it, i.e. after `existing` edits) from a stored body.
///
/// The result names the whole encrypted segments to copy (fetchable with
/// ranged reads at [`SegmentRun::ciphertext_bytes`]) and the edit list that
/// makes a reader output exactly the requested bytes from those segments.
/// An existing edit list is composed with the range, so extracting from an
/// already-rearranged file works too.
///
/// ```
/// use oresund_c4gh::{ByteRange, plan_range};
/// let plan = plan_range(ByteRange::new(70_000, 140_000), None)?;
/// assert_eq!(plan.segments().len(), 1);
/// assert_eq!((plan.segments()[0].start, plan.segments()[0].end), (1, Some(3)));
/// assert_eq!(plan.edit_list().lengths(), &[70_000 - 65_536, 70_000]);
/// # Ok::<(), oresund_c4gh::Error>(())
/// ```
pub fn plan_range(range: ByteRange, existing: Option<&EditList>) -> Result<RangePlan> {
    let (want_start, want_end) = range.bounds()?;
    let spans = match existing {
        Some(e) => e.spans()?,
        None => Spans::all(),
    };

    // 1. Map the requested output interval back to plaintext spans.
    let mut selected: Vec<Span> = Vec::new();
    let mut out_pos = 0u64;
    for span in &spans.0 {
        let out_end = if span.end == OPEN { OPEN } else { out_pos.saturating_add(span.end - span.start) };
        let lo = want_start.max(out_pos);
        let hi = want_end.min(out_end);
        if lo < hi {
            let offset = |o: u64| span.start.checked_add(o - out_pos).ok_or_else(overflow);
            let start = offset(lo)?;
            let end = if hi == OPEN { OPEN } else { offset(hi)? };
            push_span(&mut selected, start, end);
        }
        out_pos = out_end;
        if out_pos >= want_end {
            break;
        }
    }
    if selected.is_empty() {
        return Err(Error::EmptySelection);
    }

    // 2. Whole segments covering the selection, merged into runs.
    let mut runs: Vec<SegmentRun> = Vec::new();
    for span in &selected {
        let first = span.start / SEG;
        let end = (span.end != OPEN).then(|| (span.end - 1) / SEG + 1);
        match runs.last_mut() {
            Some(last) if last.end.is_none_or(|e| e >= first) => {
                last.end = match (last.end, end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => runs.push(SegmentRun { start: first, end }),
        }
    }

    // 3. Re-express the spans relative to the concatenated kept segments.
    let mut rebased = Vec::with_capacity(selected.len());
    let mut run_idx = 0;
    let mut dropped_before = runs[0].start; // segments removed before the current run
    for span in &selected {
        while !runs[run_idx].contains(span.start / SEG) {
            let prev_end = runs[run_idx].end.unwrap_or(OPEN);
            run_idx += 1;
            dropped_before += runs[run_idx].start - prev_end;
        }
        let shift = dropped_before * SEG;
        let end = if span.end == OPEN { OPEN } else { span.end - shift };
        push_span(&mut rebased, span.start - shift, end);
    }

    Ok(RangePlan { runs, edit_list: EditList::from_spans(&rebased) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's reference algorithm (§4.3), verbatim, to check `apply`.
    fn spec_apply(edlist: &[u64], input: &[u8]) -> Vec<u8> {
        if edlist.is_empty() {
            return input.to_vec();
        }
        let substr = |pos: u64, len: u64| -> &[u8] {
            let s = (pos as usize).min(input.len());
            let e = (pos.saturating_add(len) as usize).min(input.len());
            &input[s..e]
        };
        let mut list = edlist.iter().copied();
        let (mut out, mut pos, len) = (Vec::new(), 0u64, input.len() as u64);
        while let Some(discard) = list.next() {
            pos += discard;
            match list.next() {
                None => out.extend_from_slice(substr(pos, len.saturating_sub(pos))),
                Some(keep) => {
                    out.extend_from_slice(substr(pos, keep));
                    pos += keep;
                }
            }
        }
        out
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn apply_matches_spec_algorithm() {
        let input = data(300_000);
        for list in [
            vec![],
            vec![0],
            vec![5],
            vec![0, 10],
            vec![3, 10, 0, 4],
            vec![0, 7853, 71721, 307929, 51299, 38],
            vec![100, 0, 100],
            vec![299_999, 5],
            vec![400_000, 5, 3],
        ] {
            let e = EditList::new(list.clone());
            assert_eq!(e.apply(&input).unwrap(), spec_apply(&list, &input), "{list:?}");
        }
    }

    #[test]
    fn overflowing_list_is_rejected() {
        let e = EditList::new(vec![u64::MAX, 1, 1]);
        assert!(matches!(e.spans(), Err(Error::InvalidEditList(_))));
    }

    #[test]
    fn plan_matches_python_rearrange() {
        // Python: edit list [offset % 65536, span], segments start..=last.
        let plan = plan_range(ByteRange::new(70_000, 139_999), None).unwrap();
        assert_eq!(plan.edit_list().lengths(), &[70_000 % 65_536, 69_999]);
        assert_eq!(plan.segments(), &[SegmentRun { start: 1, end: Some(3) }]);
        assert!(!plan.contains_segment(0) && plan.contains_segment(2) && !plan.contains_segment(3));

        let plan = plan_range(ByteRange::new(0, 65_536), None).unwrap();
        assert_eq!(plan.segments(), &[SegmentRun { start: 0, end: Some(1) }]);
        let plan = plan_range(ByteRange::from_start(131_073), None).unwrap();
        assert_eq!(plan.segments(), &[SegmentRun { start: 2, end: None }]);
        assert_eq!(plan.edit_list().lengths(), &[1]);
        assert_eq!(plan.segments_end(), None);
    }

    #[test]
    fn invalid_ranges() {
        assert!(matches!(plan_range(ByteRange::new(5, 5), None), Err(Error::InvalidRange { .. })));
        assert!(matches!(plan_range(ByteRange::new(9, 5), None), Err(Error::InvalidRange { .. })));
        let e = EditList::new(vec![0, 10]);
        assert!(matches!(plan_range(ByteRange::new(10, 20), Some(&e)), Err(Error::EmptySelection)));
    }

    /// Simulates the archive: for many ranges and existing edit lists, the
    /// planned segments plus the new edit list reproduce exactly the
    /// requested slice of what a reader saw before.
    #[test]
    fn plan_composes_with_existing_edit_lists() {
        let plain = data(6 * SEGMENT_SIZE + 1234);
        let existing = [
            None,
            Some(EditList::new(vec![10, 100_000, 70_000, 50_000, 3])),
            Some(EditList::new(vec![0, 5, 200_000])),
            Some(EditList::new(vec![65_536 * 2, 10])),
        ];
        let ranges = [
            ByteRange::new(0, 1),
            ByteRange::new(3, 99_999),
            ByteRange::new(99_990, 100_020),
            ByteRange::new(65_535, 65_537),
            ByteRange::from_start(120_000),
            ByteRange::from_start(0),
            ByteRange::new(5, 400_000),
        ];
        for e in &existing {
            let seen = match e {
                Some(e) => e.apply(&plain).unwrap(),
                None => plain.clone(),
            };
            for r in ranges {
                let want = {
                    let s = (r.start as usize).min(seen.len());
                    let end = r.end.map_or(seen.len(), |x| (x as usize).min(seen.len()));
                    &seen[s..end.max(s)]
                };
                let plan = match plan_range(r, e.as_ref()) {
                    Ok(p) => p,
                    Err(Error::EmptySelection) => {
                        assert!(want.is_empty(), "{e:?} {r:?}");
                        continue;
                    }
                    Err(other) => panic!("{other}"),
                };
                let mut body = Vec::new();
                for (i, seg) in plain.chunks(SEGMENT_SIZE).enumerate() {
                    if plan.contains_segment(i as u64) {
                        body.extend_from_slice(seg);
                    }
                }
                assert_eq!(plan.edit_list().apply(&body).unwrap(), want, "{e:?} {r:?}");
            }
        }
    }
}

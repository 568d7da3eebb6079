//! Ordered batch pipeline that spreads segment crypto over worker threads.
//!
//! Crypt4GH segments are independent (§3.4.1: each has its own nonce and
//! MAC), so batches of segments can be sealed or opened in parallel as long
//! as they are written back in input order. The calling thread does all I/O
//! (so readers and writers need not be `Send`): it fills batch buffers from
//! the input, hands them to `threads - 1` workers, and writes results back
//! in input order, reading ahead while the workers compute.
//!
//! The calling thread is one of the `threads`: when every worker already has
//! a full queue, it seals or opens the next batch itself. Without that, the
//! I/O thread and `threads` workers would share `threads` cores, and the
//! scheduler would give the I/O thread — the one every batch must pass
//! through twice — only a fraction of a core (whole-file encryption on
//! 2 cores ran at half the in-memory speed). Now the calling thread spends
//! whatever time I/O leaves it on crypto, and nothing is oversubscribed.
//!
//! Memory is constant: a few batch buffers per thread, allocated once per
//! call and recycled; nothing is allocated per segment.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::thread;

use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::segment::CIPHER_SEGMENT_SIZE;

/// Segments per batch: 1 MiB of plaintext, large enough to amortise channel
/// hand-offs and write calls, small enough to keep memory low.
pub(crate) const SEGMENTS_PER_BATCH: usize = 16;

/// Batches queued per worker: one being computed, one waiting, so workers
/// never wait for the I/O thread in steady state.
const BATCHES_PER_WORKER: usize = 2;

/// A reusable buffer holding up to [`SEGMENTS_PER_BATCH`] segments, each in a
/// slot of [`CIPHER_SEGMENT_SIZE`] bytes laid out as `nonce ‖ data ‖ MAC`.
pub(crate) struct Batch {
    pub(crate) buf: Vec<u8>,
    /// Per slot: plaintext length (encryption) or ciphertext length (decryption).
    pub(crate) lens: [usize; SEGMENTS_PER_BATCH],
    /// Per slot: whether the worker must process it (edit lists skip some).
    pub(crate) wanted: [bool; SEGMENTS_PER_BATCH],
    /// Number of filled slots.
    pub(crate) count: usize,
    /// Body index of the segment in slot 0.
    pub(crate) first_segment: u64,
    /// Set by the worker; reported when the batch's turn to be written comes.
    pub(crate) error: Option<Error>,
    /// Bytes of `buf` ever filled, to wipe on drop.
    high_water: usize,
}

impl Drop for Batch {
    fn drop(&mut self) {
        // The buffer held plaintext; wipe the part that was used.
        let used = self.high_water.min(self.buf.len());
        self.buf[..used].zeroize();
    }
}

impl Batch {
    fn new() -> Self {
        Batch {
            buf: vec![0; SEGMENTS_PER_BATCH * CIPHER_SEGMENT_SIZE],
            lens: [0; SEGMENTS_PER_BATCH],
            wanted: [false; SEGMENTS_PER_BATCH],
            count: 0,
            first_segment: 0,
            error: None,
            high_water: 0,
        }
    }

    /// Records how much of `buf` the last fill touched (all of it if the
    /// fill failed part-way, as `count` may then understate it).
    fn note_filled(&mut self, failed: bool) {
        let used = if failed { self.buf.len() } else { self.count * CIPHER_SEGMENT_SIZE };
        self.high_water = self.high_water.max(used);
    }

    /// The slot of segment `k` of this batch.
    pub(crate) fn slot_mut(&mut self, k: usize) -> &mut [u8] {
        &mut self.buf[k * CIPHER_SEGMENT_SIZE..(k + 1) * CIPHER_SEGMENT_SIZE]
    }
}

/// The CPU-bound part: seals or opens the segments of a batch in place.
pub(crate) trait Process: Sync {
    fn process(&self, batch: &mut Batch);
}

/// What `fill` reports after filling a batch.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// More input may follow.
    More,
    /// Input exhausted (or no further input is needed).
    Done,
}

/// Runs `fill → process → emit` over the whole input.
///
/// `threads <= 1` runs everything on the calling thread with a single batch;
/// otherwise `threads - 1` workers help the calling thread.
/// The first error in input order is returned; output written before it is
/// left as is (the caller discards it).
pub(crate) fn run<P: Process>(
    processor: &P,
    threads: usize,
    mut fill: impl FnMut(&mut Batch) -> Result<Input>,
    mut emit: impl FnMut(&Batch) -> Result<()>,
) -> Result<()> {
    if threads <= 1 {
        let mut batch = Batch::new();
        let mut next_segment = 0;
        loop {
            batch.first_segment = next_segment;
            let input = fill(&mut batch);
            batch.note_filled(input.is_err());
            let input = input?;
            if batch.count > 0 {
                processor.process(&mut batch);
                if let Some(e) = batch.error.take() {
                    return Err(e);
                }
                emit(&batch)?;
                next_segment += batch.count as u64;
            }
            if input == Input::Done || batch.count == 0 {
                return Ok(());
            }
        }
    }

    let workers = threads - 1;
    thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (work_tx, work_rx) = mpsc::channel::<Batch>();
            let (done_tx, done_rx) = mpsc::channel::<Batch>();
            scope.spawn(move || {
                for mut batch in work_rx {
                    processor.process(&mut batch);
                    if done_tx.send(batch).is_err() {
                        break; // the I/O thread gave up (error); stop quietly
                    }
                }
            });
            to_workers.push(work_tx);
            from_workers.push(done_rx);
        }

        // Batches in input order. Each worker's channel is FIFO, so the first `Worker(w)` slot
        // is the next batch worker `w` returns.
        enum Slot {
            /// Read, waiting for a worker with room (or for this thread to be idle).
            Unsent(Batch),
            /// Processed here.
            Ready(Batch),
            /// Queued at worker `w`.
            Worker(usize),
        }
        let mut in_flight: VecDeque<Slot> = VecDeque::new();
        let mut queued = vec![0usize; workers];
        // Enough buffers to keep every worker's queue full, with one more being processed here
        // and one being written.
        let mut free: Vec<Batch> = (0..workers * BATCHES_PER_WORKER + 2).map(|_| Batch::new()).collect();
        let mut next_segment = 0u64;
        let mut input_done = false;
        let result = loop {
            // Read ahead into every free buffer while the workers compute.
            while !input_done {
                let Some(mut batch) = free.pop() else { break };
                batch.first_segment = next_segment;
                let input = fill(&mut batch);
                batch.note_filled(input.is_err());
                match input {
                    Ok(input) => input_done = input == Input::Done || batch.count == 0,
                    // An input error ends the output at once.
                    Err(e) => return Err(e),
                }
                if batch.count == 0 {
                    free.push(batch);
                    break;
                }
                next_segment += batch.count as u64;
                in_flight.push_back(Slot::Unsent(batch));
            }
            // Hand waiting batches, in order, to workers with room in their queues.
            for slot in in_flight.iter_mut() {
                if !matches!(slot, Slot::Unsent(_)) {
                    continue;
                }
                let Some(w) = (0..workers).filter(|&w| queued[w] < BATCHES_PER_WORKER).min_by_key(|&w| queued[w])
                else {
                    break;
                };
                if let Slot::Unsent(batch) = std::mem::replace(slot, Slot::Worker(w)) {
                    if to_workers[w].send(batch).is_err() {
                        return Err(Error::WorkerStopped);
                    }
                    queued[w] += 1;
                }
            }
            // The next batch to write; while its worker is still busy, process a waiting batch
            // here rather than sit idle.
            let next = loop {
                match in_flight.front_mut() {
                    None => break None,
                    Some(Slot::Worker(w)) => {
                        let w = *w;
                        let received = match from_workers[w].try_recv() {
                            Ok(batch) => Some(batch),
                            Err(mpsc::TryRecvError::Empty) => {
                                match in_flight.iter_mut().find(|s| matches!(s, Slot::Unsent(_))) {
                                    Some(slot) => {
                                        let taken = std::mem::replace(slot, Slot::Worker(usize::MAX));
                                        if let Slot::Unsent(mut batch) = taken {
                                            processor.process(&mut batch);
                                            *slot = Slot::Ready(batch);
                                        }
                                        continue;
                                    }
                                    None => from_workers[w].recv().ok(),
                                }
                            }
                            Err(mpsc::TryRecvError::Disconnected) => None,
                        };
                        in_flight.pop_front();
                        queued[w] -= 1;
                        break Some(received.ok_or(Error::WorkerStopped));
                    }
                    Some(_) => match in_flight.pop_front() {
                        Some(Slot::Ready(batch)) => break Some(Ok(batch)),
                        Some(Slot::Unsent(mut batch)) => {
                            processor.process(&mut batch);
                            break Some(Ok(batch));
                        }
                        _ => break Some(Err(Error::WorkerStopped)),
                    },
                }
            };
            let mut batch = match next {
                None => break Ok(()),
                Some(Err(e)) => break Err(e),
                Some(Ok(batch)) => batch,
            };
            if let Some(e) = batch.error.take() {
                break Err(e);
            }
            if let Err(e) = emit(&batch) {
                break Err(e);
            }
            free.push(batch);
        };
        // Closing the work channels lets the workers finish; scope joins them.
        drop(to_workers);
        result
    })
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full(input: &mut impl std::io::Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubles every byte of each slot's first `lens[k]` bytes; errors on 0xEE.
    struct Doubler;
    impl Process for Doubler {
        fn process(&self, batch: &mut Batch) {
            for k in 0..batch.count {
                let len = batch.lens[k];
                let slot = batch.slot_mut(k);
                if slot[..len].contains(&0xEE) {
                    batch.error = Some(Error::SegmentAuthentication { segment: batch.first_segment + k as u64 });
                    return;
                }
                for b in &mut slot[..len] {
                    *b = b.wrapping_mul(2);
                }
            }
        }
    }

    fn run_doubler(input: &[u8], threads: usize, slot_len: usize) -> Result<Vec<u8>> {
        let mut src = input;
        let mut out = Vec::new();
        run(
            &Doubler,
            threads,
            |batch| {
                batch.count = 0;
                for k in 0..SEGMENTS_PER_BATCH {
                    let n = read_full(&mut src, &mut batch.slot_mut(k)[..slot_len])?;
                    if n == 0 {
                        return Ok(Input::Done);
                    }
                    batch.lens[k] = n;
                    batch.count += 1;
                }
                Ok(Input::More)
            },
            |batch| {
                for k in 0..batch.count {
                    let start = k * CIPHER_SEGMENT_SIZE;
                    out.extend_from_slice(&batch.buf[start..start + batch.lens[k]]);
                }
                Ok(())
            },
        )?;
        Ok(out)
    }

    #[test]
    fn output_order_is_preserved_for_any_thread_count() {
        let input: Vec<u8> = (0..1_000_003u32).map(|i| (i % 119) as u8).collect();
        let want: Vec<u8> = input.iter().map(|b| b.wrapping_mul(2)).collect();
        for threads in [0, 1, 2, 3, 8] {
            for slot_len in [1, 1000, CIPHER_SEGMENT_SIZE] {
                assert_eq!(run_doubler(&input, threads, slot_len).unwrap(), want);
            }
        }
        assert!(run_doubler(&[], 4, 10).unwrap().is_empty());
    }

    #[test]
    fn first_error_in_input_order_wins() {
        let mut input = vec![1u8; 100_000];
        input[50_000] = 0xEE;
        input[90_000] = 0xEE;
        for threads in [1, 2, 4] {
            let err = run_doubler(&input, threads, 1000).unwrap_err();
            assert!(matches!(err, Error::SegmentAuthentication { segment: 50 }), "{err}");
        }
    }
}

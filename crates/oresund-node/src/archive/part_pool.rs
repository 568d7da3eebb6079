//! Buffers for the parts of a streaming upload, returned to the writer once the upload is done
//! with them.
//!
//! The object store drops a sent part on one of its runtime's blocking threads. Freed there,
//! mimalloc did not reuse the memory while the writer went on allocating on its own thread: the
//! ingest of the 20,000-sample cohort's 120 MB VCF held 118–151 MB while archiving it (sampled
//! from `/proc/PID/smaps_rollup`, BENCHMARKS.md). A part that comes back here is reused instead.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// Part buffers, shared between a writer and the parts it has sent.
#[derive(Default)]
pub(crate) struct PartPool {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl PartPool {
    /// An empty buffer of at least `capacity` bytes: a returned one when there is one (parts grow
    /// as an upload goes on, so a returned buffer may have to grow too).
    pub(crate) fn take(&self, capacity: usize) -> Vec<u8> {
        let mut part = self.free.lock().ok().and_then(|mut free| free.pop()).unwrap_or_default();
        part.reserve_exact(capacity);
        part
    }

    /// `part` as [`Bytes`] whose buffer comes back to the pool when the last clone is dropped.
    pub(crate) fn send(&self, part: Vec<u8>) -> Bytes {
        Bytes::from_owner(Returning { part, free: self.free.clone() })
    }

    /// Buffers waiting to be reused.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.free.lock().map_or(0, |free| free.len())
    }
}

/// A sent part; dropping it returns its buffer.
struct Returning {
    part: Vec<u8>,
    free: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl AsRef<[u8]> for Returning {
    fn as_ref(&self) -> &[u8] {
        &self.part
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        let mut part = std::mem::take(&mut self.part);
        part.clear();
        if let Ok(mut free) = self.free.lock() {
            free.push(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_part_comes_back_for_the_next() {
        let pool = PartPool::default();
        let mut part = pool.take(16);
        part.extend_from_slice(b"ciphertext");
        let address = part.as_ptr();
        let bytes = pool.send(part);
        assert_eq!(&bytes[..], b"ciphertext");
        let clone = bytes.slice(0..4);
        drop(bytes);
        assert_eq!(pool.idle(), 0, "a clone still holds the part");
        // The upload drops its part on another thread.
        std::thread::spawn(move || drop(clone)).join().unwrap();
        assert_eq!(pool.idle(), 1);
        let again = pool.take(16);
        assert_eq!((again.as_ptr(), again.len(), again.capacity()), (address, 0, 16));
        assert_eq!(pool.idle(), 0);
    }

    #[test]
    fn a_buffer_has_the_capacity_asked_for() {
        let pool = PartPool::default();
        assert_eq!(pool.take(1 << 10).capacity(), 1 << 10);
        // A returned buffer grows for a larger part.
        drop(pool.send(pool.take(16)));
        assert_eq!(pool.idle(), 1);
        assert!(pool.take(1 << 10).capacity() >= 1 << 10);
    }
}

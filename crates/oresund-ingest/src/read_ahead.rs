//! Reading on another thread: [`ReadAhead`] runs a reader (a decoder, say) on its own thread a
//! few chunks ahead of whoever consumes it, so decoding and parsing share two cores instead of
//! taking turns on one.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes handed over at a time.
const CHUNK: usize = 1 << 16;
/// Chunks read ahead at most.
const AHEAD: usize = 8;

/// `inner`, read on its own thread. Dropping it stops and joins the thread, so whatever the
/// reader held (a checksum of the raw bytes, say) is released when this is.
pub struct ReadAhead {
    chunks: Option<Receiver<io::Result<Vec<u8>>>>,
    /// Emptied chunks sent back for reuse.
    spare: Option<SyncSender<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
    thread: Option<JoinHandle<()>>,
}

impl ReadAhead {
    pub fn new(mut inner: impl Read + Send + 'static) -> Self {
        let (send, chunks) = sync_channel::<io::Result<Vec<u8>>>(AHEAD);
        let (spare, returned) = sync_channel::<Vec<u8>>(AHEAD + 2);
        let thread = std::thread::spawn(move || {
            loop {
                let mut chunk = returned.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                chunk.resize(CHUNK, 0);
                let (n, error) = fill(&mut inner, &mut chunk);
                chunk.truncate(n);
                let done = n < CHUNK || error.is_some();
                // The bytes before an error, then the error. A consumer gone away stops the reading.
                if (n > 0 && send.send(Ok(chunk)).is_err()) || error.is_some_and(|e| send.send(Err(e)).is_err()) || done
                {
                    break;
                }
            }
        });
        ReadAhead { chunks: Some(chunks), spare: Some(spare), current: Vec::new(), at: 0, thread: Some(thread) }
    }
}

/// Reads until `buf` is full or the input ends: the bytes read, and the error that stopped it.
fn fill(inner: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match inner.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at == self.current.len() {
            let Some(chunks) = &self.chunks else { return Ok(&[]) };
            match chunks.recv() {
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.current, chunk);
                    if let Some(spare) = &self.spare {
                        let _ = spare.try_send(used);
                    }
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.chunks = None;
                    return Err(e);
                }
                // The thread finished and everything was handed over.
                Err(_) => {
                    self.chunks = None;
                    self.current.clear();
                    self.at = 0;
                }
            }
        }
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, amount: usize) {
        self.at = (self.at + amount).min(self.current.len());
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Closing the channels ends the thread's next send.
        drop(self.chunks.take());
        drop(self.spare.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_over_every_byte_in_order() {
        let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        ReadAhead::new(io::Cursor::new(data.clone())).read_to_end(&mut out).unwrap();
        assert!(out == data);
        let mut lines = ReadAhead::new(io::Cursor::new(b"a\nbb\n\nccc".to_vec())).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "a");
        assert_eq!(lines.next().unwrap().unwrap(), "bb");
        assert_eq!(lines.next().unwrap().unwrap(), "");
        assert_eq!(lines.next().unwrap().unwrap(), "ccc");
        assert!(lines.next().is_none());
    }

    struct FailsAfter(usize);

    impl Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "record 7: damaged"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(b'x');
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn an_error_arrives_after_the_bytes_before_it() {
        let mut reader = ReadAhead::new(FailsAfter(100_000));
        let mut out = Vec::new();
        let error = reader.read_to_end(&mut out).unwrap_err();
        assert_eq!(error.to_string(), "record 7: damaged");
        assert_eq!(out.len(), 100_000);
    }

    #[test]
    fn dropping_it_early_stops_the_thread() {
        let endless = io::repeat(b'y');
        let mut reader = ReadAhead::new(endless);
        let mut first = [0u8; 10];
        reader.read_exact(&mut first).unwrap();
        drop(reader); // joins: the test would hang if the thread kept reading
    }
}

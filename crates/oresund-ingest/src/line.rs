//! Reading one line with a length cap. An uncapped `read_until` holds a 200 MB line (or the
//! gzip bomb of one) in memory several times over before anything can look at it; with the cap
//! the reader stops at the limit and the caller names the line.

use std::io::{self, BufRead, Read};

/// What [`read_line_capped`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// The input has no more bytes.
    End,
    /// A whole line is in the buffer (with its newline, if it had one).
    Line,
    /// The line goes on past the limit; the buffer holds its first `limit + 1` bytes and the rest
    /// is unread.
    TooLong,
}

/// Appends the next line of `input` to `buf`, reading no more than the bytes that take `buf`
/// past `limit` (bytes already in `buf` count, so a caller can read on with a larger limit).
pub fn read_line_capped(input: &mut impl BufRead, buf: &mut Vec<u8>, limit: usize) -> io::Result<LineRead> {
    let room = limit.saturating_sub(buf.len()) as u64 + 1;
    input.by_ref().take(room).read_until(b'\n', buf)?;
    Ok(if buf.is_empty() {
        LineRead::End
    } else if buf.len() > limit && !(buf.len() == limit + 1 && buf.ends_with(b"\n")) {
        LineRead::TooLong
    } else {
        LineRead::Line
    })
}

/// Why a line of a text file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("the line is longer than {}", describe_size(*.0))]
    TooLong(usize),
    #[error("the line is not UTF-8 text")]
    NotUtf8,
}

/// Like [`BufRead::lines`], with each line capped at `limit` bytes.
pub struct CappedLines<R> {
    input: R,
    limit: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> CappedLines<R> {
    pub fn new(input: R, limit: usize) -> Self {
        Self { input, limit, buf: Vec::new() }
    }
}

impl<R: BufRead> Iterator for CappedLines<R> {
    type Item = Result<String, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.buf.clear();
        let read = match read_line_capped(&mut self.input, &mut self.buf, self.limit) {
            Ok(read) => read,
            Err(error) => return Some(Err(error.into())),
        };
        Some(match read {
            LineRead::End => return None,
            LineRead::TooLong => Err(LineError::TooLong(self.limit)),
            LineRead::Line => {
                let line = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
                String::from_utf8(line.to_vec()).map_err(|_| LineError::NotUtf8)
            }
        })
    }
}

/// `bytes` in words: "1 MiB", "64 KiB", "100 bytes".
pub fn describe_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], limit: usize) -> Vec<(LineRead, Vec<u8>)> {
        let mut input = io::Cursor::new(text.to_vec());
        let mut out = Vec::new();
        loop {
            let mut buf = Vec::new();
            let read = read_line_capped(&mut input, &mut buf, limit).unwrap();
            out.push((read, buf));
            if read != LineRead::Line {
                return out;
            }
        }
    }

    #[test]
    fn lines_up_to_the_limit_pass_and_longer_ones_stop_there() {
        use LineRead::*;
        assert_eq!(
            lines(b"abc\nabcd\nab", 3),
            vec![(Line, b"abc\n".to_vec()), (TooLong, b"abcd".to_vec())],
            "4 bytes before the newline is one too many"
        );
        assert_eq!(lines(b"abc", 3), vec![(Line, b"abc".to_vec()), (End, vec![])]);
        assert_eq!(lines(b"", 3), vec![(End, vec![])]);
        let mut input = io::Cursor::new(b"#CHROM\tPOS\tlong sample names\nnext\n".to_vec());
        let mut buf = Vec::new();
        assert_eq!(read_line_capped(&mut input, &mut buf, 6).unwrap(), TooLong);
        assert_eq!(read_line_capped(&mut input, &mut buf, 100).unwrap(), Line, "a larger limit reads on");
        assert_eq!(buf, b"#CHROM\tPOS\tlong sample names\n");
    }

    #[test]
    fn capped_lines_iterate_like_lines_and_stop_at_the_limit() {
        let read = |text: &[u8]| -> Vec<String> {
            CappedLines::new(io::Cursor::new(text.to_vec()), 4)
                .map(|l| l.unwrap_or_else(|e| format!("error: {e}")))
                .collect()
        };
        assert_eq!(read(b"a\nbcd\r\n\nlast"), ["a", "bcd\r", "", "last"]);
        assert_eq!(read(b"a\nbcdef\n")[1], "error: the line is longer than 4 bytes");
        assert_eq!(read(b"\xff\n")[0], "error: the line is not UTF-8 text");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(describe_size(1 << 20), "1 MiB");
        assert_eq!(describe_size(3 << 10), "3 KiB");
        assert_eq!(describe_size(1000), "1000 bytes");
    }
}

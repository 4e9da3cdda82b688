//! Splitting a byte stream into lines with one reusable buffer and a cap on line length.

use std::io::{self, BufRead};

/// Reads `\n`-terminated lines (a trailing `\r` is removed) into a reusable buffer.
///
/// A line longer than `max_line` bytes is cut at `max_line`; the rest of it is read and discarded, and
/// [`LineReader::next_line`] reports the cut so the caller can warn. Memory stays bounded by `max_line`
/// plus the reader's buffer whatever the input.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_line: usize,
    offset: u64,
    line_no: u64,
    /// Bytes of the reader's buffer handed out as the previous line, consumed on the next call.
    pending: usize,
}

/// One line handed out by [`LineReader`].
pub struct Line<'a> {
    /// The bytes, without `\n` or `\r\n`.
    pub bytes: &'a [u8],
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of the first byte.
    pub offset: u64,
    /// Length of the line as it was in the input, when it was cut.
    pub cut_from: Option<u64>,
}

impl<R: BufRead> LineReader<R> {
    /// A reader over `inner` that cuts lines at `max_line` bytes.
    pub fn new(inner: R, max_line: usize) -> Self {
        LineReader { inner, buf: Vec::with_capacity(256), max_line: max_line.max(1), offset: 0, line_no: 0, pending: 0 }
    }

    /// Bytes consumed so far (including the line last handed out).
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// The next line, `Ok(None)` at end of input. An I/O error (a truncated compressed stream) ends the
    /// stream: lines before it were already handed out.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.inner.consume(std::mem::take(&mut self.pending));
        let start = self.offset;
        // Fast path: the whole line is already in the reader's buffer; hand it out without copying.
        let fast = match self.inner.fill_buf() {
            Ok(avail) => memchr::memchr(b'\n', avail).filter(|&i| i <= self.max_line),
            Err(_) => None,
        };
        if let Some(i) = fast {
            self.pending = i + 1;
            self.offset += i as u64 + 1;
            self.line_no += 1;
            let avail = self.inner.fill_buf()?;
            let mut bytes = &avail[..i];
            if bytes.last() == Some(&b'\r') {
                bytes = &bytes[..bytes.len() - 1];
            }
            return Ok(Some(Line { bytes, number: self.line_no, offset: start, cut_from: None }));
        }
        self.buf.clear();
        let mut total: u64 = 0;
        let mut saw_any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if saw_any {
                        // Hand out the partial last line first; the error is reported on the next call.
                        break;
                    }
                    return Err(e);
                }
            };
            if avail.is_empty() {
                if !saw_any {
                    return Ok(None);
                }
                break;
            }
            saw_any = true;
            let (chunk, found) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], Some(i)),
                None => (avail, None),
            };
            let room = self.max_line.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            total += chunk.len() as u64;
            let used = found.map_or(chunk.len(), |i| i + 1);
            self.inner.consume(used);
            self.offset += used as u64;
            if found.is_some() {
                break;
            }
        }
        self.line_no += 1;
        let cut_from = (total > self.max_line as u64).then_some(total);
        if cut_from.is_none() && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(Line { bytes: &self.buf, number: self.line_no, offset: start, cut_from }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(Vec<u8>, u64, u64, Option<u64>)> {
        let mut r = LineReader::new(io::BufReader::with_capacity(4, input), max);
        let mut v = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            v.push((l.bytes.to_vec(), l.number, l.offset, l.cut_from));
        }
        v
    }

    #[test]
    fn splits_and_tracks_offsets() {
        let v = all(b"ab\r\ncdef\n\nlast", 100);
        assert_eq!(v.len(), 4);
        assert_eq!(v[0], (b"ab".to_vec(), 1, 0, None));
        assert_eq!(v[1], (b"cdef".to_vec(), 2, 4, None));
        assert_eq!(v[2], (b"".to_vec(), 3, 9, None));
        assert_eq!(v[3], (b"last".to_vec(), 4, 10, None));
    }

    #[test]
    fn cuts_long_lines_and_keeps_going() {
        let v = all(b"0123456789abc\nok\n", 5);
        assert_eq!(v[0], (b"01234".to_vec(), 1, 0, Some(13)));
        assert_eq!(v[1], (b"ok".to_vec(), 2, 14, None));
    }

    struct Broken<'a>(&'a [u8]);
    impl io::Read for Broken<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn error_after_partial_line_hands_out_the_line_first() {
        let mut r = LineReader::new(io::BufReader::new(Broken(b"one\ntw")), 100);
        assert_eq!(r.next_line().unwrap().unwrap().bytes, b"one");
        assert_eq!(r.next_line().unwrap().unwrap().bytes, b"tw");
        assert!(r.next_line().is_err());
    }
}

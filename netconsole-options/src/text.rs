//! Showing bytes that may not be UTF-8.
//!
//! The parser works on bytes, so a device name or an error's `cur` text may hold bytes that
//! are not UTF-8 (a 15-byte cut can split a character, or the input was never text). Two
//! renderings, for two jobs: `\xNN` escapes where the bytes should be recoverable by eye, and
//! U+FFFD where the text should read like Linux's log line, which prints the bytes raw.

use core::fmt::{self, Write};

/// Writes `bytes`, each byte of an invalid UTF-8 sequence as `\xNN` (lowercase hex).
pub(crate) fn write_escaped(f: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        f.write_str(chunk.valid())?;
        for byte in chunk.invalid() {
            write!(f, "\\x{byte:02x}")?;
        }
    }
    Ok(())
}

/// Writes `bytes`, each invalid UTF-8 sequence as one U+FFFD, as `String::from_utf8_lossy`.
pub(crate) fn write_lossy(f: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        f.write_str(chunk.valid())?;
        if !chunk.invalid().is_empty() {
            f.write_char(char::REPLACEMENT_CHARACTER)?;
        }
    }
    Ok(())
}

/// A fixed buffer that collects formatted text, for building text without a heap.
pub(crate) struct ByteWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> ByteWriter<'a> {
    /// Writes into `buf` from its start.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        ByteWriter { buf, len: 0 }
    }

    /// Appends raw bytes; `Err` (and nothing written) if they do not fit.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> fmt::Result {
        let end = self.len.checked_add(bytes.len()).ok_or(fmt::Error)?;
        self.buf.get_mut(self.len..end).ok_or(fmt::Error)?.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes())
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use std::string::String;

    #[test]
    fn escapes_and_replaces_only_invalid_bytes() {
        let bytes = b"eth\xc3\xbc\xc3-\xff";
        let mut escaped = String::new();
        write_escaped(&mut escaped, bytes).unwrap();
        assert_eq!(escaped, "eth\u{fc}\\xc3-\\xff");
        let mut lossy = String::new();
        write_lossy(&mut lossy, bytes).unwrap();
        assert_eq!(lossy, String::from_utf8_lossy(bytes));
    }

    #[test]
    fn writer_refuses_to_overflow() {
        let mut buf = [0u8; 4];
        let mut w = ByteWriter::new(&mut buf);
        assert!(w.push(b"abc").is_ok());
        assert!(w.push(b"de").is_err());
        assert_eq!(w.len(), 3);
        assert!(write!(w, "{}", 7).is_ok());
        assert_eq!(&buf, b"abc7");
    }
}

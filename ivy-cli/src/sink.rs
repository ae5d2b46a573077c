//! Standard output that never stops a run. A reader that goes away (`ivy basic |
//! head -1`) or a closed descriptor (`>&-`) must not cut the run short: the history
//! file and the checks still happen, and the exit code still says whether they
//! passed. The first write error is kept and reported when the run ends.

use std::fs::File;
use std::io::{self, Write};

/// A writer that keeps the first error and swallows every write after it.
pub struct Sink<W: Write> {
    inner: W,
    error: Option<io::Error>,
}

impl<W: Write> Sink<W> {
    /// A sink writing to `inner`.
    pub fn new(inner: W) -> Sink<W> {
        Sink { inner, error: None }
    }

    /// A sink that has already failed, with `error`.
    pub fn failed(inner: W, error: io::Error) -> Sink<W> {
        Sink {
            inner,
            error: Some(error),
        }
    }

    /// Flushes, and returns the first error any write or the flush met.
    pub fn finish(mut self) -> Result<(), io::Error> {
        if self.error.is_none() {
            if let Err(error) = self.inner.flush() {
                self.error = Some(error);
            }
        }
        self.error.map_or(Ok(()), Err)
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.error.is_none() {
            if let Err(error) = self.inner.write_all(buf) {
                self.error = Some(error);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.error.is_none() {
            if let Err(error) = self.inner.flush() {
                self.error = Some(error);
            }
        }
        Ok(())
    }
}

/// Standard output as a file of its own (a duplicate of descriptor 1), or an error
/// if it was closed when `ivy` started.
pub fn stdout_file() -> io::Result<File> {
    if stdout_was_closed() {
        return Err(io::Error::other("standard output is closed"));
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        io::stdout().as_fd().try_clone_to_owned().map(File::from)
    }
    #[cfg(not(unix))]
    {
        Err(io::Error::other("standard output as a file needs unix"))
    }
}

/// Whether descriptor 1 was closed when the program started (`ivy basic >&-`). The
/// Rust runtime reopens a closed standard descriptor on `/dev/null`, read-write, so
/// that output would vanish without an error; a shell's `>/dev/null` opens it
/// write-only. Linux only (it reads `/proc`); elsewhere this says no.
fn stdout_was_closed() -> bool {
    const ACCESS_MODE: u32 = 0o3;
    const READ_WRITE: u32 = 0o2;
    let target = std::fs::read_link("/proc/self/fd/1");
    if !target.is_ok_and(|target| target == std::path::Path::new("/dev/null")) {
        return false;
    }
    let info = std::fs::read_to_string("/proc/self/fdinfo/1").unwrap_or_default();
    let flags = info
        .lines()
        .find_map(|line| line.strip_prefix("flags:"))
        .and_then(|flags| u32::from_str_radix(flags.trim(), 8).ok());
    flags.is_some_and(|flags| flags & ACCESS_MODE == READ_WRITE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every write after `capacity` bytes, as a closed pipe would.
    struct Closing {
        written: Vec<u8>,
        capacity: usize,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.written.len() + buf.len() > self.capacity {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_first_error_is_kept_and_later_writes_are_swallowed() {
        let mut sink = Sink::new(Closing {
            written: Vec::new(),
            capacity: 4,
        });
        sink.write_all(b"abc").unwrap();
        sink.write_all(b"defg").unwrap();
        sink.write_all(b"h").unwrap();
        assert_eq!(sink.inner.written, b"abc");
        let error = sink.finish().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn a_sink_without_errors_finishes_cleanly() {
        let mut sink = Sink::new(Vec::new());
        sink.write_all(b"line\n").unwrap();
        assert!(sink.finish().is_ok());
    }
}

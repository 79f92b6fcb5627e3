//! The reader every decoder reads through: it hands out the input in small chunks and
//! checks the deadline on each, and it reports the end of the input as an error, so a
//! decoder can neither run past its time limit while it reads nor quietly pad a file that
//! ends early.

use std::cell::Cell;
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The most bytes handed out per read: small enough that a decoder doing a lot of work
/// per input byte (a progressive JPEG with thousands of scans) still checks the clock often.
const CHUNK: usize = 4 * 1024;

/// Why the reader stopped a decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trip {
    Deadline(Duration),
    EndOfInput,
}

/// A reader with a deadline; see the module documentation.
pub struct Guarded<R> {
    inner: R,
    started: Instant,
    limit: Duration,
    end_is_error: bool,
    tripped: Rc<Cell<Option<Trip>>>,
}

impl<R> Guarded<R> {
    /// Wraps `inner`; reads fail once `limit` has passed since `started`. With
    /// `end_is_error`, asking for more input at its end fails too.
    pub fn new(inner: R, started: Instant, limit: Duration, end_is_error: bool) -> Self {
        Self {
            inner,
            started,
            limit,
            end_is_error,
            tripped: Rc::new(Cell::new(None)),
        }
    }

    /// Shared view of why the reader stopped a decode, if it did.
    pub fn trips(&self) -> Rc<Cell<Option<Trip>>> {
        self.tripped.clone()
    }

    fn check(&self) -> io::Result<()> {
        if self.started.elapsed() > self.limit {
            self.tripped.set(Some(Trip::Deadline(self.limit)));
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "time limit reached",
            ));
        }
        Ok(())
    }

    fn end(&self) -> io::Result<()> {
        if self.end_is_error {
            self.tripped.set(Some(Trip::EndOfInput));
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the input ended early",
            ));
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = self.fill_buf()?;
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guarded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.check()?;
        let at_end = self.inner.fill_buf()?.is_empty();
        if at_end {
            self.end()?;
            return Ok(&[]);
        }
        let chunk = self.inner.fill_buf()?;
        let n = chunk.len().min(CHUNK);
        Ok(&chunk[..n])
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
    }
}

impl<R: Seek> Seek for Guarded<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.check()?;
        self.inner.seek(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_and_the_deadline_are_errors() {
        let data = vec![7u8; 10_000];
        let mut r = Guarded::new(&data[..], Instant::now(), Duration::from_secs(60), true);
        assert_eq!(r.fill_buf().unwrap().len(), CHUNK);
        let mut all = Vec::new();
        let err = r.read_to_end(&mut all).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(all.len(), 10_000);
        assert_eq!(r.trips().get(), Some(Trip::EndOfInput));

        let mut lenient = Guarded::new(&data[..], Instant::now(), Duration::from_secs(60), false);
        assert_eq!(lenient.read_to_end(&mut Vec::new()).unwrap(), 10_000);

        let past = Instant::now() - Duration::from_secs(5);
        let mut late = Guarded::new(&data[..], past, Duration::from_secs(1), true);
        assert_eq!(late.fill_buf().unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            late.trips().get(),
            Some(Trip::Deadline(Duration::from_secs(1)))
        );
    }
}

//! Streaming bodies read from a file with positioned reads.
//!
//! Reads happen on the worker thread that sends the response, as nginx does by default: a
//! chunk of a file in the page cache is a memory copy of a few microseconds, far cheaper than
//! handing each chunk to a thread pool (and a pool of reader threads each keeping its own
//! allocation arena costs tens of MiB of resident memory under load). Deployments serving
//! large, cold files hand delivery to the web server (`X-Accel-Redirect`, `X-Sendfile`).

use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;

/// Bytes per read: small enough to interleave many responses on one thread.
const CHUNK: u64 = 64 * 1024;

/// Streams `len` bytes of `file` starting at `offset`. A file that turns out shorter than
/// announced ends the stream with an error, so a response is never silently truncated.
pub fn file_range(
    file: Arc<std::fs::File>,
    offset: u64,
    len: u64,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + 'static {
    futures_util::stream::try_unfold((file, offset, len), |(file, offset, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let chunk = read_at(&file, offset, left.min(CHUNK))?;
        let n = u64::try_from(chunk.len()).map_err(std::io::Error::other)?;
        let next = offset.checked_add(n).zip(left.checked_sub(n));
        let Some((offset, left)) = next else {
            return Err(std::io::Error::other("range arithmetic overflowed"));
        };
        Ok(Some((chunk, (file, offset, left))))
    })
}

/// Reads exactly `len` bytes at `offset`.
fn read_at(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<Bytes> {
    let size = usize::try_from(len).map_err(std::io::Error::other)?;
    let mut buf = vec![0u8; size];
    let mut filled = 0;
    while filled < buf.len() {
        let at = u64::try_from(filled)
            .ok()
            .and_then(|f| offset.checked_add(f))
            .ok_or_else(|| std::io::Error::other("offset overflowed"))?;
        let n = file.read_at(&mut buf[filled..], at)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "file shorter than its recorded size",
            ));
        }
        filled += n;
    }
    Ok(Bytes::from(buf))
}

/// Reads a whole small file at once (used for bodies below the streaming threshold).
pub fn read_small(file: &std::fs::File, len: u64) -> std::io::Result<Bytes> {
    read_at(file, 0, len)
}

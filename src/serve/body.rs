//! Streaming bodies read from a file with positioned reads, off the async threads.

use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;

/// Bytes per read.
const CHUNK: u64 = 128 * 1024;

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
        let want = left.min(CHUNK) as usize;
        let reader = Arc::clone(&file);
        let chunk = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; want];
            let mut filled = 0;
            while filled < want {
                let n = reader.read_at(&mut buf[filled..], offset + filled as u64)?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "file shorter than its recorded size",
                    ));
                }
                filled += n;
            }
            Ok::<_, std::io::Error>(Bytes::from(buf))
        })
        .await
        .map_err(std::io::Error::other)??;
        let n = chunk.len() as u64;
        Ok(Some((chunk, (file, offset + n, left - n))))
    })
}

/// Reads a whole small file at once (used for bodies below the streaming threshold).
pub fn read_small(file: &std::fs::File, len: u64) -> std::io::Result<Bytes> {
    let mut buf = vec![0u8; len as usize];
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read_at(&mut buf[filled..], filled as u64)?;
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

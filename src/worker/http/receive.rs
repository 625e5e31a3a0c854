//! Receiving a body: decoding gzip/brotli within limits, and keeping it in memory or spooling
//! it to a temporary file once it grows past the threshold.

use std::time::Duration;

use futures::StreamExt;

use super::{HttpError, MAX_BODY_BYTES, root_cause};

/// The `Content-Encoding`s fhirside decodes; anything else is kept as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    pub(super) fn of(header: Option<&str>) -> Encoding {
        match header.map(|h| h.trim().to_ascii_lowercase()).as_deref() {
            Some("gzip" | "x-gzip") => Encoding::Gzip,
            Some("br") => Encoding::Brotli,
            _ => Encoding::Identity,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "brotli",
        }
    }
}

/// A compressed body decoded above this size must not be more than [`MAX_RATIO`] times its
/// compressed size: JSON and NDJSON compress 5–50:1, a decompression bomb about 1,000:1 (gzip)
/// or far more (brotli).
pub const RATIO_CHECK_ABOVE: u64 = 8 * 1024 * 1024;
pub const MAX_RATIO: u64 = 1000;

/// Decodes a gzip or brotli body into `sink`, stopping at once when it grows past the decoded
/// limit ([`crate::worker::spool::max_decoded`]) or [`MAX_RATIO`] times what arrived.
pub(super) async fn read_decoded(
    resp: reqwest::Response,
    coding: Encoding,
    sink: &mut BodySink<'_>,
    timeout: Duration,
) -> Result<(), HttpError> {
    use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder};
    use tokio::io::AsyncReadExt;
    let compressed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stream = resp
        .bytes_stream()
        .map(|chunk| chunk.map_err(std::io::Error::other));
    let reader = Consumed {
        inner: tokio_util::io::StreamReader::new(stream),
        count: compressed.clone(),
    };
    let mut decoder: std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>> = match coding {
        Encoding::Gzip => {
            let mut d = GzipDecoder::new(reader);
            d.multiple_members(true);
            Box::pin(d)
        }
        _ => Box::pin(BrotliDecoder::new(reader)),
    };
    let limit = crate::worker::spool::max_decoded();
    let mut buf = vec![0u8; 256 * 1024];
    let mut decoded: u64 = 0;
    loop {
        let n = match decoder.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) => {
                return Err(
                    match e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
                        Some(net) => sink.dropped(net, timeout),
                        None => HttpError::BadEncoding {
                            encoding: coding.name(),
                            detail: e.to_string(),
                        },
                    },
                );
            }
        };
        decoded = decoded.saturating_add(n as u64);
        if decoded > limit {
            return Err(HttpError::DecodedTooLarge {
                encoding: coding.name(),
                limit_mb: limit >> 20,
            });
        }
        let arrived = compressed.load(std::sync::atomic::Ordering::Relaxed).max(1);
        if decoded > RATIO_CHECK_ABOVE && decoded / arrived > MAX_RATIO {
            return Err(HttpError::DecompressionBomb {
                encoding: coding.name(),
                decoded,
                compressed: arrived,
            });
        }
        sink.push(buf.get(..n).unwrap_or(&[]))?;
    }
}

/// Counts the compressed bytes the decoder has consumed (not merely received), so the ratio
/// check sees the real expansion from the first megabytes on.
struct Consumed<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: tokio::io::AsyncBufRead + Unpin> tokio::io::AsyncRead for Consumed<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        r
    }
}

impl<R: tokio::io::AsyncBufRead + Unpin> tokio::io::AsyncBufRead for Consumed<R> {
    fn poll_fill_buf(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<&[u8]>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(mut self: std::pin::Pin<&mut Self>, amt: usize) {
        self.count
            .fetch_add(amt as u64, std::sync::atomic::Ordering::Relaxed);
        std::pin::Pin::new(&mut self.inner).consume(amt);
    }
}

/// Where a body goes as it arrives: memory, or past the spooling threshold a temporary file
/// (dropped, and so removed, with the sink when reading fails).
pub(super) struct BodySink<'a> {
    body: Vec<u8>,
    spool: Option<crate::worker::spool::SpoolFile>,
    in_memory_limit: usize,
    progress: Option<&'a crate::worker::spool::ReceiveProgress>,
    received: usize,
    /// Once this many bytes are in, their copy goes to `progress` (a large body's head).
    head_at: Option<usize>,
}

/// The bytes of a large body's head (see [`crate::worker::spool::ReceiveProgress::set_head`]).
pub(crate) const HEAD_BYTES: usize = 64 * 1024;

impl<'a> BodySink<'a> {
    pub(super) fn new(
        announced: Option<u64>,
        progress: Option<&'a crate::worker::spool::ReceiveProgress>,
    ) -> Result<Self, HttpError> {
        let in_memory_limit = crate::worker::spool::spool_above().min(MAX_BODY_BYTES);
        let announced = announced.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let spool = if announced > in_memory_limit {
            Some(start_spool(&[], progress)?)
        } else {
            None
        };
        // Reserve what the server announced (within the limit), so a large body is not copied
        // while it grows.
        let capacity = if spool.is_some() {
            0
        } else {
            announced.min(in_memory_limit)
        };
        Ok(BodySink {
            body: Vec::with_capacity(capacity),
            spool,
            in_memory_limit,
            progress,
            received: 0,
            // Only a large body in memory is worth showing before it is all in.
            head_at: (progress.is_some() && capacity > crate::worker::body::PREVIEW_ABOVE)
                .then_some(HEAD_BYTES),
        })
    }

    pub(super) fn push(&mut self, bytes: &[u8]) -> Result<(), HttpError> {
        if let Some(p) = self.progress {
            p.add(bytes.len());
        }
        self.received = self.received.saturating_add(bytes.len());
        if self.spool.is_none() && self.body.len() + bytes.len() > self.in_memory_limit {
            self.spool = Some(start_spool(&self.body, self.progress)?);
            self.body = Vec::new();
        }
        match self.spool.as_mut() {
            Some(f) => {
                if f.len() + bytes.len() as u64 > crate::worker::spool::MAX_SPOOL_BYTES {
                    return Err(HttpError::BodyTooLarge);
                }
                f.write_all(bytes).map_err(spool_failed)
            }
            None => {
                self.body.extend_from_slice(bytes);
                if let (Some(n), Some(p)) = (self.head_at, self.progress)
                    && let Some(head) = self.body.get(..n)
                {
                    p.set_head(head);
                    self.head_at = None;
                }
                Ok(())
            }
        }
    }

    /// The error for a connection that failed while the body arrived.
    pub(super) fn dropped(&self, e: &reqwest::Error, timeout: Duration) -> HttpError {
        if e.is_timeout() {
            return HttpError::Timeout(timeout);
        }
        HttpError::BodyDropped {
            received: self.received,
            detail: root_cause(e),
        }
    }

    pub(super) fn finish(
        self,
    ) -> Result<
        (
            bytes::Bytes,
            Option<std::sync::Arc<crate::worker::spool::SpoolFile>>,
        ),
        HttpError,
    > {
        match self.spool {
            Some(mut f) => {
                f.flush().map_err(spool_failed)?;
                Ok((bytes::Bytes::new(), Some(std::sync::Arc::new(f))))
            }
            None => Ok((self.body.into(), None)),
        }
    }
}

/// A temporary file for a large body, holding what was received so far.
fn start_spool(
    so_far: &[u8],
    progress: Option<&crate::worker::spool::ReceiveProgress>,
) -> Result<crate::worker::spool::SpoolFile, HttpError> {
    let mut f = crate::worker::spool::SpoolFile::create().map_err(spool_failed)?;
    f.write_all(so_far).map_err(spool_failed)?;
    if let Some(p) = progress {
        p.set_spooling();
    }
    Ok(f)
}

fn spool_failed(e: std::io::Error) -> HttpError {
    HttpError::Other(format!(
        "The body is too large for memory and saving it to a temporary file failed: {e}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::spool::ReceiveProgress;

    #[test]
    fn a_large_bodys_head_is_copied_once_it_is_in() {
        let p = ReceiveProgress::new();
        let announced = (crate::worker::body::PREVIEW_ABOVE + 1) as u64;
        let mut sink = BodySink::new(Some(announced), Some(&p)).unwrap();
        sink.push(&[b'{'; 1000]).unwrap();
        assert!(p.head().is_none(), "not all of the head is in yet");
        sink.push(&vec![b' '; HEAD_BYTES]).unwrap();
        let head = p.head().expect("the head");
        assert_eq!(head.len(), HEAD_BYTES);
        assert_eq!(&head[..1000], &[b'{'; 1000][..]);
        // A small body has no head: it is shown whole at once.
        let small = ReceiveProgress::new();
        let mut sink = BodySink::new(Some(100_000), Some(&small)).unwrap();
        sink.push(&vec![b'x'; 100_000]).unwrap();
        assert!(small.head().is_none());
    }
}

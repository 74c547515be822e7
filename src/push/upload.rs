//! One blob's upload: a session, ONE streamed PATCH with the whole blob (what docker and skopeo
//! send: no round trip per chunk), then the commit by digest. A layer file is read on a blocking
//! thread a frame at a time and hashed as it goes out, so memory stays at a few frames per upload
//! whatever the layer's size, and a file that does not match its digest is never committed.
//! A PATCH that fails (connection lost, silence, 429, 5xx, a refused login, a session the
//! registry lost) starts a new session from the first byte, with backoff, up to the retry budget;
//! a commit whose answer was lost is recognised by the blob being there.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::anyhow;
use bytes::Bytes;
use http::StatusCode;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::image::{Blob, BlobData};
use super::manifest::format_digest;
use super::registry::{session_lost, short, verdict, Registry, Verdict};
use super::report::Observer;
use super::streams::Streams;
use super::transport::{Activity, RequestBody};

/// The size of the frames a layer is streamed in.
pub const FRAME: usize = 512 << 10;
/// Frames read ahead of the connection per upload: with [`FRAME`], 2 MiB per upload in flight.
const FRAMES_AHEAD: usize = 4;
/// Blobs smaller than this (configs, small layers) take no stream place: their time is round
/// trips, not bandwidth.
const STREAMED_FROM: u64 = 2 * FRAME as u64;

/// How one attempt ended when it did not commit the blob.
enum Failure {
    /// Worth a new session (after a backoff, at least `after` when the registry said).
    Retry(anyhow::Error, Option<std::time::Duration>),
    /// Retrying cannot help (a file that cannot be read or does not match its digest).
    Fatal(anyhow::Error),
}

/// Uploads `blob` into `repo`, in `session` when a mount already opened one, as one of the
/// `streams` when it is large.
pub async fn upload(
    registry: &Registry,
    repo: &str,
    blob: &Blob,
    mut session: Option<String>,
    observer: &Observer,
    streams: &Arc<Streams>,
) -> anyhow::Result<()> {
    let digest = &blob.descriptor.digest;
    let _place = if blob.descriptor.size >= STREAMED_FROM {
        Some(streams.acquire().await?)
    } else {
        None
    };
    let retry = registry.retry();
    let mut backoff = retry.first_backoff;
    // Progress counts each byte once, however many attempts send it.
    let reported = Arc::new(AtomicU64::new(0));
    for attempt in 1..=retry.attempts {
        let location = match session.take() {
            Some(location) => location,
            None => registry.start_upload(repo, observer).await?,
        };
        let attempt_result =
            attempt_upload(registry, &location, blob, &reported, observer, streams).await;
        let failure = match attempt_result {
            Ok(()) => return Ok(()),
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Retry(e, after)) => (e, after),
        };
        // The commit may have landed with its answer lost.
        if registry.blob_exists(repo, digest, observer).await? {
            return Ok(());
        }
        if attempt == retry.attempts {
            return Err(failure.0.context(format!(
                "uploading blob {digest} to {repo} failed {attempt} times"
            )));
        }
        tokio::time::sleep(failure.1.unwrap_or(backoff).max(backoff)).await;
        backoff *= 2;
    }
    unreachable!("the last attempt returns")
}

async fn attempt_upload(
    registry: &Registry,
    location: &str,
    blob: &Blob,
    reported: &Arc<AtomicU64>,
    observer: &Observer,
    streams: &Arc<Streams>,
) -> Result<(), Failure> {
    let digest = &blob.descriptor.digest;
    let activity = Activity::new();
    let sent = progress_counter(Arc::clone(reported), observer.clone(), Arc::clone(streams));
    let (body, reader) = match &blob.data {
        BlobData::Memory(bytes) => {
            sent(bytes.len() as u64);
            (RequestBody::from(bytes.clone()), None)
        }
        BlobData::File { path, offset } => {
            let (frames, reader) = read_file(path.clone(), *offset, blob.descriptor.size);
            let body = RequestBody::Stream {
                frames,
                left: blob.descriptor.size,
                activity: Arc::clone(&activity),
                sent,
            };
            (body, Some(reader))
        }
    };
    let what = format!("uploading blob {}", short(digest));
    let (credentials, result) = registry
        .patch(location, body, &activity, &what, observer)
        .await;
    // A reader that failed explains a failed PATCH better than the connection does.
    let read = match reader {
        Some(reader) => Some(finish_reader(reader, digest).await?),
        None => None,
    };
    let next = match verdict(&result, false) {
        Verdict::Done => match result {
            Ok(answer) if answer.status == StatusCode::ACCEPTED => {
                registry.location(&answer).map_err(Failure::Fatal)?
            }
            Ok(answer) if session_lost(&answer) => {
                return Err(Failure::Retry(answer.error(&what), None))
            }
            Ok(answer) => return Err(Failure::Fatal(answer.error(&what))),
            Err(e) => return Err(Failure::Fatal(anyhow::Error::new(e).context(what))),
        },
        Verdict::Relogin => {
            registry
                .relogin(&credentials)
                .await
                .map_err(Failure::Fatal)?;
            return Err(Failure::Retry(
                anyhow!("{what}: the registry refused the login"),
                None,
            ));
        }
        Verdict::Retry(after) => {
            let error = match result {
                Ok(answer) => answer.error(&what),
                Err(e) => anyhow::Error::new(e).context(what.clone()),
            };
            return Err(Failure::Retry(error, after));
        }
    };
    if let Some(Some(read_digest)) = read {
        if read_digest != *digest {
            return Err(Failure::Fatal(anyhow!(
                "blob {digest}: its file hashes to {read_digest} (it changed or is corrupt); rebuild the image"
            )));
        }
    }
    let answer = registry
        .commit(&next, digest, observer)
        .await
        .map_err(|e| Failure::Retry(e, None))?;
    match answer.status {
        StatusCode::CREATED | StatusCode::NO_CONTENT => Ok(()),
        _ => Err(Failure::Retry(
            answer.error(&format!("committing blob {}", short(digest))),
            None,
        )),
    }
}

/// Reports the bytes of an attempt that go beyond what earlier attempts reached, and counts
/// every byte sent for the stream limit's measure.
fn progress_counter(
    reported: Arc<AtomicU64>,
    observer: Observer,
    streams: Arc<Streams>,
) -> Box<dyn Fn(u64) + Send + Sync> {
    let sent = AtomicU64::new(0);
    Box::new(move |len| {
        streams.sent(len);
        let now = sent.fetch_add(len, Ordering::Relaxed) + len;
        let before = reported.fetch_max(now, Ordering::Relaxed);
        observer.progress(now.saturating_sub(before));
    })
}

/// Streams `size` bytes of `path` from `offset` as frames, hashing them on the way; the reader
/// ends with the digest, or `None` when the upload stopped taking frames.
fn read_file(
    path: PathBuf,
    offset: u64,
    size: u64,
) -> (
    mpsc::Receiver<io::Result<Bytes>>,
    JoinHandle<io::Result<Option<String>>>,
) {
    let (frames, receiver) = mpsc::channel(FRAMES_AHEAD);
    let reader = tokio::task::spawn_blocking(move || {
        let result = hash_frames(&path, offset, size, &frames);
        if let Err(e) = &result {
            // The PATCH fails on this; the reader's error says why.
            let _ = frames.blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
        }
        result
    });
    (receiver, reader)
}

fn hash_frames(
    path: &std::path::Path,
    offset: u64,
    size: u64,
    frames: &mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<Option<String>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut file = file.take(size);
    let mut hasher = Sha256::new();
    let mut left = size;
    while left > 0 {
        let len = usize::try_from(left).unwrap_or(FRAME).min(FRAME);
        // read_to_end fills the spare capacity without zeroing it first.
        let mut frame = Vec::with_capacity(len);
        let read = (&mut file).take(len as u64).read_to_end(&mut frame);
        let problem = match read {
            Ok(n) if n == len => None,
            Ok(_) => Some(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} ends before the blob's {size} bytes", path.display()),
            )),
            Err(e) => Some(io::Error::new(
                e.kind(),
                format!("reading {} for upload: {e}", path.display()),
            )),
        };
        if let Some(problem) = problem {
            return Err(problem);
        }
        hasher.update(&frame);
        left -= len as u64;
        if frames.blocking_send(Ok(Bytes::from(frame))).is_err() {
            return Ok(None);
        }
    }
    Ok(Some(format_digest(&hasher.finalize())))
}

/// The reader's digest (`None`: it was stopped), or why reading failed.
async fn finish_reader(
    reader: JoinHandle<io::Result<Option<String>>>,
    digest: &str,
) -> Result<Option<String>, Failure> {
    match reader.await {
        Ok(Ok(read)) => Ok(read),
        Ok(Err(e)) => Err(Failure::Fatal(
            anyhow::Error::new(e).context(format!("blob {digest}")),
        )),
        Err(e) => Err(Failure::Fatal(anyhow!(
            "the reader of blob {digest} stopped: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::manifest::sha256_digest;
    use crate::push::report::{Event, Events};

    #[tokio::test]
    async fn a_file_streams_in_frames_with_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        let data: Vec<u8> = (0..(FRAME * 2 + 100)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, [b"xx".as_slice(), &data].concat()).unwrap();
        let (mut frames, reader) = read_file(path, 2, data.len() as u64);
        let mut got = Vec::new();
        let mut lens = Vec::new();
        while let Some(frame) = frames.recv().await {
            let frame = frame.unwrap();
            lens.push(frame.len());
            got.extend_from_slice(&frame);
        }
        assert_eq!(lens, [FRAME, FRAME, 100]);
        assert_eq!(got, data);
        assert_eq!(reader.await.unwrap().unwrap(), Some(sha256_digest(&data)));
    }

    #[tokio::test]
    async fn a_short_file_fails_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"short").unwrap();
        let (mut frames, reader) = read_file(path, 0, 10);
        assert!(frames.recv().await.unwrap().is_err());
        let err = reader.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn progress_counts_each_byte_once_across_attempts() {
        let (events, mut received) = Events::channel();
        let observer = Observer {
            image: "F".into(),
            events,
        };
        let reported = Arc::new(AtomicU64::new(0));
        let streams = Arc::new(Streams::new(1, 1));
        let first = progress_counter(
            Arc::clone(&reported),
            observer.clone(),
            Arc::clone(&streams),
        );
        first(300);
        first(200);
        // The connection broke at 500; the next attempt starts from 0 again.
        let second = progress_counter(Arc::clone(&reported), observer, streams);
        second(400);
        second(400);
        drop((first, second));
        let mut total = 0;
        while let Ok(event) = received.try_recv() {
            if let Event::Progress { bytes, .. } = event {
                total += bytes;
            }
        }
        assert_eq!(total, 800);
    }
}

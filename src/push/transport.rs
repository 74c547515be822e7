//! The HTTP(S) client under registry pushes: rustls trusting what [`crate::network`] trusts,
//! proxies from the environment as the AWS SDK's client takes them (hyper-util's matcher: HTTPS
//! destinations through a `CONNECT` tunnel, HTTP ones in absolute form), a connect timeout, and a
//! watch over every exchange that tells when the registry has gone quiet and gives up when it
//! stays quiet too long. Request bodies are either bytes in memory or a stream of frames (a layer
//! read from disk), so memory does not grow with layer sizes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http::header::PROXY_AUTHORIZATION;
use http::{Request, Response, Uri};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::mpsc;
use tower_service::Service;

/// When a quiet exchange is reported, when it is given up, and how long a connection may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patience {
    /// No byte moved for this long: say what samrs waits for (and again after each further
    /// such period).
    pub report_after: Duration,
    /// No byte moved for this long: the attempt fails (and may be retried).
    pub give_up_after: Duration,
    pub connect: Duration,
}

/// A registry may work a while on a large layer's commit before it answers: more than the 30 s
/// AWS calls get by default.
const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(120);

impl Default for Patience {
    fn default() -> Self {
        Self {
            report_after: crate::settings::slow_call_threshold(None),
            give_up_after: DEFAULT_GIVE_UP_AFTER,
            connect: crate::aws::timeout_config(None, None)
                .connect_timeout()
                .unwrap_or(Duration::from_secs(5)),
        }
    }
}

impl Patience {
    /// The AWS calls' knobs, read as they are: `SAMRS_SLOW_CALL_SECONDS` (when to report),
    /// `SAMRS_CONNECT_TIMEOUT`, and `SAMRS_READ_TIMEOUT` (silence before giving up; 120 s for
    /// registries unless set).
    pub fn from_settings(
        slow_call: Option<&str>,
        connect: Option<&str>,
        read: Option<&str>,
    ) -> Patience {
        let defaults = Patience::default();
        Patience {
            report_after: crate::settings::slow_call_threshold(slow_call),
            give_up_after: crate::aws::seconds(read).unwrap_or(defaults.give_up_after),
            connect: crate::aws::seconds(connect).unwrap_or(defaults.connect),
        }
    }
}

/// A request body: bytes in memory, or frames of a layer streamed from a reader.
pub enum RequestBody {
    Bytes(Option<Bytes>),
    Stream {
        frames: mpsc::Receiver<io::Result<Bytes>>,
        left: u64,
        activity: Arc<Activity>,
        /// Hears the size of each frame handed to the connection.
        sent: Box<dyn Fn(u64) + Send + Sync>,
    },
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> Self {
        RequestBody::Bytes((!bytes.is_empty()).then_some(bytes))
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            RequestBody::Bytes(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            RequestBody::Stream {
                frames,
                left,
                activity,
                sent,
            } => match frames.poll_recv(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let len = frame.len() as u64;
                    *left = left.saturating_sub(len);
                    activity.touch();
                    sent(len);
                    Poll::Ready(Some(Ok(Frame::data(frame))))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) if *left > 0 => Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the layer ended before its size",
                )))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RequestBody::Bytes(bytes) => bytes.is_none(),
            RequestBody::Stream { left, .. } => *left == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RequestBody::Bytes(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            RequestBody::Stream { left, .. } => SizeHint::with_exact(*left),
        }
    }
}

/// When bytes last moved in an exchange (milliseconds since `start`).
#[derive(Debug)]
pub struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        })
    }

    pub fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(now, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Why an exchange failed before an answer came.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("no byte moved for {} s", .0.as_secs())]
    Quiet(Duration),
    #[error("{}", describe_transport_error(.0.as_ref()))]
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// The server's certificate is not trusted: no retry will change that.
    #[error("{0}")]
    Untrusted(String),
}

impl ExchangeError {
    fn transport(err: impl std::error::Error + Send + Sync + 'static) -> ExchangeError {
        let text = describe_transport_error(&err);
        match text.find(crate::network::UNTRUSTED_CERTIFICATE) {
            Some(at) => ExchangeError::Untrusted(format!(
                "{} ({})",
                &text[at..],
                crate::network::UNTRUSTED_HINT
            )),
            None => ExchangeError::Transport(Box::new(err)),
        }
    }
}

/// hyper's errors say "client error (Connect)" and hide the cause; this names it.
fn describe_transport_error(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The registry client: one connection pool for the run.
#[derive(Clone)]
pub struct Transport {
    client: Client<HttpsConnector<ProxyConnector>, RequestBody>,
    matcher: Arc<Matcher>,
}

impl Transport {
    /// A client trusting `tls`, going through the proxies `matcher` picks, giving connections
    /// `connect_timeout` to open.
    pub fn new(
        tls: rustls::ClientConfig,
        matcher: Matcher,
        connect_timeout: Duration,
    ) -> Transport {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(connect_timeout));
        let matcher = Arc::new(matcher);
        let to_proxy = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls.clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp.clone());
        let connector = ProxyConnector {
            tcp,
            to_proxy,
            matcher: Arc::clone(&matcher),
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        Transport {
            client: Client::builder(TokioExecutor::new()).build(https),
            matcher,
        }
    }

    /// Sends `request` and reads the answer's (small) body, watching for silence: after
    /// `patience.report_after` without a byte moving `quiet` hears how long it has been (again
    /// after each further such period), and after `patience.give_up_after` the exchange fails.
    pub async fn exchange(
        &self,
        mut request: Request<RequestBody>,
        activity: &Arc<Activity>,
        patience: Patience,
        quiet: &(dyn Fn(Duration) + Send + Sync),
    ) -> Result<Response<Bytes>, ExchangeError> {
        // An HTTP (not HTTPS) destination behind a proxy is asked through it in absolute form,
        // so its credentials go with each request rather than with a CONNECT.
        if request.uri().scheme_str() == Some("http") {
            if let Some(auth) = self
                .matcher
                .intercept(request.uri())
                .and_then(|i| i.basic_auth().cloned())
            {
                request.headers_mut().insert(PROXY_AUTHORIZATION, auth);
            }
        }
        let client = self.client.clone();
        let touch = Arc::clone(activity);
        let exchange = async move {
            let response = client
                .request(request)
                .await
                .map_err(ExchangeError::transport)?;
            touch.touch();
            let (parts, mut body) = response.into_parts();
            let bytes = read_body(&mut body, &touch)
                .await
                .map_err(ExchangeError::transport)?;
            Ok(Response::from_parts(parts, bytes))
        };
        watch(exchange, activity, patience, quiet).await
    }
}

async fn read_body(body: &mut Incoming, activity: &Activity) -> Result<Bytes, hyper::Error> {
    use http_body_util::BodyExt;
    let mut out = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            activity.touch();
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}

/// Runs `exchange`, checking `activity` a few times a second.
async fn watch<T>(
    exchange: impl Future<Output = Result<T, ExchangeError>>,
    activity: &Activity,
    patience: Patience,
    quiet: &(dyn Fn(Duration) + Send + Sync),
) -> Result<T, ExchangeError> {
    let tick = (patience.report_after.min(patience.give_up_after) / 4)
        .clamp(Duration::from_millis(10), Duration::from_millis(250));
    let mut next_report = patience.report_after;
    tokio::pin!(exchange);
    loop {
        tokio::select! {
            result = &mut exchange => return result,
            () = tokio::time::sleep(tick) => {
                let silent = activity.quiet_for();
                if silent >= patience.give_up_after {
                    return Err(ExchangeError::Quiet(silent));
                }
                if silent >= next_report {
                    quiet(next_report);
                    next_report += patience.report_after;
                } else if silent < patience.report_after {
                    next_report = patience.report_after;
                }
            }
        }
    }
}

/// A connection as the proxy matcher wants it: direct, tunnelled through a proxy, or to a
/// proxy that forwards plain HTTP (then hyper sends absolute-form requests).
#[derive(Clone)]
pub struct ProxyConnector {
    tcp: HttpConnector,
    to_proxy: HttpsConnector<HttpConnector>,
    matcher: Arc<Matcher>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Stream = ProxiedStream<MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>>;

impl Service<Uri> for ProxyConnector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let intercept = self.matcher.intercept(&destination);
        let (mut tcp, mut to_proxy) = (self.tcp.clone(), self.to_proxy.clone());
        Box::pin(async move {
            let Some(proxy) = intercept else {
                let stream = tcp.call(destination).await?;
                return Ok(ProxiedStream::new(MaybeHttpsStream::Http(stream), false));
            };
            if !matches!(proxy.uri().scheme_str(), Some("http" | "https")) {
                return Err(format!(
                    "proxy {} is not an http:// or https:// proxy, which is all registry pushes support",
                    proxy.uri()
                )
                .into());
            }
            if destination.scheme_str() == Some("https") {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), to_proxy);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let stream = tunnel
                    .call(destination)
                    .await
                    .map_err(|e| format!("through proxy {}: {e}", redact_userinfo(proxy.uri())))?;
                Ok(ProxiedStream::new(stream, false))
            } else {
                let stream = to_proxy.call(proxy.uri().clone()).await?;
                Ok(ProxiedStream::new(stream, true))
            }
        })
    }
}

/// A proxy URI without its credentials, for messages.
fn redact_userinfo(uri: &Uri) -> String {
    match uri.authority() {
        Some(authority) => {
            let host = authority.as_str().rsplit('@').next().unwrap_or_default();
            format!("{}://{host}", uri.scheme_str().unwrap_or("http"))
        }
        None => uri.to_string(),
    }
}

/// A stream that tells hyper whether it leads to a forwarding proxy.
pub struct ProxiedStream<T> {
    inner: T,
    proxied: bool,
}

impl<T> ProxiedStream<T> {
    fn new(inner: T, proxied: bool) -> Self {
        Self { inner, proxied }
    }
}

impl<T: Connection> Connection for ProxiedStream<T> {
    fn connected(&self) -> Connected {
        self.inner.connected().proxy(self.proxied)
    }
}

impl<T: Read + Unpin> Read for ProxiedStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for ProxiedStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}

/// The transport for a run: the network's trust and the environment's proxies.
pub fn from_network(
    network: &crate::network::Network,
    connect_timeout: Duration,
) -> anyhow::Result<Transport> {
    let tls = network
        .rustls_config()
        .context("setting up TLS for the registry")?;
    Ok(Transport::new(tls, Matcher::from_env(), connect_timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_credentials_stay_out_of_messages() {
        let uri: Uri = "http://user:secret@proxy.corp:3128".parse().unwrap();
        assert_eq!(redact_userinfo(&uri), "http://proxy.corp:3128");
    }

    #[tokio::test]
    async fn a_quiet_exchange_is_reported_then_given_up() {
        let activity = Activity::new();
        let heard = std::sync::Mutex::new(Vec::new());
        let patience = Patience {
            report_after: Duration::from_millis(40),
            give_up_after: Duration::from_millis(1500),
            connect: Duration::from_secs(1),
        };
        let never = std::future::pending::<Result<(), ExchangeError>>();
        let result = watch(never, &activity, patience, &|d| {
            heard.lock().unwrap().push(d)
        })
        .await;
        assert!(matches!(result, Err(ExchangeError::Quiet(d)) if d >= patience.give_up_after));
        let heard = heard.lock().unwrap();
        // Reported once it went quiet, then after each further 40 ms: 40, 80, 120 ms...
        assert!(heard.len() >= 2, "{heard:?}");
        let periods: Vec<u128> = heard.iter().map(|d| d.as_millis() / 40).collect();
        assert!(periods.iter().zip(1..).all(|(p, n)| *p == n), "{heard:?}");
    }

    #[tokio::test]
    async fn an_active_exchange_is_neither_reported_nor_given_up() {
        let activity = Activity::new();
        // Busy for twice the patience, never quiet for more than a tenth of it (with room for a
        // loaded machine's scheduling).
        let patience = Patience {
            report_after: Duration::from_millis(500),
            give_up_after: Duration::from_millis(600),
            connect: Duration::from_secs(1),
        };
        let busy = {
            let activity = Arc::clone(&activity);
            async move {
                for _ in 0..24 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    activity.touch();
                }
                Ok(7)
            }
        };
        let result = watch(busy, &activity, patience, &|d| panic!("reported {d:?}")).await;
        assert_eq!(result.unwrap(), 7);
    }
}

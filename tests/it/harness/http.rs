//! A minimal HTTP/1.0 client over std's TcpStream, for the two emulator APIs the crate has no SDK
//! for (Lambda's REST API on moto, the registry's v2 API). HTTP/1.0 makes servers answer without
//! chunked encoding and close the connection, so a response is simply everything read until EOF.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response: status code and body (lossily decoded; both APIs answer JSON), and the body's
/// bytes (registry blobs are binary).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Response {
    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!("HTTP {} body is not JSON ({e}): {}", self.status, self.body)
        })
    }
}

/// Sends `method path` to 127.0.0.1:`port` with `headers` and `body`; panics on I/O errors.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a read timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .expect("send an HTTP request");
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("read the answer to {method} {path}: {e}"));
    parse(&raw).unwrap_or_else(|| {
        panic!(
            "malformed HTTP answer to {method} {path}: {}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let status = head
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let bytes = raw[split + 4..].to_vec();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    Some(Response {
        status,
        body,
        bytes,
    })
}

/// `user:password` as an HTTP Basic `Authorization` value.
pub fn basic_auth(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}");
    let mut encoded = String::new();
    for chunk in input.as_bytes().chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                encoded.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                encoded.push('=');
            }
        }
    }
    format!("Basic {encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_encodes_like_base64() {
        // `printf 'AWS:123456789012-auth-token' | base64`
        assert_eq!(
            basic_auth("AWS", "123456789012-auth-token"),
            "Basic QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu"
        );
        // padding cases: `printf 'a:b' | base64`, `printf 'ab:c' | base64`
        assert_eq!(basic_auth("a", "b"), "Basic YTpi");
        assert_eq!(basic_auth("ab", "c"), "Basic YWI6Yw==");
        assert_eq!(basic_auth("abc", "de"), "Basic YWJjOmRl");
    }

    #[test]
    fn parse_splits_status_and_body() {
        let r = parse(
            b"HTTP/1.0 401 Unauthorized\r\nContent-Type: application/json\r\n\r\n{\"errors\":[]}",
        )
        .unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.body, "{\"errors\":[]}");
        assert!(parse(b"HTTP/1.0 200 OK\r\n").is_none());
    }
}

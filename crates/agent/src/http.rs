//! A minimal HTTP/1.1 server on `std::net::TcpListener`, for the agent's three read-only endpoints.
//!
//! Why not a server crate: the agent answers `GET` (and `HEAD`) on a few paths with a body it
//! already holds, to one scraper and the odd `curl`; it needs no keep-alive, chunking, TLS or
//! routing. What it must do is never let a client hold it: the request head is read up to
//! [`MAX_HEAD`] bytes within [`Options::head_deadline`] (`408` after it: a client sending a byte
//! now and then cannot keep a connection), a response is written within [`WRITE_DEADLINE`], at most
//! [`MAX_CONNECTIONS`] are served at once (more get `503` at once), every response carries
//! `Content-Length` and `Connection: close`, and a request body is never read. That is a few hundred lines we test
//! ourselves, against adding an HTTP stack and its dependencies to an agent on every node.
//! (See: RFC 9112 for the message syntax: request line, header fields, CRLF.)
//!
//! Authentication: with a token, every path except [`OPEN_PATHS`] needs
//! `Authorization: Bearer TOKEN` (compared in constant time); a missing or wrong one gets `401`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most bytes of a request's line and headers.
pub const MAX_HEAD: usize = 8 * 1024;
/// Most connections served at once.
pub const MAX_CONNECTIONS: usize = 16;
/// Time a client has to send its request line and headers (the default of [`Options::head_deadline`]).
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a response has to be written, however slowly the client reads.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(60);
/// Paths answered without a token (they say only whether the agent runs).
pub const OPEN_PATHS: &[&str] = &["/healthz"];

/// A parsed request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The path, percent-decoded, without the query.
    pub path: String,
    /// Query parameters, percent-decoded (`+` stays `+`: times carry offsets).
    pub query: Vec<(String, String)>,
    /// Header fields, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, content_type, body: body.into() }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Response {
        let mut b: String = body.into();
        if !b.ends_with('\n') {
            b.push('\n');
        }
        Response::new(status, "text/plain; charset=utf-8", b)
    }
}

/// What answers requests.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, req: &Request) -> Response;
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `%XX` decoded; an invalid escape is kept as written.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a request head (up to the blank line). `Err` carries the status to answer.
pub fn parse_head(head: &str) -> Result<Request, u16> {
    let mut lines = head.split("\r\n");
    let line = lines.next().ok_or(400u16)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Err(400);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let mut headers = Vec::new();
    for l in lines {
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').ok_or(400u16)?;
        if k.is_empty() || k.contains(' ') {
            return Err(400);
        }
        headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
    }
    Ok(Request { method: method.to_string(), path: percent_decode(path), query, headers })
}

/// Equal bytes, in time that does not depend on where they differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bearer token every request (but [`OPEN_PATHS`]) must carry.
    pub token: Option<String>,
    /// Time a client has to send the request head from connecting ([`IO_TIMEOUT`]).
    pub head_deadline: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { token: None, head_deadline: IO_TIMEOUT }
    }
}

/// Serves `listener` until the process ends: a thread per connection, at most [`MAX_CONNECTIONS`].
pub fn serve(listener: TcpListener, handler: Arc<dyn Handler>, opts: Options) {
    let active = Arc::new(AtomicUsize::new(0));
    let opts = Arc::new(opts);
    for conn in listener.incoming() {
        let Ok(mut stream) = conn else {
            // Out of descriptors or the like: let it pass rather than spin.
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        // The 503 is a few bytes into an empty socket buffer: writing it never blocks this loop.
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            let _ = write_response(&mut stream, &Response::text(503, "busy: too many connections"), false);
            continue;
        }
        let (h, o, a) = (handler.clone(), opts.clone(), active.clone());
        let spawned = std::thread::Builder::new().name("http".into()).spawn(move || {
            handle_connection(stream, &*h, &o);
            a.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Reads the request head within `deadline`. `Err(0)`: the client went away or sent nothing (the
/// connection is closed without an answer); otherwise the status to answer.
fn read_head(stream: &mut TcpStream, deadline: Duration) -> Result<String, u16> {
    let until = Instant::now() + deadline;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end + 2);
            return String::from_utf8(buf).map_err(|_| 400);
        }
        if buf.len() > MAX_HEAD {
            return Err(431);
        }
        let left = until.saturating_duration_since(Instant::now());
        let late = if buf.is_empty() { 0 } else { 408 };
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(late);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(0),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(late)
            }
            Err(_) => return Err(0),
        }
    }
}

fn handle_connection(mut stream: TcpStream, handler: &dyn Handler, opts: &Options) {
    let req = match read_head(&mut stream, opts.head_deadline).and_then(|h| parse_head(&h)) {
        Ok(r) => r,
        Err(0) => return,
        Err(status) => {
            let _ = write_response(&mut stream, &Response::text(status, reason(status)), false);
            close(stream);
            return;
        }
    };
    let head_only = req.method == "HEAD";
    let resp = if req.method != "GET" && !head_only {
        Response::text(405, "only GET and HEAD")
    } else if !authorized(&req, opts) {
        Response::text(401, "a bearer token is required: Authorization: Bearer TOKEN")
    } else {
        handler.handle(&req)
    };
    let _ = write_response(&mut stream, &resp, head_only);
    close(stream);
}

/// Ends the response, then reads (a little, briefly) what the client still sends: closing a socket
/// with unread input makes the kernel send a reset, which can destroy the response in flight.
fn close(mut stream: TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let until = Instant::now() + Duration::from_millis(500);
    let mut sink = [0u8; 4096];
    let mut left: usize = 256 * 1024;
    while left > 0 {
        let time = until.saturating_duration_since(Instant::now());
        if time.is_zero() || stream.set_read_timeout(Some(time)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// Writes all of `data` by `until`, however slowly the client reads.
fn write_by(stream: &mut TcpStream, mut data: &[u8], until: Instant) -> std::io::Result<()> {
    while !data.is_empty() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client reads too slowly"));
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(data) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn authorized(req: &Request, opts: &Options) -> bool {
    let Some(token) = &opts.token else { return true };
    if OPEN_PATHS.contains(&req.path.as_str()) {
        return true;
    }
    req.header("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .is_some_and(|t| same_secret(t.trim().as_bytes(), token.as_bytes()))
}

fn write_response(stream: &mut TcpStream, r: &Response, head_only: bool) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    if r.status == 401 {
        head.push_str("WWW-Authenticate: Bearer\r\n");
    }
    head.push_str("\r\n");
    let until = Instant::now() + WRITE_DEADLINE;
    write_by(stream, head.as_bytes(), until)?;
    if !head_only {
        write_by(stream, &r.body, until)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads() {
        let r = parse_head(
            "GET /summary?since=2025-10-13T19%3A00%3A00+09:00&x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer s3\r\n",
        )
        .unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/summary"));
        assert_eq!(r.param("since"), Some("2025-10-13T19:00:00+09:00"));
        assert_eq!(r.param("x"), Some(""));
        assert_eq!(r.header("authorization"), Some("Bearer s3"));
        assert_eq!(parse_head("GET / HTTP/1.1 extra\r\n").unwrap_err(), 400);
        assert_eq!(parse_head("GET nothing HTTP/1.1\r\n").unwrap_err(), 400);
        assert_eq!(parse_head("GET / SMTP\r\n").unwrap_err(), 400);
        assert_eq!(parse_head("GET / HTTP/1.1\r\nno colon here\r\n").unwrap_err(), 400);
        assert_eq!(percent_decode("a%2Bb%zz%4"), "a+b%zz%4");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        let opts = Options { token: Some("t0ken".into()), ..Default::default() };
        let mut req = parse_head("GET /metrics HTTP/1.1\r\nAuthorization: Bearer t0ken\r\n").unwrap();
        assert!(authorized(&req, &opts));
        req.headers.clear();
        assert!(!authorized(&req, &opts));
        req.path = "/healthz".into();
        assert!(authorized(&req, &opts));
    }
}

//! The HTTP/1.1 plumbing shared by the API fakes (`fake_clockify.rs`, `fake_toggl.rs`): a tiny server on
//! `127.0.0.1:0` (std threads, keep-alive, `Content-Length` and chunked request bodies) that hands every
//! parsed request to a [`Handler`] and then answers it, drops the connection, or stalls it. What the API
//! says, and how it is logged, is the handler's business.

// A support module: not every helper is used by every test build.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One parsed request. `close` is whether the connection closes after the answer (HTTP/1.0 or
/// `Connection: close`).
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub close: bool,
}

impl Request {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A response; `Content-Type`, `Content-Length` and (when closing) `Connection: close` are written by the
/// server, `headers` after them.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Response {
        Response { status, content_type, headers: Vec::new(), body: body.into() }
    }
}

/// What the server does with a request once the handler has processed it.
pub enum Answer {
    /// Wait `delay` (cut short when the server stops), then send `response`.
    Respond { response: Response, delay: Duration },
    /// Close the connection without sending a byte.
    Drop,
    /// Hold the connection open without answering for this long, then close it.
    Stall(Duration),
}

impl Answer {
    /// Send `response` at once.
    pub fn now(response: Response) -> Answer {
        Answer::Respond { response, delay: Duration::ZERO }
    }

    /// The status that will be sent; 0 when no response is.
    pub fn status(&self) -> u16 {
        match self {
            Answer::Respond { response, .. } => response.status,
            Answer::Drop | Answer::Stall(_) => 0,
        }
    }
}

/// A fake's state, shared by its test-facing API and its [`Handler`] (implemented on `Shared<State>`).
pub struct Shared<S>(Mutex<S>);

impl<S> Shared<S> {
    pub fn new(state: S) -> Shared<S> {
        Shared(Mutex::new(state))
    }

    /// Locks the state; a panic in another holder does not poison it for the rest of the test.
    pub fn state(&self) -> MutexGuard<'_, S> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The API behind a [`Server`]. Called from one thread per connection.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: &Request) -> Answer;

    /// The answer to bytes that are not an HTTP/1.x request the server understands (`what` says why);
    /// it is sent with `Connection: close`, and the connection is closed.
    fn malformed(&self, what: &str) -> Response;
}

struct Connections {
    handler: Arc<dyn Handler>,
    shutdown: AtomicBool,
    connections: Mutex<Vec<JoinHandle<()>>>,
}

impl Connections {
    fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// A running server. Dropping it stops the server and joins its threads.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Connections>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `127.0.0.1:0` and serves `handler`; `name` (e.g. `fake-clockify`) names the threads.
    pub fn start(name: &str, handler: Arc<dyn Handler>) -> Server {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind {name} to 127.0.0.1:0: {e}"));
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Connections {
            handler,
            shutdown: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
        });
        let for_acceptor = Arc::clone(&shared);
        let connection_name = format!("{name}-conn");
        let acceptor = thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || accept_loop(listener, for_acceptor, connection_name))
            .unwrap_or_else(|e| panic!("spawn the {name} acceptor: {e}"));
        Server { addr, shared, acceptor: Some(acceptor) }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let connections =
            std::mem::take(&mut *self.shared.connections.lock().unwrap_or_else(|p| p.into_inner()));
        for connection in connections {
            let _ = connection.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Connections>, connection_name: String) {
    for stream in listener.incoming() {
        if shared.stopping() {
            break;
        }
        let Ok(stream) = stream else { continue };
        let for_connection = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name(connection_name.clone())
            .spawn(move || serve_connection(stream, &for_connection));
        if let Ok(handle) = spawned {
            let mut connections = shared.connections.lock().unwrap_or_else(|p| p.into_inner());
            connections.retain(|h| !h.is_finished());
            connections.push(handle);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// HTTP/1.1 on a TcpStream

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

enum ReadError {
    /// The peer closed (or the server is stopping) between requests.
    Closed,
    /// Not HTTP we understand: answer 400 and close.
    Malformed(&'static str),
}

/// Reads more bytes into `buf`; `Err(Closed)` on EOF or shutdown.
fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Connections) -> Result<(), ReadError> {
    let mut chunk = [0u8; 8192];
    loop {
        if shared.stopping() {
            return Err(ReadError::Closed);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(ReadError::Closed),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return Err(ReadError::Closed),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    shared: &Connections,
) -> Result<Request, ReadError> {
    let head_end = loop {
        if let Some(p) = find(buf, b"\r\n\r\n", 0) {
            break p;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Malformed("request head too large"));
        }
        read_more(stream, buf, shared)?;
    };
    let head =
        std::str::from_utf8(&buf[..head_end]).map_err(|_| ReadError::Malformed("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed("bad request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Malformed("not HTTP/1.x"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Malformed("bad header line"));
        };
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.to_string(), String::new()),
    };
    let mut request = Request {
        method: method.to_string(),
        path,
        query,
        headers,
        body: Vec::new(),
        close: version == "HTTP/1.0",
    };
    if let Some(connection) = request.header("connection") {
        let connection = connection.to_ascii_lowercase();
        if connection.contains("close") {
            request.close = true;
        } else if connection.contains("keep-alive") {
            request.close = false;
        }
    }
    let chunked =
        request.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = match request.header("content-length") {
        Some(v) => Some(v.parse::<usize>().map_err(|_| ReadError::Malformed("bad Content-Length"))?),
        None => None,
    };
    let expects_continue = request.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let body_start = head_end + 4;
    if expects_continue && (chunked || length.unwrap_or(0) > 0) && buf.len() == body_start {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let consumed = if chunked {
        let mut pos = body_start;
        loop {
            let line_end = loop {
                if let Some(p) = find(buf, b"\r\n", pos) {
                    break p;
                }
                read_more(stream, buf, shared).map_err(|_| ReadError::Malformed("truncated chunked body"))?;
            };
            let size_text = std::str::from_utf8(&buf[pos..line_end]).unwrap_or("");
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| ReadError::Malformed("bad chunk size"))?;
            pos = line_end + 2;
            if size == 0 {
                // Trailers, up to an empty line.
                loop {
                    let end = loop {
                        if let Some(p) = find(buf, b"\r\n", pos) {
                            break p;
                        }
                        read_more(stream, buf, shared)
                            .map_err(|_| ReadError::Malformed("truncated trailers"))?;
                    };
                    let empty = end == pos;
                    pos = end + 2;
                    if empty {
                        break;
                    }
                }
                break pos;
            }
            if request.body.len() + size > MAX_BODY {
                return Err(ReadError::Malformed("body too large"));
            }
            while buf.len() < pos + size + 2 {
                read_more(stream, buf, shared).map_err(|_| ReadError::Malformed("truncated chunk"))?;
            }
            request.body.extend_from_slice(&buf[pos..pos + size]);
            pos += size + 2;
        }
    } else {
        let length = length.unwrap_or(0);
        if length > MAX_BODY {
            return Err(ReadError::Malformed("body too large"));
        }
        while buf.len() < body_start + length {
            read_more(stream, buf, shared).map_err(|_| ReadError::Malformed("truncated body"))?;
        }
        request.body = buf[body_start..body_start + length].to_vec();
        body_start + length
    };
    buf.drain(..consumed);
    Ok(request)
}

/// The reason phrase of a status line.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn write_response(stream: &mut TcpStream, response: &Response, close: bool) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&response.body);
    stream.write_all(out.as_bytes())?;
    stream.flush()
}

/// Sleeps up to `total`, returning early when the server stops.
fn sleep_unless_stopping(total: Duration, shared: &Connections) {
    let until = Instant::now() + total;
    while !shared.stopping() {
        let now = Instant::now();
        if now >= until {
            break;
        }
        thread::sleep((until - now).min(Duration::from_millis(20)));
    }
}

fn serve_connection(mut stream: TcpStream, shared: &Connections) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut buf, shared) {
            Ok(request) => request,
            Err(ReadError::Closed) => return,
            Err(ReadError::Malformed(what)) => {
                let response = shared.handler.malformed(what);
                let _ = write_response(&mut stream, &response, true);
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        };
        match shared.handler.handle(&request) {
            Answer::Respond { response, delay } => {
                sleep_unless_stopping(delay, shared);
                if shared.stopping()
                    || write_response(&mut stream, &response, request.close).is_err()
                    || request.close
                {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
            }
            Answer::Drop => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Answer::Stall(stall) => {
                sleep_unless_stopping(stall, shared);
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Helpers for handlers

/// Removes and returns the first queued fault for `method` (a FIFO per method).
pub fn take_fault<F>(faults: &mut VecDeque<(String, F)>, method: &str) -> Option<F> {
    let index = faults.iter().position(|(m, _)| m.eq_ignore_ascii_case(method))?;
    faults.remove(index).map(|(_, fault)| fault)
}

/// The query's `name=value` pairs, decoded form-style (see [`percent_decode`]).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

/// The first value of `name` in a parsed query.
pub fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Form-style decoding, as a servlet container or Go's `url.ParseQuery` does for a query: `%XX` bytes,
/// `+` as a space.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------------
// A client for the fakes' own tests

/// GET `url` with the query pairs, and the auth header `(name, value)` if given.
pub fn test_get(
    agent: &ureq::Agent,
    url: &str,
    auth: Option<(&str, &str)>,
    query: &[(&str, &str)],
) -> ureq::http::Response<ureq::Body> {
    let mut request = agent.get(url);
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    for (name, value) in query {
        request = request.query(*name, *value);
    }
    request.call().expect("GET reaches the fake")
}

/// POST `body` as JSON with the auth header `(name, value)`.
pub fn test_post(
    agent: &ureq::Agent,
    url: &str,
    auth: (&str, &str),
    body: &Value,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    agent.post(url).header(auth.0, auth.1).header("Content-Type", "application/json").send(body.to_string())
}

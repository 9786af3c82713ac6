//! Just enough HTTP/1.1 over `wasmedge_wasi_socket`: reading a request head, writing a response, and a
//! one-shot client. One request per connection (`Connection: close`), no request bodies; every read is
//! bounded in size and time.

use std::io::{self, Read, Write};
use std::time::Duration;

use wasmedge_wasi_socket::TcpStream;

/// Largest request head (request line and headers) accepted, and largest downstream response read.
const MAX_HEAD: usize = 16 * 1024;
const MAX_RESPONSE: u64 = 64 * 1024;
/// Longest a peer may keep us waiting on a read or a write.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed request head, borrowing the bytes it was read into.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path of the request target, without the query.
    pub path: &'a str,
    headers: Vec<(&'a str, &'a str)>,
}

impl<'a> Request<'a> {
    /// Parses `GET /path?query HTTP/1.1` and the header lines after it; `None` if malformed.
    pub fn parse(head: &'a str) -> Option<Request<'a>> {
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next()?.split(' ');
        let (method, target, version) = (request_line.next()?, request_line.next()?, request_line.next()?);
        if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
            return None;
        }
        let path = target.split(['?', '#']).next().unwrap_or(target);
        let headers = lines
            .take_while(|line| !line.is_empty())
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim(), value.trim()))
            .collect();
        Some(Request { method, path, headers })
    }

    /// The value of header `name` (compared case-insensitively), or `""`.
    pub fn header(&self, name: &str) -> &'a str {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v)
    }
}

/// Reads a request head (up to the blank line) from `stream` into `buf`.
pub fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() >= MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too large"));
        }
        match stream.read(&mut chunk)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Ok(())
}

/// The reason phrase of the status codes this service sends.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        502 => "Bad Gateway",
        _ => "Internal Server Error",
    }
}

/// Writes a complete JSON response and closes our side.
pub fn respond(stream: &mut TcpStream, status: u16, body: &str) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.shutdown(std::net::Shutdown::Write)
}

/// Sends `GET {path}` with `extra_headers` (complete `Name: value\r\n` lines) to `addr` and returns
/// the response's status code and body.
pub fn get(addr: &str, path: &str, extra_headers: &str) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.as_ref().set_recv_timeout(Some(IO_TIMEOUT))?;
    stream.as_ref().set_send_timeout(Some(IO_TIMEOUT))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra_headers}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    (&mut stream).take(MAX_RESPONSE).read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed HTTP response");
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    Ok((status, body.to_owned()))
}

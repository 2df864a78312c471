//! The application's vsock protocol: the client sends one request line, the application answers
//! with one JSON line and closes the connection.
//!
//! | request      | answer                                                                 |
//! |--------------|------------------------------------------------------------------------|
//! | `STATUS\n`   | `{"app","version","nsm_present","nsm","attestation_document","pcrs","pcrs_locked","ca_roots"}` (`status.rs`) |
//! | anything else| `{"error": "<why>"}`                                                   |
//!
//! A request is at most [`MAX_REQUEST`] bytes including the newline; a trailing `\r` is ignored.

use std::io::{self, Read, Write};

/// Longest accepted request line, newline included.
pub(crate) const MAX_REQUEST: usize = 64;

/// A request the application understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// Report the status.
    Status,
}

/// Why a connection was not answered with a status.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    /// Reading or writing failed (including timeouts).
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// The client closed before sending a full line.
    #[error("the client closed the connection before a complete request")]
    Truncated,
    /// No newline within [`MAX_REQUEST`] bytes.
    #[error("request longer than {MAX_REQUEST} bytes")]
    TooLong,
    /// A line that is not a known request.
    #[error("unknown request {0:?}")]
    Unknown(String),
}

/// Reads one request line (byte by byte, so nothing past the newline is consumed).
pub(crate) fn read_request(mut stream: impl Read) -> Result<Request, ServeError> {
    let mut line = Vec::with_capacity(MAX_REQUEST);
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte) {
            Ok(0) => return Err(ServeError::Truncated),
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if line.len() + 1 >= MAX_REQUEST => return Err(ServeError::TooLong),
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let line = line.strip_suffix(b"\r").unwrap_or(&line);
    match line {
        b"STATUS" => Ok(Request::Status),
        other => Err(ServeError::Unknown(
            String::from_utf8_lossy(other).into_owned(),
        )),
    }
}

/// Serves one connection: reads a request, writes `status_line` or an error line.
pub(crate) fn serve(
    mut stream: impl Read + Write,
    status_line: &str,
) -> Result<Request, ServeError> {
    match read_request(&mut stream) {
        Ok(request) => {
            stream.write_all(status_line.as_bytes())?;
            stream.flush()?;
            Ok(request)
        }
        Err(err @ (ServeError::Unknown(_) | ServeError::TooLong)) => {
            let line = format!("{}\n", serde_json::json!({ "error": err.to_string() }));
            // The client misbehaved; telling it why is best effort.
            let _ = stream.write_all(line.as_bytes());
            Err(err)
        }
        Err(err) => Err(err),
    }
}

/// [`serve`] on an async stream (the listeners of [`crate::listen`]), bounded by `timeout`.
pub(crate) async fn serve_async(
    mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    status_line: &str,
    timeout: std::time::Duration,
) -> Result<Request, ServeError> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut line = Vec::with_capacity(MAX_REQUEST);
    let read = async {
        let mut byte = [0u8; 1];
        loop {
            if stream.read(&mut byte).await? == 0 {
                return Ok::<_, io::Error>(());
            }
            line.push(byte[0]);
            if byte[0] == b'\n' || line.len() >= MAX_REQUEST {
                return Ok(());
            }
        }
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    let mut answer = Vec::new();
    let result = serve(ReadWrite(io::Cursor::new(line), &mut answer), status_line);
    tokio::time::timeout(timeout, async {
        stream.write_all(&answer).await?;
        stream.shutdown().await
    })
    .await
    .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    result
}

/// A request already read, and where the answer goes.
struct ReadWrite<'a>(io::Cursor<Vec<u8>>, &'a mut Vec<u8>);

impl Read for ReadWrite<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for ReadWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.1.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Cursor};
    use std::os::unix::net::UnixStream;

    use super::*;

    #[test]
    fn answers_status_over_a_socket() {
        let (mut client, server) = UnixStream::pair().unwrap();
        client.write_all(b"STATUS\n").unwrap();
        let request = serve(&server, "{\"ok\":true}\n").unwrap();
        assert_eq!(request, Request::Status);
        drop(server);
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, "{\"ok\":true}\n");
    }

    #[test]
    fn accepts_crlf_and_leaves_later_bytes_unread() {
        let mut input = Cursor::new(b"STATUS\r\nextra".to_vec());
        assert_eq!(read_request(&mut input).unwrap(), Request::Status);
        assert_eq!(input.position(), 8);
    }

    #[test]
    fn rejects_unknown_requests_with_a_json_error() {
        let (client, server) = UnixStream::pair().unwrap();
        (&client).write_all(b"status\n").unwrap();
        let err = serve(&server, "unused\n").unwrap_err();
        assert!(matches!(&err, ServeError::Unknown(r) if r == "status"));
        let mut line = String::new();
        BufReader::new(&client).read_line(&mut line).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error"], "unknown request \"status\"");
    }

    #[test]
    fn bounds_the_request_length() {
        let long = vec![b'A'; 10 * MAX_REQUEST];
        assert!(matches!(
            read_request(Cursor::new(long)),
            Err(ServeError::TooLong)
        ));
        // The longest accepted line is MAX_REQUEST bytes including the newline.
        let mut edge = vec![b'A'; MAX_REQUEST - 1];
        edge.push(b'\n');
        assert!(matches!(
            read_request(Cursor::new(edge)),
            Err(ServeError::Unknown(_))
        ));
        let mut over = vec![b'A'; MAX_REQUEST];
        over.push(b'\n');
        assert!(matches!(
            read_request(Cursor::new(over)),
            Err(ServeError::TooLong)
        ));
    }

    #[tokio::test]
    async fn serves_status_on_async_streams_and_bounds_slow_clients() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let timeout = std::time::Duration::from_millis(200);
        let (mut client, server) = tokio::io::duplex(256);
        client.write_all(b"STATUS\r\n").await.unwrap();
        let served = serve_async(server, "{\"ok\":true}\n", timeout).await;
        assert_eq!(served.unwrap(), Request::Status);
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer, "{\"ok\":true}\n");

        // A client that never finishes its line is dropped after the timeout.
        let (mut client, server) = tokio::io::duplex(256);
        client.write_all(b"STAT").await.unwrap();
        let served = serve_async(server, "unused\n", timeout).await;
        assert!(matches!(served, Err(ServeError::Io(e)) if e.kind() == io::ErrorKind::TimedOut));

        // An endless line stops at MAX_REQUEST bytes with an error line.
        let (mut client, server) = tokio::io::duplex(4096);
        client.write_all(&[b'A'; 3 * MAX_REQUEST]).await.unwrap();
        let served = serve_async(server, "unused\n", timeout).await;
        assert!(matches!(served, Err(ServeError::TooLong)));
        let mut answer = vec![0u8; 128];
        let n = client.read(&mut answer).await.unwrap();
        assert!(String::from_utf8_lossy(&answer[..n]).contains("request longer than"));
    }

    #[test]
    fn reports_a_truncated_request_and_a_timeout() {
        assert!(matches!(
            read_request(Cursor::new(b"STAT".to_vec())),
            Err(ServeError::Truncated)
        ));
        let (_client, server) = UnixStream::pair().unwrap();
        server
            .set_read_timeout(Some(std::time::Duration::from_millis(50)))
            .unwrap();
        assert!(matches!(read_request(&server), Err(ServeError::Io(_))));
    }
}

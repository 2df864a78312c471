//! A JSON-RPC endpoint that lies: an HTTP proxy on 127.0.0.1 in front of a real anvil that
//! rewrites chosen answers (the host and its RPC are untrusted; the bridge must notice).

use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Rewrites the `result` of one call, given its method and params.
pub type Rewrite = Arc<dyn Fn(&str, &Value, &mut Value) + Send + Sync>;

/// The proxy; stops when dropped.
pub struct Tamper {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Tamper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn tamper(upstream: &str, rewrite: Rewrite) -> Tamper {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.to_owned();
    let client = alloy::transports::http::reqwest::Client::new();
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (client, upstream, rewrite) = (client.clone(), upstream.clone(), rewrite.clone());
            tokio::spawn(async move {
                let _ = serve(sock, client, upstream, rewrite).await;
            });
        }
    });
    Tamper { url, task }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn serve(
    mut sock: TcpStream,
    client: alloy::transports::http::reqwest::Client,
    upstream: String,
    rewrite: Rewrite,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let header_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < header_end + len {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[header_end..header_end + len].to_vec();
        buf.drain(..header_end + len);
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let answer = client
            .post(&upstream)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(std::io::Error::other)?
            .bytes()
            .await
            .map_err(std::io::Error::other)?;
        let mut response: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        match (&request, &mut response) {
            (Value::Array(reqs), Value::Array(resps)) => {
                for (q, r) in reqs.iter().zip(resps.iter_mut()) {
                    apply(q, r, &rewrite);
                }
            }
            (q, r) => apply(q, r, &rewrite),
        }
        let out = serde_json::to_vec(&response).unwrap_or_default();
        sock.write_all(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                out.len()
            )
            .as_bytes(),
        )
        .await?;
        sock.write_all(&out).await?;
    }
}

fn apply(request: &Value, response: &mut Value, rewrite: &Rewrite) {
    let method = request["method"].as_str().unwrap_or_default();
    if let Some(result) = response.get_mut("result") {
        rewrite(method, &request["params"], result);
    }
}

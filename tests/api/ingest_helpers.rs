//! Helpers of the ingest API tests: an application with an export folder and an ingest
//! token, requests with it, and assertions on problem+json answers.

use crate::helpers::{fixtures, TestApp, TEST_CONFIG};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use vitrine::store::TokenScope;

/// The API test configuration: zmets on for `ulb`, a small document limit, a tight rate
/// limit only where a test asks for it, and `export_dir` as the export folder.
pub fn api_config(export_dir: &std::path::Path, extra: &str) -> String {
    format!(
        "{TEST_CONFIG}\n[domains.ulb.oai.formats.zmets]\non = true\n\
         [ingest]\nmax_document_bytes = 200000\nexport_dirs = [{:?}]\n{extra}",
        export_dir.display().to_string()
    )
}

/// An application with an export folder and tokens.
pub struct Api {
    /// The running application.
    pub app: TestApp,
    /// The export folder (`ingest.export_dirs`).
    pub export_dir: tempfile::TempDir,
    /// An ingest token for the root domain `ulb`.
    pub token: String,
}

impl Api {
    /// Starts one; `extra` is appended to the configuration.
    pub async fn spawn(extra: &str) -> Api {
        let export_dir = tempfile::tempdir().unwrap();
        let app = TestApp::spawn_with(&api_config(export_dir.path(), extra)).await;
        let token = token(&app, "ulb", TokenScope::Ingest, None).await;
        Api {
            app,
            export_dir,
            token,
        }
    }

    /// A request with the ingest token.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, format!("{}{}", self.app.address, path))
            .bearer_auth(&self.token)
    }

    /// PUT a METS body as record `id` of `ulb`, with query arguments.
    pub async fn put(&self, id: &str, body: Vec<u8>, query: &[(&str, &str)]) -> reqwest::Response {
        self.request(Method::PUT, &format!("/api/v1/domains/ulb/records/{id}"))
            .query(query)
            .header("content-type", "application/xml")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// GET the status of record `id` of `ulb` (status code and JSON).
    pub async fn status(&self, id: &str) -> (StatusCode, Value) {
        let r = self
            .request(Method::GET, &format!("/api/v1/domains/ulb/records/{id}"))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (
            status,
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null),
        )
    }
}

/// Creates a token and returns its text.
pub async fn token(
    app: &TestApp,
    domain: &str,
    scope: TokenScope,
    expires_at: Option<i64>,
) -> String {
    let d = app.domain(domain).await;
    app.store
        .create_token(d.id, scope, "test", expires_at, app.clock.now())
        .await
        .unwrap()
        .text
}

/// A demo fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("main").join(format!("{name}.xml"))).unwrap()
}

/// `demo_mono_0002` with a defect no repair can fix (no DEFAULT image group): invalid.
pub fn invalid_mets() -> Vec<u8> {
    String::from_utf8(fixture("demo_mono_0002"))
        .unwrap()
        .replace("USE=\"DEFAULT\"", "USE=\"ORIGINAL\"")
        .into_bytes()
}

/// The JSON body of an answer.
pub async fn json(r: reqwest::Response) -> Value {
    let bytes = r.bytes().await.unwrap();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

/// Asserts a problem+json answer of `status` and returns its body.
pub async fn problem(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body = json(r).await;
    assert_eq!(body["status"], status);
    assert!(body["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:vitrine:problem:"));
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

/// Sends a chunked PUT of `chunks` × `size` spaces over a plain TCP connection and
/// returns the raw answer (reqwest streams bodies only with a feature not enabled here).
pub async fn chunked_put(api: &Api, path: &str, chunks: usize, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = api.app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        api.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
    for _ in 0..chunks {
        // The server may answer and close before the whole body is sent.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).to_string()
}

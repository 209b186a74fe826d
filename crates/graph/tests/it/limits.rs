//! Concurrency limits, measured by a tiny loopback HTTP server that counts requests in flight,
//! and lazy paging.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cipp_graph::{GraphClient, GraphVersion};
use futures::StreamExt;
use futures::future::join_all;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CountingTokens, settings};

/// What the counting server answers for a request path: status, extra header lines, delay.
type Handler = dyn Fn(&str) -> (u16, String, Duration) + Send + Sync;

#[derive(Clone, Default)]
struct InFlight {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
}

impl InFlight {
    fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
    fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }
}

/// An HTTP/1.1 server on 127.0.0.1 for bodiless requests that counts how many are being answered at once.
async fn counting_server(handler: Arc<Handler>) -> (String, InFlight) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let counters = InFlight::default();
    let c = counters.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, handler.clone(), c.clone()));
        }
    });
    (base, counters)
}

async fn serve(mut tcp: TcpStream, handler: Arc<Handler>, counters: InFlight) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let now = counters.now.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max.fetch_max(now, Ordering::SeqCst);
        counters.total.fetch_add(1, Ordering::SeqCst);
        let (status, extra, delay) = handler(&target);
        tokio::time::sleep(delay).await;
        counters.now.fetch_sub(1, Ordering::SeqCst);
        let body = r#"{"value":[]}"#;
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
            body.len()
        );
        if tcp.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn limited_client(base: &str, per_tenant: usize, overall: usize) -> GraphClient {
    GraphClient::builder(settings(base))
        .app_token_provider(Arc::new(CountingTokens::default()))
        .concurrency(per_tenant, overall)
        .build()
        .unwrap()
}

#[tokio::test]
async fn no_more_than_the_per_tenant_limit_of_requests_are_in_flight_for_one_tenant() {
    let (base, counters) = counting_server(Arc::new(|_: &str| {
        (200, String::new(), Duration::from_millis(30))
    }))
    .await;
    let client = limited_client(&base, 3, 64);
    let calls = (0..30).map(|_| client.get("one.example", GraphVersion::V1, "users", &[]));
    for r in join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(counters.total(), 30);
    assert_eq!(counters.max(), 3);
}

#[tokio::test]
async fn no_more_than_the_overall_limit_of_requests_are_in_flight_across_tenants() {
    let (base, counters) = counting_server(Arc::new(|_: &str| {
        (200, String::new(), Duration::from_millis(30))
    }))
    .await;
    let client = limited_client(&base, 3, 5);
    // Clones share the limits.
    let calls = (0..60).map(|i| {
        let client = client.clone();
        async move {
            client
                .get(
                    &format!("tenant-{}.example", i % 12),
                    GraphVersion::V1,
                    "users",
                    &[],
                )
                .await
        }
    });
    for r in join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(counters.total(), 60);
    assert_eq!(counters.max(), 5);
}

#[tokio::test]
async fn a_request_waiting_out_retry_after_does_not_hold_its_tenant_slot() {
    let throttled_once = Arc::new(AtomicUsize::new(0));
    let t = throttled_once.clone();
    let handler = move |target: &str| {
        if target.contains("slow") && t.fetch_add(1, Ordering::SeqCst) == 0 {
            (429, "retry-after: 1\r\n".to_owned(), Duration::ZERO)
        } else {
            (200, String::new(), Duration::ZERO)
        }
    };
    let (base, _) = counting_server(Arc::new(handler)).await;
    let client = limited_client(&base, 1, 1);
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .get("one.example", GraphVersion::V1, "slow", &[])
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    client
        .get("one.example", GraphVersion::V1, "fast", &[])
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "the fast call waited for the throttled one's Retry-After"
    );
    slow.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_next_page_is_fetched_only_when_the_consumer_asks_for_it() {
    let server = MockServer::start().await;
    for page in 1..=3 {
        let next = (page < 3).then(|| format!("{}/v1.0/users?page={}", server.uri(), page + 1));
        let mut body = json!({"value": [{"id": page}]});
        if let Some(next) = next {
            body["@odata.nextLink"] = json!(next);
        }
        let mut mock = Mock::given(method("GET")).and(path("/v1.0/users"));
        if page > 1 {
            mock = mock.and(query_param("page", page.to_string()));
        }
        mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .with_priority(if page == 1 { 5 } else { 1 })
            .mount(&server)
            .await;
    }
    let client = limited_client(&server.uri(), 8, 64);
    let mut pages = Box::pin(client.pages("t", GraphVersion::V1, "users", &[]));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!(first.items, vec![json!({"id": 1})]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let second = pages.next().await.unwrap().unwrap();
    assert_eq!(second.items, vec![json!({"id": 2})]);
    drop(pages);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

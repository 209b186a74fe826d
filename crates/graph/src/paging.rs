//! OData paging: pages, `@odata.count`, and following `@odata.nextLink` only on the Graph origin.

use futures::Stream;
use serde_json::Value;
use url::Url;

use crate::client::{GraphClient, decode_body};
use crate::error::GraphError;

/// One page of a Graph answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphPage {
    /// The `value` items of a collection, or the single object when the body is not a collection.
    pub items: Vec<Value>,
    /// `@odata.count`, present when `$count=true` was honoured.
    pub count: Option<u64>,
    /// `@odata.nextLink` exactly as Graph sent it.
    pub next_link: Option<String>,
}

impl GraphPage {
    /// Splits a response body into items, count and next link.
    pub fn from_body(body: Value) -> Self {
        match body {
            Value::Null => GraphPage::default(),
            Value::Object(mut map) if map.get("value").is_some_and(Value::is_array) => {
                let count = map.get("@odata.count").and_then(count_value);
                let next_link = map
                    .get("@odata.nextLink")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let items = match map.remove("value") {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                GraphPage {
                    items,
                    count,
                    next_link,
                }
            }
            other => GraphPage {
                items: vec![other],
                count: None,
                next_link: None,
            },
        }
    }
}

// Graph sends a number; IEEE754Compatible=true would make it a string.
fn count_value(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Same scheme, host and port (default ports filled in) as the configured Graph base URL.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The URL to fetch for a nextLink, refusing any other origin (the bearer token would go with it).
pub fn resolve_next_link(base: &Url, link: &str) -> Result<Url, GraphError> {
    let url = match Url::parse(link) {
        Ok(u) => u,
        // Graph sends absolute links; a relative one can only mean the same origin.
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            base.join(link).map_err(|_| GraphError::NextLinkOffHost {
                link: link.to_owned(),
            })?
        }
        Err(_) => {
            return Err(GraphError::NextLinkOffHost {
                link: link.to_owned(),
            });
        }
    };
    if same_origin(base, &url) {
        Ok(url)
    } else {
        Err(GraphError::NextLinkOffHost {
            link: link.to_owned(),
        })
    }
}

enum Cursor {
    Fetch(Url),
    Fail(GraphError),
    Done,
}

pub(crate) fn page_stream(
    client: GraphClient,
    tenant: &str,
    start: Result<Url, GraphError>,
    headers: &[(&str, &str)],
) -> impl Stream<Item = Result<GraphPage, GraphError>> + Send + use<> {
    let tenant = tenant.to_owned();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let first = match start {
        Ok(url) => Cursor::Fetch(url),
        Err(e) => Cursor::Fail(e),
    };
    futures::stream::unfold(first, move |cursor| {
        let client = client.clone();
        let tenant = tenant.clone();
        let headers = headers.clone();
        async move {
            let url = match cursor {
                Cursor::Done => return None,
                Cursor::Fail(e) => return Some((Err(e), Cursor::Done)),
                Cursor::Fetch(url) => url,
            };
            let borrowed: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let page = client
                .execute(&tenant, reqwest::Method::GET, url.clone(), None, &borrowed)
                .await
                .and_then(|reply| decode_body(&reply))
                .map(|body| GraphPage::from_body(body.unwrap_or(Value::Null)));
            match page {
                Err(e) => Some((Err(e), Cursor::Done)),
                Ok(page) => {
                    let next = match page.next_link.as_deref() {
                        None => Cursor::Done,
                        Some(link) => match resolve_next_link(client.base_url(), link) {
                            // A link to the page just read would loop forever.
                            Ok(next) if next == url => Cursor::Fail(GraphError::Decode {
                                message: format!(
                                    "@odata.nextLink repeats the current page: {link}"
                                ),
                            }),
                            Ok(next) => Cursor::Fetch(next),
                            Err(e) => {
                                tracing::warn!(link, "refusing off-origin @odata.nextLink");
                                Cursor::Fail(e)
                            }
                        },
                    };
                    Some((Ok(page), next))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn base() -> Url {
        Url::parse("https://127.0.0.1:8443").unwrap()
    }

    #[test]
    fn collections_yield_items_count_and_next_link() {
        let page = GraphPage::from_body(json!({
            "@odata.context": "x",
            "@odata.count": 3,
            "@odata.nextLink": "https://127.0.0.1:8443/v1.0/users?$skiptoken=abc",
            "value": [{"id": "1"}, {"id": "2"}]
        }));
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.count, Some(3));
        assert_eq!(
            page.next_link.as_deref(),
            Some("https://127.0.0.1:8443/v1.0/users?$skiptoken=abc")
        );
    }

    #[test]
    fn a_single_object_is_one_item() {
        let page = GraphPage::from_body(json!({"id": "1", "displayName": "A"}));
        assert_eq!(page.items, vec![json!({"id": "1", "displayName": "A"})]);
        assert_eq!(page.next_link, None);
    }

    #[test]
    fn next_links_on_the_same_origin_are_followed_as_given() {
        let url = resolve_next_link(
            &base(),
            "https://127.0.0.1:8443/beta/users?$skiptoken=a%2Bb",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://127.0.0.1:8443/beta/users?$skiptoken=a%2Bb"
        );
    }

    #[test]
    fn next_links_to_another_host_port_or_scheme_are_refused() {
        for link in [
            "https://evil.example/v1.0/users",
            "https://127.0.0.1:9999/v1.0/users",
            "http://127.0.0.1:8443/v1.0/users",
            "https://",
        ] {
            match resolve_next_link(&base(), link) {
                Err(GraphError::NextLinkOffHost { link: l }) => assert_eq!(l, link),
                other => panic!("{link}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn default_ports_count_as_the_same_origin() {
        let b = Url::parse("https://graph.microsoft.com").unwrap();
        assert!(resolve_next_link(&b, "https://graph.microsoft.com:443/v1.0/users").is_ok());
    }
}

//! Integration tests for cipp-graph, one binary: Graph faked by wiremock, tokens by test doubles
//! or by wiremock behind a TLS front signed by a throwaway CA.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch;
mod exchange;
mod limits;
mod paging;
mod partner;
mod requests;
mod retries;
mod support;
mod timeouts;
mod tls;
mod tokens;

//! Streamed JSON answers: rows are written as Graph pages arrive, so memory does not grow with
//! the size of a tenant or the number of tenants.
//!
//! The first page is read before the answer starts, so the common failures (no access, unknown
//! user, throttling that never ends) still get their own status code. A failure after that
//! cannot change the status any more; the stream then ends with an error, which closes the
//! connection mid-body: the client sees a broken answer, never a short one that looks complete.

use actix_web::web::Bytes;
use futures::stream::{self, LocalBoxStream};
use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::error::ApiError;

pub type JsonStream = LocalBoxStream<'static, Result<Bytes, ApiError>>;
pub type RowPages = LocalBoxStream<'static, Result<Vec<Value>, ApiError>>;

/// Reads the first page now and returns a stream of all pages, the first included.
pub async fn start<S, E>(pages: S) -> Result<LocalBoxStream<'static, Result<Vec<Value>, E>>, E>
where
    S: Stream<Item = Result<Vec<Value>, E>> + 'static,
    E: 'static,
{
    let mut pages = pages.boxed_local();
    match pages.next().await {
        None => Ok(stream::empty().boxed_local()),
        Some(Err(error)) => Err(error),
        Some(Ok(first)) => Ok(stream::once(async move { Ok(first) })
            .chain(pages)
            .boxed_local()),
    }
}

/// `prefix` + the rows as one JSON array + `suffix` (e.g. `{"Results":` … `,"Metadata":{…}}`).
pub fn json_array(prefix: String, pages: RowPages, suffix: String) -> JsonStream {
    let mut first_row = true;
    let rows = pages.map(move |page| {
        let page = page.map_err(|error| {
            tracing::warn!(error = %error, "a later page failed; ending the answer with an error");
            error
        })?;
        let mut chunk = Vec::with_capacity(page.len() * 512);
        for row in page {
            if !first_row {
                chunk.push(b',');
            }
            first_row = false;
            serde_json::to_writer(&mut chunk, &row).map_err(|e| {
                ApiError::new(
                    actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                    e.to_string(),
                )
            })?;
        }
        Ok(Bytes::from(chunk))
    });
    let mut body = stream::once(async move { Ok(Bytes::from(prefix + "[")) })
        .chain(rows)
        .chain(stream::once(async move {
            Ok(Bytes::from("]".to_owned() + &suffix))
        }))
        .boxed_local();
    // The body is polled by the server after the handler returned, outside the request's span:
    // its later pages (and their Graph calls) are logged inside that span all the same.
    let span = tracing::Span::current();
    stream::poll_fn(move |cx| {
        let _entered = span.enter();
        body.poll_next_unpin(cx)
    })
    .boxed_local()
}

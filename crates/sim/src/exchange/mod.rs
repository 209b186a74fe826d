//! Exchange Online admin REST: `POST /adminapi/{beta|v1.0}/{tenant}/InvokeCommand`, its
//! `$batch`, and `GET …/Mailbox('{id}')/Exchange.GetMailboxStatistics()`.
//!
//! Auth: a bearer token with `aud` `https://outlook.office365.com` whose `tid` is the tenant
//! in the path (GUID or any of its domains); otherwise 401 with an empty body and a
//! `WWW-Authenticate` challenge. `X-AnchorMailbox` is required (400 without it); its domain
//! or tenant part must belong to the same tenant.

mod audit_log;
mod cmdlets;
pub(crate) mod devices_calendar;
mod groups;
pub(crate) mod mailbox;
pub(crate) mod mailbox_settings;
mod message_trace;
mod recipient_limits;
pub(crate) mod tenant_wide;

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::http::{Headers, Inbound, Outcome, serve};
use crate::state::{Sim, Tenant};
use crate::tokens;

pub(crate) use cmdlets::{
    auto_reply_from_graph, auto_reply_to_graph, graph_mailbox, mailbox_settings,
};

pub(crate) const JSON_CT: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Where a request was sent under `/adminapi/`.
pub(crate) struct Target<'a> {
    pub version: &'a str,
    pub raw_tenant: &'a str,
    pub rest: &'a str,
}

/// How cmdlet errors are shaped; clients must cope with all of them (spec §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorFormat {
    /// `error.details[0].message` = `ErrorId|ExceptionType|Text`, plus `innererror`.
    Pipe,
    /// `error.details[0].message` = `{"Message","TypeName","StackTrace","InnerError"}` as a string.
    Json,
    /// No details: `error.innererror.internalexception.message` only.
    InnerError,
    /// As `InnerError` with camel-cased `innerError.internalException`.
    InnerErrorCamel,
    /// Only `error.message` carries the text.
    Message,
}

impl ErrorFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "pipe" => Some(Self::Pipe),
            "json" => Some(Self::Json),
            "innererror" => Some(Self::InnerError),
            "innererror-camel" => Some(Self::InnerErrorCamel),
            "message" => Some(Self::Message),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Pipe => "pipe",
            Self::Json => "json",
            Self::InnerError => "innererror",
            Self::InnerErrorCamel => "innererror-camel",
            Self::Message => "message",
        }
    }
}

/// A cmdlet failure.
#[derive(Debug)]
pub(crate) struct ExoError {
    pub status: u16,
    pub code: &'static str,
    pub error_id: &'static str,
    pub exception: &'static str,
    pub message: String,
}

impl ExoError {
    pub fn not_found(key: &str, server: &str) -> Self {
        Self {
            status: 404,
            code: "NotFound",
            error_id: "Ex6F9304",
            exception: "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
            message: format!(
                "The operation couldn't be performed because object '{key}' couldn't be found on '{server}'."
            ),
        }
    }

    pub fn missing(name: &str) -> Self {
        Self {
            status: 400,
            code: "BadRequest",
            error_id: "Ex0B5F28",
            exception: "System.Management.Automation.ParameterBindingException",
            message: format!(
                "Cannot process command because of one or more missing mandatory parameters: {name}."
            ),
        }
    }

    pub fn unknown_parameter(name: &str) -> Self {
        Self {
            status: 400,
            code: "BadRequest",
            error_id: "Ex0B5F28",
            exception: "System.Management.Automation.ParameterBindingException",
            message: format!("A parameter cannot be found that matches parameter name '{name}'."),
        }
    }

    pub fn bad_value(name: &str, value: &Value) -> Self {
        let shown = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        Self {
            status: 400,
            code: "BadRequest",
            error_id: "Ex0B5F28",
            exception: "System.Management.Automation.ParameterBindingException",
            message: format!(
                "Cannot bind parameter '{name}'. Cannot convert value \"{shown}\" to the type the parameter expects."
            ),
        }
    }

    pub fn task(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "BadRequest",
            error_id: "Ex7E4B10",
            exception: "Microsoft.Exchange.Management.Tasks.RecipientTaskException",
            message: message.into(),
        }
    }

    pub fn unknown_cmdlet(name: &str) -> Self {
        Self {
            status: 400,
            code: "BadRequest",
            error_id: "Ex2C1A77",
            exception: "System.Management.Automation.CommandNotFoundException",
            message: format!(
                "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
            ),
        }
    }

    fn body(&self, format: ErrorFormat) -> Value {
        let internal = json!({"message": self.message, "type": self.exception, "stacktrace": null});
        let outer_type = "Microsoft.Exchange.Admin.OData.Core.ODataServiceException";
        match format {
            ErrorFormat::Pipe | ErrorFormat::Json => {
                let detail = if format == ErrorFormat::Pipe {
                    format!("{}|{}|{}", self.error_id, self.exception, self.message)
                } else {
                    json!({"Message": self.message, "TypeName": self.exception, "StackTrace": null, "InnerError": null})
                        .to_string()
                };
                json!({"error": {
                    "code": self.code,
                    "message": "Error executing cmdlet",
                    "details": [{"code": "Context", "target": "", "message": detail}],
                    "innererror": {"message": self.message, "type": outer_type, "internalexception": internal},
                }})
            }
            ErrorFormat::InnerError => json!({"error": {
                "code": self.code,
                "message": "Error executing cmdlet",
                "innererror": {"message": "Error executing cmdlet", "type": outer_type, "internalexception": internal},
            }}),
            ErrorFormat::InnerErrorCamel => json!({"error": {
                "code": self.code,
                "message": "Error executing cmdlet",
                "innerError": {"message": "Error executing cmdlet", "type": outer_type, "internalException": internal},
            }}),
            ErrorFormat::Message => json!({"error": {"code": self.code, "message": self.message}}),
        }
    }

    pub fn response(&self, format: ErrorFormat, request_id: &str) -> HttpResponse {
        HttpResponse::build(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )
        .content_type("application/json; charset=utf-8")
        .insert_header(("request-id", request_id.to_owned()))
        .body(self.body(format).to_string())
    }
}

/// Exchange's answer for a status forced by a fault.
pub(crate) fn fault_response(status: u16, request_id: &str) -> HttpResponse {
    // A forced success: Exchange acknowledged the cmdlet without running it yet (replication
    // lag), so a client reading the change back sees the old state.
    if (200..300).contains(&status) {
        return ok(&json!({"@adminapi.warnings": [], "value": []}), request_id);
    }
    let (code, message) = match status {
        429 => (
            "TooManyRequests",
            "The request was throttled. Retry after the interval given in the Retry-After header.",
        ),
        503 => (
            "ServiceUnavailable",
            "The service is currently unavailable. Please try again later.",
        ),
        504 => ("GatewayTimeout", "The request timed out at the gateway."),
        401 => ("Unauthorized", "The access token is invalid."),
        403 => (
            "Forbidden",
            "The caller is not authorized to run this cmdlet.",
        ),
        404 => ("NotFound", "The requested resource was not found."),
        400..=499 => ("BadRequest", "The request is invalid."),
        _ => ("InternalServerError", "An internal server error occurred."),
    };
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json; charset=utf-8")
        .insert_header(("request-id", request_id.to_owned()))
        .body(json!({"error": {"code": code, "message": message}}).to_string())
}

fn unauthorized(reason: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((
            "WWW-Authenticate",
            format!(
                "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", error=\"invalid_token\", error_description=\"{reason}\""
            ),
        ))
        .finish()
}

/// A deterministic mailbox server name for the tenant, used in "couldn't be found on" texts.
pub(crate) fn server_name(tenant: &Tenant) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tenant.id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let regions = [
        ("AM6", "EUR"),
        ("DM6", "NAM"),
        ("SY4", "AUS"),
        ("LO2", "GBR"),
    ];
    let (dc, region) = regions[(h % 4) as usize];
    format!(
        "{dc}PR{:02}MB{:04}.{region}PRD{:02}.PROD.OUTLOOK.COM",
        (h >> 8) % 20,
        (h >> 16) % 10_000,
        (h >> 32) % 20
    )
}

pub(crate) fn error_format(sim: &Sim) -> ErrorFormat {
    *sim.exo_error_format.lock()
}

/// Entry for everything under `/adminapi/`.
pub(crate) async fn handle(
    sim: &Sim,
    inb: &Inbound<'_>,
    tenant: Option<Arc<Tenant>>,
    target: &Target<'_>,
    request_id: &str,
    allow_batch: bool,
) -> Outcome {
    let claims = match tokens::validate(
        sim,
        inb.headers.get("authorization"),
        &[tokens::EXCHANGE_AUD, "00000002-0000-0ff1-ce00-000000000000"],
    ) {
        Ok(c) => c,
        Err(msg) => return Outcome::Reply(unauthorized(msg)),
    };
    let Some(tenant) = tenant else {
        return Outcome::Reply(unauthorized("The tenant in the request URL is unknown."));
    };
    if claims.get("tid").and_then(Value::as_str) != Some(tenant.id.as_str()) {
        return Outcome::Reply(unauthorized(
            "The token was issued for a different tenant than the one in the request URL.",
        ));
    }
    if claims.get("idtyp").and_then(Value::as_str) == Some("app") {
        let manage = claims
            .get("roles")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|x| x == "Exchange.ManageAsApp"));
        if !manage {
            return Outcome::Reply(unauthorized(
                "The application does not hold the Exchange.ManageAsApp role.",
            ));
        }
    }
    let rest = target.rest.trim_end_matches('/');
    let format = error_format(sim);
    if rest == "$batch" {
        if !allow_batch || inb.method != "POST" {
            return Outcome::Reply(
                ExoError::task("Batches cannot be nested.").response(format, request_id),
            );
        }
        return batch(sim, inb).await;
    }
    if let Err(e) = check_anchor(sim, inb, &tenant) {
        return Outcome::Reply(e.response(format, request_id));
    }
    let server = server_name(&tenant);
    if rest.eq_ignore_ascii_case("InvokeCommand") {
        if inb.method != "POST" {
            return Outcome::Reply(HttpResponse::MethodNotAllowed().finish());
        }
        return Outcome::Reply(invoke(sim, inb, &tenant, target, &server, request_id));
    }
    // Mailbox('<id>')/Exchange.GetMailboxStatistics()
    if let Some(inner) = rest
        .strip_prefix("Mailbox('")
        .or_else(|| rest.strip_prefix("mailbox('"))
        && let Some((key, tail)) = inner.split_once("')")
        && tail.eq_ignore_ascii_case("/Exchange.GetMailboxStatistics()")
    {
        let key = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
        return Outcome::Reply(
            match cmdlets::statistics_entity(sim, &tenant, &key, &server) {
                Ok(v) => {
                    let mut obj = Map::new();
                    obj.insert(
                        "@odata.context".into(),
                        json!(format!(
                            "{}/adminapi/{}/{}/$metadata#Exchange.MailboxStatistics",
                            sim.base_url, target.version, target.raw_tenant
                        )),
                    );
                    if let Value::Object(m) = v {
                        obj.extend(m);
                    }
                    ok(&Value::Object(obj), request_id)
                }
                Err(e) => e.response(format, request_id),
            },
        );
    }
    Outcome::Reply(
        ExoError {
            status: 404,
            code: "NotFound",
            error_id: "Ex1D0C3A",
            exception: "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
            message: format!("Resource not found for the segment '{rest}'."),
        }
        .response(format, request_id),
    )
}

fn check_anchor(sim: &Sim, inb: &Inbound<'_>, tenant: &Tenant) -> Result<(), ExoError> {
    let Some(anchor) = inb
        .headers
        .get("x-anchormailbox")
        .map(str::trim)
        .filter(|a| !a.is_empty())
    else {
        return Err(ExoError::task(
            "The X-AnchorMailbox header is required for this request.",
        ));
    };
    let domain = anchor.rsplit_once('@').map(|(_, d)| d);
    let same = match domain {
        Some(d) => sim.resolve_tenant(d).is_some_and(|t| t.id == tenant.id),
        // e.g. "Oid:<user id>@<tenant id>" always has one; a bare GUID is a user id.
        None => uuid::Uuid::parse_str(anchor.rsplit(':').next().unwrap_or(anchor)).is_ok(),
    };
    if same {
        Ok(())
    } else {
        Err(ExoError::task(format!(
            "The anchor mailbox '{anchor}' doesn't belong to the organization '{}'.",
            tenant.initial_domain()
        )))
    }
}

/// The answer of an `acknowledge` fault: success, nothing done (Exchange's empty cmdlet
/// output, or Graph's 204).
pub(crate) fn acknowledged(exchange: bool, request_id: &str) -> HttpResponse {
    if exchange {
        ok(&json!({"value": []}), request_id)
    } else {
        HttpResponse::NoContent()
            .insert_header(("request-id", request_id.to_owned()))
            .finish()
    }
}

fn ok(body: &Value, request_id: &str) -> HttpResponse {
    let reset = crate::seed::timestamp(time::OffsetDateTime::now_utc().unix_timestamp() + 60);
    HttpResponse::Ok()
        .content_type(JSON_CT)
        .insert_header(("OData-Version", "4.0"))
        .insert_header(("Rate-Limit-Limit", "30000"))
        .insert_header(("Rate-Limit-Remaining", "29990"))
        .insert_header(("Rate-Limit-Reset", reset))
        .insert_header(("request-id", request_id.to_owned()))
        .body(body.to_string())
}

fn page_size(inb: &Inbound<'_>) -> usize {
    let pref = inb
        .headers
        .get("prefer")
        .or_else(|| inb.headers.get("x-prefer"))
        .unwrap_or("");
    pref.split([';', ','])
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("odata.maxpagesize"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000)
}

fn fingerprint(input: &Value) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in input.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn make_token(pos: u64, taken: u64, fp: u64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("EXO:{pos}:{taken}:{fp:x}"))
}

fn read_token(token: &str, fp: u64) -> Option<(u64, u64)> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split(':');
    if parts.next()? != "EXO" {
        return None;
    }
    let pos = parts.next()?.parse().ok()?;
    let taken = parts.next()?.parse().ok()?;
    let token_fp = u64::from_str_radix(parts.next()?, 16).ok()?;
    (token_fp == fp).then_some((pos, taken))
}

fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        let k = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
        k.eq_ignore_ascii_case(name).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn apply_select(item: Value, select: &[String]) -> Value {
    let Value::Object(map) = item else {
        return item;
    };
    let keep = |k: &str| {
        let base = k.split('@').next().unwrap_or(k);
        base.is_empty() || select.iter().any(|s| s.eq_ignore_ascii_case(base))
    };
    Value::Object(map.into_iter().filter(|(k, _)| keep(k)).collect())
}

/// Page position handed to cmdlets: where to resume and how many were returned before.
pub(crate) struct PageReq {
    pub after: Option<u64>,
    pub taken: u64,
    pub size: usize,
}

/// What a cmdlet produced for one page.
#[derive(Default)]
pub(crate) struct Answer {
    pub items: Vec<Value>,
    pub warnings: Vec<String>,
    /// (position, returned so far) when there is another page.
    pub next: Option<(u64, u64)>,
}

fn invoke(
    sim: &Sim,
    inb: &Inbound<'_>,
    tenant: &Arc<Tenant>,
    target: &Target<'_>,
    server: &str,
    request_id: &str,
) -> HttpResponse {
    let format = error_format(sim);
    let parsed: Value = match serde_json::from_slice(inb.body) {
        Ok(v) => v,
        Err(e) => {
            return ExoError::task(format!("The request body could not be read as JSON: {e}"))
                .response(format, request_id);
        }
    };
    let input = parsed
        .get("CmdletInput")
        .or_else(|| parsed.get("cmdletInput"))
        .cloned()
        .unwrap_or(Value::Null);
    let Some(name) = input
        .get("CmdletName")
        .or_else(|| input.get("cmdletName"))
        .and_then(Value::as_str)
    else {
        return ExoError::task("CmdletInput.CmdletName is required.").response(format, request_id);
    };
    let params: Map<String, Value> = input
        .get("Parameters")
        .or_else(|| input.get("parameters"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let fp = fingerprint(&input);
    let (after, taken) = match query_value(inb.query, "$skiptoken") {
        Some(t) => match read_token(&t, fp) {
            Some((pos, taken)) => (Some(pos), taken),
            None => {
                return ExoError::task(format!(
                    "The skip token '{t}' is not valid for this request."
                ))
                .response(format, request_id);
            }
        },
        None => (None, 0),
    };
    let page = PageReq {
        after,
        taken,
        size: page_size(inb),
    };
    let ctx = cmdlets::Cx {
        sim,
        tenant,
        server,
        params: cmdlets::Params::new(params),
        page,
    };
    let answer = match cmdlets::run(&ctx, name) {
        Ok(a) => a,
        Err(e) => return e.response(format, request_id),
    };
    let select: Option<Vec<String>> = query_value(inb.query, "$select").map(|s| {
        s.split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect()
    });
    let items: Vec<Value> = match &select {
        Some(sel) => answer
            .items
            .into_iter()
            .map(|i| apply_select(i, sel))
            .collect(),
        None => answer.items,
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/adminapi/{}/{}/$metadata#Collection(Exchange.GenericHashTable)",
            sim.base_url, target.version, target.raw_tenant
        )),
    );
    body.insert(
        "adminapi.warnings@odata.type".into(),
        json!("#Collection(String)"),
    );
    body.insert("@adminapi.warnings".into(), json!(answer.warnings));
    body.insert("value".into(), Value::Array(items));
    if let Some((pos, taken)) = answer.next {
        let mut link = format!(
            "{}/adminapi/{}/{}/InvokeCommand?",
            sim.base_url, target.version, target.raw_tenant
        );
        if let Some(sel) = &select {
            link.push_str("$select=");
            link.push_str(&sel.join(","));
            link.push('&');
        }
        link.push_str("$skiptoken=");
        link.push_str(&make_token(pos, taken, fp));
        body.insert("@odata.nextLink".into(), json!(link));
    }
    ok(&Value::Object(body), request_id)
}

/// `POST /adminapi/beta/{tenant}/$batch`: items carry absolute InvokeCommand URLs; answers
/// come back in request order as `{"responses": [{id, status, headers, body}]}`.
async fn batch(sim: &Sim, outer: &Inbound<'_>) -> Outcome {
    let request_id = uuid::Uuid::new_v4().to_string();
    let format = error_format(sim);
    let envelope: Value = match serde_json::from_slice(outer.body) {
        Ok(v) => v,
        Err(_) => {
            return Outcome::Reply(
                ExoError::task("Invalid batch payload format.").response(format, &request_id),
            );
        }
    };
    let Some(requests) = envelope.get("requests").and_then(Value::as_array) else {
        return Outcome::Reply(
            ExoError::task("Invalid batch payload format.").response(format, &request_id),
        );
    };
    if requests.len() > 100 {
        return Outcome::Reply(
            ExoError::task("Number of requests inside batch exceeds the limit.")
                .response(format, &request_id),
        );
    }
    let authorization = outer.headers.get("authorization").unwrap_or("").to_owned();
    let outer_anchor = outer.headers.get("x-anchormailbox").map(str::to_owned);
    let outer_prefer = outer.headers.get("prefer").map(str::to_owned);
    let mut answers = Vec::with_capacity(requests.len());
    for req in requests {
        let id = req.get("id").map_or_else(String::new, |v| {
            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
        });
        let url = req.get("url").and_then(Value::as_str).unwrap_or("");
        let method = req
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("POST")
            .to_ascii_uppercase();
        let rel = match url.split_once("://") {
            Some((_, r)) => r.find('/').map_or("/", |i| &r[i..]),
            None => url,
        };
        let (path, query) = rel.split_once('?').unwrap_or((rel, ""));
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        let mut headers: Vec<(String, String)> = req
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| {
                h.iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        headers.push(("authorization".to_owned(), authorization.clone()));
        for (name, value) in [
            ("x-anchormailbox", &outer_anchor),
            ("prefer", &outer_prefer),
        ] {
            if let Some(v) = value
                && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
            {
                headers.push((name.to_owned(), v.clone()));
            }
        }
        let body = req
            .get("body")
            .map(|b| b.to_string().into_bytes())
            .unwrap_or_default();
        let inbound = Inbound {
            method: &method,
            path: &path,
            query,
            headers: Headers::List(&headers),
            body: &body,
        };
        match serve(sim, &inbound, false).await {
            Outcome::Drop => return Outcome::Drop,
            Outcome::Reply(resp) => {
                let status = resp.status().as_u16();
                let retry = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let bytes = resp.into_body().try_into_bytes().unwrap_or_default();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let mut headers = Map::new();
                headers.insert("Content-Type".into(), json!("application/json"));
                if let Some(r) = retry {
                    headers.insert("Retry-After".into(), json!(r));
                }
                answers.push(json!({"id": id, "status": status, "headers": headers, "body": body}));
            }
        }
    }
    Outcome::Reply(ok(&json!({"responses": answers}), &request_id))
}

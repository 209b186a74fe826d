//! What an operation is. Each CIPP operation is one file under [`crate::operations`] with one type
//! implementing [`Operation`]: its name, upstream tag and role, documented method, whether it
//! writes, how it uses the tenant, a typed `Params` (CIPP's names, real types), a typed `Answer`
//! (the exact `Results` shape) and `run`. The API crate dispatches every operation through the
//! same [`Declaration`] and builds the OpenAPI document from the same types, so what is documented
//! is what is parsed and answered.

pub mod ctx;
pub mod params;
pub mod types;
pub mod what_if;

use futures::future::LocalBoxFuture;
use futures::stream::LocalBoxStream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;
use utoipa::openapi::{RefOr, schema::Schema};

pub use ctx::{CallerIdentity, CallerInfo, Ctx, Environment, Target};
pub use params::{ParamsSchema, RawParams};

use crate::UserError;

/// The verb upstream documents; CIPP itself accepts any verb, and so do we.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// How an operation uses `tenantFilter` (or `tenantId`). The dispatcher resolves it before
/// `run`, so the audit row knows the tenant whatever happens next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantUse {
    /// The operation takes no tenant, or reads its tenants from its own parameters.
    None,
    /// Exactly one tenant; `AllTenants` is a 400.
    One,
    /// One tenant or `AllTenants` (fanned out over the caller's tenants).
    OneOrAll,
}

/// Where an operation's role and tag come from, for operations outside `scope.json` and for
/// reviewers: the upstream function and the frontend file that calls it.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub upstream: &'static str,
    pub frontend: Option<&'static str>,
}

/// One CIPP operation.
pub trait Operation: 'static {
    /// The parameters, read from query ∪ body by [`params`]'s rules.
    type Params: DeserializeOwned + utoipa::ToSchema + 'static;
    /// The 200 (or 207) body.
    type Answer: Serialize + utoipa::ToSchema + 'static;

    const NAME: &'static str;
    /// The upstream spec's tag.
    const TAG: &'static str;
    /// The upstream `.ROLE`; `None` only for operations any authenticated caller may use.
    const ROLE: Option<&'static str>;
    const METHOD: Method;
    /// Whether a call changes something (and so leaves an audit row).
    const WRITES: bool;
    const TENANT: TenantUse;
    const SOURCE: Source;
    /// Upstream's `x-cipp-any-tenant`: the tenant is resolved but not checked against the
    /// caller's scope (the operation scopes its own output).
    const ANY_TENANT: bool = false;
    /// Whether a call may answer 207: some items done, some not, each item's outcome in the body.
    const PARTIAL: bool = false;
    /// Where we knowingly answer differently from CIPP-API (`x-cipp-upstream` in the document).
    const DIFFERENCES: Option<&'static str> = None;
    /// The content types of a successful answer (a photo answers with its image type).
    const CONTENT_TYPES: &'static [&'static str] = &["application/json"];
    /// What `WhatIf=true` does with this write (see [`WhatIf`]).
    const WHAT_IF: WhatIf = WhatIf::Record;

    /// A request that works against demo mode (query ∪ body, as one JSON object or array).
    fn example() -> Value;

    fn run(
        ctx: Ctx,
        params: Self::Params,
    ) -> impl Future<Output = Result<Outcome<Self::Answer>, UserError>>;
}

/// How a write answers `WhatIf=true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhatIf {
    /// Run with Graph, Exchange, SharePoint and the job queue recording writes instead of
    /// making them: the reads decide what happens, as they would for real.
    Record,
    /// The write changes only this service's own state (named here: templates, settings, a
    /// case): the parameters are checked and the change listed, and nothing runs.
    OwnState(&'static str),
}

/// What a successful call answers.
pub struct Outcome<A> {
    pub body: Body<A>,
    /// Some items done, some not (207); each item's outcome is in the body.
    pub partial: bool,
    pub audit: AuditDetails,
}

/// The body of a successful answer.
pub enum Body<A> {
    Json(A),
    /// JSON written as pages arrive, so large answers never sit in memory whole.
    Rows(RowStream),
    /// Raw bytes with their content type (a photo, a PDF report).
    Bytes {
        content_type: String,
        bytes: Vec<u8>,
        /// The name a browser should give the file (sent as `Content-Disposition: inline`), so a
        /// saved report is not called after the operation.
        file_name: Option<String>,
    },
}

pub type RowPages = LocalBoxStream<'static, Result<Vec<Value>, UserError>>;

/// `prefix` + the rows as one JSON array + `suffix` (e.g. `{"Results":` … `,"Metadata":{…}}`).
/// The first page has been read already, so the common failures still get their own status.
pub struct RowStream {
    pub prefix: String,
    pub pages: RowPages,
    pub suffix: String,
}

/// What the audit row of a call needs from the operation itself.
#[derive(Debug, Clone, Default)]
pub struct AuditDetails {
    /// The object acted on, when the parameters do not name it plainly.
    pub target: Option<String>,
    /// A text to record instead of the answer's (when the answer holds a secret).
    pub message: Option<String>,
    /// The tenant acted on, when the operation found it itself (default domain, id).
    pub tenant: Option<(String, String)>,
}

impl<A> Outcome<A> {
    pub fn json(answer: A) -> Self {
        Self {
            body: Body::Json(answer),
            partial: false,
            audit: AuditDetails::default(),
        }
    }

    pub fn rows(rows: RowStream) -> Self {
        Self {
            body: Body::Rows(rows),
            partial: false,
            audit: AuditDetails::default(),
        }
    }

    pub fn bytes(content_type: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            body: Body::Bytes {
                content_type: content_type.into(),
                bytes,
                file_name: None,
            },
            partial: false,
            audit: AuditDetails::default(),
        }
    }

    /// Names the file of a bytes answer; other answers have no file name and are left as they are.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        if let Body::Bytes { file_name, .. } = &mut self.body {
            *file_name = Some(name.into());
        }
        self
    }

    /// Marks the answer as partial (207).
    pub fn partial(mut self, partial: bool) -> Self {
        self.partial = partial;
        self
    }

    /// Records `message` in the audit row instead of the answer's text.
    pub fn audit_message(mut self, message: impl Into<String>) -> Self {
        self.audit.message = Some(message.into());
        self
    }

    pub fn audit_target(mut self, target: impl Into<String>) -> Self {
        self.audit.target = Some(target.into());
        self
    }

    pub fn audit_tenant(mut self, domain: impl Into<String>, id: impl Into<String>) -> Self {
        self.audit.tenant = Some((domain.into(), id.into()));
        self
    }
}

/// A schema with the component schemas it refers to.
#[derive(Clone)]
pub struct TypeSchema {
    pub name: String,
    pub root: RefOr<Schema>,
    pub components: Vec<(String, RefOr<Schema>)>,
}

impl TypeSchema {
    pub fn of<T: utoipa::ToSchema>() -> Self {
        let mut components = Vec::new();
        T::schemas(&mut components);
        Self {
            name: T::name().into_owned(),
            root: T::schema(),
            components,
        }
    }
}

type ErasedRun = fn(
    Ctx,
    &ParamsSchema,
    &RawParams,
) -> LocalBoxFuture<'static, Result<Outcome<Value>, UserError>>;

/// An operation with its types erased: what the registry holds and the dispatcher calls.
pub struct Declaration {
    pub name: &'static str,
    pub tag: &'static str,
    pub role: Option<&'static str>,
    pub method: Method,
    pub writes: bool,
    pub tenant: TenantUse,
    pub source: Source,
    pub any_tenant: bool,
    pub partial: bool,
    pub differences: Option<&'static str>,
    pub content_types: &'static [&'static str],
    pub params: ParamsSchema,
    pub params_type: TypeSchema,
    pub answer: TypeSchema,
    pub example: Value,
    pub what_if: WhatIf,
    run: ErasedRun,
    check: fn(&ParamsSchema, &RawParams) -> Result<(), UserError>,
}

impl Declaration {
    pub fn of<O: Operation>() -> Self {
        Self {
            name: O::NAME,
            tag: O::TAG,
            role: O::ROLE,
            method: O::METHOD,
            writes: O::WRITES,
            tenant: O::TENANT,
            source: O::SOURCE,
            any_tenant: O::ANY_TENANT,
            partial: O::PARTIAL,
            differences: O::DIFFERENCES,
            content_types: O::CONTENT_TYPES,
            params: ParamsSchema::of::<O::Params>(),
            params_type: TypeSchema::of::<O::Params>(),
            answer: TypeSchema::of::<O::Answer>(),
            example: O::example(),
            what_if: O::WHAT_IF,
            run: run_erased::<O>,
            check: check_erased::<O>,
        }
    }

    /// Reads the parameters only: a 400 naming the field when one does not fit.
    pub fn check(&self, raw: &RawParams) -> Result<(), UserError> {
        (self.check)(&self.params, raw)
    }

    /// Reads the parameters (a 400 naming the field when one does not fit) and runs the
    /// operation; a JSON answer comes back as JSON.
    pub fn run(
        &self,
        ctx: Ctx,
        raw: &RawParams,
    ) -> LocalBoxFuture<'static, Result<Outcome<Value>, UserError>> {
        (self.run)(ctx, &self.params, raw)
    }
}

fn check_erased<O: Operation>(schema: &ParamsSchema, raw: &RawParams) -> Result<(), UserError> {
    params::deserialize::<O::Params>(schema.prepare(raw)).map(|_| ())
}

fn run_erased<O: Operation>(
    ctx: Ctx,
    schema: &ParamsSchema,
    raw: &RawParams,
) -> LocalBoxFuture<'static, Result<Outcome<Value>, UserError>> {
    let params = params::deserialize::<O::Params>(schema.prepare(raw));
    Box::pin(async move {
        let outcome = O::run(ctx, params?).await?;
        let body =
            match outcome.body {
                Body::Json(answer) => Body::Json(serde_json::to_value(answer).map_err(|e| {
                    UserError::internal("The answer could not be written as JSON", e)
                })?),
                Body::Rows(rows) => Body::Rows(rows),
                Body::Bytes {
                    content_type,
                    bytes,
                    file_name,
                } => Body::Bytes {
                    content_type,
                    bytes,
                    file_name,
                },
            };
        Ok(Outcome {
            body,
            partial: outcome.partial,
            audit: outcome.audit,
        })
    })
}

//! The OpenAPI document, generated at run time from the registry: a built operation is described
//! by its own `Params` and `Answer` types (the same types the dispatcher parses and answers with),
//! so the document cannot disagree with the code. Operations not built yet are described from
//! `scope.json` and answer 501.

use std::collections::BTreeMap;

use cipp_users_domain::ErrorKind;
use cipp_users_domain::op::types::ResultItem;
use cipp_users_domain::op::what_if;
use cipp_users_domain::op::{Declaration, Method, TenantUse, TypeSchema};
use serde_json::{Value, json};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, Required, ResponseBuilder, tag::TagBuilder,
};

use crate::error::{
    CODE_IDEMPOTENCY_KEY_REUSED, CODE_METHOD_NOT_ALLOWED, CODE_TOO_LARGE, CODE_UNAUTHORIZED,
    CODE_UNKNOWN_OPERATION,
};
use crate::idempotency;
use crate::registry::{Operation, Registry};

const ERROR_SCHEMA: &str = "ErrorBody";

/// Every status the generic dispatcher (and the domain's error kinds) can answer a built
/// operation with, besides its success.
const ERROR_STATUSES: &[(&str, &str)] = &[
    (
        "400",
        "A parameter is missing or malformed (`Results` names it), or Microsoft 365 refused the request",
    ),
    ("401", "No valid bearer token"),
    (
        "403",
        "The caller's role or tenant scope does not allow this, or the request is refused on principle",
    ),
    ("404", "The object named does not exist"),
    ("409", "The request conflicts with what exists"),
    (
        "413",
        "The request body is larger than this service accepts",
    ),
    (
        "500",
        "The action failed (CIPP's failure text in `Results`); the cause is in the log under the correlation id",
    ),
    ("501", "A part of the request this service does not do yet"),
];

pub fn openapi(registry: &Registry) -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut tags: Vec<String> = Vec::new();
    let mut schemas: BTreeMap<String, RefOr<Schema>> = BTreeMap::new();
    for op in registry.all() {
        if !tags.contains(&op.spec.tag) {
            tags.push(op.spec.tag.clone());
        }
        let item = match &op.declaration {
            Some(declaration) => declared_path_item(op, declaration, registry, &mut schemas),
            None => scope_path_item(op, registry),
        };
        paths = paths.path(format!("/api/{}", op.spec.name), item);
    }
    tags.sort();
    // The items an error's `Results` may list (CIPP answers some failures as result objects).
    let item = TypeSchema::of::<ResultItem>();
    schemas.insert(item.name.clone(), item.root.clone());
    add_components(&mut schemas, &item, "ErrorBody");
    let mut components = ComponentsBuilder::new()
        .schema(ERROR_SCHEMA, error_schema())
        .schema(WHAT_IF_SCHEMA, what_if_schema())
        .security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An Entra access token for this API (`api://<API app id>/.default`), v1 or v2.",
                    ))
                    .build(),
            ),
        );
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("CIPP users API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "CIPP-compatible user-management API. Routes, parameter names, roles and \
                     response shapes follow CIPP-API; operations not built yet answer 501. \
                     Parameters may be sent in the query string or the JSON body (the query \
                     wins), keys in any case; `{label, value}` objects are read as their `value` \
                     and `\"true\"`/`\"false\"` as booleans. Every error body is \
                     `{\"Results\": …, \"code\": …}`.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .tags(Some(
            tags.into_iter().map(|t| TagBuilder::new().name(t).build()),
        ))
        .build()
}

/// `GET /api/openapi.json`: the document, generated once on the first request.
pub async fn serve(state: actix_web::web::Data<crate::state::AppState>) -> actix_web::HttpResponse {
    let body = state.document.get_or_init(|| {
        actix_web::web::Bytes::from(
            serde_json::to_vec(&document(&state.registry)).unwrap_or_default(),
        )
    });
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(body.clone())
}

/// The document as served and committed: [`openapi`] with [`finish`]'s rules applied.
pub fn document(registry: &Registry) -> Value {
    let mut value = serde_json::to_value(openapi(registry)).unwrap_or_default();
    finish(&mut value);
    value
}

/// Rules utoipa cannot state per type, applied to the whole document:
/// - alternatives are `anyOf`: serde's untagged enums take the first variant that fits, so two
///   variants may both fit (an empty list), which `oneOf` would call invalid;
/// - a flattened optional part (`allOf` with "the part, or null") is the part with every field
///   optional: when it is absent, none of its fields are there, and the object is never null;
/// - in requests, a required text must not be blank, because the parameter layer reads a blank
///   value as absent.
fn finish(document: &mut Value) {
    fn any_of(value: &mut Value) {
        match value {
            Value::Object(fields) => {
                if let Some(alternatives) = fields.remove("oneOf") {
                    fields.insert("anyOf".to_owned(), alternatives);
                }
                fields.values_mut().for_each(any_of);
            }
            Value::Array(items) => items.iter_mut().for_each(any_of),
            _ => {}
        }
    }
    fn optional_parts(value: &mut Value, components: &serde_json::Map<String, Value>) {
        match value {
            Value::Object(fields) => {
                if let Some(Value::Array(parts)) = fields.get_mut("allOf") {
                    for part in parts.iter_mut() {
                        let reference = part
                            .get("anyOf")
                            .and_then(Value::as_array)
                            .filter(|alternatives| {
                                alternatives.len() == 2
                                    && alternatives
                                        .iter()
                                        .any(|a| a.get("type") == Some(&Value::from("null")))
                            })
                            .and_then(|alternatives| {
                                alternatives
                                    .iter()
                                    .find_map(|a| a.get("$ref").and_then(Value::as_str))
                            })
                            .map(str::to_owned);
                        if let Some(reference) = reference
                            && let Some(Value::Object(component)) =
                                components.get(reference.rsplit('/').next().unwrap_or_default())
                        {
                            let mut optional = component.clone();
                            optional.remove("required");
                            *part = Value::Object(optional);
                        }
                    }
                }
                fields
                    .values_mut()
                    .for_each(|v| optional_parts(v, components));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| optional_parts(v, components)),
            _ => {}
        }
    }
    fn not_blank(value: &mut Value) {
        match value {
            Value::Object(fields) => {
                let required: Vec<String> = fields
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|names| {
                        names
                            .iter()
                            .filter_map(|n| n.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(Value::Object(properties)) = fields.get_mut("properties") {
                    for name in &required {
                        if let Some(Value::Object(property)) = properties.get_mut(name)
                            && property.get("type") == Some(&Value::String("string".into()))
                            && !property.contains_key("minLength")
                        {
                            property.insert("minLength".into(), Value::from(1));
                        }
                    }
                }
                // A required query parameter that is text: the same rule.
                if fields.get("required") == Some(&Value::Bool(true))
                    && fields.contains_key("in")
                    && let Some(Value::Object(schema)) = fields.get_mut("schema")
                    && schema.get("type") == Some(&Value::String("string".into()))
                    && !schema.contains_key("minLength")
                {
                    schema.insert("minLength".into(), Value::from(1));
                }
                fields.values_mut().for_each(not_blank);
            }
            Value::Array(items) => items.iter_mut().for_each(not_blank),
            _ => {}
        }
    }
    any_of(document);
    let components = document["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    optional_parts(document, &components);
    if let Some(Value::Object(paths)) = document.get_mut("paths") {
        for item in paths.values_mut() {
            if let Value::Object(methods) = item {
                for operation in methods.values_mut() {
                    for part in ["parameters", "requestBody"] {
                        if let Some(request) = operation.get_mut(part) {
                            not_blank(request);
                        }
                    }
                }
            }
        }
    }
}

fn error_schema() -> Schema {
    let mut codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
    codes.extend([
        CODE_UNAUTHORIZED,
        CODE_UNKNOWN_OPERATION,
        CODE_TOO_LARGE,
        CODE_METHOD_NOT_ALLOWED,
        CODE_IDEMPOTENCY_KEY_REUSED,
    ]);
    codes.sort_unstable();
    codes.dedup();
    ObjectBuilder::new()
        .description(Some(
            "Every error: CIPP's text in `Results` (a string, or the list or result object CIPP \
             answers that operation's failures with) and a stable `code` to branch on.",
        ))
        .property(
            "Results",
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(Ref::from_schema_name("ResultItem"))
                .item(
                    ArrayBuilder::new().items(
                        OneOfBuilder::new()
                            .item(ObjectBuilder::new().schema_type(Type::String))
                            .item(Ref::from_schema_name("ResultItem")),
                    ),
                ),
        )
        .required("Results")
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes)),
        )
        .required("code")
        .into()
}

/// The answer to `WhatIf=true` on a write.
const WHAT_IF_SCHEMA: &str = "WhatIfAnswer";

fn what_if_schema() -> Schema {
    let planned = ObjectBuilder::new()
        .property(
            "Service",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["graph", "exchange", "sharepoint", "jobs", "cipp"])),
        )
        .required("Service")
        .property("Method", ObjectBuilder::new().schema_type(Type::String))
        .required("Method")
        .property("Target", ObjectBuilder::new().schema_type(Type::String))
        .required("Target")
        .property(
            "Body",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
                .description(Some(
                    "The request body, a cmdlet's parameters or a job's steps",
                )),
        )
        .property(
            "AssumedStatus",
            ObjectBuilder::new().schema_type(Type::Integer),
        )
        .required("AssumedStatus");
    ObjectBuilder::new()
        .description(Some(
            "A dry run (`WhatIf=true`): the operation's own answer fields (`Results` …), marked \
             as a dry run, with the writes that were not sent in the order they would have been.",
        ))
        .property("WhatIf", ObjectBuilder::new().schema_type(Type::Boolean))
        .required("WhatIf")
        .property("WhatIfNote", ObjectBuilder::new().schema_type(Type::String))
        .required("WhatIfNote")
        .property("PlannedWrites", ArrayBuilder::new().items(planned))
        .required("PlannedWrites")
        .into()
}

fn error_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ERROR_SCHEMA)))
        .build()
}

fn description_of(op: &Operation, registry: &Registry) -> String {
    registry
        .upstream_entry(&op.spec.name)
        .and_then(|u| u.get("description"))
        .and_then(|d| d.as_str())
        .map(str::to_owned)
        .or_else(|| op.spec.note.clone())
        .unwrap_or_default()
}

/// Adds a type's component schemas; two different schemas under one name are refused, because
/// one of the operations would be described wrongly.
fn add_components(schemas: &mut BTreeMap<String, RefOr<Schema>>, of: &TypeSchema, operation: &str) {
    for (name, schema) in &of.components {
        match schemas.get(name) {
            Some(existing) if json_of(existing) != json_of(schema) => {
                tracing::error!(
                    operation,
                    component = %name,
                    "two different types share one schema name; rename one"
                );
            }
            Some(_) => {}
            None => {
                schemas.insert(name.clone(), schema.clone());
            }
        }
    }
}

fn json_of(schema: &RefOr<Schema>) -> Value {
    serde_json::to_value(schema).unwrap_or_default()
}

/// Component names used by more than one differing schema (a test keeps this empty).
pub fn component_clashes(registry: &Registry) -> Vec<String> {
    let mut seen: BTreeMap<String, Value> = BTreeMap::new();
    let mut clashes = Vec::new();
    for declaration in registry.all().iter().filter_map(|o| o.declaration.as_ref()) {
        for of in [&declaration.params_type, &declaration.answer] {
            for (name, schema) in &of.components {
                let schema = json_of(schema);
                match seen.get(name) {
                    Some(existing) if *existing != schema => {
                        clashes.push(format!("{name} ({})", declaration.name));
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(name.clone(), schema);
                    }
                }
            }
        }
    }
    clashes
}

/// The schema with every component reference replaced by the component itself. Request schemas
/// are documented inline: schemathesis (4.32) cannot bind its test data to a property whose
/// schema is a reference, and a reader of one operation sees its whole input in one place.
fn inlined(schema: &RefOr<Schema>, components: &BTreeMap<String, RefOr<Schema>>) -> RefOr<Schema> {
    fn walk(value: &mut Value, components: &BTreeMap<String, Value>, depth: usize) {
        if depth > 16 {
            return;
        }
        match value {
            Value::Object(fields) => {
                if let Some(Value::String(reference)) = fields.get("$ref") {
                    let name = reference.rsplit('/').next().unwrap_or_default();
                    if let Some(Value::Object(target)) = components.get(name) {
                        fields.remove("$ref");
                        for (key, item) in target {
                            // The property's own description wins over the component's.
                            fields.entry(key.clone()).or_insert_with(|| item.clone());
                        }
                    }
                }
                for item in fields.values_mut() {
                    walk(item, components, depth + 1);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, components, depth + 1);
                }
            }
            _ => {}
        }
    }
    let components: BTreeMap<String, Value> = components
        .iter()
        .map(|(name, schema)| (name.clone(), json_of(schema)))
        .collect();
    let mut value = json_of(schema);
    walk(&mut value, &components, 0);
    serde_json::from_value(value).unwrap_or_else(|_| schema.clone())
}

/// An example as the document's types state it: the frontend's `{label, value}` pickers as their
/// value (the parameter layer reads them so), so Swagger UI and schemathesis can use it as it is.
fn plain_example(example: &Value) -> Value {
    match example {
        Value::Object(fields) => {
            let is_picker = fields.len() == 2
                && fields.keys().any(|k| k.eq_ignore_ascii_case("label"))
                && fields.keys().any(|k| k.eq_ignore_ascii_case("value"));
            if is_picker
                && let Some((_, value)) =
                    fields.iter().find(|(k, _)| k.eq_ignore_ascii_case("value"))
            {
                return plain_example(value);
            }
            Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), plain_example(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(plain_example).collect()),
        other => other.clone(),
    }
}

fn lookup_ci<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn declared_path_item(
    op: &Operation,
    declaration: &Declaration,
    registry: &Registry,
    schemas: &mut BTreeMap<String, RefOr<Schema>>,
) -> PathItem {
    add_components(schemas, &declaration.params_type, declaration.name);
    add_components(schemas, &declaration.answer, declaration.name);
    let mut extensions = ExtensionsBuilder::new()
        .add("x-cipp-tier", op.spec.tier)
        .add("x-cipp-implemented", true)
        .add("x-cipp-writes", declaration.writes)
        .add(
            "x-cipp-source",
            json!({
                "upstream": declaration.source.upstream,
                "frontend": declaration.source.frontend,
            }),
        );
    if let Some(role) = declaration.role {
        extensions = extensions.add("x-cipp-role", role);
    }
    if declaration.any_tenant {
        extensions = extensions.add("x-cipp-any-tenant", true);
    }
    if let Some(differences) = declaration.differences {
        extensions = extensions.add("x-cipp-upstream", differences);
    }
    let mut builder = OperationBuilder::new()
        .summary(Some(declaration.name))
        .operation_id(Some(declaration.name))
        .tag(declaration.tag)
        .description(Some(description_of(op, registry)))
        .security(SecurityRequirement::new("bearerAuth", Vec::<String>::new()))
        .extensions(Some(extensions.build()));
    let example = &plain_example(&declaration.example);
    if declaration.tenant != TenantUse::None {
        let description = match declaration.tenant {
            TenantUse::OneOrAll => {
                "The tenant: its id, default domain or initial domain, or `AllTenants`"
            }
            _ => "The tenant: its id, default domain or initial domain",
        };
        builder = builder.parameter(
            ParameterBuilder::new()
                .name("tenantFilter")
                .parameter_in(ParameterIn::Query)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1)),
                ))
                .example(lookup_ci(example, "tenantFilter").cloned()),
        );
    }
    if declaration.writes {
        builder = builder
            .parameter(
                ParameterBuilder::new()
                    .name(what_if::PARAMETER)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(
                        "`true`: a dry run. Reads are made, writes are not sent but listed in \
                         `PlannedWrites` with their answers assumed; nothing changes.",
                    ))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::Boolean))),
            )
            .parameter(
                ParameterBuilder::new()
                    .name(idempotency::HEADER)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "Runs the write once per key: a repeat within 24 hours with the same \
                         parameters gets the first answer (`Idempotent-Replayed: true`) without \
                         a second change; the same key with other parameters is a 422.",
                    ))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1))
                            .max_length(Some(255))
                            .pattern(Some("^[\\x21-\\x7E]([\\x20-\\x7E]*[\\x21-\\x7E])?$")),
                    )),
            );
    }
    let root = declaration.params.root.clone();
    let resolved = match &root {
        RefOr::T(schema) => Some(schema.clone()),
        RefOr::Ref(reference) => {
            let name = reference
                .ref_location
                .rsplit('/')
                .next()
                .unwrap_or_default();
            declaration
                .params
                .components
                .get(name)
                .and_then(|s| match s {
                    RefOr::T(schema) => Some(schema.clone()),
                    RefOr::Ref(_) => None,
                })
        }
    };
    match (declaration.method, resolved) {
        (Method::Get, Some(Schema::Object(object))) => {
            for (name, property) in &object.properties {
                let required = if object.required.contains(name) {
                    Required::True
                } else {
                    Required::False
                };
                builder = builder.parameter(
                    ParameterBuilder::new()
                        .name(name.clone())
                        .parameter_in(ParameterIn::Query)
                        .required(required)
                        .schema(Some(inlined(property, &declaration.params.components)))
                        .example(lookup_ci(example, name).cloned()),
                );
            }
        }
        (_, Some(schema)) => {
            let has_properties = !matches!(&schema, Schema::Object(o) if o.properties.is_empty());
            if has_properties {
                let required = match &schema {
                    Schema::Object(o) if o.required.is_empty() => Required::False,
                    _ => Required::True,
                };
                let body_example = match example {
                    Value::Object(fields) => Value::Object(
                        fields
                            .iter()
                            .filter(|(k, _)| {
                                declaration.tenant == TenantUse::None
                                    || !k.eq_ignore_ascii_case("tenantFilter")
                            })
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                };
                builder = builder.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(required))
                        .description(Some(
                            "JSON; keys are case-insensitive, query parameters win over the body, \
                             `{label, value}` objects are read as their `value`.",
                        ))
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(inlined(&root, &declaration.params.components)))
                                .example(Some(body_example))
                                .build(),
                        )
                        .build(),
                ));
            }
        }
        (_, None) => {}
    }
    let success = |description: &str| {
        let mut response = ResponseBuilder::new().description(description);
        for content_type in declaration.content_types {
            let content = if *content_type == "application/json" && declaration.writes {
                ContentBuilder::new()
                    .schema(Some(
                        OneOfBuilder::new()
                            .item(declaration.answer.root.clone())
                            .item(Ref::from_schema_name(WHAT_IF_SCHEMA)),
                    ))
                    .build()
            } else if *content_type == "application/json" {
                ContentBuilder::new()
                    .schema(Some(declaration.answer.root.clone()))
                    .build()
            } else {
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(
                        Some(utoipa::openapi::SchemaFormat::Custom("binary".into())),
                    )))
                    .build()
            };
            response = response.content(*content_type, content);
        }
        response
    };
    builder = builder.response("200", success("Success"));
    if declaration.partial {
        builder = builder.response(
            "207",
            success("Some items done, some not: each item's outcome is in the body"),
        );
    }
    for (status, description) in ERROR_STATUSES {
        builder = builder.response(
            *status,
            ResponseBuilder::new()
                .description(*description)
                .content("application/json", error_content()),
        );
    }
    if declaration.writes {
        builder = builder.response(
            "422",
            ResponseBuilder::new()
                .description(
                    "The `Idempotency-Key` was used in the last 24 hours for a different request",
                )
                .content("application/json", error_content()),
        );
        builder = builder.response(
            "503",
            ResponseBuilder::new()
                .description("The state store that keeps `Idempotency-Key` answers is unavailable; the request was not run")
                .content("application/json", error_content()),
        );
    }
    builder = builder.response(
        "431",
        ResponseBuilder::new().description("The request's headers are too large (no body)"),
    );
    let method = match declaration.method {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
    };
    PathItem::new(method, builder)
}

/// An operation of `scope.json` not declared by the users domain crate.
fn scope_path_item(op: &Operation, registry: &Registry) -> PathItem {
    let spec = &op.spec;
    let status = if op.implemented() {
        "Implemented."
    } else {
        "**Not implemented yet: answers 501.**"
    };
    let mut extensions = ExtensionsBuilder::new()
        .add("x-cipp-tier", spec.tier)
        .add("x-cipp-implemented", op.implemented());
    if let Some(role) = &spec.role {
        extensions = extensions.add("x-cipp-role", role.clone());
    }
    if spec.any_tenant {
        extensions = extensions.add("x-cipp-any-tenant", true);
    }
    let description = description_of(op, registry);
    let mut builder = OperationBuilder::new()
        .summary(Some(spec.name.clone()))
        .operation_id(Some(spec.name.clone()))
        .tag(spec.tag.clone())
        .description(Some(format!("{status} {description}").trim().to_owned()))
        .security(SecurityRequirement::new("bearerAuth", Vec::<String>::new()))
        .extensions(Some(extensions.build()));
    for name in &spec.query {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(name.clone())
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    if !spec.body.is_empty() {
        let mut body = ObjectBuilder::new().schema_type(Type::Object);
        for name in &spec.body {
            body = body.property(name.clone(), ObjectBuilder::new());
        }
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(body)).build(),
                )
                .build(),
        ));
    }
    let statuses: &[(&str, &str)] = if op.implemented() {
        ERROR_STATUSES
    } else {
        &[
            ("401", "No valid bearer token"),
            ("403", "The caller's role does not allow this"),
            (
                "413",
                "The request body is larger than this service accepts",
            ),
            ("501", "Not implemented yet"),
        ]
    };
    if op.implemented() {
        builder = builder.response(
            "200",
            ResponseBuilder::new().description("Success").content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new()))
                    .build(),
            ),
        );
    }
    for (status, description) in statuses {
        builder = builder.response(
            *status,
            ResponseBuilder::new()
                .description(*description)
                .content("application/json", error_content()),
        );
    }
    let method = match spec.method.to_ascii_uppercase().as_str() {
        "GET" => HttpMethod::Get,
        _ => HttpMethod::Post,
    };
    PathItem::new(method, builder)
}

/// The document as committed under `openapi/openapi.json` (pretty, stable key order).
pub fn openapi_json(registry: &Registry) -> String {
    let value = document(registry);
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
    text.push('\n');
    text
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

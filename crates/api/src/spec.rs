//! The OpenAPI document, built from the operation registry with utoipa's builders, so the
//! document cannot list an operation the router does not serve or miss one it does.

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    Required, ResponseBuilder, tag::TagBuilder,
};

use crate::registry::{Operation, Registry};

const RESULTS_SCHEMA: &str = "StandardResults";

pub fn openapi(registry: &Registry) -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut tags: Vec<String> = Vec::new();
    for op in registry.all() {
        if !tags.contains(&op.spec.tag) {
            tags.push(op.spec.tag.clone());
        }
        paths = paths.path(format!("/api/{}", op.spec.name), path_item(op, registry));
    }
    tags.sort();
    let results_schema = ObjectBuilder::new()
        .description(Some(
            "CIPP's envelope. `Results` is a string, an array of strings, or result objects \
             `{resultText, state, copyField}`; every error body is `{\"Results\": \"<text>\"}`.",
        ))
        .property("Results", ObjectBuilder::new())
        .required("Results");
    let components = ComponentsBuilder::new()
        .schema(RESULTS_SCHEMA, results_schema)
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
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("CIPP users API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "CIPP-compatible user-management API. Routes, parameter names, roles and \
                     response shapes follow CIPP-API; operations not built yet answer 501.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .tags(Some(
            tags.into_iter().map(|t| TagBuilder::new().name(t).build()),
        ))
        .build()
}

fn path_item(op: &Operation, registry: &Registry) -> PathItem {
    let spec = &op.spec;
    let upstream = registry.upstream_entry(&spec.name);
    let description = upstream
        .and_then(|u| u.get("description"))
        .and_then(|d| d.as_str())
        .map(str::to_owned)
        .or_else(|| spec.note.clone())
        .unwrap_or_default();
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
    let mut builder = OperationBuilder::new()
        .summary(Some(spec.name.clone()))
        .operation_id(Some(spec.name.clone()))
        .tag(spec.tag.clone())
        .description(Some(format!("{status} {description}").trim().to_owned()))
        .security(SecurityRequirement::new("bearerAuth", Vec::<String>::new()))
        .extensions(Some(extensions.build()));
    for name in &spec.query {
        let required = if name.eq_ignore_ascii_case("tenantFilter") && !spec.any_tenant {
            Required::True
        } else {
            Required::False
        };
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(name.clone())
                .parameter_in(ParameterIn::Query)
                .required(required)
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
                .description(Some(
                    "JSON object; keys are case-insensitive, query parameters win over the body, \
                     `{label, value}` objects are read as their `value`.",
                ))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(body)).build(),
                )
                .build(),
        ));
    }
    let results = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(RESULTS_SCHEMA)))
            .build()
    };
    let success = if spec.name.starts_with("List") {
        ContentBuilder::new()
            .schema(Some(ArrayBuilder::new().items(ObjectBuilder::new())))
            .build()
    } else {
        results()
    };
    builder = builder
        .response(
            "200",
            ResponseBuilder::new()
                .description("Success")
                .content("application/json", success),
        )
        .response(
            "400",
            ResponseBuilder::new()
                .description("A parameter is missing or malformed; `Results` names it")
                .content("application/json", results()),
        )
        .response(
            "401",
            ResponseBuilder::new()
                .description("No valid bearer token")
                .content("application/json", results()),
        )
        .response(
            "403",
            ResponseBuilder::new()
                .description("The caller's role or tenant scope does not allow this")
                .content("application/json", results()),
        )
        .response(
            "501",
            ResponseBuilder::new()
                .description("Not implemented yet")
                .content("application/json", results()),
        );
    let method = match spec.method.to_ascii_uppercase().as_str() {
        "GET" => HttpMethod::Get,
        _ => HttpMethod::Post,
    };
    PathItem::new(method, builder)
}

/// The document as committed under `openapi/openapi.json` (pretty, stable key order).
pub fn openapi_json(registry: &Registry) -> String {
    let value = serde_json::to_value(openapi(registry)).unwrap_or_default();
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
    text.push('\n');
    text
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let ordered: std::collections::BTreeMap<String, serde_json::Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            serde_json::Value::Object(ordered.into_iter().collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

//! The one list of operations: every operation in `openapi/scope.json` (name, upstream method,
//! tag, role, parameter names) joined with the operations the users domain crate declares
//! ([`cipp_users_domain::operations::declarations`]), which may add operations outside the scope
//! list. Route dispatch, the OpenAPI document, the coverage test and the README's coverage table
//! all come from this registry; an operation in scope with no declaration answers 501.

use cipp_users_domain::op::{Declaration, Method};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

const SCOPE: &str = include_str!("../../../openapi/scope.json");
const UPSTREAM: &str = include_str!("../../../openapi/upstream-operations.json");

/// One operation as `scope.json` declares it.
#[derive(Debug, Clone, Deserialize)]
pub struct OperationSpec {
    pub name: String,
    pub method: String,
    pub tier: u8,
    pub tag: String,
    /// The upstream `x-cipp-role`; `None` for `me`, which any authenticated caller may call.
    pub role: Option<String>,
    #[serde(default)]
    pub query: Vec<String>,
    #[serde(default)]
    pub body: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Upstream's `x-cipp-any-tenant`: the tenant check is skipped (the operation scopes its own output).
    #[serde(skip)]
    pub any_tenant: bool,
    /// Whether a call changes something (and so always leaves an audit row).
    #[serde(skip)]
    pub writes: bool,
}

#[derive(Deserialize)]
struct ScopeFile {
    operations: Vec<OperationSpec>,
}

pub struct Operation {
    pub spec: OperationSpec,
    /// The typed operation of the users domain crate, when it is built.
    pub declaration: Option<Arc<Declaration>>,
}

impl Operation {
    pub fn implemented(&self) -> bool {
        self.declaration.is_some()
    }
}

/// Operations outside `scope.json` are listed after it, in this tier.
pub const BEYOND_SCOPE_TIER: u8 = 3;

pub struct Registry {
    operations: Vec<Operation>,
    by_name: HashMap<String, usize>,
    upstream: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("openapi/scope.json does not parse: {0}")]
    Scope(serde_json::Error),
    #[error("openapi/upstream-operations.json does not parse: {0}")]
    Upstream(serde_json::Error),
    #[error("operation {0} is declared twice in the users domain crate")]
    DuplicateDeclaration(&'static str),
}

impl Registry {
    pub fn load() -> Result<Self, RegistryError> {
        let scope: ScopeFile = serde_json::from_str(SCOPE).map_err(RegistryError::Scope)?;
        let upstream: Value = serde_json::from_str(UPSTREAM).map_err(RegistryError::Upstream)?;
        let mut operations: Vec<Operation> = scope
            .operations
            .into_iter()
            .map(|mut spec| {
                spec.any_tenant = upstream_entry(&upstream, &spec.name)
                    .and_then(|e| e.get("x-cipp-any-tenant"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                spec.writes = spec
                    .role
                    .as_deref()
                    .is_some_and(|r| r.ends_with("ReadWrite") || r.ends_with(".Write"));
                Operation {
                    spec,
                    declaration: None,
                }
            })
            .collect();
        for declaration in cipp_users_domain::operations::declarations() {
            let name = declaration.name;
            let index = match operations.iter().position(|o| o.spec.name == name) {
                Some(index) => index,
                None => {
                    operations.push(Operation {
                        spec: OperationSpec {
                            name: name.to_owned(),
                            method: String::new(),
                            tier: BEYOND_SCOPE_TIER,
                            tag: String::new(),
                            role: None,
                            query: Vec::new(),
                            body: Vec::new(),
                            note: None,
                            any_tenant: false,
                            writes: false,
                        },
                        declaration: None,
                    });
                    operations.len() - 1
                }
            };
            let op = &mut operations[index];
            // The declaration is the truth for what it states; scope.json keeps the tier.
            op.spec.method = match declaration.method {
                Method::Get => "GET".to_owned(),
                Method::Post => "POST".to_owned(),
            };
            op.spec.tag = declaration.tag.to_owned();
            op.spec.role = declaration.role.map(str::to_owned);
            op.spec.any_tenant = declaration.any_tenant;
            op.spec.writes = declaration.writes;
            if op.declaration.replace(Arc::new(declaration)).is_some() {
                return Err(RegistryError::DuplicateDeclaration(name));
            }
        }
        let by_name = operations
            .iter()
            .enumerate()
            .map(|(i, o)| (o.spec.name.to_ascii_lowercase(), i))
            .collect();
        Ok(Self {
            operations,
            by_name,
            upstream,
        })
    }

    /// Finds an operation by name, ignoring case as CIPP does.
    pub fn find(&self, name: &str) -> Option<&Operation> {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .and_then(|i| self.operations.get(*i))
    }

    pub fn all(&self) -> &[Operation] {
        &self.operations
    }

    /// The upstream spec's entry for an operation (its path item's single operation), if any.
    pub fn upstream_entry(&self, name: &str) -> Option<&Value> {
        upstream_entry(&self.upstream, name)
    }

    pub fn upstream_components(&self) -> Option<&Value> {
        self.upstream.get("components")
    }

    /// The README's coverage table, generated; a test keeps the README in step with it.
    pub fn coverage_table(&self) -> String {
        let mut rows = vec![
            "| operation | tier | role | status |".to_owned(),
            "| --- | --- | --- | --- |".to_owned(),
        ];
        let mut sorted: Vec<&Operation> = self.operations.iter().collect();
        sorted.sort_by(|a, b| (a.spec.tier, &a.spec.name).cmp(&(b.spec.tier, &b.spec.name)));
        for op in sorted {
            rows.push(format!(
                "| {} | {} | {} | {} |",
                op.spec.name,
                op.spec.tier,
                op.spec
                    .role
                    .as_deref()
                    .unwrap_or("any authenticated caller"),
                if op.implemented() {
                    "implemented"
                } else {
                    "501 not implemented yet"
                }
            ));
        }
        let implemented = self.operations.iter().filter(|o| o.implemented()).count();
        rows.push(String::new());
        rows.push(format!(
            "{implemented} of {} operations implemented.",
            self.operations.len()
        ));
        rows.join("\n")
    }
}

fn upstream_entry<'a>(upstream: &'a Value, name: &str) -> Option<&'a Value> {
    let item = upstream.get("paths")?.get(format!("/api/{name}"))?;
    ["get", "post", "put", "patch", "delete"]
        .iter()
        .find_map(|m| item.get(*m))
}

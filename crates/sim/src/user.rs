//! The stored shape of a directory user: a fixed property table and a compact per-user record.
//!
//! Values sit in a `Vec<Value>` indexed by the table, so 100,000-user tenants stay cheap and
//! `$select`/`$filter` resolve a property name with one hash lookup.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Bool,
    StrList,
    Json,
}

/// How a property may be written through PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// Read-only: PATCH is refused.
    No,
    /// Writable for cloud users only; on-premises synced users own it in AD.
    Cloud,
    /// Writable for every user, synced or not.
    Always,
    /// Left over from on-premises sync: a cloud-only user's value may be cleared (set to null),
    /// never set (Microsoft's "clear on-premises attributes" for cloud-only users).
    ClearOnCloud,
}

pub(crate) struct Prop {
    pub name: &'static str,
    pub kind: Kind,
    pub write: Write,
    /// Part of the v1.0 default property set (beta returns every stored property by default).
    pub v1_default: bool,
}

const fn p(name: &'static str, kind: Kind, write: Write, v1_default: bool) -> Prop {
    Prop {
        name,
        kind,
        write,
        v1_default,
    }
}

use Kind::{Bool, Json, Str, StrList};
use Write::{Always, ClearOnCloud, Cloud, No};

/// Stored user properties, in the order Graph returns them.
pub(crate) static PROPS: &[Prop] = &[
    p("id", Str, No, true),
    p("deletedDateTime", Str, No, false),
    p("accountEnabled", Bool, Always, false),
    p("ageGroup", Str, Always, false),
    p("assignedLicenses", Json, No, false),
    p("businessPhones", StrList, Cloud, true),
    p("city", Str, Cloud, false),
    p("companyName", Str, Cloud, false),
    p("consentProvidedForMinor", Str, Always, false),
    p("country", Str, Cloud, false),
    p("createdDateTime", Str, No, false),
    p("creationType", Str, No, false),
    p("department", Str, Cloud, false),
    p("displayName", Str, Cloud, true),
    p("employeeHireDate", Str, Cloud, false),
    p("employeeId", Str, Cloud, false),
    p("employeeLeaveDateTime", Str, Always, false),
    p("employeeType", Str, Cloud, false),
    p("externalUserState", Str, No, false),
    p("externalUserStateChangeDateTime", Str, No, false),
    p("faxNumber", Str, Cloud, false),
    p("givenName", Str, Cloud, true),
    p("imAddresses", StrList, No, false),
    p("jobTitle", Str, Cloud, true),
    p("lastPasswordChangeDateTime", Str, No, false),
    p("legalAgeGroupClassification", Str, No, false),
    p("mail", Str, Cloud, true),
    p("mailNickname", Str, Cloud, false),
    p("mobilePhone", Str, Cloud, true),
    p("officeLocation", Str, Cloud, true),
    p("onPremisesDistinguishedName", Str, ClearOnCloud, false),
    p("onPremisesDomainName", Str, ClearOnCloud, false),
    p("onPremisesImmutableId", Str, Cloud, false),
    p("onPremisesLastSyncDateTime", Str, No, false),
    p("onPremisesSamAccountName", Str, ClearOnCloud, false),
    p("onPremisesSecurityIdentifier", Str, ClearOnCloud, false),
    p("onPremisesSyncEnabled", Bool, No, false),
    p("onPremisesUserPrincipalName", Str, ClearOnCloud, false),
    p("otherMails", StrList, Always, false),
    p("passwordPolicies", Str, Always, false),
    p("passwordProfile", Json, Cloud, false),
    p("postalCode", Str, Cloud, false),
    p("preferredDataLocation", Str, Always, false),
    p("preferredLanguage", Str, Always, true),
    p("proxyAddresses", StrList, No, false),
    p("securityIdentifier", Str, No, false),
    p("showInAddressList", Bool, Always, false),
    p("signInSessionsValidFromDateTime", Str, No, false),
    p("state", Str, Cloud, false),
    p("streetAddress", Str, Cloud, false),
    p("surname", Str, Cloud, true),
    p("usageLocation", Str, Always, false),
    p("userPrincipalName", Str, Cloud, true),
    p("userType", Str, Always, false),
    // Last, so the indices above stay put; written through authentication/requirements.
    p("perUserMfaState", Str, No, false),
    // CIPP's schema extension (JIT admin data); returned only when selected, as Graph does.
    p(
        crate::graph::extensions::CIPP_USER_EXTENSION,
        Json,
        Always,
        false,
    ),
    // Beta's on-premises object id (cloud-only users may have it cleared); after the extension
    // so that the indices above stay put.
    p("onPremisesObjectIdentifier", Str, ClearOnCloud, false),
];

/// Declared on microsoft.graph.user but not simulated: `$select` accepts them and answers null.
pub(crate) static DECLARED_ONLY: &[&str] = &[
    "aboutMe",
    "assignedPlans",
    "authorizationInfo",
    "birthday",
    "customSecurityAttributes",
    "deviceEnrollmentLimit",
    "employeeOrgData",
    "hireDate",
    "identities",
    "identityParentId",
    "interests",
    "isManagementRestricted",
    "isResourceAccount",
    "licenseAssignmentStates",
    "mailboxSettings",
    "mySite",
    "onPremisesExtensionAttributes",
    "onPremisesProvisioningErrors",
    "pastProjects",
    "preferredName",
    "print",
    "provisionedPlans",
    "responsibilities",
    "schools",
    "serviceProvisioningErrors",
    "signInActivity",
    "skills",
];

/// Index of a stored property, looked up case-insensitively (clients send `UserPrincipalName`).
static INDEX: LazyLock<HashMap<String, usize>> = LazyLock::new(|| {
    PROPS
        .iter()
        .enumerate()
        .map(|(i, prop)| (prop.name.to_ascii_lowercase(), i))
        .collect()
});

static DECLARED_INDEX: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    DECLARED_ONLY
        .iter()
        .map(|name| (name.to_ascii_lowercase(), *name))
        .collect()
});

/// Exact-case index, so seeding and rendering avoid a lower-casing allocation per lookup.
static EXACT: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    PROPS
        .iter()
        .enumerate()
        .map(|(i, prop)| (prop.name, i))
        .collect()
});

pub(crate) fn prop_index(name: &str) -> Option<usize> {
    EXACT
        .get(name)
        .or_else(|| INDEX.get(&name.to_ascii_lowercase()))
        .copied()
}

pub(crate) fn declared_only(name: &str) -> Option<&'static str> {
    DECLARED_INDEX.get(&name.to_ascii_lowercase()).copied()
}

/// A resolved `$select` item: a stored property or a declared-but-unsimulated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    Stored(usize),
    Unstored(&'static str),
}

impl Field {
    pub fn resolve(name: &str) -> Option<Self> {
        prop_index(name)
            .map(Field::Stored)
            .or_else(|| declared_only(name).map(Field::Unstored))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Field::Stored(i) => PROPS.get(*i).map_or("", |p| p.name),
            Field::Unstored(name) => name,
        }
    }
}

pub(crate) const ID: usize = 0;

/// Indices of frequently used properties, checked against the table in a unit test.
pub(crate) mod idx {
    pub const DELETED: usize = 1;
    pub const LAST_PASSWORD_CHANGE: usize = 24;
    pub const MAIL: usize = 26;
    pub const ON_PREM_SYNC: usize = 36;
    pub const PASSWORD_PROFILE: usize = 40;
    pub const SIGN_IN_SESSIONS_VALID_FROM: usize = 47;
    pub const UPN: usize = 52;
    pub const USER_TYPE: usize = 53;
    pub const CIPP_USER_EXTENSION: usize = 55;
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub values: Vec<Value>,
    pub manager: Option<String>,
}

impl User {
    pub fn new() -> Self {
        Self {
            values: vec![Value::Null; PROPS.len()],
            manager: None,
        }
    }

    pub fn get(&self, i: usize) -> &Value {
        self.values.get(i).unwrap_or(&Value::Null)
    }

    pub fn set(&mut self, i: usize, v: Value) {
        if let Some(slot) = self.values.get_mut(i) {
            *slot = v;
        }
    }

    pub fn set_named(&mut self, name: &str, v: Value) {
        if let Some(i) = prop_index(name) {
            self.set(i, v);
        }
    }

    pub fn id(&self) -> &str {
        self.get(ID).as_str().unwrap_or("")
    }

    pub fn upn(&self) -> &str {
        self.get(idx::UPN).as_str().unwrap_or("")
    }

    pub fn is_synced(&self) -> bool {
        self.get(idx::ON_PREM_SYNC).as_bool() == Some(true)
    }

    /// The value Graph shows for a property: `passwordProfile` is write-only and always null.
    pub fn visible(&self, field: &Field) -> Value {
        match field {
            Field::Stored(i) if *i == idx::PASSWORD_PROFILE => Value::Null,
            Field::Stored(i) => self.get(*i).clone(),
            Field::Unstored(name) => crate::user_derived::derived(self, name),
        }
    }

    /// Renders the selected fields, or the version's default set when nothing was selected.
    pub fn render(&self, select: Option<&[Field]>, beta: bool) -> Map<String, Value> {
        let mut out = Map::new();
        match select {
            Some(fields) => {
                for field in fields {
                    out.insert(field.name().to_owned(), self.visible(field));
                }
            }
            None => {
                for (i, prop) in PROPS.iter().enumerate() {
                    if (beta || prop.v1_default) && i != idx::CIPP_USER_EXTENSION {
                        out.insert(prop.name.to_owned(), self.visible(&Field::Stored(i)));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_indices_match_the_property_table() {
        let check = |i: usize, name: &str| assert_eq!(PROPS[i].name, name);
        check(ID, "id");
        check(idx::DELETED, "deletedDateTime");
        check(idx::LAST_PASSWORD_CHANGE, "lastPasswordChangeDateTime");
        check(idx::MAIL, "mail");
        check(idx::ON_PREM_SYNC, "onPremisesSyncEnabled");
        check(idx::PASSWORD_PROFILE, "passwordProfile");
        check(
            idx::SIGN_IN_SESSIONS_VALID_FROM,
            "signInSessionsValidFromDateTime",
        );
        check(idx::UPN, "userPrincipalName");
        check(idx::USER_TYPE, "userType");
        check(
            idx::CIPP_USER_EXTENSION,
            crate::graph::extensions::CIPP_USER_EXTENSION,
        );
    }

    #[test]
    fn property_lookup_ignores_case() {
        assert_eq!(prop_index("UserPrincipalName"), Some(idx::UPN));
        assert_eq!(declared_only("SIGNINACTIVITY"), Some("signInActivity"));
    }
}

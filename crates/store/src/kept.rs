//! Small kept state: per-user settings, templates, CIPP's password settings and a key-value
//! cache. Each is a typed get/put over one table.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::time_col::DbTime;
use crate::{Store, StoreError, on_pool};

/// The settings key that applies to every user.
pub const ALL_USERS: &str = "allUsers";

/// Which kind of template (CIPP keeps both kinds in one table, by partition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TemplateKind {
    /// Defaults applied when creating a user.
    NewUserDefaults,
    /// Just-in-time admin templates.
    JitAdmin,
    /// JIT role templates: named allow-lists of directory roles.
    JitRole,
    /// JIT admin requests waiting for (or decided by) approvers.
    JitAdminRequest,
}

impl TemplateKind {
    fn as_str(self) -> &'static str {
        match self {
            TemplateKind::NewUserDefaults => "UserDefaultTemplate",
            TemplateKind::JitAdmin => "JITAdminTemplate",
            TemplateKind::JitRole => "JITRoleTemplate",
            TemplateKind::JitAdminRequest => "JITAdminRequest",
        }
    }
}

/// A stored template: `body` is the JSON the frontend saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: Uuid,
    /// A tenant's default domain, or `AllTenants`.
    pub tenant: String,
    pub name: String,
    pub body: Value,
}

/// CIPP's password settings. Unknown fields are kept so a newer frontend's settings
/// survive a round trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordSettings {
    /// `Classic` or `Correct-Battery-Horse`.
    pub password_type: String,
    pub char_count: u32,
    pub include_uppercase: bool,
    pub include_lowercase: bool,
    pub include_digits: bool,
    pub include_special_chars: bool,
    pub special_char_set: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// CIPP's defaults when nothing was saved (`New-passwordString.ps1`: 14 characters, all four classes, `$%&*#`).
impl Default for PasswordSettings {
    fn default() -> Self {
        Self {
            password_type: "Classic".into(),
            char_count: 14,
            include_uppercase: true,
            include_lowercase: true,
            include_digits: true,
            include_special_chars: true,
            special_char_set: "$%&*#".into(),
            extra: Map::new(),
        }
    }
}

impl Store {
    /// A user's settings (`user` is a UPN or [`ALL_USERS`]); `None` if never saved.
    pub async fn get_user_settings(&self, user: &str) -> Result<Option<Value>, StoreError> {
        self.per_user_get(PerUser::Settings, user).await
    }

    /// Replaces a user's settings.
    pub async fn put_user_settings(&self, user: &str, value: &Value) -> Result<(), StoreError> {
        self.per_user_put(PerUser::Settings, user, value).await
    }

    /// The JSON value kept for `user` in one of the per-user tables.
    pub(crate) async fn per_user_get(
        &self,
        table: PerUser,
        user: &str,
    ) -> Result<Option<Value>, StoreError> {
        let value: Option<Json<Value>> = on_pool!(self, p => {
            sqlx::query_scalar(table.select_sql())
                .bind(user_key(user))
                .fetch_optional(p)
                .await
        })?;
        Ok(value.map(|v| v.0))
    }

    /// Replaces the JSON value kept for `user` in one of the per-user tables.
    pub(crate) async fn per_user_put(
        &self,
        table: PerUser,
        user: &str,
        value: &Value,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(table.upsert_sql())
                .bind(user_key(user))
                .bind(Json(value))
                .bind(DbTime::now())
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Templates of one kind, optionally of one tenant (exact match), ordered by name.
    pub async fn list_templates(
        &self,
        kind: TemplateKind,
        tenant: Option<&str>,
    ) -> Result<Vec<Template>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, tenant, name, body FROM templates \
                 WHERE kind = $1 AND ($2 IS NULL OR tenant = $2) ORDER BY name, id",
            )
            .bind(kind.as_str())
            .bind(tenant)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|row| {
                    let body: Json<Value> = row.try_get("body")?;
                    Ok(Template {
                        id: row.try_get("id")?,
                        tenant: row.try_get("tenant")?,
                        name: row.try_get("name")?,
                        body: body.0,
                    })
                })
                .collect()
        })
    }

    /// Creates or replaces a template by id.
    pub async fn put_template(
        &self,
        kind: TemplateKind,
        template: &Template,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO templates (kind, id, tenant, name, body, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (kind, id) DO UPDATE SET tenant = excluded.tenant, \
                 name = excluded.name, body = excluded.body, updated_at = excluded.updated_at",
            )
            .bind(kind.as_str())
            .bind(template.id)
            .bind(&template.tenant)
            .bind(&template.name)
            .bind(Json(&template.body))
            .bind(DbTime::now())
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Replaces a template only if its body is still `expected` (the state it was read in), as
    /// an ETag would: false when another writer changed it first, and nothing is written then.
    /// Bodies compare as JSON on PostgreSQL and as the stored text on SQLite, which holds for
    /// bodies this store wrote itself.
    pub async fn replace_template_if(
        &self,
        kind: TemplateKind,
        template: &Template,
        expected: &Value,
    ) -> Result<bool, StoreError> {
        let replaced = on_pool!(self, p => {
            sqlx::query(
                "UPDATE templates SET tenant = $1, name = $2, body = $3, updated_at = $4 \
                 WHERE kind = $5 AND id = $6 AND body = $7",
            )
            .bind(&template.tenant)
            .bind(&template.name)
            .bind(Json(&template.body))
            .bind(DbTime::now())
            .bind(kind.as_str())
            .bind(template.id)
            .bind(Json(expected))
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(replaced == 1)
    }

    /// Deletes a template; returns whether it existed.
    pub async fn delete_template(&self, kind: TemplateKind, id: Uuid) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => {
            sqlx::query("DELETE FROM templates WHERE kind = $1 AND id = $2")
                .bind(kind.as_str())
                .bind(id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(deleted > 0)
    }

    /// The saved password settings, or CIPP's defaults if none were saved.
    pub async fn get_password_settings(&self) -> Result<PasswordSettings, StoreError> {
        let value: Option<Json<Value>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT value FROM password_settings WHERE id = 1")
                .fetch_optional(p)
                .await
        })?;
        match value {
            None => Ok(PasswordSettings::default()),
            Some(Json(v)) => serde_json::from_value(v).map_err(|e| StoreError::Corrupt {
                what: "password settings",
                detail: e.to_string(),
            }),
        }
    }

    pub async fn put_password_settings(
        &self,
        settings: &PasswordSettings,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO password_settings (id, value, updated_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at",
            )
            .bind(Json(settings))
            .bind(DbTime::now())
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// A cached value, unless it has expired.
    pub async fn kv_get(&self, key: &str) -> Result<Option<Value>, StoreError> {
        let value: Option<Json<Value>> = on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT value FROM kv WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)",
            )
            .bind(key)
            .bind(DbTime::now())
            .fetch_optional(p)
            .await
        })?;
        Ok(value.map(|v| v.0))
    }

    /// Stores a cached value, optionally until `expires_at`.
    pub async fn kv_put(
        &self,
        key: &str,
        value: &Value,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO kv (key, value, expires_at, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(Json(value))
            .bind(expires_at.map(DbTime::new))
            .bind(DbTime::now())
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Removes a cached value; returns whether it existed.
    pub async fn kv_delete(&self, key: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => {
            sqlx::query("DELETE FROM kv WHERE key = $1")
                .bind(key)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(deleted > 0)
    }
}

/// The tables that keep one JSON value per user, with the same columns
/// (`user_key`, `value`, `updated_at`).
#[derive(Clone, Copy)]
pub(crate) enum PerUser {
    Settings,
    Bookmarks,
}

impl PerUser {
    fn select_sql(self) -> &'static str {
        match self {
            Self::Settings => "SELECT value FROM user_settings WHERE user_key = $1",
            Self::Bookmarks => "SELECT value FROM user_bookmarks WHERE user_key = $1",
        }
    }

    fn upsert_sql(self) -> &'static str {
        match self {
            Self::Settings => {
                "INSERT INTO user_settings (user_key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_key) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at"
            }
            Self::Bookmarks => {
                "INSERT INTO user_bookmarks (user_key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_key) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at"
            }
        }
    }
}

/// UPNs are case-insensitive; `allUsers` keeps CIPP's spelling.
fn user_key(user: &str) -> String {
    if user.eq_ignore_ascii_case(ALL_USERS) {
        ALL_USERS.to_string()
    } else {
        user.trim().to_lowercase()
    }
}

//! CIPP's own configuration that the user pages read: Graph Explorer presets (per owner, or
//! shared), each signed-in user's bookmarks, custom data mappings and the extensions
//! configuration. CIPP keeps these in table storage (`GraphPresets`, the `UserBookmarks`
//! partition of `UserSettings`, `CustomDataMappings`, `Extensionsconfig`); here each is one table.

use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;

use crate::kept::PerUser;
use crate::time_col::DbTime;
use crate::{Store, StoreError, on_pool};

/// One saved Graph Explorer preset.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphPreset {
    pub id: String,
    pub name: String,
    /// Who saved it (a UPN or an API client id); compared case-insensitively.
    pub owner: String,
    /// Whether every user sees it, not only its owner.
    pub is_shared: bool,
    /// The query the preset runs (`endpoint`, `$filter`, `$select`, …), as saved.
    pub params: Value,
}

/// A custom data mapping: its id and the object the settings page saved.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomDataMapping {
    pub id: String,
    pub body: Value,
}

/// Users are keyed case-insensitively (UPNs are).
fn user_key(user: &str) -> String {
    user.trim().to_lowercase()
}

impl Store {
    /// Creates or replaces a preset by id.
    pub async fn graph_preset_put(&self, preset: &GraphPreset) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO graph_presets (id, name, owner, is_shared, params, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner, \
                 is_shared = excluded.is_shared, params = excluded.params, \
                 updated_at = excluded.updated_at",
            )
            .bind(&preset.id)
            .bind(&preset.name)
            .bind(user_key(&preset.owner))
            .bind(preset.is_shared)
            .bind(Json(&preset.params))
            .bind(DbTime::now())
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The presets `user` owns plus every shared one, ordered by name (then id).
    pub async fn graph_presets_visible_to(
        &self,
        user: &str,
    ) -> Result<Vec<GraphPreset>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT id, name, owner, is_shared, params FROM graph_presets \
                 WHERE owner = $1 OR is_shared ORDER BY name, id",
            )
            .bind(user_key(user))
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|row| {
                    let params: Json<Value> = row.try_get("params")?;
                    Ok(GraphPreset {
                        id: row.try_get("id")?,
                        name: row.try_get("name")?,
                        owner: row.try_get("owner")?,
                        is_shared: row.try_get("is_shared")?,
                        params: params.0,
                    })
                })
                .collect()
        })
    }

    /// Deletes a preset; returns whether it existed.
    pub async fn graph_preset_delete(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => {
            sqlx::query("DELETE FROM graph_presets WHERE id = $1")
                .bind(id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(deleted > 0)
    }

    /// A user's bookmarks as saved; `None` if never saved.
    pub async fn bookmarks_get(&self, user: &str) -> Result<Option<Value>, StoreError> {
        self.per_user_get(PerUser::Bookmarks, user).await
    }

    /// Replaces a user's bookmarks.
    pub async fn bookmarks_put(&self, user: &str, bookmarks: &Value) -> Result<(), StoreError> {
        self.per_user_put(PerUser::Bookmarks, user, bookmarks).await
    }

    /// Creates or replaces a custom data mapping by id.
    pub async fn custom_data_mapping_put(
        &self,
        mapping: &CustomDataMapping,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO custom_data_mappings (id, body, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, \
                 updated_at = excluded.updated_at",
            )
            .bind(&mapping.id)
            .bind(Json(&mapping.body))
            .bind(DbTime::now())
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Every custom data mapping, by id.
    pub async fn custom_data_mappings(&self) -> Result<Vec<CustomDataMapping>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query("SELECT id, body FROM custom_data_mappings ORDER BY id")
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|row| {
                    let body: Json<Value> = row.try_get("body")?;
                    Ok(CustomDataMapping {
                        id: row.try_get("id")?,
                        body: body.0,
                    })
                })
                .collect()
        })
    }

    /// Deletes a custom data mapping; returns whether it existed.
    pub async fn custom_data_mapping_delete(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => {
            sqlx::query("DELETE FROM custom_data_mappings WHERE id = $1")
                .bind(id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(deleted > 0)
    }

    /// The extensions configuration; `None` when nothing was configured.
    pub async fn extensions_config_get(&self) -> Result<Option<Value>, StoreError> {
        let value: Option<Json<Value>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT value FROM extensions_config WHERE id = 1")
                .fetch_optional(p)
                .await
        })?;
        Ok(value.map(|v| v.0))
    }

    /// Replaces the extensions configuration.
    pub async fn extensions_config_put(&self, config: &Value) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO extensions_config (id, value, updated_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at",
            )
            .bind(Json(config))
            .bind(DbTime::now())
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}

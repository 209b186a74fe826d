//! Group membership vacation mode's records (CIPP's `VacationGroupMembers` table): the users
//! the start-of-vacation run added to a group, under the key its end-of-vacation run carries.

use sqlx::Row;
use sqlx::types::Json;

use crate::time_col::DbTime;
use crate::{Store, StoreError, on_pool};

/// What the add run recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct VacationMembers {
    pub group_id: String,
    /// The users added, as the schedule named them (UPNs).
    pub users: Vec<String>,
}

/// Tenants are keyed case-insensitively (domains are).
fn tenant_key(tenant: &str) -> String {
    tenant.trim().to_lowercase()
}

impl Store {
    /// Records (or replaces) who was added under `key`.
    pub async fn vacation_members_put(
        &self,
        tenant: &str,
        key: &str,
        record: &VacationMembers,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO vacation_group_members \
                 (tenant, membership_key, group_id, users, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant, membership_key) DO UPDATE SET group_id = excluded.group_id, \
                 users = excluded.users, updated_at = excluded.updated_at",
            )
            .bind(tenant_key(tenant))
            .bind(key)
            .bind(&record.group_id)
            .bind(Json(&record.users))
            .bind(DbTime::now())
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The record under `key`; `None` when there is none.
    pub async fn vacation_members_get(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<VacationMembers>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT group_id, users FROM vacation_group_members \
                 WHERE tenant = $1 AND membership_key = $2",
            )
            .bind(tenant_key(tenant))
            .bind(key)
            .fetch_optional(p)
            .await?;
            row.map(|row| -> Result<VacationMembers, StoreError> {
                let users: Json<Vec<String>> = row.try_get("users")?;
                Ok(VacationMembers {
                    group_id: row.try_get("group_id")?,
                    users: users.0,
                })
            })
            .transpose()
        })
    }

    /// Deletes the record under `key`; returns whether it existed.
    pub async fn vacation_members_delete(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => {
            sqlx::query(
                "DELETE FROM vacation_group_members WHERE tenant = $1 AND membership_key = $2",
            )
            .bind(tenant_key(tenant))
            .bind(key)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(deleted > 0)
    }
}

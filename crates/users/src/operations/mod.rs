//! Every operation this service answers: one file each, named after the operation, and one line
//! in [`registry!`] below. The API crate, the OpenAPI document and the coverage table all read
//! [`declarations`]; operations in `openapi/scope.json` that are not listed here answer 501.
//!
//! To add an operation: write `operations/<snake_case_name>.rs` with a type implementing
//! [`crate::op::Operation`], then add `<snake_case_name>::<TypeName>` to the list.

use crate::op::Declaration;

macro_rules! registry {
    ($($module:ident :: $operation:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every operation built, in the order listed.
        pub fn declarations() -> Vec<Declaration> {
            vec![$(Declaration::of::<$module::$operation>()),*]
        }
    };
}

registry! {
    // Identity and directory.
    exec_disable_user::ExecDisableUser,

    // Mailbox (Exchange).

    // ── credentials and MFA ──

    // ── user writes ──

    // ── user reads ──

    // ── shell, tenants, logs and templates ──
    me::Me,
    list_tenants::ListTenants,
    list_feature_flags::ListFeatureFlags,
    get_cipp_alerts::GetCippAlerts,
    list_github_release_notes::ListGitHubReleaseNotes,
    list_logs::ListLogs,
    list_user_settings::ListUserSettings,
    exec_user_settings::ExecUserSettings,
    list_new_user_defaults::ListNewUserDefaults,
    list_jit_admin_templates::ListJITAdminTemplates,
    add_user_defaults::AddUserDefaults,
    remove_user_default_template::RemoveUserDefaultTemplate,
    add_jit_admin_template::AddJITAdminTemplate,
    edit_jit_admin_template::EditJITAdminTemplate,
    remove_jit_admin_template::RemoveJITAdminTemplate,
    exec_restore_deleted::ExecRestoreDeleted,
    remove_deleted_object::RemoveDeletedObject,
}

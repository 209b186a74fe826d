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

    // Jobs: offboarding and scheduled work (crates/jobs).
    exec_offboard_user::ExecOffboardUser,
    list_offboarding_progress::ListOffboardingProgress,
    list_scheduled_items::ListScheduledItems,
    remove_scheduled_item::RemoveScheduledItem,
    exec_schedule_group_membership_vacation::ExecScheduleGroupMembershipVacation,

    // Mailbox (Exchange).
    exec_email_forward::ExecEmailForward,
    exec_set_ooo::ExecSetOoO,
    exec_convert_mailbox::ExecConvertMailbox,
    exec_convertto_shared_mailbox::ExecConverttoSharedMailbox,
    exec_enable_archive::ExecEnableArchive,
    exec_hide_from_gal::ExecHideFromGAL,
    exec_copy_for_sent::ExecCopyForSent,
    exec_remove_mailbox_rule::ExecRemoveMailboxRule,
    exec_set_mailbox_rule::ExecSetMailboxRule,
    exec_set_litigation_hold::ExecSetLitigationHold,
    exec_set_retention_hold::ExecSetRetentionHold,
    exec_enable_auto_expanding_archive::ExecEnableAutoExpandingArchive,
    exec_set_mailbox_quota::ExecSetMailboxQuota,
    exec_set_mailbox_locale::ExecSetMailboxLocale,
    exec_set_mailbox_email_size::ExecSetMailboxEmailSize,
    exec_set_calendar_processing::ExecSetCalendarProcessing,
    exec_start_managed_folder_assistant::ExecStartManagedFolderAssistant,
    exec_set_mailbox_retention_policies::ExecSetMailboxRetentionPolicies,
    exec_manage_retention_policies::ExecManageRetentionPolicies,
    remove_trusted_blocked_sender::RemoveTrustedBlockedSender,
    list_user_mailbox_details::ListUserMailboxDetails,
    list_user_mailbox_rules::ListUserMailboxRules,
    list_user_trusted_blocked_senders::ListUserTrustedBlockedSenders,
    list_calendar_permissions::ListCalendarPermissions,
    exec_modify_cal_perms::ExecModifyCalPerms,
    exec_edit_calendar_permissions::ExecEditCalendarPermissions,
    list_contact_permissions::ListContactPermissions,
    exec_modify_contact_perms::ExecModifyContactPerms,
    exec_modify_mb_perms::ExecModifyMBPerms,
    list_ooo::ListOoO,
    exec_set_one_drive_sharing::ExecSetOneDriveSharing,

    // ── compromised-account (BEC) check ──
    exec_bec_check::ExecBECCheck,
    exec_bec_bulk_check::ExecBECBulkCheck,
    list_bec_reports::ListBECReports,
    exec_bec_report::ExecBECReport,
    exec_bec_ip_review::ExecBECIPReview,

    // ── credentials and MFA ──
    exec_reset_pass::ExecResetPass,
    exec_revoke_sessions::ExecRevokeSessions,
    exec_reset_mfa::ExecResetMFA,
    exec_create_tap::ExecCreateTAP,
    exec_per_user_mfa::ExecPerUserMFA,
    exec_send_push::ExecSendPush,
    exec_set_default_mfa_method::ExecSetDefaultMFAMethod,
    exec_password_never_expires::ExecPasswordNeverExpires,
    exec_dismiss_risky_user::ExecDismissRiskyUser,
    exec_clr_imm_id::ExecClrImmId,
    exec_set_cloud_managed::ExecSetCloudManaged,
    exec_require_password_change::ExecRequirePasswordChange,
    exec_clr_on_prem_attributes::ExecClrOnPremAttributes,
    remove_user::RemoveUser,

    // ── user writes ──
    add_user::AddUser,
    add_user_bulk::AddUserBulk,
    add_guest::AddGuest,
    patch_user::PatchUser,
    edit_user::EditUser,
    edit_user_aliases::EditUserAliases,
    exec_bulk_license::ExecBulkLicense,
    exec_reprocess_user_licenses::ExecReprocessUserLicenses,
    exec_remove_admin_role::ExecRemoveAdminRole,
    exec_set_user_photo::ExecSetUserPhoto,

    // ── user reads ──
    list_users::ListUsers,
    list_user_counts::ListUserCounts,
    list_user_groups::ListUserGroups,
    list_user_devices::ListUserDevices,
    list_user_signin_logs::ListUserSigninLogs,
    list_deleted_items::ListDeletedItems,
    list_user_photo::ListUserPhoto,
    list_user_conditional_access_policies::ListUserConditionalAccessPolicies,
    list_per_user_mfa::ListPerUserMFA,
    list_mfa_users::ListMFAUsers,
    list_jit_admin::ListJITAdmin,
    list_graph_request::ListGraphRequest,
    list_graph_bulk_request::ListGraphBulkRequest,
    list_graph_explorer_presets::ListGraphExplorerPresets,
    list_custom_data_mappings::ListCustomDataMappings,
    list_extensions_config::ListExtensionsConfig,
    exec_user_bookmarks::ExecUserBookmarks,
    list_mailboxes::ListMailboxes,
    exec_set_recipient_limits::ExecSetRecipientLimits,

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
    exec_jit_admin::ExecJITAdmin,
    list_jit_role_templates::ListJITRoleTemplates,
    add_jit_role_template::AddJITRoleTemplate,
    edit_jit_role_template::EditJITRoleTemplate,
    remove_jit_role_template::RemoveJITRoleTemplate,
    list_jit_allowed_roles::ListJITAllowedRoles,
    list_jit_admin_requests::ListJITAdminRequests,
    exec_jit_admin_request_decision::ExecJITAdminRequestDecision,
    exec_restore_deleted::ExecRestoreDeleted,
    remove_deleted_object::RemoveDeletedObject,

    // ── BEC remediation ──
    exec_bec_remediate::ExecBECRemediate,
    list_bec_remediation_actions::ListBECRemediationActions,

    // ── BEC reports and evidence ──
    exec_get_bec_report_pdf::ExecGetBecReportPdf,
    exec_bec_evidence_export::ExecBECEvidenceExport,
    list_bec_phishing_spread::ListBECPhishingSpread,

    // ── groups, licences, sites and devices (the user pages' pickers) ──
    list_groups::ListGroups,
    edit_group::EditGroup,
    list_licenses::ListLicenses,
    list_csp_sku::ListCSPsku,
    list_tenant_details::ListTenantDetails,
    exec_license_search::ExecLicenseSearch,
    list_sites::ListSites,
    exec_device_action::ExecDeviceAction,
    // ── third tier: what the user pages also call (README "Third tier") ──
    list_mailbox_permissions::ListMailboxPermissions,
    exec_ca_check::ExecCACheck,
    list_branding_settings::ListBrandingSettings,
    exec_one_drive_provision::ExecOneDriveProvision,
    // ── OneDrive shortcuts (the user's OneDrive Shortcuts page and actions menu) ──
    exec_one_drive_short_cut::ExecOneDriveShortCut,
    list_user_one_drive_shortcuts::ListUserOneDriveShortcuts,
    exec_remove_one_drive_short_cut::ExecRemoveOneDriveShortCut,
    exec_migrate_one_drive_short_cuts::ExecMigrateOneDriveShortCuts,
    list_guest_users::ListGuestUsers,
}

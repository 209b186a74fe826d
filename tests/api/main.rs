//! End-to-end tests: the API and the simulated Microsoft 365, both on OS-chosen loopback ports,
//! talking real HTTP(S). One binary, so the workspace links once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod add_user;
mod all_tenants;
mod audit;
mod auth;
mod bec_check;
mod bec_remediate;
mod bec_report;
mod calendar_permissions;
mod credential_actions;
mod directory_and_templates;
mod disable_user;
mod edit_user;
mod examples;
mod exchange_actions;
mod first_actions;
mod graph_client;
mod graph_request;
mod helpers;
mod hostile_input;
mod hostile_transport;
mod idempotency_whatif;
mod jobs_process;
mod licences_roles_photo;
mod list_tenants;
mod list_users;
mod mailbox_permissions;
mod mailbox_reads;
mod mailbox_writes;
mod mfa_jit;
mod offboarding;
mod offboarding_exchange;
mod offboarding_sharepoint;
mod password_and_on_prem;
mod process;
mod registry;
mod same_origin;
mod shell;
mod spec;
mod sponsors;
mod third_tier;
mod tier2_cipp;
mod tier2_directory;
mod user_pages;
mod user_reads;

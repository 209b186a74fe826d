//! The compromised-account (BEC) check and its case workflow (CIPP-API `Invoke-ExecBECCheck.ps1`,
//! `Push-BECRun.ps1`, `Get-CIPPBecScore.ps1` and the `BEC` helpers, newest upstream).
//!
//! A check is a run ("case", id `BEC-<yyyyMMddHHmmss>-<6 hex>`) stored in the store's
//! `bec_cases` table and carried out by a job of the job engine ([`check_job`]), whose
//! `DeploymentId` is the case id, so ListOffboardingProgress shows its progress as upstream.
//!
//! # The report
//!
//! A completed run's report is one JSON object with upstream's field names. Every list field is
//! a JSON array, always (the frontend calls `.map` on them). The fields this service fills:
//!
//! - `CaseId`, `UserPrincipalName`, `AnalysisWindowDays`, `ExtractedAt`, `ExtractResult`
//! - `SuspectUserSignIns[]` `{CreatedDateTime, id, AppDisplayName, ClientAppUsed, Status,
//!   ErrorCode, FailureReason, IPAddress, Country, City, ForeignLocation}`, `SuspectUserSignInsError`
//! - `SuspectUserMailboxLogons[]` (the tenant's last 50 sign-ins, as upstream's legacy report),
//!   `LastSuspectUserLogon[]`
//! - `SuspectUserDevices[]` (Exchange mobile devices: `Identity`, `DeviceId`, `DeviceModel`, …)
//! - `NewRules[]` (the mailbox's inbox rules, system rules removed) with `RecentlyChanged`,
//!   `RiskReasons[]`, `Suspicious`, `Risk`; `InboxRuleChanges[]` `{Operation, UserKey, RuleName,
//!   Parameters, Date, ClientIP, Country, ForeignLocation}`
//! - `MailboxPermissionChanges[]` `{Operation, UserKey, UserId, ObjectId, Permissions, Trustee,
//!   Date, ClientIP, TargetsSuspect}`
//! - `TrustedSenders[]`, `BlockedSenders[]`, `SafelistError`, `SafelistChanges[]` `{Operation,
//!   UserKey, Date, ClientIP, Country, ForeignLocation, Trusted[], Blocked[]}`
//! - `SharingChanges[]` `{Operation, UserKey, Date, Workload, FileName, ItemUrl, Target,
//!   TargetType, ClientIP, Country, ForeignLocation}`
//! - `SentMessages[]` `{MessageTraceId, Status, Subject, RecipientAddress, Received, FromIP,
//!   Country, ForeignLocation}`, `SentMessageAnalysis` `{TotalMessages, TotalRecipients,
//!   RepeatedSubjects[], FlaggedSubjectCount, Bursts[], Flagged}`
//! - `NewUsers[]`, `ChangedPasswords[]` (`{id, displayName, userPrincipalName, createdDateTime,
//!   lastPasswordChangeDateTime}`), `MFADevices[]` (Graph authentication methods but the
//!   password: `{id, displayName, createdDateTime, @odata.type, …}`)
//! - `AddedApps[]` `{id, displayName, appId, appDisplayName, publisher, createdDateTime,
//!   accountEnabled, MaliciousMatch}`, `MaliciousSPs[]` `{id, displayName, appId,
//!   accountEnabled, createdDateTime, CatalogName, Categories[], Description, Source}`
//! - `UserGrants[]` `{id, Kind, ClientId, AppId, AppDisplayName, Scope, ConsentType, Risk,
//!   MaliciousMatch}` (the user's OAuth consents; `Risk` is `CatalogMatch`, `High` or `Low`)
//! - `IntuneDevices[]`, `IntuneDevicesError`
//! - `LocationAnalysis` `{UsageLocation, SignInCountries[], ForeignSignInCount,
//!   ForeignSuccessfulSignInCount, ForeignRuleChangeCount, ForeignSafelistChangeCount,
//!   ForeignSharingChangeCount, ForeignSentMessageCount, Note}`
//! - `IPVerdicts[]` `{IP, Verdict, Score, City, Country, Source, SuccessfulSignIns,
//!   FailedSignIns, Activities, Reasons[{Code, Text, Weight}]}`, `IPOverrides[]`
//! - `Completeness` `{<collector>: {Complete, Cap, Error, Skipped, Requirement, Count}}`
//! - `Score` `{Value, Level, Thresholds{High, Medium}, Breakdown[{Signal, Description, Weight,
//!   Count, Applied}]}`
//!
//! Reading a completed case through ExecBECCheck adds `Run` `{CaseId, Status, ExtractedAt,
//! RequestedAt, RequestedBy, Containment[]}`.

pub mod analyse;
pub mod check;
pub mod collect;
pub mod containment;
pub mod containment_actions;
pub mod evidence;
pub mod ip_review;
pub mod pdf;
pub mod report;

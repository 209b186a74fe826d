//! A completed BEC case as a PDF (CIPP-API `Invoke-ExecGetBecReportPdf.ps1`): who and when,
//! the threat score and the signals behind it, how complete each collector was, then the
//! findings. The summary stops after the counts per finding; the full report lists the rows.
//!
//! Every value comes from the report, and much of it (rule names, subjects, file names, app
//! names) was written by whoever controls the account: it is only ever drawn as plain text
//! through [`super::pdf`], which also reduces it to what the builtin font can show.

use cipp_store::BecCase;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::macros::format_description;

use super::pdf::{Column, PdfWriter};

/// A full report lists at most this many rows per finding; a bigger list is cut and says how
/// many rows were left out (the evidence export's CSVs hold them all).
pub const MAX_ROWS: usize = 200;
/// The full report lists this many sent messages (the analysis above them covers all).
pub const MAX_SENT_MESSAGES: usize = 50;
/// One value is cut at this many characters: a cell is cut again to a few lines, but a
/// megabyte of rule description should not reach the wrapper.
const MAX_TEXT: usize = 600;

/// Which report: upstream's `variant` (`summary`, anything else is the full report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Summary,
    Full,
}

impl Variant {
    pub fn parse(text: Option<&str>) -> Self {
        match text {
            Some(v) if v.trim().eq_ignore_ascii_case("summary") => Variant::Summary,
            _ => Variant::Full,
        }
    }

    /// The word in the file name: `BEC_Summary_…` or `BEC_Report_…`.
    fn file_word(self) -> &'static str {
        match self {
            Variant::Summary => "Summary",
            Variant::Full => "Report",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("case {0} holds no completed report")]
    NoReport(String),
}

/// The names the report is headed with (upstream lets the caller pass the ones it shows).
#[derive(Debug, Clone)]
pub struct Names {
    pub display_name: String,
    pub user_principal_name: String,
}

impl Names {
    pub fn of_case(case: &BecCase) -> Self {
        Self {
            display_name: case.display_name.clone(),
            user_principal_name: case.user_principal_name.clone(),
        }
    }
}

/// `BEC_<Summary|Report>_<display name>.pdf`, every character but letters, digits, `_` and `-`
/// made `_` (upstream's rule), so the name is safe in a header and on any file system.
pub fn file_name(variant: Variant, display_name: &str) -> String {
    let name: String = display_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("BEC_{}_{name}.pdf", variant.file_word())
}

/// One finding: the report field, its title and the columns a row shows.
struct Section {
    key: &'static str,
    title: &'static str,
    columns: &'static [(&'static str, Cell, f32)],
}

/// How a cell is read from a row.
#[derive(Clone, Copy)]
enum Cell {
    /// The first of these fields that has a value.
    Field(&'static [&'static str]),
    /// `Country, City`, with `(foreign)` when the row's `ForeignLocation` is true.
    Place,
    /// The texts of `Reasons[{Code, Text, Weight}]`.
    Reasons,
}

/// The findings in report order. The summary counts the rows of each; the full report lists them.
const SECTIONS: &[Section] = &[
    Section {
        key: "NewRules",
        title: "Inbox rules",
        columns: &[
            ("Rule", Cell::Field(&["Name", "DisplayName"]), 0.22),
            ("Enabled", Cell::Field(&["Enabled"]), 0.08),
            ("Risk", Cell::Field(&["Risk", "Suspicious"]), 0.08),
            ("Reasons", Cell::Field(&["RiskReasons"]), 0.3),
            ("Description", Cell::Field(&["Description"]), 0.32),
        ],
    },
    Section {
        key: "InboxRuleChanges",
        title: "Inbox rule changes",
        columns: &[
            ("Date", Cell::Field(&["Date"]), 0.15),
            ("Operation", Cell::Field(&["Operation"]), 0.13),
            ("Rule", Cell::Field(&["RuleName"]), 0.18),
            ("Parameters", Cell::Field(&["Parameters"]), 0.28),
            ("Client IP", Cell::Field(&["ClientIP"]), 0.12),
            ("Location", Cell::Place, 0.14),
        ],
    },
    Section {
        key: "SuspectUserSignIns",
        title: "Sign-ins",
        columns: &[
            (
                "Time",
                Cell::Field(&["CreatedDateTime", "createdDateTime"]),
                0.15,
            ),
            (
                "Application",
                Cell::Field(&["AppDisplayName", "appDisplayName"]),
                0.17,
            ),
            (
                "Client",
                Cell::Field(&["ClientAppUsed", "clientAppUsed"]),
                0.11,
            ),
            ("Status", Cell::Field(&["Status", "ErrorCode"]), 0.1),
            ("IP address", Cell::Field(&["IPAddress", "ipAddress"]), 0.15),
            ("Location", Cell::Place, 0.17),
            ("Failure", Cell::Field(&["FailureReason"]), 0.15),
        ],
    },
    Section {
        key: "AddedApps",
        title: "Applications added",
        columns: &[
            (
                "Name",
                Cell::Field(&["displayName", "appDisplayName"]),
                0.22,
            ),
            ("App id", Cell::Field(&["appId"]), 0.24),
            ("Publisher", Cell::Field(&["publisher"]), 0.14),
            ("Created", Cell::Field(&["createdDateTime"]), 0.14),
            ("Enabled", Cell::Field(&["accountEnabled"]), 0.08),
            ("Catalog match", Cell::Field(&["MaliciousMatch"]), 0.18),
        ],
    },
    Section {
        key: "MaliciousSPs",
        title: "Known malicious applications",
        columns: &[
            ("Name", Cell::Field(&["displayName"]), 0.18),
            ("App id", Cell::Field(&["appId"]), 0.22),
            ("Catalog", Cell::Field(&["CatalogName"]), 0.14),
            ("Categories", Cell::Field(&["Categories"]), 0.14),
            ("Description", Cell::Field(&["Description"]), 0.22),
            ("Source", Cell::Field(&["Source"]), 0.1),
        ],
    },
    Section {
        key: "UserGrants",
        title: "OAuth consents",
        columns: &[
            ("Application", Cell::Field(&["AppDisplayName"]), 0.2),
            ("App id", Cell::Field(&["AppId", "ClientId"]), 0.2),
            ("Scope", Cell::Field(&["Scope"]), 0.28),
            ("Consent", Cell::Field(&["ConsentType", "Kind"]), 0.1),
            ("Risk", Cell::Field(&["Risk"]), 0.1),
            ("Catalog match", Cell::Field(&["MaliciousMatch"]), 0.12),
        ],
    },
    Section {
        key: "MailboxPermissionChanges",
        title: "Mailbox permission changes",
        columns: &[
            ("Date", Cell::Field(&["Date"]), 0.15),
            ("Operation", Cell::Field(&["Operation"]), 0.15),
            ("Mailbox", Cell::Field(&["ObjectId", "UserId"]), 0.18),
            ("Trustee", Cell::Field(&["Trustee"]), 0.18),
            ("Permissions", Cell::Field(&["Permissions"]), 0.14),
            ("Client IP", Cell::Field(&["ClientIP"]), 0.12),
            ("On this user", Cell::Field(&["TargetsSuspect"]), 0.08),
        ],
    },
    Section {
        key: "SafelistChanges",
        title: "Safe and blocked sender changes",
        columns: &[
            ("Date", Cell::Field(&["Date"]), 0.15),
            ("Operation", Cell::Field(&["Operation"]), 0.15),
            ("Trusted", Cell::Field(&["Trusted"]), 0.2),
            ("Blocked", Cell::Field(&["Blocked"]), 0.2),
            ("Client IP", Cell::Field(&["ClientIP"]), 0.14),
            ("Location", Cell::Place, 0.16),
        ],
    },
    Section {
        key: "TrustedSenders",
        title: "Trusted senders",
        columns: &[("Sender", Cell::Field(&["Sender", "Address", "Value"]), 1.0)],
    },
    Section {
        key: "BlockedSenders",
        title: "Blocked senders",
        columns: &[("Sender", Cell::Field(&["Sender", "Address", "Value"]), 1.0)],
    },
    Section {
        key: "SharingChanges",
        title: "Sharing changes",
        columns: &[
            ("Date", Cell::Field(&["Date"]), 0.14),
            ("Operation", Cell::Field(&["Operation"]), 0.14),
            ("File", Cell::Field(&["FileName", "ItemUrl"]), 0.22),
            ("Shared with", Cell::Field(&["Target"]), 0.18),
            ("Client IP", Cell::Field(&["ClientIP"]), 0.14),
            ("Location", Cell::Place, 0.18),
        ],
    },
    Section {
        key: "SentMessages",
        title: "Sent messages",
        columns: &[
            ("Received", Cell::Field(&["Received"]), 0.15),
            ("Recipient", Cell::Field(&["RecipientAddress"]), 0.22),
            ("Subject", Cell::Field(&["Subject"]), 0.28),
            ("Status", Cell::Field(&["Status"]), 0.1),
            ("From IP", Cell::Field(&["FromIP"]), 0.13),
            ("Location", Cell::Place, 0.12),
        ],
    },
    Section {
        key: "NewUsers",
        title: "Users created",
        columns: &[
            ("Name", Cell::Field(&["displayName"]), 0.3),
            (
                "User principal name",
                Cell::Field(&["userPrincipalName"]),
                0.45,
            ),
            ("Created", Cell::Field(&["createdDateTime"]), 0.25),
        ],
    },
    Section {
        key: "ChangedPasswords",
        title: "Passwords changed",
        columns: &[
            ("Name", Cell::Field(&["displayName"]), 0.3),
            (
                "User principal name",
                Cell::Field(&["userPrincipalName"]),
                0.45,
            ),
            (
                "Changed",
                Cell::Field(&["lastPasswordChangeDateTime"]),
                0.25,
            ),
        ],
    },
    Section {
        key: "MFADevices",
        title: "Authentication methods",
        columns: &[
            ("Method", Cell::Field(&["@odata.type"]), 0.35),
            (
                "Name",
                Cell::Field(&["displayName", "phoneNumber", "emailAddress"]),
                0.4,
            ),
            ("Created", Cell::Field(&["createdDateTime"]), 0.25),
        ],
    },
    Section {
        key: "SuspectUserDevices",
        title: "Mobile devices",
        columns: &[
            (
                "Device",
                Cell::Field(&["DeviceModel", "FriendlyName"]),
                0.25,
            ),
            ("Device id", Cell::Field(&["DeviceId"]), 0.25),
            ("OS", Cell::Field(&["DeviceOS", "ClientType"]), 0.2),
            (
                "Last sync",
                Cell::Field(&["LastSuccessSync", "LastSyncAttemptTime"]),
                0.3,
            ),
        ],
    },
    Section {
        key: "IntuneDevices",
        title: "Intune devices",
        columns: &[
            ("Device", Cell::Field(&["deviceName"]), 0.25),
            ("OS", Cell::Field(&["operatingSystem"]), 0.15),
            ("Compliance", Cell::Field(&["complianceState"]), 0.15),
            ("Enrolled", Cell::Field(&["enrolledDateTime"]), 0.2),
            ("Last sync", Cell::Field(&["lastSyncDateTime"]), 0.25),
        ],
    },
    Section {
        key: "IPVerdicts",
        title: "IP addresses",
        columns: &[
            ("IP", Cell::Field(&["IP"]), 0.16),
            ("Verdict", Cell::Field(&["Verdict"]), 0.1),
            ("Score", Cell::Field(&["Score"]), 0.07),
            ("Location", Cell::Place, 0.17),
            ("Sign-ins ok", Cell::Field(&["SuccessfulSignIns"]), 0.08),
            ("Failed", Cell::Field(&["FailedSignIns"]), 0.07),
            ("Reasons", Cell::Reasons, 0.35),
        ],
    },
];

/// Errors a collector recorded beside its list, shown under the findings.
const ERROR_FIELDS: &[(&str, &str)] = &[
    ("SuspectUserSignInsError", "Sign-ins"),
    ("SafelistError", "Safe and blocked senders"),
    ("IntuneDevicesError", "Intune devices"),
];

/// The case's report as a PDF.
pub fn render(case: &BecCase, variant: Variant, names: &Names) -> Result<Vec<u8>, ReportError> {
    let report = case
        .results
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(|| ReportError::NoReport(case.case_id.clone()))?;
    let mut pdf = PdfWriter::new(
        &format!("BEC Analysis Report - {}", names.display_name),
        &format!(
            "BEC Analysis Report - {} - {}",
            names.display_name, case.case_id
        ),
    );
    pdf.title("BEC Analysis Report");
    pdf.note(match variant {
        Variant::Summary => "Summary",
        Variant::Full => "Full report",
    });
    pdf.space(2.0);
    header(&mut pdf, case, report, names);
    score(&mut pdf, report);
    completeness(&mut pdf, report);
    counts(&mut pdf, report);
    if variant == Variant::Full {
        for section in SECTIONS {
            match section.key {
                "SuspectUserSignIns" => {
                    rows_of(&mut pdf, report, section, MAX_ROWS);
                    location_analysis(&mut pdf, report);
                }
                "SentMessages" => {
                    sent_message_analysis(&mut pdf, report);
                    rows_of(&mut pdf, report, section, MAX_SENT_MESSAGES);
                }
                _ => rows_of(&mut pdf, report, section, MAX_ROWS),
            }
        }
        collector_errors(&mut pdf, report);
        containment(&mut pdf, case, report);
    }
    Ok(pdf.finish())
}

fn header(pdf: &mut PdfWriter, case: &BecCase, report: &Map<String, Value>, names: &Names) {
    pdf.key_value("User", &names.display_name);
    pdf.key_value("User principal name", &names.user_principal_name);
    pdf.key_value("Tenant", &case.tenant);
    pdf.key_value("Case", &case.case_id);
    pdf.key_value("Requested by", &case.requested_by);
    pdf.key_value("Requested at", &timestamp(case.requested_at));
    let extracted = case
        .extracted_at
        .map(timestamp)
        .or_else(|| report.get("ExtractedAt").map(text))
        .unwrap_or_default();
    pdf.key_value("Extracted at", &extracted);
    if let Some(days) = report.get("AnalysisWindowDays") {
        pdf.key_value("Analysis window", &format!("{} days", text(days)));
    }
}

fn score(pdf: &mut PdfWriter, report: &Map<String, Value>) {
    pdf.heading("Threat score");
    let score = report.get("Score").unwrap_or(&Value::Null);
    let value = field(score, "Value");
    let level = field(score, "Level");
    pdf.key_value("Score", &value);
    pdf.key_value("Level", &level);
    let thresholds = score.get("Thresholds").unwrap_or(&Value::Null);
    if !thresholds.is_null() {
        pdf.key_value(
            "Thresholds",
            &format!(
                "High from {}, Medium from {}",
                field(thresholds, "High"),
                field(thresholds, "Medium")
            ),
        );
    }
    let applied: Vec<Vec<String>> = list(score, "Breakdown")
        .iter()
        .filter(|signal| signal.get("Applied").and_then(Value::as_bool) != Some(false))
        .map(|signal| {
            let weight = field(signal, "Weight");
            let count = field(signal, "Count");
            let points = match (
                signal.get("Weight").and_then(Value::as_f64),
                signal.get("Count").and_then(Value::as_f64),
            ) {
                (Some(w), Some(c)) => format!("{weight} × {count} = {}", w * c),
                _ => format!("{weight} × {count}"),
            };
            vec![
                field(signal, "Signal"),
                field(signal, "Description"),
                points,
            ]
        })
        .collect();
    pdf.subheading("Why: the signals that applied");
    if applied.is_empty() {
        pdf.paragraph("No signal applied.");
    } else {
        pdf.table(
            &[
                Column::new("Signal", 0.25),
                Column::new("Description", 0.55),
                Column::new("Weight × Count", 0.2),
            ],
            &applied,
        );
    }
}

fn completeness(pdf: &mut PdfWriter, report: &Map<String, Value>) {
    pdf.heading("Completeness");
    let Some(collectors) = report.get("Completeness").and_then(Value::as_object) else {
        pdf.paragraph("The report does not say how complete its collectors were.");
        return;
    };
    let rows: Vec<Vec<String>> = collectors
        .iter()
        .map(|(name, state)| vec![name.clone(), collector_state(state), field(state, "Count")])
        .collect();
    pdf.table(
        &[
            Column::new("Collector", 0.3),
            Column::new("State", 0.58),
            Column::new("Rows", 0.12),
        ],
        &rows,
    );
}

/// `complete`, `capped at <Cap>`, `error: <Error>` or `skipped: <Requirement>`.
fn collector_state(state: &Value) -> String {
    let present = |key: &str| {
        state
            .get(key)
            .is_some_and(|v| !v.is_null() && v != &Value::Bool(false) && v != "")
    };
    if present("Error") {
        format!("error: {}", field(state, "Error"))
    } else if present("Skipped") {
        let requirement = field(state, "Requirement");
        if requirement.is_empty() {
            "skipped".to_owned()
        } else {
            format!("skipped: {requirement}")
        }
    } else if state.get("Complete").and_then(Value::as_bool) == Some(false) {
        if present("Cap") {
            format!("capped at {}", field(state, "Cap"))
        } else {
            "incomplete".to_owned()
        }
    } else {
        "complete".to_owned()
    }
}

fn counts(pdf: &mut PdfWriter, report: &Map<String, Value>) {
    pdf.heading("Findings");
    let rows: Vec<Vec<String>> = SECTIONS
        .iter()
        .map(|section| {
            let count = report
                .get(section.key)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            vec![section.title.to_owned(), count.to_string()]
        })
        .collect();
    pdf.table(
        &[Column::new("Finding", 0.8), Column::new("Rows", 0.2)],
        &rows,
    );
    if let Some(location) = report.get("LocationAnalysis").filter(|v| v.is_object()) {
        let foreign = field(location, "ForeignSignInCount");
        if !foreign.is_empty() {
            pdf.key_value("Foreign sign-ins", &foreign);
        }
    }
    if let Some(analysis) = report.get("SentMessageAnalysis").filter(|v| v.is_object()) {
        let flagged = field(analysis, "Flagged");
        if !flagged.is_empty() {
            pdf.key_value("Sent mail flagged", &flagged);
        }
    }
}

fn rows_of(pdf: &mut PdfWriter, report: &Map<String, Value>, section: &Section, cap: usize) {
    let rows = report
        .get(section.key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    pdf.heading(&format!("{} ({})", section.title, rows.len()));
    if rows.is_empty() {
        pdf.paragraph("None found.");
        return;
    }
    let columns: Vec<Column<'_>> = section
        .columns
        .iter()
        .map(|(header, _, share)| Column::new(header, *share))
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .take(cap)
        .map(|row| {
            section
                .columns
                .iter()
                .map(|(_, cell, _)| cell_text(row, *cell))
                .collect()
        })
        .collect();
    pdf.table(&columns, &cells);
    if rows.len() > cap {
        pdf.note(&format!(
            "… and {} more (the evidence export lists every row)",
            rows.len() - cap
        ));
    }
}

fn location_analysis(pdf: &mut PdfWriter, report: &Map<String, Value>) {
    let Some(location) = report.get("LocationAnalysis").and_then(Value::as_object) else {
        return;
    };
    pdf.subheading("Location analysis");
    for (key, label) in [
        ("UsageLocation", "Usage location"),
        ("SignInCountries", "Sign-in countries"),
        ("ForeignSignInCount", "Foreign sign-ins"),
        (
            "ForeignSuccessfulSignInCount",
            "Foreign successful sign-ins",
        ),
        ("ForeignRuleChangeCount", "Foreign rule changes"),
        ("ForeignSafelistChangeCount", "Foreign sender list changes"),
        ("ForeignSharingChangeCount", "Foreign sharing changes"),
        ("ForeignSentMessageCount", "Foreign sent messages"),
        ("Note", "Note"),
    ] {
        if let Some(value) = location.get(key).filter(|v| !v.is_null()) {
            pdf.key_value(label, &text(value));
        }
    }
}

fn sent_message_analysis(pdf: &mut PdfWriter, report: &Map<String, Value>) {
    let Some(analysis) = report.get("SentMessageAnalysis").and_then(Value::as_object) else {
        return;
    };
    pdf.heading("Sent mail analysis");
    for (key, label) in [
        ("TotalMessages", "Messages"),
        ("TotalRecipients", "Recipients"),
        ("FlaggedSubjectCount", "Flagged subjects"),
        ("Flagged", "Flagged"),
    ] {
        if let Some(value) = analysis.get(key).filter(|v| !v.is_null()) {
            pdf.key_value(label, &text(value));
        }
    }
    for (key, label) in [
        ("RepeatedSubjects", "Repeated subjects"),
        ("Bursts", "Bursts"),
    ] {
        let items = analysis
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if items.is_empty() {
            continue;
        }
        pdf.subheading(label);
        for item in items.iter().take(MAX_ROWS) {
            pdf.paragraph(&format!("- {}", text(item)));
        }
        if items.len() > MAX_ROWS {
            pdf.note(&format!("… and {} more", items.len() - MAX_ROWS));
        }
    }
}

fn collector_errors(pdf: &mut PdfWriter, report: &Map<String, Value>) {
    let errors: Vec<(&str, String)> = ERROR_FIELDS
        .iter()
        .filter_map(|(key, label)| {
            let value = text(report.get(*key)?);
            (!value.is_empty()).then_some((*label, value))
        })
        .collect();
    if errors.is_empty() {
        return;
    }
    pdf.heading("Collector errors");
    for (label, error) in errors {
        pdf.key_value(label, &error);
    }
}

fn containment(pdf: &mut PdfWriter, case: &BecCase, report: &Map<String, Value>) {
    let entries = super::evidence::containment_entries(case, report);
    pdf.heading(&format!("Containment history ({})", entries.len()));
    if entries.is_empty() {
        pdf.paragraph("No remediation has been run for this case.");
        return;
    }
    for entry in entries.iter().take(MAX_ROWS) {
        match entry.as_object() {
            Some(object) => {
                let line: Vec<String> = object
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| format!("{k}: {}", text(v)))
                    .collect();
                pdf.paragraph(&format!("- {}", line.join("; ")));
            }
            None => pdf.paragraph(&format!("- {}", text(entry))),
        }
    }
    if entries.len() > MAX_ROWS {
        pdf.note(&format!("… and {} more", entries.len() - MAX_ROWS));
    }
}

fn cell_text(row: &Value, cell: Cell) -> String {
    match cell {
        Cell::Field(keys) => {
            if !row.is_object() {
                // A list of plain values (e.g. sender addresses): the value is the row.
                return text(row);
            }
            keys.iter()
                .map(|key| field(row, key))
                .find(|v| !v.is_empty())
                .unwrap_or_default()
        }
        Cell::Place => {
            let place: Vec<String> = ["Country", "City"]
                .iter()
                .map(|key| field(row, key))
                .filter(|v| !v.is_empty())
                .collect();
            let mut place = place.join(", ");
            if row.get("ForeignLocation").and_then(Value::as_bool) == Some(true) {
                place.push_str(" (foreign)");
            }
            place.trim().to_owned()
        }
        Cell::Reasons => list(row, "Reasons")
            .iter()
            .map(|reason| match reason.get("Text") {
                Some(t) => text(t),
                None => text(reason),
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn field(value: &Value, key: &str) -> String {
    value.get(key).map(text).unwrap_or_default()
}

/// A value as text: strings as they are, lists of plain values joined with commas, anything
/// else as compact JSON; cut at [`MAX_TEXT`] characters.
pub fn text(value: &Value) -> String {
    let full = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "Yes" } else { "No" }.to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(text).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    };
    if full.chars().count() > MAX_TEXT {
        let mut cut: String = full.chars().take(MAX_TEXT).collect();
        cut.push('…');
        cut
    } else {
        full
    }
}

fn timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_letters_digits_underscores_and_dashes() {
        assert_eq!(
            file_name(Variant::Summary, "Zoë O'Neil \"x\"/..\\"),
            "BEC_Summary_Zo__O_Neil__x_____.pdf"
        );
        assert_eq!(
            file_name(Variant::Full, "Ada-L_1"),
            "BEC_Report_Ada-L_1.pdf"
        );
    }

    #[test]
    fn summary_is_only_the_exact_word_and_everything_else_is_the_full_report() {
        assert_eq!(Variant::parse(Some("Summary")), Variant::Summary);
        assert_eq!(Variant::parse(Some("full")), Variant::Full);
        assert_eq!(Variant::parse(Some("brief")), Variant::Full);
        assert_eq!(Variant::parse(None), Variant::Full);
    }

    #[test]
    fn collector_states_name_their_cap_error_or_requirement() {
        let state = |v: Value| collector_state(&v);
        assert_eq!(state(serde_json::json!({"Complete": true})), "complete");
        assert_eq!(
            state(serde_json::json!({"Complete": false, "Cap": 5000})),
            "capped at 5000"
        );
        assert_eq!(
            state(serde_json::json!({"Complete": false, "Error": "403 Forbidden"})),
            "error: 403 Forbidden"
        );
        assert_eq!(
            state(serde_json::json!({"Skipped": true, "Requirement": "Entra ID P1"})),
            "skipped: Entra ID P1"
        );
    }
}

//! A completed case as an evidence package (CIPP-API `Invoke-ExecBECEvidenceExport.ps1`): one
//! ZIP with the report as stored, one CSV per list in it, the score, the containment history
//! and both PDF reports, for an investigator or an insurer who has no CIPP.
//!
//! The CSVs are meant to be opened in a spreadsheet, and their cells hold text the attacker
//! wrote (rule names, subjects, file names). A spreadsheet runs a cell that starts with `=`,
//! `+`, `-` or `@` as a formula (which can fetch URLs or, in older Excel, run commands), so
//! such text cells are written with a leading `'`, which makes the spreadsheet show them as
//! text. Numbers and booleans are written as they are: they are not text anyone typed.

use std::collections::HashSet;
use std::io::{Cursor, Write};

use cipp_store::BecCase;
use serde_json::{Map, Value};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::report::{self, Names, Variant};

/// A finished package.
#[derive(Debug)]
pub struct Evidence {
    pub zip: Vec<u8>,
    pub file_count: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("case {0} holds no completed report")]
    NoReport(String),
    #[error("the evidence package could not be written: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("the evidence package could not be written: {0}")]
    Io(#[from] std::io::Error),
    #[error("a CSV of the evidence package could not be written: {0}")]
    Csv(#[from] csv::Error),
    #[error("a JSON file of the evidence package could not be written: {0}")]
    Json(#[from] serde_json::Error),
}

/// The package of a completed case. The PDFs are left out (and the failure logged) when they
/// cannot be drawn, as upstream does, so the data itself always ships.
pub fn package(case: &BecCase) -> Result<Evidence, EvidenceError> {
    let report = case
        .results
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(|| EvidenceError::NoReport(case.case_id.clone()))?;
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        "results.json".to_owned(),
        serde_json::to_vec_pretty(report)?,
    )];
    for (key, value) in report {
        let Some(rows) = value.as_array().filter(|rows| !rows.is_empty()) else {
            continue;
        };
        files.push((format!("findings/{}.csv", file_safe(key)), csv_of(rows)?));
    }
    let score = report.get("Score").cloned().unwrap_or(Value::Null);
    files.push(("score.json".to_owned(), serde_json::to_vec_pretty(&score)?));
    let containment = Value::Array(containment_entries(case, report));
    files.push((
        "containment.json".to_owned(),
        serde_json::to_vec_pretty(&containment)?,
    ));
    let names = Names::of_case(case);
    for (variant, name) in [
        (Variant::Full, "report-full.pdf"),
        (Variant::Summary, "report-summary.pdf"),
    ] {
        match report::render(case, variant, &names) {
            Ok(pdf) => files.push((name.to_owned(), pdf)),
            Err(error) => tracing::warn!(
                case = %case.case_id, file = name, %error,
                "the evidence package ships without this report"
            ),
        }
    }
    let file_count = files.len();
    Ok(Evidence {
        zip: zip_of(case, files)?,
        file_count,
    })
}

/// The remediation runs recorded against a case: the report's `Run.Containment` and the case's
/// own list (appended to by remediations after the report), each entry once.
pub fn containment_entries(case: &BecCase, report: &Map<String, Value>) -> Vec<Value> {
    let from_report = report
        .get("Run")
        .and_then(|run| run.get("Containment"))
        .and_then(Value::as_array);
    let mut entries: Vec<Value> = Vec::new();
    for entry in from_report.into_iter().flatten().chain(&case.containment) {
        if !entries.contains(entry) {
            entries.push(entry.clone());
        }
    }
    entries
}

fn zip_of(case: &BecCase, files: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, EvidenceError> {
    // Every entry carries the time the data was extracted, so the same case always packs the
    // same way.
    let stamp = case
        .extracted_at
        .unwrap_or(case.requested_at)
        .to_offset(time::UtcOffset::UTC);
    let modified = zip::DateTime::from_date_and_time(
        u16::try_from(stamp.year()).unwrap_or(1980),
        u8::from(stamp.month()),
        stamp.day(),
        stamp.hour(),
        stamp.minute(),
        stamp.second(),
    )
    .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(modified);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(name, options)?;
        zip.write_all(&bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// One list as CSV: the columns are every key of its rows in the order first seen; a list of
/// plain values is one `Value` column.
fn csv_of(rows: &[Value]) -> Result<Vec<u8>, EvidenceError> {
    let mut columns: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for row in rows {
        match row.as_object() {
            Some(object) => {
                for key in object.keys() {
                    if seen.insert(key) {
                        columns.push(key);
                    }
                }
            }
            None => {
                if seen.insert("Value") {
                    columns.push("Value");
                }
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns.iter().map(|c| guarded(c)))?;
    for row in rows {
        let record: Vec<String> = columns
            .iter()
            .map(|column| match row.as_object() {
                Some(object) => object.get(*column).map(cell).unwrap_or_default(),
                None if *column == "Value" => cell(row),
                None => String::new(),
            })
            .collect();
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|e| EvidenceError::Io(e.into_error()))
}

/// A value as one CSV cell: text guarded against formulas, nested values as compact JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => guarded(text),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        nested => nested.to_string(),
    }
}

/// `text`, with a leading `'` when a spreadsheet would read it as a formula (see the module
/// documentation). Tab and carriage return count too: some spreadsheets skip them and read
/// the formula behind.
pub fn guarded(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A report field's name as a file name (the names are this service's own, but a file name in
/// a ZIP must never climb out of its folder).
fn file_safe(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_written_as_text() {
        assert_eq!(
            guarded("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(guarded("+1"), "'+1");
        assert_eq!(guarded("-2+3"), "'-2+3");
        assert_eq!(guarded("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guarded("plain"), "plain");
        assert_eq!(cell(&json!(-5)), "-5");
    }

    #[test]
    fn columns_are_the_union_of_the_rows_keys_in_first_seen_order() {
        let rows = [json!({"A": 1, "B": "x"}), json!({"C": {"n": [1]}, "A": 2})];
        let text = String::from_utf8(csv_of(&rows).unwrap()).unwrap();
        assert_eq!(text, "A,B,C\n1,x,\n2,,\"{\"\"n\"\":[1]}\"\n");
    }
}

//! `WhatIf=true` on a write: a dry run. Reads go out as usual, because they decide what the
//! operation does next; writes to Graph, Exchange and SharePoint and jobs for the queue are
//! listed in order with the answer assumed, and nothing is changed. The answer is the
//! operation's own, marked as a dry run, with the list (`PlannedWrites`).
//!
//! A read-back that follows a write (the mailbox actions check their change took) sees the
//! unchanged state in a dry run and says so: that line describes the dry run, not a failure.

use cipp_graph::{DryRun, GraphClient, PlannedWrite};
use serde_json::{Value, json};
use std::sync::Arc;

use super::ctx::Environment;
use super::params::RawParams;
use crate::UserError;

/// The parameter that asks for a dry run (any case, query or body).
pub const PARAMETER: &str = "WhatIf";

/// Whether the call asks for a dry run; anything but a boolean is a 400 naming the parameter.
pub fn requested(raw: &RawParams) -> Result<bool, UserError> {
    match raw.string(PARAMETER).map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) if v == "false" || v == "0" => Ok(false),
        Some(_) => Err(UserError::invalid(
            PARAMETER,
            "WhatIf: expected true or false",
        )),
    }
}

/// The Graph client and environment of a dry run: writes and queued jobs go to `log`.
pub fn dry_clients(
    graph: &GraphClient,
    env: &Environment,
    log: &DryRun,
) -> (GraphClient, Arc<Environment>) {
    let planned = log.clone();
    let jobs = env.jobs.planning(Arc::new(move |job: &cipp_jobs::NewJob| {
        planned.record(PlannedWrite {
            service: "jobs".to_owned(),
            method: "QUEUE".to_owned(),
            target: job.kind.clone(),
            body: Some(json!({
                "Title": job.title,
                "Tenant": job.tenant,
                "Steps": job.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
                "RunAt": job.run_at.map(|t| t.unix_timestamp()),
            })),
            assumed_status: 200,
        });
    }));
    let mut env = env.clone();
    env.jobs = jobs;
    (graph.dry_run(log.clone()), Arc::new(env))
}

fn note(count: usize) -> String {
    format!(
        "Dry run (WhatIf): nothing was changed. {count} write(s) listed in PlannedWrites were not sent; their answers were assumed to succeed."
    )
}

/// The operation's answer, marked as a dry run and carrying the writes it did not make.
pub fn mark_answer(answer: Value, planned: Vec<PlannedWrite>) -> Value {
    let mut object = match answer {
        Value::Object(fields) => fields,
        other => {
            let mut fields = serde_json::Map::new();
            fields.insert("Results".to_owned(), other);
            fields
        }
    };
    object.insert("WhatIf".to_owned(), Value::Bool(true));
    object.insert("WhatIfNote".to_owned(), Value::String(note(planned.len())));
    object.insert("PlannedWrites".to_owned(), json!(planned));
    Value::Object(object)
}

/// The answer of a dry run of a write that changes only this service's own state: checked, not run.
pub fn own_state_answer(operation: &str, what: &str, parameters: Value) -> Value {
    let planned = vec![PlannedWrite {
        service: "cipp".to_owned(),
        method: "POST".to_owned(),
        target: operation.to_owned(),
        body: Some(parameters),
        assumed_status: 200,
    }];
    mark_answer(
        json!({
            "Results": format!(
                "WhatIf: {operation} would change {what}. The parameters are valid; nothing was changed."
            )
        }),
        planned,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatif_is_read_in_any_case_and_must_be_a_boolean() {
        let on = RawParams::new("whatif=true", b"").expect("params");
        assert!(requested(&on).expect("a boolean"));
        let off = RawParams::new("", br#"{"WhatIf": false}"#).expect("params");
        assert!(!requested(&off).expect("a boolean"));
        let bad = RawParams::new("WhatIf=maybe", b"").expect("params");
        assert!(requested(&bad).is_err());
    }

    #[test]
    fn a_marked_answer_keeps_the_operations_results_and_lists_the_writes() {
        let planned = vec![PlannedWrite {
            service: "graph".into(),
            method: "PATCH".into(),
            target: "https://graph.example/v1.0/users/a".into(),
            body: Some(json!({"accountEnabled": false})),
            assumed_status: 204,
        }];
        let marked = mark_answer(json!({"Results": "Successfully disabled a"}), planned);
        assert_eq!(marked["Results"], "Successfully disabled a");
        assert_eq!(marked["WhatIf"], true);
        assert_eq!(marked["PlannedWrites"][0]["Method"], "PATCH");
        assert!(
            marked["WhatIfNote"]
                .as_str()
                .is_some_and(|n| n.contains("1 write(s)"))
        );
    }
}

//! Fills a store's audit log with the largest rows the service can write, as a flood of hostile
//! calls would (benches/suite.py, case A1).
//!
//! `cargo run --release --example fill_audit -- <store url or SQLite path> <rows> <days>`
//! spreads the rows evenly over the last `days` days, newest now, and prints what it wrote.

use std::time::Instant;

const BATCH: usize = 500;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [location, rows, days] = args.as_slice() else {
        return Err("usage: fill_audit <store url or SQLite path> <rows> <days>".into());
    };
    let rows: usize = rows.parse()?;
    let days: i64 = days.parse()?;
    let store = cipp_store::Store::connect(location).await?;
    let now = time::OffsetDateTime::now_utc();
    let span = time::Duration::days(days.max(1));
    let step = span / i32::try_from(rows.max(1))?;
    let started = Instant::now();
    let mut written = 0usize;
    let mut bytes = 0usize;
    while written < rows {
        let batch: Vec<_> = (written..rows.min(written + BATCH))
            .map(|i| {
                let time = now - step * i32::try_from(i).unwrap_or(i32::MAX);
                cipp_api::audit::largest_possible_row(time, "contoso.example")
            })
            .collect();
        bytes += batch
            .iter()
            .map(|e| e.parameters.to_string().len() + e.message.len())
            .sum::<usize>();
        store.insert_audit_batch(&batch).await?;
        written += batch.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rows={written} bytes={bytes} seconds={seconds:.1} rows_per_second={:.0}",
        written as f64 / seconds
    );
    Ok(())
}

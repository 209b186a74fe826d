//! The service binary: load settings, start, serve. Production mode unless `--demo` (or
//! `CIPP_MODE=demo`) asks for the embedded simulator; `cipp-users healthcheck` probes a running
//! instance for container health checks.

use cipp_api::Application;
use cipp_api::settings::Settings;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: cipp-users [--demo]\n       cipp-users healthcheck [ADDRESS]";

/// What the command line asks for.
enum Command {
    Serve { demo: bool },
    Healthcheck { address: Option<String> },
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let args: Vec<String> = args.into_iter().collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => Ok(Command::Serve { demo: false }),
        ["--demo"] => Ok(Command::Serve { demo: true }),
        ["healthcheck"] => Ok(Command::Healthcheck { address: None }),
        ["healthcheck", address] => Ok(Command::Healthcheck {
            address: Some((*address).to_owned()),
        }),
        _ => Err(format!("unexpected arguments: {}", args.join(" "))),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let command = match parse_args(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("error: {error}\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    let demo = match command {
        Command::Serve { demo } => demo,
        Command::Healthcheck { address } => return healthcheck(address),
    };
    if let Err(error) = init_logs() {
        eprintln!("error: {error}");
        return std::process::ExitCode::FAILURE;
    }
    match run(demo).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to standard error: text, or one JSON object a line with `CIPP_LOG_FORMAT=json`. A
/// line's spans (the `request` span holds the correlation id) are part of it in both formats.
fn init_logs() -> Result<(), String> {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_env("CIPP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a person at a terminal; a file or a collector gets plain text.
    let ansi = std::io::stderr().is_terminal();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match std::env::var("CIPP_LOG_FORMAT")
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "text" => logs.init(),
        "json" => logs
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
        other => {
            return Err(format!(
                "setting CIPP_LOG_FORMAT: '{other}' is neither 'text' nor 'json'"
            ));
        }
    }
    Ok(())
}

/// Probes the instance this environment configures (`CIPP_BIND`, or the address given): exit
/// 0 when it answers healthy, 1 otherwise. Kept short so a container runtime's own timeout
/// never has to cut it.
fn healthcheck(address: Option<String>) -> std::process::ExitCode {
    let text = address
        .or_else(|| std::env::var("CIPP_BIND").ok())
        .unwrap_or_else(|| "127.0.0.1:7071".to_owned());
    let bind: std::net::SocketAddr = match text.parse() {
        Ok(bind) => bind,
        Err(error) => {
            eprintln!("unhealthy: '{text}' is not an address like 127.0.0.1:7071: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match cipp_api::health::probe(bind, std::time::Duration::from_secs(2)) {
        Ok(()) => {
            println!("healthy");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("unhealthy: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(demo: bool) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::load(demo)?;
    let application = Application::build(settings).await?;
    // Demo credentials go to standard output (logs go to standard error); they are fixed,
    // documented and valid only against the simulator.
    if let Some(demo) = application.demo() {
        for line in demo.credential_lines() {
            println!("{line}");
        }
    }
    let address = application.local_addr();
    let metrics = application.metrics_addr();
    tracing::info!(%address, %metrics, "listening");
    // One line, the API's address first: scripts read the first URL of the first such line.
    println!(
        "listening on http://{address} (Swagger UI at /swagger-ui/; metrics on http://{metrics}/metrics)"
    );
    application.run_until_stopped().await?;
    Ok(())
}

//! The service binary: load settings, start (in demo mode, with the simulator), serve.

use cipp_api::Application;
use cipp_api::settings::Settings;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("CIPP_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::load()?;
    let application = Application::build(settings).await?;
    // Demo credentials go to standard output (logs go to standard error); they are fixed,
    // documented and valid only against the simulator.
    if let Some(demo) = application.demo() {
        for line in demo.credential_lines() {
            println!("{line}");
        }
    }
    println!(
        "listening on http://127.0.0.1:{} (Swagger UI at /swagger-ui/)",
        application.port()
    );
    application.run_until_stopped().await?;
    Ok(())
}

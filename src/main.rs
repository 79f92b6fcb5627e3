//! The `coffer` command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    coffer::telemetry::init();
    let cli = coffer::cli::Cli::parse();
    match coffer::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

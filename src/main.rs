//! The `coffer` command.

use clap::Parser;

/// mimalloc returns freed memory to the system promptly (argon2 verifications allocate
/// ~19 MiB each), which keeps the resident size of a long-running server small.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Test builds only: fault injection from the FAILPOINTS variable
    // (`relocate::after-transfer=sleep(4000)`), for the suites that stop processes mid-way.
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
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

//! Parses the command line, runs it, and turns the outcome into an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = claude_tracker::cli::Cli::parse_args();
    match claude_tracker::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if claude_tracker::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("claude-tracker: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

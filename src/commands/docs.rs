//! `claude-tracker completions <shell>` and `claude-tracker man`: generated from the command line's own
//! definition (clap_complete, clap_mangen), so they never fall behind it.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;

/// Prints the completion script for `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "claude-tracker", &mut out);
    out.flush()?;
    Ok(())
}

/// Prints the man page.
pub(crate) fn man() -> Result<()> {
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.flush()?;
    Ok(())
}

//! `claude-tracker review`: placeholder filled in below.

use anyhow::Result;

use crate::app::App;
use crate::cli::ReviewArgs;

/// Runs `review`.
pub(crate) fn run(_app: &App, _args: &ReviewArgs) -> Result<()> {
    anyhow::bail!("review: not built yet")
}

//! One file per subcommand: each ties the pure core to the store and the terminal.

pub mod export;
pub mod ingest;
pub mod report;
pub mod setup;
pub mod sync;

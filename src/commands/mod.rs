//! One file per subcommand: each ties the pure core to the store and the terminal.

pub(crate) mod dashboard;
pub(crate) mod docs;
pub(crate) mod entries;
pub(crate) mod export;
pub(crate) mod hooks;
pub(crate) mod import;
pub(crate) mod ingest;
pub(crate) mod push;
pub(crate) mod report;
pub(crate) mod review;
pub(crate) mod rules;
pub(crate) mod service_unit;
pub(crate) mod setup;
pub(crate) mod status;
pub(crate) mod sync;
pub(crate) mod tag;
pub(crate) mod watch;

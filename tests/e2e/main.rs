//! End-to-end tests: the real binary on transcripts written to a temp dir. One test binary keeps link
//! time low.

mod capture;
mod dashboard;
mod descriptions;
mod docs;
mod export;
mod fake_clockify;
mod fake_http;
mod fake_toggl;
mod figures;
mod first_hour;
mod hooks;
mod live_trust;
mod machines;
mod paths;
mod push;
mod ranges;
mod read_only;
mod review;
mod rules;
mod status;
mod support;
mod sync;
mod terminal;
mod time_model;
mod toggl;
mod trust;
mod upgrade;
mod watch;
mod where_machines;

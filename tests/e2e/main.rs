//! End-to-end tests: the real binary on transcripts written to a temp dir. One test binary keeps link
//! time low.

mod capture;
mod fake_clockify;
mod support;
mod sync;

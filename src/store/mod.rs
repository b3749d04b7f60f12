//! The SQLite database: the only place with SQL. It owns the connection, the schema and its migrations,
//! and offers one method per capability, each doing its work in one transaction; rows are converted to
//! the core's types here. Split by concern: `migrations`, `capture` (sessions, spans, files), `ledger`
//! (keyed entries, synced days, fixed plans), `tags`, `folders` (where session folders lead), `done` (commits
//! and session titles, for descriptions) and the small key-value cache below.
//!
//! Sessions outlive their transcripts here: Claude Code deletes old files, the rows stay.
//!
//! A database the user cannot write (its file, or its folder, read-only) is refused with a message by
//! [`Store::open`], and opened read-only by [`Store::open_to_read`] for the commands that only read.

mod capture;
mod done;
mod edits;
mod folders;
mod ledger;
mod machines;
mod migrations;
mod tags;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub(crate) use capture::{FileState, FileUpdate, TimeModel};
pub(crate) use done::CommitScan;
pub(crate) use machines::{MergeCounts, SharedFileState};
pub(crate) use tags::SessionRef;

/// The database handle.
pub(crate) struct Store {
    conn: Connection,
    /// Opened read-only ([`Store::open_to_read`] on a database the user cannot write): nothing may be
    /// written, so the commands skip the ingest.
    read_only: bool,
}

/// What stops a database from being written, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadOnlyCause {
    /// The file itself (its mode, its owner, a read-only mount).
    File,
    /// Its folder: SQLite keeps `-wal` and `-shm` files beside the database and cannot create them.
    Folder,
}

/// A database this run cannot write, met by a command that must write: the file, why, and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{}", read_only_message(.path, *.cause))]
pub(crate) struct ReadOnlyDatabase {
    path: PathBuf,
    cause: ReadOnlyCause,
}

fn read_only_message(path: &Path, cause: ReadOnlyCause) -> String {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let (why, fix) = match cause {
        ReadOnlyCause::File => {
            ("you cannot write it".to_string(), format!("make it writable (`chmod u+w {}`)", path.display()))
        }
        ReadOnlyCause::Folder => (
            format!(
                "its folder {} is read-only and SQLite keeps its `-wal` and `-shm` files there",
                folder.display()
            ),
            "make the folder writable".to_string(),
        ),
    };
    format!(
        "the database {} is read-only ({why}) and this command writes to it: {fix}, or pass `--db` a copy you \
         can write; `report`, `status`, `export` and `dashboard` read it as it is",
        path.display()
    )
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date; a file of another
    /// program is refused, and so is one this run cannot write ([`ReadOnlyDatabase`]).
    pub(crate) fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
        }
        let conn =
            Connection::open(path).with_context(|| format!("cannot open the database {}", path.display()))?;
        // SQLite opens a write-protected file read-only instead of failing; asked before anything is
        // read, so nothing (no `-shm`) is created beside it.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(ReadOnlyDatabase { path: path.to_path_buf(), cause: ReadOnlyCause::File }.into());
        }
        Self::configure(conn, true).map_err(|error| {
            if read_only_code(&error) == Some(SQLITE_READONLY_DIRECTORY) {
                ReadOnlyDatabase { path: path.to_path_buf(), cause: ReadOnlyCause::Folder }.into()
            } else {
                error.context(format!("cannot prepare the database {}", path.display()))
            }
        })
    }

    /// For a command that only reads: [`Store::open`], unless the database exists and this run cannot
    /// write it; then it is opened read-only as it is (no journal mode set, no migration, nothing
    /// created beside it when nothing is there: see [`Store::open_read_only`]).
    pub(crate) fn open_to_read(path: &Path) -> Result<Store> {
        match Self::open(path) {
            Err(error) if error.downcast_ref::<ReadOnlyDatabase>().is_some() && path.exists() => {
                Self::open_read_only(path)
            }
            opened => opened,
        }
    }

    /// Opens an existing database read-only. SQLite reads a WAL database only with its `-shm` file
    /// (the shared index of the log): it creates one when the folder lets it, with the database's mode,
    /// and leaves it there, and a read-only `-shm` later stops every writer, even once the database is
    /// writable again. So when nothing lies beside the database (no `-wal`, `-shm` or `-journal`: it was
    /// closed cleanly and every page is in the file) it is opened `immutable`, which reads the file alone
    /// and creates nothing; when those files exist (someone has it open, or a crash left them) it is
    /// opened `mode=ro`, which uses them as they are.
    pub(crate) fn open_read_only(path: &Path) -> Result<Store> {
        let alone = ["-wal", "-shm", "-journal"].iter().all(|suffix| {
            let mut sibling = path.as_os_str().to_os_string();
            sibling.push(suffix);
            !Path::new(&sibling).exists()
        });
        let uri = format!("file:{}?{}", uri_path(path), if alone { "immutable=1" } else { "mode=ro" });
        let flags =
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&uri, flags)
            .with_context(|| format!("cannot open the database {} read-only", path.display()))?;
        Self::configure_read_only(conn)
            .with_context(|| format!("cannot read the database {}", path.display()))
    }

    /// True when opened read-only (see [`Store::open_to_read`]).
    pub(crate) fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// A private database for tests.
    #[cfg(test)]
    pub(crate) fn open_in_memory() -> Result<Store> {
        Self::configure(Connection::open_in_memory()?, false)
    }

    fn configure(mut conn: Connection, wal: bool) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // Asked first: a file that is not SQLite at all fails here, before anything is written.
        migrations::check_identity(&conn).map_err(not_a_database)?;
        if wal {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        // FULL: a committed intent must survive a power loss, or a request it guards could be repeated.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut conn)?;
        Ok(Store { conn, read_only: false })
    }

    /// A read-only connection: the identity and schema checked, nothing set that would write.
    fn configure_read_only(conn: Connection) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        migrations::check_identity(&conn).map_err(not_a_database).map_err(|error| {
            if read_only_code(&error).is_some() {
                error.context(
                    "SQLite needs to create its `-shm` file beside it and cannot (its folder is read-only and \
                     only some of its `-wal` and `-shm` files are there): copy the database and its files to a \
                     folder you can write and pass `--db` the copy",
                )
            } else {
                error
            }
        })?;
        let version = migrations::known_version(&conn)?;
        anyhow::ensure!(
            version == migrations::MIGRATIONS.len(),
            "it is read-only and an older claude-tracker wrote it (schema {version}; this one reads schema {}): \
             run `claude-tracker ingest` once with write access to upgrade it, or pass `--db` an upgraded copy",
            migrations::MIGRATIONS.len()
        );
        Ok(Store { conn, read_only: true })
    }

    /// The schema version in force.
    #[cfg(test)]
    pub(crate) fn schema_version(&self) -> Result<usize> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(usize::try_from(version).unwrap_or(0))
    }

    /// The database's size in bytes (pages in use, whatever still sits in the write-ahead log).
    pub(crate) fn size_bytes(&self) -> Result<u64> {
        let bytes: i64 = self.conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
            [],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    /// A small cached value (e.g. the Clockify user id of a key), if present.
    pub(crate) fn cached(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Stores a small cached value.
    pub(crate) fn cache(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

/// The meta key of the count of changes to what this machine shares ([`bump_generation`]).
const META_GENERATION: &str = "sessions.generation";

/// Counts a change to this machine's sessions or user tags, in the transaction that makes it: the
/// shared folder's file is written again only when the count moved since it was last written.
fn bump_generation(tx: &rusqlite::Connection) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO meta(key, value) VALUES (?1, '1')
         ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
    )?
    .execute([META_GENERATION])?;
    Ok(())
}

impl Store {
    /// How many changes this machine's sessions and user tags have seen (see [`bump_generation`]).
    pub(crate) fn generation(&self) -> Result<String> {
        Ok(self.cached(META_GENERATION)?.unwrap_or_else(|| "0".to_string()))
    }
}

/// SQLite's extended code for "read-only because the folder holding the database is" (it cannot create
/// the `-wal` and `-shm` files a WAL database needs).
const SQLITE_READONLY_DIRECTORY: i32 = 1544;

/// The extended code of an `SQLITE_READONLY` failure in the chain (SQLite refused to write, or to create
/// the files a read needs), if there is one.
fn read_only_code(error: &anyhow::Error) -> Option<i32> {
    error.chain().find_map(|cause| match cause.downcast_ref::<rusqlite::Error>() {
        Some(rusqlite::Error::SqliteFailure(failure, _)) if failure.code == rusqlite::ErrorCode::ReadOnly => {
            Some(failure.extended_code)
        }
        _ => None,
    })
}

/// A path as the path of an SQLite `file:` URI: every byte but the unreserved ones and `/`
/// percent-encoded (a `?`, `#` or `%` in a folder name would otherwise be read as URI syntax).
fn uri_path(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut uri = String::with_capacity(bytes.len());
    for byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// SQLite's "file is not a database", worded as what to do.
fn not_a_database(error: anyhow::Error) -> anyhow::Error {
    let is_not_a_database = matches!(
        error.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(failure, _)) if failure.code == rusqlite::ErrorCode::NotADatabase
    );
    if is_not_a_database {
        anyhow::anyhow!("it is not an SQLite database: pass `--db` a path of its own (a new file is created)")
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::migrations::MIGRATIONS;
    use super::*;
    use crate::ledger::{EntryState, KeyedEntry, Ledger, LedgerScope, Operation};
    use crate::sessions::{MessageRecord, Millis, Origin, SessionDigest, SessionDigests, Span, Usage};
    use crate::sync::steps::EntryMode;
    use chrono::NaiveDate;
    use std::path::Path;

    const MIN: i64 = 60_000;

    fn digest(cwd: &str, activity: &[Millis], messages: &[(u64, Millis, u64)]) -> SessionDigest {
        let mut digest = SessionDigest {
            origin: Some(Origin {
                from_sidechain: false,
                at: activity[0],
                cwd: cwd.into(),
                git_branch: None,
            }),
            activity: activity.to_vec(),
            messages: messages
                .iter()
                .map(|&(key, at, output)| MessageRecord {
                    key,
                    at,
                    usage: Usage { output, ..Usage::default() },
                })
                .collect(),
            models: Vec::new(),
            ..SessionDigest::default()
        };
        digest.normalize();
        digest
    }

    fn ingest(store: &mut Store, id: &str, digest: SessionDigest, idle_ms: i64) {
        let mut sessions = SessionDigests::default();
        sessions.absorb(id.into(), digest);
        store.record_ingest(sessions, &[], TimeModel { idle_ms, attention_ms: 15 * MIN }).unwrap();
    }

    #[test]
    fn migrates_from_empty_to_latest() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len());
    }

    #[test]
    fn reopening_keeps_data_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/tracker.db");
        let mut store = Store::open(&path).unwrap();
        ingest(&mut store, "s1", digest("/p", &[0, MIN], &[]), 15 * MIN);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.session_count().unwrap(), 1);
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len());
    }

    #[test]
    fn upsert_merges_and_never_duplicates() {
        let mut store = Store::open_in_memory().unwrap();
        ingest(&mut store, "s1", digest("/p", &[0, MIN], &[(1, MIN, 10)]), 15 * MIN);
        ingest(
            &mut store,
            "s1",
            digest("/p", &[0, MIN, 2 * MIN], &[(1, MIN, 10), (2, 2 * MIN, 5)]),
            15 * MIN,
        );
        let sessions = store.query_range(0, 10 * MIN).unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].spans, vec![Span { start: 0, end: 2 * MIN }]);
        let output: u64 = sessions[0].messages.iter().map(|m| m.usage.output).sum();
        assert_eq!(output, 15);
    }

    #[test]
    fn models_are_stored_and_merged_across_ingests() {
        let mut store = Store::open_in_memory().unwrap();
        let mut first = digest("/p", &[0, MIN], &[(1, MIN, 10)]);
        first.models = vec!["claude-sonnet-4-5".into()];
        ingest(&mut store, "s1", first, 15 * MIN);
        let mut later = digest("/p", &[2 * MIN], &[(2, 2 * MIN, 5)]);
        later.models = vec!["claude-opus-4-1".into(), "claude-sonnet-4-5".into()];
        ingest(&mut store, "s1", later, 15 * MIN);
        let sessions = store.query_range(0, 10 * MIN).unwrap();
        assert_eq!(sessions[0].models, vec!["claude-opus-4-1", "claude-sonnet-4-5"]);
    }

    #[test]
    fn the_models_migration_forgets_what_was_read_so_transcripts_are_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &MIGRATIONS[..5] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 5).unwrap();
            tx.execute("INSERT INTO files VALUES ('/x/a.jsonl', 10, 5, 10, 1, 0)", []).unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert!(store.file_states().unwrap().is_empty());
    }

    #[test]
    fn rule_tags_never_touch_user_tags_and_are_recomputed_when_needed() {
        use crate::classify::{Tag, TagSource};
        let mut store = Store::open_in_memory().unwrap();
        ingest(&mut store, "s1", digest("/p", &[0, MIN], &[]), 15 * MIN);
        let ids = |sessions: Vec<crate::sessions::Session>| -> Vec<String> {
            sessions.into_iter().map(|s| s.session_id).collect()
        };
        assert_eq!(ids(store.sessions_needing_rule_tags("fp1").unwrap()), vec!["s1"]);
        store.add_user_tags("s1", &["acme".to_string()]).unwrap();
        store.record_rule_tags("fp1", &[("s1".into(), vec!["acme".into(), "billable".into()])]).unwrap();
        let tag = |name: &str, source| Tag { name: name.into(), source };
        assert_eq!(
            store.tags_of("s1").unwrap(),
            vec![tag("acme", TagSource::User), tag("billable", TagSource::Rule)]
        );
        assert!(store.sessions_needing_rule_tags("fp1").unwrap().is_empty(), "nothing changed");
        assert_eq!(ids(store.sessions_needing_rule_tags("fp2").unwrap()), vec!["s1"], "the rules changed");
        ingest(&mut store, "s1", digest("/p", &[2 * MIN], &[]), 15 * MIN);
        assert_eq!(ids(store.sessions_needing_rule_tags("fp1").unwrap()), vec!["s1"], "the session changed");
        assert_eq!(store.remove_user_tags("s1", &["acme".into(), "nope".into()]).unwrap(), vec![true, false]);
        assert_eq!(store.tags_of("s1").unwrap(), vec![tag("billable", TagSource::Rule)]);
    }

    #[test]
    fn query_range_returns_overlapping_sessions_only() {
        let mut store = Store::open_in_memory().unwrap();
        ingest(&mut store, "early", digest("/a", &[0, MIN], &[]), 15 * MIN);
        ingest(&mut store, "late", digest("/b", &[100 * MIN, 101 * MIN], &[]), 15 * MIN);
        let ids = |from, to| -> Vec<String> {
            store.query_range(from, to).unwrap().into_iter().map(|s| s.session_id).collect()
        };
        assert_eq!(ids(0, 50 * MIN), vec!["early"]);
        assert_eq!(ids(MIN, 100 * MIN + 1), vec!["early", "late"]);
        assert!(ids(MIN + 1, 100 * MIN).is_empty());
    }

    #[test]
    fn changing_the_idle_threshold_recomputes_stored_spans() {
        let mut store = Store::open_in_memory().unwrap();
        ingest(&mut store, "s1", digest("/p", &[0, 20 * MIN], &[]), 15 * MIN);
        assert_eq!(store.query_range(0, 60 * MIN).unwrap()[0].spans.len(), 2);
        store
            .record_ingest(
                SessionDigests::default(),
                &[],
                TimeModel { idle_ms: 30 * MIN, attention_ms: 15 * MIN },
            )
            .unwrap();
        assert_eq!(store.query_range(0, 60 * MIN).unwrap()[0].spans, vec![Span { start: 0, end: 20 * MIN }]);
    }

    #[test]
    fn file_state_round_trips() {
        let mut store = Store::open_in_memory().unwrap();
        let state =
            FileState { size: 10, mtime_ns: 5, parsed_bytes: 9, parsed_lines: 2, tail_hash: u64::MAX };
        let update = FileUpdate { path: "/x/a.jsonl".into(), state, from_start: true, skipped: Vec::new() };
        store
            .record_ingest(
                SessionDigests::default(),
                &[update],
                TimeModel { idle_ms: 15 * MIN, attention_ms: 15 * MIN },
            )
            .unwrap();
        assert_eq!(store.file_states().unwrap()[Path::new("/x/a.jsonl")], state);
    }

    fn keyed(key: &str, state: EntryState, remote_id: Option<&str>) -> KeyedEntry {
        KeyedEntry {
            key: key.into(),
            remote_id: remote_id.map(str::to_string),
            start: "2026-11-02T08:00:00Z".parse().unwrap(),
            end: Some("2026-11-02T12:00:00Z".parse().unwrap()),
            fingerprint: "f1".into(),
            state,
            operation: Operation::Create,
            adopted: false,
            sent: None,
            reason: None,
        }
    }

    #[test]
    fn a_timer_whose_start_or_stop_is_in_doubt_counts_as_possibly_running() {
        let store = Store::open_in_memory().unwrap();
        let scope = LedgerScope { destination: "toggl", workspace_id: "ws" };
        let running =
            |key: &str, state, operation| KeyedEntry { end: None, operation, ..keyed(key, state, Some("r")) };
        store.write_entry(scope, &running("seg:a", EntryState::Running, Operation::Start)).unwrap();
        store.write_entry(scope, &running("seg:b", EntryState::InDoubt, Operation::Start)).unwrap();
        store.write_entry(scope, &running("seg:c", EntryState::Intended, Operation::Update)).unwrap();
        // Settled, or a stop in doubt that carries its end: not running.
        store.write_entry(scope, &keyed("seg:d", EntryState::Stored, Some("r"))).unwrap();
        store.write_entry(scope, &keyed("seg:e", EntryState::InDoubt, Some("r"))).unwrap();
        assert_eq!(store.running_entries().unwrap().len(), 3);
    }

    #[test]
    fn ledger_rows_are_written_rewritten_and_removed_per_scope() {
        let store = Store::open_in_memory().unwrap();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        let scope = LedgerScope { destination: "clockify", workspace_id: "ws" };
        let key = "day:2026-11-02:p1";
        store.write_entry(scope, &keyed(key, EntryState::Intended, None)).unwrap();
        assert_eq!(store.ledger(scope).unwrap().entries[key], keyed(key, EntryState::Intended, None));
        assert!(store.ledger(LedgerScope { workspace_id: "other-ws", ..scope }).unwrap().entries.is_empty());
        assert!(store.ledger(LedgerScope { destination: "toggl", ..scope }).unwrap().entries.is_empty());
        let stored = keyed(key, EntryState::Stored, Some("remote-1"));
        store.write_entry(scope, &stored).unwrap();
        let synced_at = "2026-11-03T00:00:00Z".parse().unwrap();
        store.mark_day_synced(scope, date, EntryMode::Workday, synced_at).unwrap();
        let next_day = date.succ_opt().unwrap();
        store.mark_day_synced(scope, next_day, EntryMode::Sessions, synced_at).unwrap();
        store.mark_day_synced(scope, next_day, EntryMode::Workday, synced_at).unwrap();
        let ledger = store.ledger(scope).unwrap();
        assert_eq!(ledger.entries.values().collect::<Vec<_>>(), vec![&stored], "a rewrite replaces the row");
        assert_eq!(ledger.synced_days.iter().collect::<Vec<_>>(), vec![&date, &next_day]);
        assert_eq!(ledger.sessions_days.iter().collect::<Vec<_>>(), vec![&next_day], "the first mode stays");
        store.remove_entry(scope, key).unwrap();
        assert!(store.ledger(scope).unwrap().entries.is_empty());
    }

    /// A database as release 0.1 (schema 4) left it: one synced day with its entry, and an intent whose
    /// answer was lost on the next day.
    pub(crate) fn schema_4_database(path: &Path) {
        let mut conn = Connection::open(path).unwrap();
        let tx = conn.transaction().unwrap();
        for sql in &MIGRATIONS[..4] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 4).unwrap();
        tx.execute_batch(
            "INSERT INTO sessions VALUES ('s', '/p', 0, 0, 'main', 0, 60000, 60000, 1, 2, 3, 4, x'', x'');
             INSERT INTO spans VALUES ('s', 0, 60000);
             INSERT INTO file_sessions VALUES ('/x/s.jsonl', 's');
             INSERT INTO synced_days VALUES ('clockify', '2026-11-02', 'ws', '2026-11-03T10:00:00Z');
             INSERT INTO synced_entries VALUES ('clockify', '2026-11-02', 'ws', 'p1', 'c-1',
                 '2026-11-02T09:00:00Z', '2026-11-02T17:00:00Z', 1);
             INSERT INTO sync_intents VALUES ('toggl', '2026-11-03', '777', '42',
                 '2026-11-03T09:00:00Z', '2026-11-03T17:00:00Z');
             INSERT INTO day_plans VALUES ('toggl', '2026-11-03', '777', '42', '/p',
                 '2026-11-03T09:00:00Z', '2026-11-03T17:00:00Z', 28800, 1000000);",
        )
        .unwrap();
        tx.commit().unwrap();
    }

    #[test]
    fn migration_from_schema_4_keeps_synced_days_entries_and_intents_in_doubt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.db");
        schema_4_database(&path);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len());
        let clockify = store.ledger(LedgerScope { destination: "clockify", workspace_id: "ws" }).unwrap();
        let day: NaiveDate = "2026-11-02".parse().unwrap();
        assert_eq!(clockify.synced_days.iter().collect::<Vec<_>>(), vec![&day]);
        assert_eq!(
            clockify.entries.values().collect::<Vec<_>>(),
            vec![&KeyedEntry {
                key: "day:2026-11-02:p1".into(),
                remote_id: Some("c-1".into()),
                start: "2026-11-02T09:00:00Z".parse().unwrap(),
                end: Some("2026-11-02T17:00:00Z".parse().unwrap()),
                fingerprint: String::new(),
                state: EntryState::Stored,
                operation: Operation::Create,
                adopted: true,
                sent: None,
                reason: None,
            }]
        );
        let toggl = store.ledger(LedgerScope { destination: "toggl", workspace_id: "777" }).unwrap();
        assert_eq!(
            toggl.entries.values().collect::<Vec<_>>(),
            vec![&KeyedEntry {
                key: "day:2026-11-03:42".into(),
                remote_id: None,
                start: "2026-11-03T09:00:00Z".parse().unwrap(),
                end: Some("2026-11-03T17:00:00Z".parse().unwrap()),
                fingerprint: String::new(),
                state: EntryState::InDoubt,
                operation: Operation::Create,
                adopted: false,
                sent: None,
                reason: None,
            }]
        );
        assert_eq!(toggl.fixed_plans[&"2026-11-03".parse().unwrap()].len(), 1);
        let sessions = store.query_range(0, 120_000).unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].spans, vec![Span { start: 0, end: 60_000 }]);
        assert_eq!(sessions[0].git_branch.as_deref(), Some("main"));
    }

    #[test]
    fn a_recent_window_is_found_through_the_index_on_last_activity() {
        let store = Store::open_in_memory().unwrap();
        let plan: Vec<String> = store
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT session_id FROM sessions WHERE last_ms >= ?1 AND first_ms < ?2",
            )
            .unwrap()
            .query_map(params![0, 1], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(plan, vec!["SEARCH sessions USING INDEX sessions_by_last (last_ms>?)".to_string()]);
    }

    /// A hook's `watch --once` and a running `watch` meeting an old database at once: each reads the old
    /// version while a third connection holds the write lock, then both go for it. Both must succeed,
    /// the second seeing the first's steps (applying one twice fails: the tables exist).
    #[test]
    fn two_openers_upgrading_at_once_both_succeed_and_apply_each_step_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            // As an older release left it: in WAL mode, at schema 1, with a session.
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            let tx = conn.transaction().unwrap();
            tx.execute_batch(MIGRATIONS[0]).unwrap();
            tx.pragma_update(None, "user_version", 1).unwrap();
            tx.execute(
                "INSERT INTO sessions VALUES ('s', '/p', 0, 0, NULL, 0, 60000, 60000, 1, 2, 3, 4, x'', x'')",
                [],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let blocker = Connection::open(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let openers: Vec<_> = (0..2)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let store = Store::open(&path)?;
                    Ok::<_, anyhow::Error>((store.schema_version()?, store.session_count()?))
                })
            })
            .collect();
        // Long enough for both to have read the version and to wait for the lock (5 s at most).
        std::thread::sleep(Duration::from_millis(400));
        blocker.execute_batch("COMMIT").unwrap();
        for opener in openers {
            let (version, sessions) = opener.join().unwrap().unwrap_or_else(|e| panic!("{e:#}"));
            assert_eq!((version, sessions), (MIGRATIONS.len(), 1));
        }
    }

    use crate::files::names;

    #[test]
    fn read_only_opening_a_closed_database_creates_nothing_and_changes_no_byte() {
        let dir = tempfile::tempdir().unwrap();
        // A `?` and a `%` in the folder name: URI syntax, unless encoded.
        std::fs::create_dir_all(dir.path().join("a?b%c")).unwrap();
        let path = dir.path().join("a?b%c/tracker.db");
        let mut store = Store::open(&path).unwrap();
        ingest(&mut store, "s1", digest("/p", &[0, MIN], &[]), 15 * MIN);
        drop(store);
        let before = std::fs::read(&path).unwrap();
        let store = Store::open_read_only(&path).unwrap();
        assert!(store.is_read_only());
        assert_eq!(store.session_count().unwrap(), 1);
        assert!(store.cache("k", "v").is_err(), "a read-only store refuses writes");
        drop(store);
        assert_eq!(names(&dir.path().join("a?b%c")), ["tracker.db"]);
        assert!(std::fs::read(&path).unwrap() == before, "not a byte changed (the journal mode stays WAL)");
        assert_eq!(before[18..20], [2, 2], "the header says WAL");
    }

    #[test]
    fn read_only_opening_a_database_in_use_reads_what_its_log_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tracker.db");
        let mut writer = Store::open(&path).unwrap();
        ingest(&mut writer, "s1", digest("/p", &[0, MIN], &[]), 15 * MIN);
        // While the writer is open, what it committed sits in `-wal`, not yet in the file.
        assert_eq!(names(dir.path()), ["tracker.db", "tracker.db-shm", "tracker.db-wal"]);
        let reader = Store::open_read_only(&path).unwrap();
        assert_eq!(reader.session_count().unwrap(), 1);
    }

    #[test]
    fn a_read_only_database_of_an_older_schema_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        assert_eq!(
            format!("{:#}", Store::open_read_only(&path).err().unwrap()),
            format!(
                "cannot read the database {}: it is read-only and an older claude-tracker wrote it (schema 1; \
                 this one reads schema {}): run `claude-tracker ingest` once with write access to upgrade it, \
                 or pass `--db` an upgraded copy",
                path.display(),
                MIGRATIONS.len()
            )
        );
    }

    #[test]
    fn uri_paths_encode_what_uri_syntax_would_read() {
        assert_eq!(uri_path(Path::new("/a b/c?d#e%f/t.db")), "/a%20b/c%3Fd%23e%25f/t.db");
        assert_eq!(uri_path(Path::new("rel/x-y_z.~db")), "rel/x-y_z.~db");
    }

    #[test]
    fn every_older_schema_upgrades_in_place() {
        for version in 0..MIGRATIONS.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.db");
            {
                let mut conn = Connection::open(&path).unwrap();
                let tx = conn.transaction().unwrap();
                for sql in &MIGRATIONS[..version] {
                    tx.execute_batch(sql).unwrap();
                }
                tx.pragma_update(None, "user_version", i64::try_from(version).unwrap()).unwrap();
                tx.commit().unwrap();
            }
            let store = Store::open(&path).unwrap_or_else(|e| panic!("schema {version}: {e:#}"));
            assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len(), "from schema {version}");
        }
    }

    #[test]
    fn another_programs_database_is_refused_not_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE notes (body TEXT);").unwrap();
        assert_eq!(
            format!("{:#}", Store::open(&foreign).err().unwrap()),
            format!(
                "cannot prepare the database {}: it is not a claude-tracker database (it holds 1 table(s) of \
                 another program): pass `--db` a path of its own (a new file is created)",
                foreign.display()
            )
        );
        let tables: i64 = Connection::open(&foreign)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 1, "nothing was added to it");

        let marked = dir.path().join("marked.db");
        Connection::open(&marked).unwrap().pragma_update(None, "application_id", 7).unwrap();
        assert_eq!(
            format!("{:#}", Store::open(&marked).err().unwrap()),
            format!(
                "cannot prepare the database {}: it is not a claude-tracker database (it belongs to another \
                 program, application id 0x7): pass `--db` a path of its own (a new file is created)",
                marked.display()
            )
        );

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database at all, just some text that is long enough").unwrap();
        assert_eq!(
            format!("{:#}", Store::open(&text).err().unwrap()),
            format!(
                "cannot prepare the database {}: it is not an SQLite database: pass `--db` a path of its own \
                 (a new file is created)",
                text.display()
            )
        );
    }

    #[test]
    fn a_session_read_before_the_time_model_stays_the_persons_until_its_lines_are_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v10.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &MIGRATIONS[..10] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 10).unwrap();
            tx.execute(
                "INSERT INTO sessions (session_id, project, project_at, project_from_sidechain, first_ms, last_ms,
                    activity, messages) VALUES ('s', '/p', 0, 0, 0, ?1, ?2, x'')",
                params![2 * MIN, capture::encode_activity(&[0, MIN, 2 * MIN])],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let model = TimeModel { idle_ms: 15 * MIN, attention_ms: 15 * MIN };
        store.record_ingest(SessionDigests::default(), &[], model).unwrap();
        let session = store.query_range(0, 10 * MIN).unwrap().remove(0);
        assert!(!session.automated);
        assert_eq!(session.hands_on, vec![Span { start: 0, end: 2 * MIN }], "all of it, as before");
        // Read again (the transcript is still there): a prompt at 0, the agent at 1 and 2 minutes.
        let mut reread = digest("/p", &[0, MIN, 2 * MIN], &[]);
        reread.person = vec![0];
        ingest(&mut store, "s", reread, 15 * MIN);
        let session = store.query_range(0, 10 * MIN).unwrap().remove(0);
        assert_eq!(
            (session.hands_on.clone(), session.supervised.clone()),
            (vec![], vec![Span { start: 0, end: 2 * MIN }])
        );
    }

    #[test]
    fn a_session_that_moved_folder_comes_as_one_part_per_folder() {
        let mut store = Store::open_in_memory().unwrap();
        let mut moved = digest("/a", &[0, 5 * MIN, 10 * MIN, 12 * MIN], &[(1, MIN, 10), (2, 11 * MIN, 20)]);
        moved.person = vec![0, 10 * MIN];
        moved.offer_place(0, "/a");
        moved.offer_place(10 * MIN, "/a/sub");
        moved.normalize();
        ingest(&mut store, "s", moved, 15 * MIN);
        let parts = store.query_range(0, 60 * MIN).unwrap();
        let summary: Vec<(&str, &str, Vec<Span>, usize)> = parts
            .iter()
            .map(|p| (p.session_id.as_str(), p.project.as_str(), p.spans.clone(), p.messages.len()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("s", "/a", vec![Span { start: 0, end: 10 * MIN }], 1),
                ("s", "/a/sub", vec![Span { start: 10 * MIN, end: 12 * MIN }], 1),
            ]
        );
        assert_eq!(parts[0].hands_on, vec![Span { start: 5 * MIN, end: 10 * MIN }]);
        assert_eq!(parts[0].supervised, vec![Span { start: 0, end: 5 * MIN }]);
        assert!(parts[1].hands_on.is_empty());
        assert_eq!(parts[1].supervised, vec![Span { start: 10 * MIN, end: 12 * MIN }]);
    }

    #[test]
    fn migration_from_version_one_keeps_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            tx.execute_batch(MIGRATIONS[0]).unwrap();
            tx.pragma_update(None, "user_version", 1).unwrap();
            tx.execute(
                "INSERT INTO sessions VALUES ('s', '/p', 0, 0, NULL, 0, 60000, 60000, 1, 2, 3, 4, x'', x'')",
                [],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len());
        assert_eq!(store.session_count().unwrap(), 1);
        let scope = LedgerScope { destination: "clockify", workspace_id: "ws" };
        assert_eq!(store.ledger(scope).unwrap(), Ledger::default());
    }

    #[test]
    fn every_older_schema_upgrades_its_ledger_rows_to_what_was_sent_unknown() {
        // From each schema that had the keyed ledger (5 to 9): a row in doubt keeps its state and key,
        // `sent` unknown; a row written now keeps what was sent and why it was refused. (Schema 10 is the
        // one that added `sent`: the steps after it do not touch the ledger.)
        for from in 5..10 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.db");
            {
                let mut conn = Connection::open(&path).unwrap();
                let tx = conn.transaction().unwrap();
                for sql in &MIGRATIONS[..from] {
                    tx.execute_batch(sql).unwrap();
                }
                tx.pragma_update(None, "user_version", i64::try_from(from).unwrap()).unwrap();
                tx.execute(
                    "INSERT INTO ledger VALUES ('toggl', 'ws', 'seg:2026-11-02:x', NULL, '2026-11-02T09:00:00Z',
                         '2026-11-02T10:00:00Z', 'f', 'in_doubt', 'create', 0)",
                    [],
                )
                .unwrap();
                tx.commit().unwrap();
            }
            let store = Store::open(&path).unwrap();
            let scope = LedgerScope { destination: "toggl", workspace_id: "ws" };
            let row = store.ledger(scope).unwrap().entries["seg:2026-11-02:x"].clone();
            assert_eq!(
                (row.state, row.sent.clone(), row.reason.clone()),
                (EntryState::InDoubt, None, None),
                "{from}"
            );
            let sent = crate::ledger::Sent {
                project_id: Some("p".into()),
                description: "d".into(),
                tags: vec!["a,b".into(), "c".into()],
                billable: Some(true),
            };
            let refused =
                KeyedEntry { state: EntryState::Refused, sent: Some(sent), reason: Some("no".into()), ..row };
            store.write_entry(scope, &refused).unwrap();
            assert_eq!(store.ledger(scope).unwrap().entries["seg:2026-11-02:x"], refused);
        }
    }

    #[test]
    fn skipped_lines_are_kept_across_runs_and_replaced_when_a_file_is_read_again_from_its_start() {
        let mut store = Store::open_in_memory().unwrap();
        let model = TimeModel { idle_ms: 15 * MIN, attention_ms: 15 * MIN };
        let state = FileState { size: 10, mtime_ns: 1, parsed_bytes: 10, parsed_lines: 2, tail_hash: 3 };
        let update = |from_start: bool, skipped: &[(u64, &str)]| FileUpdate {
            path: "/x/a.jsonl".into(),
            state,
            from_start,
            skipped: skipped.iter().map(|(line, reason)| (*line, reason.to_string())).collect(),
        };
        store
            .record_ingest(SessionDigests::default(), &[update(true, &[(2, "malformed JSON")])], model)
            .unwrap();
        store
            .record_ingest(SessionDigests::default(), &[update(false, &[(5, "bad timestamp")])], model)
            .unwrap();
        let path = "/x/a.jsonl".to_string();
        assert_eq!(
            store.skipped_lines().unwrap(),
            vec![(path.clone(), 2, "malformed JSON".to_string()), (path, 5, "bad timestamp".to_string())]
        );
        store.record_ingest(SessionDigests::default(), &[update(true, &[])], model).unwrap();
        assert_eq!(
            store.skipped_lines().unwrap(),
            vec![],
            "read again from the start: its old lines are gone"
        );
    }

    #[test]
    fn blobs_round_trip() {
        let messages = vec![MessageRecord {
            key: u64::MAX,
            at: -5,
            usage: Usage { input: 1, output: 2, cache_creation: 3, cache_read: 4 },
        }];
        assert_eq!(capture::decode_messages(&capture::encode_messages(&messages)), messages);
        assert_eq!(capture::decode_activity(&capture::encode_activity(&[-1, 0, 7])), vec![-1, 0, 7]);
        let times = vec![i64::MIN, -5, 0, 1_793_000_000_417, 1_793_000_060_903, i64::MAX];
        assert_eq!(capture::decode_times(&capture::encode_times(&times)), times);
        assert_eq!(
            capture::encode_times(&[1_793_000_000_417, 1_793_000_000_418]).len(),
            6 + 1,
            "a delta of 1 is a byte"
        );
        let spans = vec![Span { start: 10, end: 20 }, Span { start: 20, end: 25 }];
        assert_eq!(capture::decode_spans(&capture::encode_spans(&spans)), spans);
    }
}

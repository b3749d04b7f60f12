//! The SQLite database: the only place with SQL. It owns the connection, the schema and its migrations
//! (`PRAGMA user_version`), and offers one method per capability, each doing its work in one transaction.
//!
//! Sessions outlive their transcripts here: Claude Code deletes old files, the rows stay.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::allocate::PlannedEntry;
use crate::sessions::{
    MessageRecord, Millis, Origin, SessionDigest, SessionDigests, Span, Usage, active_ms, active_spans,
};

/// Schema versions, oldest first; `user_version` counts how many have been applied.
const MIGRATIONS: &[&str] = &[
    // 1: capture
    "CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        project_at INTEGER NOT NULL,
        project_from_sidechain INTEGER NOT NULL,
        git_branch TEXT,
        first_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        active_ms INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_creation_input_tokens INTEGER NOT NULL,
        cache_read_input_tokens INTEGER NOT NULL,
        activity BLOB NOT NULL,
        messages BLOB NOT NULL
    );
    CREATE INDEX sessions_by_time ON sessions(first_ms, last_ms);
    CREATE TABLE spans (
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        PRIMARY KEY (session_id, start_ms)
    ) WITHOUT ROWID;
    CREATE TABLE files (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        parsed_bytes INTEGER NOT NULL,
        parsed_lines INTEGER NOT NULL,
        tail_hash INTEGER NOT NULL
    );
    CREATE TABLE file_sessions (
        path TEXT NOT NULL,
        session_id TEXT NOT NULL,
        PRIMARY KEY (path, session_id)
    ) WITHOUT ROWID;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 2: the sync ledger. An intent is written before each POST and settled (moved to synced_entries)
    // with the returned id, so an entry whose answer was lost is known to be in doubt.
    "CREATE TABLE synced_days (
        date TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (date, workspace_id)
    ) WITHOUT ROWID;
    CREATE TABLE synced_entries (
        date TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        clockify_entry_id TEXT NOT NULL,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        adopted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (date, workspace_id, project_id)
    ) WITHOUT ROWID;
    CREATE TABLE sync_intents (
        date TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        PRIMARY KEY (date, workspace_id, project_id)
    ) WITHOUT ROWID;",
    // 3: several destinations. The ledger gains the destination (existing rows are Clockify's) and the
    // remote id loses its Clockify-only name.
    "CREATE TABLE synced_days_v3 (
        destination TEXT NOT NULL,
        date TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (destination, date, workspace_id)
    ) WITHOUT ROWID;
    INSERT INTO synced_days_v3 SELECT 'clockify', date, workspace_id, synced_at FROM synced_days;
    DROP TABLE synced_days;
    ALTER TABLE synced_days_v3 RENAME TO synced_days;
    CREATE TABLE synced_entries_v3 (
        destination TEXT NOT NULL,
        date TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        remote_entry_id TEXT NOT NULL,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        adopted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (destination, date, workspace_id, project_id)
    ) WITHOUT ROWID;
    INSERT INTO synced_entries_v3 SELECT 'clockify', date, workspace_id, project_id, clockify_entry_id,
        start_utc, end_utc, adopted FROM synced_entries;
    DROP TABLE synced_entries;
    ALTER TABLE synced_entries_v3 RENAME TO synced_entries;
    CREATE TABLE sync_intents_v3 (
        destination TEXT NOT NULL,
        date TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        PRIMARY KEY (destination, date, workspace_id, project_id)
    ) WITHOUT ROWID;
    INSERT INTO sync_intents_v3 SELECT 'clockify', date, workspace_id, project_id, start_utc, end_utc
        FROM sync_intents;
    DROP TABLE sync_intents;
    ALTER TABLE sync_intents_v3 RENAME TO sync_intents;",
    // 4: a day's plan is fixed when its first entry goes out, so later runs finish that same plan.
    "CREATE TABLE day_plans (
        destination TEXT NOT NULL,
        date TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        mapped_path TEXT,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        seconds INTEGER NOT NULL,
        share_ppm INTEGER NOT NULL,
        PRIMARY KEY (destination, date, workspace_id, project_id)
    ) WITHOUT ROWID;",
];

/// Whose ledger: a destination (`clockify`, `toggl`) and its workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerScope<'a> {
    pub destination: &'a str,
    pub workspace_id: &'a str,
}

/// What the database knows of past syncs to one destination's workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Days whose every entry is recorded.
    pub synced_days: BTreeSet<NaiveDate>,
    /// Posted (or adopted) entries: `(day, project id)` to the remote entry id.
    pub entries: BTreeMap<(NaiveDate, String), String>,
    /// Entries whose POST may or may not have reached the service: `(day, project id)` to the planned
    /// start and end.
    pub intents: BTreeMap<(NaiveDate, String), (DateTime<Utc>, DateTime<Utc>)>,
    /// Plans fixed when a day's first entry went out (in posting order).
    pub fixed_plans: BTreeMap<NaiveDate, Vec<PlannedEntry>>,
}

/// One entry to record in the ledger.
#[derive(Debug, Clone, Copy)]
pub struct LedgerEntry<'a> {
    pub scope: LedgerScope<'a>,
    pub date: NaiveDate,
    pub project_id: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What the ingest remembers of a file so that an unchanged file is never read again and a grown one is
/// read only from where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileState {
    pub size: u64,
    pub mtime_ns: i64,
    /// Bytes up to the end of the last complete line parsed.
    pub parsed_bytes: u64,
    pub parsed_lines: u64,
    /// Hash of the bytes just before `parsed_bytes`: tells a file that grew from one rewritten.
    pub tail_hash: u64,
}

/// One file's part of an ingest: its new state and the sessions it fed.
#[derive(Debug)]
pub struct FileUpdate {
    pub path: PathBuf,
    pub state: FileState,
    pub session_ids: Vec<String>,
}

/// A session as report and sync see it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub session_id: String,
    pub project: String,
    pub git_branch: Option<String>,
    pub spans: Vec<Span>,
    pub messages: Vec<MessageRecord>,
}

/// The database handle.
pub struct Store {
    conn: Connection,
}

const META_IDLE_MS: &str = "idle_ms";

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
        }
        let conn =
            Connection::open(path).with_context(|| format!("cannot open the database {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::configure(conn).with_context(|| format!("cannot prepare the database {}", path.display()))
    }

    /// A private database for tests.
    pub fn open_in_memory() -> Result<Store> {
        Self::configure(Connection::open_in_memory()?)
    }

    fn configure(mut conn: Connection) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // FULL: a committed intent must survive a power loss, or a POST it guards could be repeated.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// The schema version in force.
    pub fn schema_version(&self) -> Result<usize> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(usize::try_from(version).unwrap_or(0))
    }

    /// What was recorded of every transcript file seen so far.
    pub fn file_states(&self) -> Result<HashMap<PathBuf, FileState>> {
        let mut statement = self
            .conn
            .prepare("SELECT path, size, mtime_ns, parsed_bytes, parsed_lines, tail_hash FROM files")?;
        let rows = statement.query_map([], |row| {
            Ok((
                PathBuf::from(row.get::<_, String>(0)?),
                FileState {
                    size: u64_from_sql(row.get(1)?),
                    mtime_ns: row.get(2)?,
                    parsed_bytes: u64_from_sql(row.get(3)?),
                    parsed_lines: u64_from_sql(row.get(4)?),
                    tail_hash: row.get::<_, i64>(5)?.cast_unsigned(),
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records one ingest in a single transaction: merges each session's new lines into what was stored,
    /// recomputes its spans and totals, and remembers how far each file was read. When the idle threshold
    /// changed since the last ingest, every stored session's spans are recomputed first.
    pub fn record_ingest(
        &mut self,
        sessions: SessionDigests,
        files: &[FileUpdate],
        idle_ms: i64,
    ) -> Result<usize> {
        if sessions.by_id.is_empty() && files.is_empty() && self.idle_threshold()? == Some(idle_ms) {
            return Ok(0); // nothing new: no write transaction, no lock taken
        }
        // Immediate: take the write lock up front, so a second process waits (busy timeout) instead of
        // failing to upgrade a read transaction.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        rebuild_spans_if_threshold_changed(&tx, idle_ms)?;
        let updated = sessions.by_id.len();
        for (session_id, digest) in sessions.by_id {
            let mut merged = load_digest(&tx, &session_id)?.unwrap_or_default();
            merged.merge(digest);
            save_session(&tx, &session_id, &merged, idle_ms)?;
        }
        for file in files {
            save_file(&tx, file)?;
        }
        tx.commit()?;
        Ok(updated)
    }

    fn idle_threshold(&self) -> Result<Option<i64>> {
        let stored: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [META_IDLE_MS], |r| r.get(0))
            .optional()?;
        Ok(stored.and_then(|v| v.parse().ok()))
    }

    /// Sessions with any activity or message in `[start, end)` (milliseconds, UTC), with their spans and
    /// messages; callers cut them to the exact window.
    pub fn query_range(&self, start: Millis, end: Millis) -> Result<Vec<StoredSession>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT session_id, project, git_branch, messages FROM sessions
             WHERE first_ms < ?2 AND last_ms >= ?1 ORDER BY first_ms, session_id",
        )?;
        let rows = statement.query_map(params![start, end], |row| {
            Ok(StoredSession {
                session_id: row.get(0)?,
                project: row.get(1)?,
                git_branch: row.get(2)?,
                spans: Vec::new(),
                messages: decode_messages(&row.get::<_, Vec<u8>>(3)?),
            })
        })?;
        let mut sessions = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        for session in &mut sessions {
            session.spans = load_spans(&self.conn, &session.session_id)?;
        }
        Ok(sessions)
    }

    /// The earliest moment any session shows activity: where a first sync starts.
    pub fn earliest_activity(&self) -> Result<Option<Millis>> {
        Ok(self.conn.query_row("SELECT MIN(first_ms) FROM sessions", [], |r| r.get(0))?)
    }

    /// The sync ledger of one destination's workspace.
    pub fn ledger(&self, scope: LedgerScope<'_>) -> Result<Ledger> {
        let mut ledger = Ledger::default();
        let scoped = params![scope.destination, scope.workspace_id];
        let mut days = self
            .conn
            .prepare_cached("SELECT date FROM synced_days WHERE destination = ?1 AND workspace_id = ?2")?;
        for date in days.query_map(scoped, |r| r.get::<_, String>(0))? {
            ledger.synced_days.insert(parse_date(&date?)?);
        }
        let mut entries = self.conn.prepare_cached(
            "SELECT date, project_id, remote_entry_id FROM synced_entries
             WHERE destination = ?1 AND workspace_id = ?2",
        )?;
        let rows = entries.query_map(scoped, |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))?;
        for row in rows {
            let (date, project_id, entry_id): (String, String, String) = row?;
            ledger.entries.insert((parse_date(&date)?, project_id), entry_id);
        }
        let mut intents = self.conn.prepare_cached(
            "SELECT date, project_id, start_utc, end_utc FROM sync_intents
             WHERE destination = ?1 AND workspace_id = ?2",
        )?;
        let rows = intents.query_map(scoped, |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        for row in rows {
            let (date, project_id, start, end): (String, String, String, String) = row?;
            ledger
                .intents
                .insert((parse_date(&date)?, project_id), (parse_instant(&start)?, parse_instant(&end)?));
        }
        let mut plans = self.conn.prepare_cached(
            "SELECT date, project_id, mapped_path, start_utc, end_utc, seconds, share_ppm FROM day_plans
             WHERE destination = ?1 AND workspace_id = ?2 ORDER BY date, start_utc",
        )?;
        let rows = plans.query_map(scoped, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        for row in rows {
            let (date, project_id, mapped_path, start, end, seconds, share) = row?;
            ledger.fixed_plans.entry(parse_date(&date)?).or_default().push(PlannedEntry {
                project_id,
                mapped_path,
                start: parse_instant(&start)?,
                end: parse_instant(&end)?,
                seconds,
                share_ppm: u32::try_from(share).unwrap_or(0),
            });
        }
        Ok(ledger)
    }

    /// Fixes a day's plan before its first entry goes out; a day already fixed keeps its plan.
    pub fn fix_day_plan(
        &mut self,
        scope: LedgerScope<'_>,
        date: NaiveDate,
        entries: &[PlannedEntry],
    ) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let day = date.to_string();
        let fixed: i64 = tx.query_row(
            "SELECT COUNT(*) FROM day_plans WHERE destination = ?1 AND date = ?2 AND workspace_id = ?3",
            params![scope.destination, day, scope.workspace_id],
            |r| r.get(0),
        )?;
        if fixed == 0 {
            let mut insert = tx.prepare_cached(
                "INSERT INTO day_plans (destination, date, workspace_id, project_id, mapped_path, start_utc,
                     end_utc, seconds, share_ppm) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for entry in entries {
                insert.execute(params![
                    scope.destination,
                    day,
                    scope.workspace_id,
                    entry.project_id,
                    entry.mapped_path,
                    instant(entry.start),
                    instant(entry.end),
                    entry.seconds,
                    entry.share_ppm
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records that an entry is about to be posted: if the answer is lost, the next run knows to look.
    pub fn record_intent(&self, entry: LedgerEntry<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO sync_intents (destination, date, workspace_id, project_id, start_utc, end_utc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (destination, date, workspace_id, project_id)
                 DO UPDATE SET start_utc = excluded.start_utc, end_utc = excluded.end_utc",
            )?
            .execute(params![
                entry.scope.destination,
                entry.date.to_string(),
                entry.scope.workspace_id,
                entry.project_id,
                instant(entry.start),
                instant(entry.end)
            ])?;
        Ok(())
    }

    /// Records a posted (or adopted) entry and settles its intent, in one transaction.
    pub fn record_posted_entry(
        &mut self,
        entry: LedgerEntry<'_>,
        remote_id: &str,
        adopted: bool,
    ) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let date = entry.date.to_string();
        tx.prepare_cached(
            "INSERT INTO synced_entries
                 (destination, date, workspace_id, project_id, remote_entry_id, start_utc, end_utc, adopted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            entry.scope.destination,
            date,
            entry.scope.workspace_id,
            entry.project_id,
            remote_id,
            instant(entry.start),
            instant(entry.end),
            adopted
        ])?;
        delete_intent(&tx, entry.scope, &date, entry.project_id)?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets an intent that turned out never to have reached the service.
    pub fn drop_intent(&self, scope: LedgerScope<'_>, date: NaiveDate, project_id: &str) -> Result<()> {
        delete_intent(&self.conn, scope, &date.to_string(), project_id)
    }

    /// Marks a day complete: every entry of it is recorded.
    pub fn mark_day_synced(&self, scope: LedgerScope<'_>, date: NaiveDate, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO synced_days (destination, date, workspace_id, synced_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![scope.destination, date.to_string(), scope.workspace_id, instant(at)])?;
        Ok(())
    }

    /// A small cached value (e.g. the Clockify user id of a key), if present.
    pub fn cached(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Stores a small cached value.
    pub fn cache(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// How many sessions the database holds (for the ingest summary).
    pub fn session_count(&self) -> Result<u64> {
        let count: i64 = self.conn.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))?;
        Ok(u64_from_sql(count))
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(0);
    anyhow::ensure!(
        current <= MIGRATIONS.len(),
        "the database was written by a newer claude-tracker (schema {current}); upgrade claude-tracker"
    );
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql).with_context(|| format!("schema migration {} failed", index + 1))?;
        tx.pragma_update(None, "user_version", i64::try_from(index + 1)?)?;
        tx.commit()?;
    }
    Ok(())
}

fn rebuild_spans_if_threshold_changed(tx: &Transaction<'_>, idle_ms: i64) -> Result<()> {
    let stored: Option<String> =
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [META_IDLE_MS], |r| r.get(0)).optional()?;
    if stored.as_deref() == Some(idle_ms.to_string().as_str()) {
        return Ok(());
    }
    let ids: Vec<String> = tx
        .prepare("SELECT session_id FROM sessions")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        if let Some(digest) = load_digest(tx, &id)? {
            save_session(tx, &id, &digest, idle_ms)?;
        }
    }
    tx.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![META_IDLE_MS, idle_ms.to_string()],
    )?;
    Ok(())
}

fn load_digest(tx: &Transaction<'_>, session_id: &str) -> Result<Option<SessionDigest>> {
    let mut statement = tx.prepare_cached(
        "SELECT project, project_at, project_from_sidechain, git_branch, activity, messages
         FROM sessions WHERE session_id = ?1",
    )?;
    let digest = statement
        .query_row([session_id], |row| {
            Ok(SessionDigest {
                origin: Some(Origin {
                    cwd: row.get(0)?,
                    at: row.get(1)?,
                    from_sidechain: row.get(2)?,
                    git_branch: row.get(3)?,
                }),
                activity: decode_activity(&row.get::<_, Vec<u8>>(4)?),
                messages: decode_messages(&row.get::<_, Vec<u8>>(5)?),
            })
        })
        .optional()?;
    Ok(digest)
}

fn save_session(tx: &Transaction<'_>, session_id: &str, digest: &SessionDigest, idle_ms: i64) -> Result<()> {
    let Some((first, last)) = digest.bounds() else {
        return Ok(()); // a session with neither activity nor tokens has nothing to keep
    };
    let spans = active_spans(&digest.activity, idle_ms);
    let total: Usage = digest.usage_total();
    let unknown = Origin { from_sidechain: true, at: first, cwd: "(unknown)".into(), git_branch: None };
    let origin = digest.origin.as_ref().unwrap_or(&unknown);
    tx.prepare_cached(
        "INSERT INTO sessions (session_id, project, project_at, project_from_sidechain, git_branch,
            first_ms, last_ms, active_ms, input_tokens, output_tokens, cache_creation_input_tokens,
            cache_read_input_tokens, activity, messages)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT(session_id) DO UPDATE SET project = excluded.project, project_at = excluded.project_at,
            project_from_sidechain = excluded.project_from_sidechain, git_branch = excluded.git_branch,
            first_ms = excluded.first_ms, last_ms = excluded.last_ms, active_ms = excluded.active_ms,
            input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
            cache_creation_input_tokens = excluded.cache_creation_input_tokens,
            cache_read_input_tokens = excluded.cache_read_input_tokens,
            activity = excluded.activity, messages = excluded.messages",
    )?
    .execute(params![
        session_id,
        origin.cwd,
        origin.at,
        origin.from_sidechain,
        origin.git_branch,
        first,
        last,
        active_ms(&spans),
        sql_from_u64(total.input),
        sql_from_u64(total.output),
        sql_from_u64(total.cache_creation),
        sql_from_u64(total.cache_read),
        encode_activity(&digest.activity),
        encode_messages(&digest.messages),
    ])?;
    tx.prepare_cached("DELETE FROM spans WHERE session_id = ?1")?.execute([session_id])?;
    let mut insert =
        tx.prepare_cached("INSERT INTO spans (session_id, start_ms, end_ms) VALUES (?1, ?2, ?3)")?;
    for span in &spans {
        insert.execute(params![session_id, span.start, span.end])?;
    }
    Ok(())
}

fn save_file(tx: &Transaction<'_>, file: &FileUpdate) -> Result<()> {
    let path = file.path.to_string_lossy();
    let state = &file.state;
    tx.prepare_cached(
        "INSERT INTO files (path, size, mtime_ns, parsed_bytes, parsed_lines, tail_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,
            parsed_bytes = excluded.parsed_bytes, parsed_lines = excluded.parsed_lines,
            tail_hash = excluded.tail_hash",
    )?
    .execute(params![
        path,
        sql_from_u64(state.size),
        state.mtime_ns,
        sql_from_u64(state.parsed_bytes),
        sql_from_u64(state.parsed_lines),
        state.tail_hash.cast_signed(),
    ])?;
    let mut link =
        tx.prepare_cached("INSERT OR IGNORE INTO file_sessions (path, session_id) VALUES (?1, ?2)")?;
    for session_id in &file.session_ids {
        link.execute(params![path, session_id])?;
    }
    Ok(())
}

fn load_spans(conn: &Connection, session_id: &str) -> Result<Vec<Span>> {
    let mut statement =
        conn.prepare_cached("SELECT start_ms, end_ms FROM spans WHERE session_id = ?1 ORDER BY start_ms")?;
    let spans = statement
        .query_map([session_id], |row| Ok(Span { start: row.get(0)?, end: row.get(1)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(spans)
}

// Activity timestamps and messages are stored as compact little-endian blobs: a session can hold tens of
// thousands of each, and they are only ever read and written whole.

const MESSAGE_BYTES: usize = 48;

fn encode_activity(activity: &[Millis]) -> Vec<u8> {
    activity.iter().flat_map(|t| t.to_le_bytes()).collect()
}

fn decode_activity(bytes: &[u8]) -> Vec<Millis> {
    bytes.chunks_exact(8).map(|c| Millis::from_le_bytes(word(c))).collect()
}

fn encode_messages(messages: &[MessageRecord]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(messages.len() * MESSAGE_BYTES);
    for m in messages {
        bytes.extend_from_slice(&m.key.to_le_bytes());
        bytes.extend_from_slice(&m.at.to_le_bytes());
        for value in [m.usage.input, m.usage.output, m.usage.cache_creation, m.usage.cache_read] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
    bytes
}

fn decode_messages(bytes: &[u8]) -> Vec<MessageRecord> {
    bytes
        .chunks_exact(MESSAGE_BYTES)
        .map(|c| {
            let field = |i: usize| u64::from_le_bytes(word(&c[i * 8..i * 8 + 8]));
            MessageRecord {
                key: field(0),
                at: Millis::from_le_bytes(word(&c[8..16])),
                usage: Usage {
                    input: field(2),
                    output: field(3),
                    cache_creation: field(4),
                    cache_read: field(5),
                },
            }
        })
        .collect()
}

fn word(bytes: &[u8]) -> [u8; 8] {
    let mut word = [0; 8];
    word.copy_from_slice(bytes);
    word
}

fn delete_intent(conn: &Connection, scope: LedgerScope<'_>, date: &str, project_id: &str) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM sync_intents
         WHERE destination = ?1 AND date = ?2 AND workspace_id = ?3 AND project_id = ?4",
    )?
    .execute(params![scope.destination, date, scope.workspace_id, project_id])?;
    Ok(())
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("bad instant `{text}` in the database"))?
        .to_utc())
}

fn parse_date(text: &str) -> Result<NaiveDate> {
    text.parse().with_context(|| format!("bad date `{text}` in the database"))
}

fn u64_from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn sql_from_u64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        };
        digest.normalize();
        digest
    }

    fn ingest(store: &mut Store, id: &str, digest: SessionDigest, idle_ms: i64) {
        let mut sessions = SessionDigests::default();
        sessions.absorb(id.into(), digest);
        store.record_ingest(sessions, &[], idle_ms).unwrap();
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
        store.record_ingest(SessionDigests::default(), &[], 30 * MIN).unwrap();
        assert_eq!(store.query_range(0, 60 * MIN).unwrap()[0].spans, vec![Span { start: 0, end: 20 * MIN }]);
    }

    #[test]
    fn file_state_round_trips() {
        let mut store = Store::open_in_memory().unwrap();
        let state =
            FileState { size: 10, mtime_ns: 5, parsed_bytes: 9, parsed_lines: 2, tail_hash: u64::MAX };
        let update = FileUpdate { path: "/x/a.jsonl".into(), state, session_ids: vec!["s".into()] };
        store.record_ingest(SessionDigests::default(), &[update], 15 * MIN).unwrap();
        assert_eq!(store.file_states().unwrap()[Path::new("/x/a.jsonl")], state);
    }

    #[test]
    fn ledger_records_intents_entries_and_days() {
        let mut store = Store::open_in_memory().unwrap();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        let start: DateTime<Utc> = "2026-11-02T08:00:00Z".parse().unwrap();
        let end: DateTime<Utc> = "2026-11-02T12:00:00Z".parse().unwrap();
        let scope = LedgerScope { destination: "clockify", workspace_id: "ws" };
        let entry = LedgerEntry { scope, date, project_id: "p1", start, end };
        store.record_intent(entry).unwrap();
        let ledger = store.ledger(scope).unwrap();
        assert_eq!(ledger.intents[&(date, "p1".to_string())], (start, end));
        assert!(store.ledger(LedgerScope { workspace_id: "other-ws", ..scope }).unwrap().intents.is_empty());
        assert!(store.ledger(LedgerScope { destination: "toggl", ..scope }).unwrap().intents.is_empty());
        store.record_posted_entry(entry, "remote-1", false).unwrap();
        store.mark_day_synced(scope, date, end).unwrap();
        let ledger = store.ledger(scope).unwrap();
        assert!(ledger.intents.is_empty(), "posting settles the intent");
        assert_eq!(ledger.entries[&(date, "p1".to_string())], "remote-1");
        assert!(ledger.synced_days.contains(&date));
        assert!(store.record_posted_entry(entry, "remote-2", false).is_err(), "an entry is recorded once");
    }

    #[test]
    fn migration_from_the_clockify_only_version_keeps_its_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            tx.execute_batch(MIGRATIONS[0]).unwrap();
            tx.execute_batch(MIGRATIONS[1]).unwrap();
            tx.pragma_update(None, "user_version", 2).unwrap();
            tx.execute_batch(
                "INSERT INTO synced_days VALUES ('2026-11-02', 'ws', '2026-11-03T10:00:00Z');
                 INSERT INTO synced_entries VALUES ('2026-11-02', 'ws', 'p1', 'c-1',
                     '2026-11-02T09:00:00Z', '2026-11-02T17:00:00Z', 0);
                 INSERT INTO sync_intents VALUES ('2026-11-03', 'ws', 'p1',
                     '2026-11-03T09:00:00Z', '2026-11-03T17:00:00Z');",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len());
        let clockify = store.ledger(LedgerScope { destination: "clockify", workspace_id: "ws" }).unwrap();
        let day: NaiveDate = "2026-11-02".parse().unwrap();
        assert!(clockify.synced_days.contains(&day));
        assert_eq!(clockify.entries[&(day, "p1".to_string())], "c-1");
        assert_eq!(clockify.intents.len(), 1);
        let toggl = store.ledger(LedgerScope { destination: "toggl", workspace_id: "ws" }).unwrap();
        assert_eq!(toggl, Ledger::default(), "a day can be complete for one destination only");
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
        assert!(store.ledger(scope).unwrap().synced_days.is_empty());
    }

    #[test]
    fn blobs_round_trip() {
        let messages = vec![MessageRecord {
            key: u64::MAX,
            at: -5,
            usage: Usage { input: 1, output: 2, cache_creation: 3, cache_read: 4 },
        }];
        assert_eq!(decode_messages(&encode_messages(&messages)), messages);
        assert_eq!(decode_activity(&encode_activity(&[-1, 0, 7])), vec![-1, 0, 7]);
    }
}

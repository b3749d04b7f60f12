//! The schema and its history: each migration brings a database one version up, inside a transaction;
//! `PRAGMA user_version` counts how many were applied and `PRAGMA application_id` marks the file as ours.

use anyhow::{Context, Result};
use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of a claude-tracker database ("ClTr"), so that `--db` pointed at another
/// SQLite file is refused instead of migrated.
pub(super) const APPLICATION_ID: i64 = 0x436C_5472;

/// Schema versions, oldest first; `user_version` counts how many have been applied.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // 5: one ledger of keyed entries for every destination and every kind of entry (a day's project
    // today; session segments and running timers next). Posted entries become `stored` rows, intents
    // whose answer was lost `in_doubt` ones. What was written and never read goes: the file-to-session
    // links and the per-session totals (report sums the messages).
    "CREATE TABLE ledger (
        destination TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        remote_id TEXT,
        start_utc TEXT NOT NULL,
        end_utc TEXT,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('intended', 'stored', 'in_doubt', 'running')),
        operation TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete', 'start', 'stop')),
        adopted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (destination, workspace_id, entry_key)
    ) WITHOUT ROWID;
    INSERT INTO ledger SELECT destination, workspace_id, 'day:' || date || ':' || project_id,
        remote_entry_id, start_utc, end_utc, '', 'stored', 'create', adopted FROM synced_entries;
    INSERT OR IGNORE INTO ledger SELECT destination, workspace_id, 'day:' || date || ':' || project_id,
        NULL, start_utc, end_utc, '', 'in_doubt', 'create', 0 FROM sync_intents;
    DROP TABLE synced_entries;
    DROP TABLE sync_intents;
    DROP TABLE file_sessions;
    ALTER TABLE sessions DROP COLUMN active_ms;
    ALTER TABLE sessions DROP COLUMN input_tokens;
    ALTER TABLE sessions DROP COLUMN output_tokens;
    ALTER TABLE sessions DROP COLUMN cache_creation_input_tokens;
    ALTER TABLE sessions DROP COLUMN cache_read_input_tokens;
    DROP INDEX sessions_by_time;
    CREATE INDEX sessions_by_last ON sessions(last_ms);",
    // 6: the models that answered in each session (rules match on them), newline-separated. What was read
    // of each file is forgotten, so the next ingest reads every transcript still on disk once and fills
    // them in (merging is idempotent); sessions whose transcripts are gone keep none.
    "ALTER TABLE sessions ADD COLUMN models TEXT NOT NULL DEFAULT '';
    DELETE FROM files;",
    // 7: tags with their source. A user tag is never touched by rules; rule tags are recomputed for a
    // session whose `rule_tags_fp` is not the fingerprint of the rules in force (NULL after a change to
    // the session, so a partial index finds the changed ones at once).
    "CREATE TABLE session_tags (
        session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        assignment_source TEXT NOT NULL CHECK (assignment_source IN ('user', 'rule')),
        PRIMARY KEY (session_id, tag)
    ) WITHOUT ROWID;
    ALTER TABLE sessions ADD COLUMN rule_tags_fp TEXT;
    CREATE INDEX sessions_needing_rule_tags ON sessions(session_id) WHERE rule_tags_fp IS NULL;",
    // 8: a day's fixed plan holds an entry per (project, tag set): the tag set joins the key (empty for
    // every plan fixed before tags).
    "CREATE TABLE day_plans_v8 (
        destination TEXT NOT NULL,
        date TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '',
        billable INTEGER,
        mapped_path TEXT,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        seconds INTEGER NOT NULL,
        share_ppm INTEGER NOT NULL,
        PRIMARY KEY (destination, date, workspace_id, project_id, tags)
    ) WITHOUT ROWID;
    INSERT INTO day_plans_v8 SELECT destination, date, workspace_id, project_id, '', NULL, mapped_path,
        start_utc, end_utc, seconds, share_ppm FROM day_plans;
    DROP TABLE day_plans;
    ALTER TABLE day_plans_v8 RENAME TO day_plans;",
    // 9: which mode synced a day (`workday`: the ratio split, `sessions`: the timeline), so a destination
    // never holds both for one day; every day synced before was a workday day.
    "ALTER TABLE synced_days ADD COLUMN mode TEXT NOT NULL DEFAULT 'workday';",
    // 10: the ledger records what was sent (project, description, tags as JSON, billable; `sent` = 1 when
    // known), so an answer lost before a config change is looked for as it was sent; a refused request
    // stays as a row (`refused`, with its reason) that every later run retries; an entry the user deleted
    // in the service is remembered (`deleted_by_user`) and not posted again. Older rows keep `sent` = 0.
    "CREATE TABLE ledger_v10 (
        destination TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        remote_id TEXT,
        start_utc TEXT NOT NULL,
        end_utc TEXT,
        fingerprint TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('intended', 'stored', 'in_doubt', 'running', 'refused',
            'deleted_by_user')),
        operation TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete', 'start', 'stop')),
        adopted INTEGER NOT NULL DEFAULT 0,
        sent INTEGER NOT NULL DEFAULT 0,
        project_id TEXT,
        description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        billable INTEGER,
        reason TEXT,
        PRIMARY KEY (destination, workspace_id, entry_key)
    ) WITHOUT ROWID;
    INSERT INTO ledger_v10 (destination, workspace_id, entry_key, remote_id, start_utc, end_utc,
        fingerprint, state, operation, adopted)
        SELECT destination, workspace_id, entry_key, remote_id, start_utc, end_utc, fingerprint, state,
            operation, adopted FROM ledger;
    DROP TABLE ledger;
    ALTER TABLE ledger_v10 RENAME TO ledger;",
    // 11: who was there (issue 16). Rows read before are marked `who_unknown`; the files are read again
    // so every transcript still on disk tells its lines apart, and the time model's meta key is new, so
    // the next ingest computes every session's bands.
    "ALTER TABLE sessions ADD COLUMN person BLOB NOT NULL DEFAULT X'';
    ALTER TABLE sessions ADD COLUMN away BLOB NOT NULL DEFAULT X'';
    ALTER TABLE sessions ADD COLUMN places TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE sessions ADD COLUMN who_unknown INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE sessions ADD COLUMN automated INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sessions ADD COLUMN hands_on BLOB NOT NULL DEFAULT X'';
    ALTER TABLE sessions ADD COLUMN supervised BLOB NOT NULL DEFAULT X'';
    DELETE FROM files;",
    // 12 (issue 16, part 5; self-contained, so it may follow any other step): where each session folder
    // leads (symlinks followed). `resolved` is the canonical path (the folder itself when no symlink is
    // in it), NULL when it did not exist at `checked_ms`. Every folder stored so far is left to be looked
    // at by the next ingest (checked at 0, found nowhere), which also brings one written before NFC to NFC.
    "CREATE TABLE folder_targets (
        path TEXT PRIMARY KEY,
        resolved TEXT,
        checked_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO folder_targets (path, resolved, checked_ms) SELECT DISTINCT project, NULL, 0 FROM sessions;",
    // 13 (issue 17): the lines each transcript read had to pass over, so that `--verbose` lists them on
    // every run (bounded; a file read again from its start replaces its own). The files are read again
    // to fill it.
    "CREATE TABLE skipped_lines (
        path TEXT NOT NULL,
        line INTEGER NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (path, line)
    );
    DELETE FROM files;",
    // 14 (issue 18): many machines. Each session is attributed to a machine by its random id (`''` until
    // this database has made its own id, which then takes every such row); `seen_here` tells a session of
    // this machine's transcripts (written to the shared folder) from one only imported. `machines` names
    // the ids; `shared_files` is what was last read of each other machine's file in `[share] dir`.
    "ALTER TABLE sessions ADD COLUMN machine_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN seen_here INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE machines (
        machine_id TEXT PRIMARY KEY,
        name TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE shared_files (
        path TEXT PRIMARY KEY,
        machine_id TEXT,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        written_at TEXT,
        read_ms INTEGER NOT NULL,
        problem TEXT
    ) WITHOUT ROWID;",
    // 15 (issue 19): the user's edits of planned entries, by destination, workspace and entry key (what
    // is sent; the ledger keeps what was sent), and the days approved for posting (`approve = true`).
    "CREATE TABLE overrides (
        destination TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        excluded INTEGER NOT NULL DEFAULT 0,
        delete_confirmed INTEGER NOT NULL DEFAULT 0,
        description TEXT,
        project_id TEXT,
        billable INTEGER,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (destination, workspace_id, entry_key)
    ) WITHOUT ROWID;
    CREATE TABLE approved_days (
        destination TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        date TEXT NOT NULL,
        approved_at TEXT NOT NULL,
        PRIMARY KEY (destination, workspace_id, date)
    ) WITHOUT ROWID;",
    // 16 (issue 19, item 4): what was done, for descriptions. `git_commits`: the commits read with `git`
    // at ingest in each session folder (committer time, subject on one line), once per (folder, hash);
    // the index serves a plan's window. `session_titles`: the titles Claude Code wrote for a session,
    // one per kind (`custom` from `/rename`, `ai` generated, `summary` of older versions), kept only with
    // `[capture] keep_titles = true`. Both start empty: a folder's commits are read when its sessions
    // next change, titles once `keep_titles` is turned on (every transcript is then read again).
    "CREATE TABLE git_commits (
        folder TEXT NOT NULL,
        hash TEXT NOT NULL,
        committed_ms INTEGER NOT NULL,
        subject TEXT NOT NULL,
        PRIMARY KEY (folder, hash)
    ) WITHOUT ROWID;
    CREATE INDEX git_commits_by_time ON git_commits(committed_ms);
    CREATE TABLE session_titles (
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('custom', 'ai', 'summary')),
        title TEXT NOT NULL,
        PRIMARY KEY (session_id, kind)
    ) WITHOUT ROWID;",
    // 17 (issue 19): the days a real run held back for approval, so a sessions destination's default
    // range keeps them until they are posted.
    "CREATE TABLE held_days (
        destination TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        date TEXT NOT NULL,
        PRIMARY KEY (destination, workspace_id, date)
    ) WITHOUT ROWID;",
    // 18 (issue 19): an edit keeps the times of its entry, so that it follows a timeline entry whose
    // start (its key) moved before it was posted.
    "ALTER TABLE overrides ADD COLUMN span_start TEXT;
    ALTER TABLE overrides ADD COLUMN span_end TEXT;",
];

/// Refuses a file that is not ours: a foreign `application_id`, or, without one, tables of some other
/// program. Databases of releases before the id (schemas 1 to 4) are recognised by their tables.
pub(super) fn check_identity(conn: &Connection) -> Result<()> {
    let application_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if application_id == APPLICATION_ID {
        return Ok(());
    }
    anyhow::ensure!(
        application_id == 0,
        "it is not a claude-tracker database (it belongs to another program, application id {application_id:#x}): \
         pass `--db` a path of its own (a new file is created)"
    );
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 =
        conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))?;
    let has_sessions: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions')",
        [],
        |r| r.get(0),
    )?;
    let fresh = version == 0 && tables == 0;
    // Releases before the id (schemas 1 to 4) left it 0; any schema of ours holds `sessions`.
    let older_release = version >= 1 && has_sessions;
    anyhow::ensure!(
        fresh || older_release,
        "it is not a claude-tracker database (it holds {tables} table(s) of another program): pass `--db` a \
         path of its own (a new file is created)"
    );
    Ok(())
}

/// Brings the schema up to date and marks the file as ours. Each step reads the version inside an
/// IMMEDIATE transaction (the write lock taken before the read), so two processes upgrading at once (a
/// hook's `watch --once` and a running `watch`) cannot both apply a step: the second waits for the lock
/// (the busy timeout), then sees the version the first committed. A database already at the latest
/// schema takes no write lock at all.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    check_identity(conn)?;
    if known_version(conn)? == MIGRATIONS.len() {
        return Ok(());
    }
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = known_version(&tx)?;
        let Some(sql) = MIGRATIONS.get(current) else { return Ok(tx.commit()?) };
        tx.execute_batch(sql).with_context(|| format!("schema migration {} failed", current + 1))?;
        tx.pragma_update(None, "user_version", i64::try_from(current + 1)?)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.commit()?;
    }
}

/// `PRAGMA user_version`, refused when it is newer than this program knows.
pub(super) fn known_version(conn: &Connection) -> Result<usize> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(0);
    anyhow::ensure!(
        current <= MIGRATIONS.len(),
        "the database was written by a newer claude-tracker (schema {current}); upgrade claude-tracker"
    );
    Ok(current)
}

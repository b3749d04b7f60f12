//! Capture tables: sessions (merged digests, kept after Claude Code deletes the transcripts), their
//! active spans, and what was read of each transcript file.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, named_params, params};

use super::Store;
use crate::attention::{self, Bands};
use crate::sessions::{
    MessageRecord, Millis, Origin, Place, Session, SessionDigest, SessionDigests, Span, Usage, active_spans,
    split_by_place,
};

/// The settings stored spans and bands were computed with (`idle/attention` milliseconds); a change
/// recomputes every session. (Schema 10 and older kept `idle_ms` alone under another key.)
const META_TIME_MODEL: &str = "time_model";

/// What active time and its bands are computed from besides the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeModel {
    /// A gap of this length or more between activity is idle and cut out.
    pub(crate) idle_ms: i64,
    /// How long after a person's line the agent's work counts as supervised.
    pub(crate) attention_ms: i64,
}

impl TimeModel {
    fn meta_value(self) -> String {
        format!("{}/{}", self.idle_ms, self.attention_ms)
    }
}

/// What the ingest remembers of a file so that an unchanged file is never read again and a grown one is
/// read only from where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileState {
    pub(crate) size: u64,
    pub(crate) mtime_ns: i64,
    /// Bytes up to the end of the last complete line parsed.
    pub(crate) parsed_bytes: u64,
    pub(crate) parsed_lines: u64,
    /// Hash of the bytes just before `parsed_bytes`: tells a file that grew from one rewritten.
    pub(crate) tail_hash: u64,
}

/// One file's part of an ingest: its new state.
#[derive(Debug)]
pub(crate) struct FileUpdate {
    pub(crate) path: PathBuf,
    pub(crate) state: FileState,
    /// Read from its first byte (new, shrunk or rewritten): what was skipped of it before is forgotten.
    pub(crate) from_start: bool,
    /// Lines passed over in this read, kept so that `--verbose` lists them on any later run too.
    pub(crate) skipped: Vec<(u64, String)>,
}

/// How many skipped lines the store keeps at most (the first ones met): every line of any plausible
/// corruption, yet never a table that grows without end with a file of garbage.
const SKIPPED_KEPT: i64 = 100_000;

/// The name of a session's machine, in a query of `sessions LEFT JOIN machines` (on the machine id)
/// with this machine's id as `:here` (`''` when it has none yet): the name the database has for it;
/// else `''` when it is this machine (its id, or `''` from before there was one), which the commands
/// show as this machine's name; else `(unknown)`, as the portable file names it.
pub(super) const MACHINE_NAME: &str = "COALESCE(machines.name,
    CASE WHEN sessions.machine_id IN ('', :here) THEN '' ELSE '(unknown)' END)";

impl Store {
    /// What was recorded of every transcript file seen so far.
    pub(crate) fn file_states(&self) -> Result<HashMap<PathBuf, FileState>> {
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
    /// recomputes its spans, and remembers how far each file was read. When the idle threshold changed
    /// since the last ingest, every stored session's spans are recomputed first.
    pub(crate) fn record_ingest(
        &mut self,
        sessions: SessionDigests,
        files: &[FileUpdate],
        model: TimeModel,
    ) -> Result<usize> {
        if sessions.by_id.is_empty()
            && sessions.titles.is_empty()
            && files.is_empty()
            && self.time_model()?.as_deref() == Some(&model.meta_value())
        {
            return Ok(0); // nothing new: no write transaction, no lock taken
        }
        // Immediate: take the write lock up front, so a second process waits (busy timeout) instead of
        // failing to upgrade a read transaction.
        let machine_id = if sessions.by_id.is_empty() { String::new() } else { self.local_machine_id()? };
        let here = Placement { machine_id: &machine_id, seen_here: true };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        rebuild_spans_if_model_changed(&tx, model)?;
        let updated = sessions.by_id.len();
        super::done::save_titles(&tx, &sessions.titles)?;
        for (session_id, digest) in sessions.by_id {
            let mut merged = load_digest(&tx, &session_id)?.unwrap_or_default();
            merged.merge(digest);
            save_session(&tx, &session_id, &merged, model, here)?;
        }
        if updated > 0 {
            super::bump_generation(&tx)?;
        }
        for file in files {
            save_file(&tx, file)?;
            save_skipped(&tx, file)?;
        }
        if files.iter().any(|file| !file.skipped.is_empty()) {
            bound_skipped(&tx)?;
        }
        tx.commit()?;
        Ok(updated)
    }

    fn time_model(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [META_TIME_MODEL], |r| r.get(0))
            .optional()?)
    }

    /// Sessions with any activity or message in `[start, end)` (milliseconds, UTC), with their spans,
    /// bands, messages and machine ([`MACHINE_NAME`]); callers cut them to the exact window. A session that moved folder (`/cd`)
    /// comes as one part per folder, each with its own share (same session id). The index on `last_ms`
    /// keeps a recent window from reading older sessions; the spans come in one query.
    pub(crate) fn query_range(&self, start: Millis, end: Millis) -> Result<Vec<Session>> {
        let here = self.known_machine_id()?.unwrap_or_default();
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT sessions.session_id, project, git_branch, messages, models, automated, hands_on, supervised,
                places, {MACHINE_NAME}
             FROM sessions LEFT JOIN machines ON machines.machine_id = sessions.machine_id
             WHERE last_ms >= :start AND first_ms < :end ORDER BY first_ms, sessions.session_id"
        ))?;
        let rows =
            statement.query_map(named_params! {":start": start, ":end": end, ":here": here}, |row| {
                let session = Session {
                    session_id: row.get(0)?,
                    project: row.get(1)?,
                    git_branch: row.get(2)?,
                    spans: Vec::new(),
                    messages: decode_messages(&row.get::<_, Vec<u8>>(3)?),
                    models: decode_models(&row.get::<_, String>(4)?),
                    automated: row.get(5)?,
                    hands_on: decode_spans(&row.get::<_, Vec<u8>>(6)?),
                    supervised: decode_spans(&row.get::<_, Vec<u8>>(7)?),
                    machine: row.get(9)?,
                };
                Ok((session, decode_places(&row.get::<_, String>(8)?)))
            })?;
        let (mut sessions, places): (Vec<Session>, Vec<Vec<Place>>) =
            rows.collect::<rusqlite::Result<Vec<_>>>()?.into_iter().unzip();
        let index: HashMap<String, usize> =
            sessions.iter().enumerate().map(|(i, s)| (s.session_id.clone(), i)).collect();
        let mut spans = self.conn.prepare_cached(
            "SELECT spans.session_id, spans.start_ms, spans.end_ms FROM sessions
             JOIN spans ON spans.session_id = sessions.session_id
             WHERE sessions.last_ms >= ?1 AND sessions.first_ms < ?2
             ORDER BY spans.session_id, spans.start_ms",
        )?;
        let rows = spans.query_map(params![start, end], |row| {
            Ok((row.get::<_, String>(0)?, Span { start: row.get(1)?, end: row.get(2)? }))
        })?;
        for row in rows {
            let (session_id, span) = row?;
            if let Some(&i) = index.get(&session_id) {
                sessions[i].spans.push(span);
            }
        }
        if places.iter().all(|p| p.len() < 2) {
            return Ok(sessions);
        }
        Ok(sessions
            .into_iter()
            .zip(places)
            .flat_map(|(session, places)| split_by_place(session, &places))
            .collect())
    }

    /// Every transcript line passed over so far and still on record, as `(path, line, reason)` by path
    /// and line: what `--verbose` lists on every run, not only on the one that met them.
    pub(crate) fn skipped_lines(&self) -> Result<Vec<(String, u64, String)>> {
        let mut statement =
            self.conn.prepare_cached("SELECT path, line, reason FROM skipped_lines ORDER BY path, line")?;
        let rows =
            statement.query_map([], |row| Ok((row.get(0)?, u64_from_sql(row.get(1)?), row.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The earliest moment any session shows activity: where a first sync starts.
    pub(crate) fn earliest_activity(&self) -> Result<Option<Millis>> {
        Ok(self.conn.query_row("SELECT MIN(first_ms) FROM sessions", [], |r| r.get(0))?)
    }

    /// The latest moment any session shows activity: the open stretch closes the idle threshold after it.
    pub(crate) fn latest_activity(&self) -> Result<Option<Millis>> {
        Ok(self.conn.query_row("SELECT MAX(last_ms) FROM sessions", [], |r| r.get(0))?)
    }

    /// How many sessions the database holds (for the ingest summary).
    pub(crate) fn session_count(&self) -> Result<u64> {
        let count: i64 = self.conn.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))?;
        Ok(u64_from_sql(count))
    }
}

pub(super) fn rebuild_spans_if_model_changed(tx: &Transaction<'_>, model: TimeModel) -> Result<()> {
    let stored: Option<String> =
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [META_TIME_MODEL], |r| r.get(0)).optional()?;
    if stored.as_deref() == Some(model.meta_value().as_str()) {
        return Ok(());
    }
    let ids: Vec<String> = tx
        .prepare("SELECT session_id FROM sessions")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        if let Some(digest) = load_digest(tx, &id)? {
            save_session(tx, &id, &digest, model, Placement::KEPT)?;
        }
    }
    tx.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![META_TIME_MODEL, model.meta_value()],
    )?;
    Ok(())
}

pub(super) fn load_digest(tx: &rusqlite::Connection, session_id: &str) -> Result<Option<SessionDigest>> {
    let mut statement = tx.prepare_cached(
        "SELECT project, project_at, project_from_sidechain, git_branch, activity, messages, models,
            person, away, places, who_unknown
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
                models: decode_models(&row.get::<_, String>(6)?),
                person: decode_times(&row.get::<_, Vec<u8>>(7)?),
                away: decode_times(&row.get::<_, Vec<u8>>(8)?),
                places: decode_places(&row.get::<_, String>(9)?),
                who_unknown: row.get(10)?,
            })
        })
        .optional()?;
    Ok(digest)
}

/// Which machine a saved session is attributed to, and whether this machine's transcripts hold it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Placement<'a> {
    /// Offered as the session's machine: it replaces the stored one when smaller (so every machine
    /// attributes a session seen by several to the same one); `""` offers none.
    pub(super) machine_id: &'a str,
    /// Seen in this machine's transcripts (never unset once set).
    pub(super) seen_here: bool,
}

impl Placement<'_> {
    /// A recomputation: the session stays where it was.
    pub(super) const KEPT: Placement<'static> = Placement { machine_id: "", seen_here: false };
}

pub(super) fn save_session(
    tx: &Transaction<'_>,
    session_id: &str,
    digest: &SessionDigest,
    model: TimeModel,
    placement: Placement<'_>,
) -> Result<()> {
    let Some((first, last)) = digest.bounds() else {
        return Ok(()); // a session with neither activity nor tokens has nothing to keep
    };
    let spans = active_spans(&digest.activity, model.idle_ms);
    let bands = if digest.who_unknown {
        attention::bands_unknown(&spans)
    } else {
        attention::bands(&spans, &digest.activity, &digest.person, &digest.away, model.attention_ms)
    };
    let Bands { hands_on, supervised } = bands;
    let unknown = Origin { from_sidechain: true, at: first, cwd: "(unknown)".into(), git_branch: None };
    let origin = digest.origin.as_ref().unwrap_or(&unknown);
    tx.prepare_cached(
        "INSERT INTO sessions (session_id, project, project_at, project_from_sidechain, git_branch,
            first_ms, last_ms, activity, messages, models, person, away, places, who_unknown, automated,
            hands_on, supervised, machine_id, seen_here)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
         ON CONFLICT(session_id) DO UPDATE SET project = excluded.project, project_at = excluded.project_at,
            project_from_sidechain = excluded.project_from_sidechain, git_branch = excluded.git_branch,
            first_ms = excluded.first_ms, last_ms = excluded.last_ms,
            activity = excluded.activity, messages = excluded.messages, models = excluded.models,
            person = excluded.person, away = excluded.away, places = excluded.places,
            who_unknown = excluded.who_unknown, automated = excluded.automated,
            hands_on = excluded.hands_on, supervised = excluded.supervised, rule_tags_fp = NULL,
            machine_id = CASE WHEN excluded.machine_id != ''
                AND (sessions.machine_id = '' OR excluded.machine_id < sessions.machine_id)
                THEN excluded.machine_id ELSE sessions.machine_id END,
            seen_here = MAX(sessions.seen_here, excluded.seen_here)",
    )?
    .execute(params![
        session_id,
        origin.cwd,
        origin.at,
        origin.from_sidechain,
        origin.git_branch,
        first,
        last,
        encode_activity(&digest.activity),
        encode_messages(&digest.messages),
        digest.models.join("\n"),
        encode_times(&digest.person),
        encode_times(&digest.away),
        encode_places(&digest.places),
        digest.who_unknown,
        digest.automated(),
        encode_spans(&hands_on),
        encode_spans(&supervised),
        placement.machine_id,
        placement.seen_here,
    ])?;
    tx.prepare_cached("DELETE FROM spans WHERE session_id = ?1")?.execute([session_id])?;
    let mut insert =
        tx.prepare_cached("INSERT INTO spans (session_id, start_ms, end_ms) VALUES (?1, ?2, ?3)")?;
    for span in &spans {
        insert.execute(params![session_id, span.start, span.end])?;
    }
    Ok(())
}

/// The skipped lines of one file: replaced when it was read from the start, added to otherwise.
fn save_skipped(tx: &Transaction<'_>, file: &FileUpdate) -> Result<()> {
    let path = file.path.to_string_lossy();
    if file.from_start {
        tx.prepare_cached("DELETE FROM skipped_lines WHERE path = ?1")?.execute([&path])?;
    }
    if file.skipped.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO skipped_lines (path, line, reason) VALUES (?1, ?2, ?3)
         ON CONFLICT(path, line) DO UPDATE SET reason = excluded.reason",
    )?;
    for (line, reason) in &file.skipped {
        insert.execute(params![path, sql_from_u64(*line), reason])?;
    }
    Ok(())
}

/// Keeps the first [`SKIPPED_KEPT`] skipped lines met: once per ingest, after every file's, not once per
/// file (each pass reads the whole table).
fn bound_skipped(tx: &Transaction<'_>) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM skipped_lines WHERE rowid NOT IN
            (SELECT rowid FROM skipped_lines ORDER BY rowid LIMIT ?1)",
    )?
    .execute([SKIPPED_KEPT])?;
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
    Ok(())
}

// Activity timestamps and messages are stored as compact little-endian blobs: a session can hold tens of
// thousands of each, and they are only ever read and written whole.

const MESSAGE_BYTES: usize = 48;

pub(super) fn encode_activity(activity: &[Millis]) -> Vec<u8> {
    activity.iter().flat_map(|t| t.to_le_bytes()).collect()
}

pub(super) fn decode_activity(bytes: &[u8]) -> Vec<Millis> {
    bytes.chunks_exact(8).map(|c| Millis::from_le_bytes(word(c))).collect()
}

pub(super) fn encode_messages(messages: &[MessageRecord]) -> Vec<u8> {
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

pub(super) fn decode_messages(bytes: &[u8]) -> Vec<MessageRecord> {
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

/// Sorted timestamps (a person's lines, away summaries) as the differences from one to the next, each a
/// LEB128 varint: a few bytes where a fixed word takes eight (these columns were added by migration 11
/// and have only ever been written this way).
pub(super) fn encode_times(times: &[Millis]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(times.len() * 3);
    let mut previous = 0;
    for &at in times {
        push_varint(&mut bytes, at.wrapping_sub(previous).cast_unsigned());
        previous = at;
    }
    bytes
}

pub(super) fn decode_times(bytes: &[u8]) -> Vec<Millis> {
    let mut times = Vec::new();
    let (mut position, mut previous) = (0, 0_i64);
    while let Some(delta) = read_varint(bytes, &mut position) {
        previous = previous.wrapping_add(delta.cast_signed());
        times.push(previous);
    }
    times
}

/// Band spans: each start and end as times ([`encode_times`]).
pub(super) fn encode_spans(spans: &[Span]) -> Vec<u8> {
    let times: Vec<Millis> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
    encode_times(&times)
}

pub(super) fn decode_spans(bytes: &[u8]) -> Vec<Span> {
    decode_times(bytes).chunks_exact(2).map(|pair| Span { start: pair[0], end: pair[1] }).collect()
}

fn push_varint(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

/// The next varint at `position`; `None` at the end (or at a truncated last one).
fn read_varint(bytes: &[u8], position: &mut usize) -> Option<u64> {
    let mut value = 0_u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*position)?;
        *position += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Places as JSON (`[{"at":…,"cwd":…}]`): a folder name may hold any character.
fn encode_places(places: &[Place]) -> String {
    serde_json::to_string(places).unwrap_or_else(|_| "[]".to_string())
}

fn decode_places(text: &str) -> Vec<Place> {
    serde_json::from_str(text).unwrap_or_default()
}

fn word(bytes: &[u8]) -> [u8; 8] {
    let mut word = [0; 8];
    word.copy_from_slice(bytes);
    word
}

/// Model names never hold a newline: one per line.
fn decode_models(text: &str) -> Vec<String> {
    text.lines().filter(|m| !m.is_empty()).map(str::to_string).collect()
}

fn u64_from_sql(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn sql_from_u64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

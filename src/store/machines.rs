//! Many machines (notes/10-many-machines.md): this machine's random id, the names of every machine
//! met, sessions in and out of the portable form, and what was last read of each shared file.

use std::collections::BTreeMap;

use anyhow::Result;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::Store;
use super::capture::{Placement, load_digest, save_session};
use crate::portable::{MachineRef, PortableSession, TagRef};
use crate::store::TimeModel;

/// The meta key of this database's machine id.
const META_MACHINE_ID: &str = "machine_id";

/// What an import did: sessions new to the store, sessions it had that grew, and the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MergeCounts {
    pub(crate) added: usize,
    pub(crate) extended: usize,
    pub(crate) unchanged: usize,
}

/// What was last read of a shared file, to skip it while it has not changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedFileState {
    pub(crate) path: String,
    pub(crate) machine_id: Option<String>,
    pub(crate) size: u64,
    pub(crate) mtime_ns: i64,
    pub(crate) written_at: Option<String>,
    pub(crate) read_ms: i64,
    /// Why it was skipped last time (retried on the next run); `None` when it was read.
    pub(crate) problem: Option<String>,
}

impl Store {
    /// This machine's id, made once (random) and kept: two machines of one name stay apart. Sessions
    /// recorded before there was an id are this machine's and take it.
    pub(crate) fn local_machine_id(&mut self) -> Result<String> {
        if let Some(id) = self.cached(META_MACHINE_ID)? {
            return Ok(id);
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let raced: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [META_MACHINE_ID], |r| r.get(0))
            .optional()?;
        if let Some(id) = raced {
            return Ok(id);
        }
        tx.execute("INSERT INTO meta(key, value) VALUES (?1, ?2)", params![META_MACHINE_ID, id])?;
        tx.execute("UPDATE sessions SET machine_id = ?1 WHERE machine_id = ''", [&id])?;
        tx.commit()?;
        Ok(id)
    }

    /// This machine's id if it has one (a read-only database may have none yet).
    pub(crate) fn known_machine_id(&self) -> Result<Option<String>> {
        self.cached(META_MACHINE_ID)
    }

    /// Names a machine (its name as this machine's config or its file's header says); no write when
    /// the name is the one on record.
    pub(crate) fn name_machine(&self, machine: &MachineRef) -> Result<()> {
        let known: Option<String> = self
            .conn
            .prepare_cached("SELECT name FROM machines WHERE machine_id = ?1")?
            .query_row([&machine.id], |r| r.get(0))
            .optional()?;
        if known.as_deref() == Some(machine.name.as_str()) {
            return Ok(()); // the usual case: nothing written
        }
        rename(&self.conn, &machine.id, &machine.name)
    }

    /// Every machine's name, by id.
    pub(crate) fn machine_names(&self) -> Result<BTreeMap<String, String>> {
        let mut statement = self.conn.prepare_cached("SELECT machine_id, name FROM machines")?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sessions in the portable form, by id: every one, or (`seen_here_only`) what this machine writes to
    /// the shared folder: the sessions of its transcripts, and those the user tagged here (a tag given on
    /// one machine reaches the machine that posts). `(unknown)` names a machine never named.
    pub(crate) fn portable_sessions(&self, seen_here_only: bool) -> Result<Vec<PortableSession>> {
        let names = self.machine_names()?;
        let sql = if seen_here_only {
            "SELECT session_id, machine_id FROM sessions WHERE seen_here = 1 OR session_id IN
                (SELECT session_id FROM session_tags WHERE assignment_source = 'user')
             ORDER BY session_id"
        } else {
            "SELECT session_id, machine_id FROM sessions ORDER BY session_id"
        };
        let ids: Vec<(String, String)> = self
            .conn
            .prepare(sql)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let tags = self.all_tags()?;
        let mut sessions = Vec::with_capacity(ids.len());
        for (id, machine_id) in ids {
            let Some(digest) = load_digest(&self.conn, &id)? else { continue };
            let name = names.get(&machine_id).cloned().unwrap_or_else(|| "(unknown)".to_string());
            sessions.push(PortableSession {
                tags: tags.get(&id).cloned().unwrap_or_default(),
                id,
                machine: MachineRef { id: machine_id, name },
                digest,
            });
        }
        Ok(sessions)
    }

    fn all_tags(&self) -> Result<BTreeMap<String, Vec<TagRef>>> {
        let mut statement = self.conn.prepare(
            "SELECT session_id, tag, assignment_source FROM session_tags ORDER BY session_id, tag",
        )?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, String>(0)?, TagRef { tag: r.get(1)?, source: r.get(2)? })))?;
        let mut tags: BTreeMap<String, Vec<TagRef>> = BTreeMap::new();
        for row in rows {
            let (id, tag) = row?;
            tags.entry(id).or_default().push(tag);
        }
        Ok(tags)
    }

    /// Merges sessions of a portable file into the store, in one transaction: each is united with what
    /// the store has of it (a set union: never shorter, nothing counted twice), attributed to the smaller
    /// machine id of the two, and given the file's user tags. A session the union leaves as it was is not
    /// written. The machines of the sessions are named as the file names them.
    pub(crate) fn merge_sessions(
        &mut self,
        sessions: Vec<PortableSession>,
        model: TimeModel,
    ) -> Result<MergeCounts> {
        let mut counts = MergeCounts::default();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        super::capture::rebuild_spans_if_model_changed(&tx, model)?;
        let names: BTreeMap<String, String> = tx
            .prepare("SELECT machine_id, name FROM machines")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut named = BTreeMap::new();
        for session in sessions {
            let existing = load_digest(&tx, &session.id)?;
            let stored_machine: Option<String> = tx
                .prepare_cached("SELECT machine_id FROM sessions WHERE session_id = ?1")?
                .query_row([&session.id], |r| r.get(0))
                .optional()?;
            let user_tags: Vec<&str> =
                session.tags.iter().filter(|t| t.source == "user").map(|t| t.tag.as_str()).collect();
            let new_tags = new_user_tags(&tx, &session.id, &user_tags)?;
            let machine_changes = stored_machine
                .as_deref()
                .is_none_or(|stored| stored.is_empty() || session.machine.id.as_str() < stored);
            let merged = match existing {
                None => {
                    counts.added += 1;
                    session.digest
                }
                Some(existing) => {
                    let mut merged = existing.clone();
                    merged.merge(session.digest);
                    if merged == existing && !machine_changes && new_tags.is_empty() {
                        counts.unchanged += 1;
                        continue;
                    }
                    counts.extended += 1;
                    merged
                }
            };
            if names.get(&session.machine.id) != Some(&session.machine.name) {
                named.insert(session.machine.id.clone(), session.machine.name.clone());
            }
            save_session(
                &tx,
                &session.id,
                &merged,
                model,
                Placement { machine_id: &session.machine.id, seen_here: false },
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO session_tags (session_id, tag, assignment_source) VALUES (?1, ?2, 'user')
                 ON CONFLICT (session_id, tag) DO UPDATE SET assignment_source = 'user'",
            )?;
            for tag in new_tags {
                insert.execute(params![session.id, tag])?;
            }
        }
        if counts.added + counts.extended > 0 {
            super::bump_generation(&tx)?;
        }
        for (id, name) in named {
            rename(&tx, &id, &name)?;
        }
        tx.commit()?;
        Ok(counts)
    }

    /// What was last read of every shared file, by path.
    pub(crate) fn shared_files(&self) -> Result<BTreeMap<String, SharedFileState>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT path, machine_id, size, mtime_ns, written_at, read_ms, problem FROM shared_files",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(SharedFileState {
                path: r.get(0)?,
                machine_id: r.get(1)?,
                size: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                mtime_ns: r.get(3)?,
                written_at: r.get(4)?,
                read_ms: r.get(5)?,
                problem: r.get(6)?,
            })
        })?;
        rows.map(|row| row.map(|state| (state.path.clone(), state)).map_err(Into::into)).collect()
    }

    /// Records what was read of a shared file (or why it was skipped).
    pub(crate) fn record_shared_file(&self, state: &SharedFileState) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO shared_files (path, machine_id, size, mtime_ns, written_at, read_ms, problem)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (path) DO UPDATE SET machine_id = excluded.machine_id, size = excluded.size,
                    mtime_ns = excluded.mtime_ns, written_at = excluded.written_at, read_ms = excluded.read_ms,
                    problem = excluded.problem",
            )?
            .execute(params![
                state.path,
                state.machine_id,
                i64::try_from(state.size).unwrap_or(i64::MAX),
                state.mtime_ns,
                state.written_at,
                state.read_ms,
                state.problem
            ])?;
        Ok(())
    }

    /// Forgets a shared file that is gone from the folder.
    pub(crate) fn forget_shared_file(&self, path: &str) -> Result<()> {
        self.conn.prepare_cached("DELETE FROM shared_files WHERE path = ?1")?.execute([path])?;
        Ok(())
    }
}

/// Names a machine, and has the rules look again at its sessions (a `machine` pattern may match now).
fn rename(conn: &rusqlite::Connection, id: &str, name: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO machines (machine_id, name) VALUES (?1, ?2)
         ON CONFLICT (machine_id) DO UPDATE SET name = excluded.name",
    )?
    .execute(params![id, name])?;
    conn.prepare_cached("UPDATE sessions SET rule_tags_fp = NULL WHERE machine_id = ?1")?.execute([id])?;
    Ok(())
}

/// The user tags of `tags` the session does not already have as the user's.
fn new_user_tags<'a>(
    conn: &rusqlite::Connection,
    session_id: &str,
    tags: &[&'a str],
) -> Result<Vec<&'a str>> {
    if tags.is_empty() {
        return Ok(Vec::new());
    }
    let mut statement = conn.prepare_cached(
        "SELECT 1 FROM session_tags WHERE session_id = ?1 AND tag = ?2 AND assignment_source = 'user'",
    )?;
    let mut new = Vec::new();
    for &tag in tags {
        if !statement.exists(params![session_id, tag])? {
            new.push(tag);
        }
    }
    Ok(new)
}

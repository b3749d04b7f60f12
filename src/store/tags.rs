//! Tags of sessions, with their source: a user's tags (`tag`/`untag`) are never touched by rules; rule
//! tags are recomputed for every session the rules in force have not seen (a changed session, or every
//! session when the rules changed).

use anyhow::Result;
use rusqlite::{OptionalExtension, TransactionBehavior, named_params, params};

use super::Store;
use super::capture::MACHINE_NAME;
use crate::classify::{Tag, TagSource};
use crate::sessions::{Millis, Session};

const META_RULES_FP: &str = "rules_fingerprint";

/// A session a prefix may name, for `tag` and `rules check --session`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRef {
    pub(crate) session_id: String,
    pub(crate) project: String,
    pub(crate) first_ms: Millis,
}

impl Store {
    /// Sessions whose rule tags the rules with `fingerprint` have not computed: those changed since, or
    /// every one when the rules changed. Only what rules match on is loaded.
    pub(crate) fn sessions_needing_rule_tags(&self, fingerprint: &str) -> Result<Vec<Session>> {
        let stored: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [META_RULES_FP], |r| r.get(0))
            .optional()?;
        let only_changed =
            if stored.as_deref() == Some(fingerprint) { "WHERE rule_tags_fp IS NULL" } else { "" };
        let here = self.known_machine_id()?.unwrap_or_default();
        let mut statement = self.conn.prepare(&facts(only_changed))?;
        let rows = statement.query_map(named_params! {":here": here}, facts_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What rules match on, for one session.
    pub(crate) fn session_facts(&self, session_id: &str) -> Result<Option<Session>> {
        let here = self.known_machine_id()?.unwrap_or_default();
        let mut statement = self.conn.prepare_cached(&facts("WHERE session_id = :id"))?;
        Ok(statement.query_row(named_params! {":here": here, ":id": session_id}, facts_row).optional()?)
    }

    /// Replaces the rule tags of these sessions (a user tag of the same name stays the user's) and notes
    /// that the rules with `fingerprint` computed them; one transaction.
    pub(crate) fn record_rule_tags(
        &mut self,
        fingerprint: &str,
        tags: &[(String, Vec<String>)],
    ) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut clear = tx.prepare_cached(
                "DELETE FROM session_tags WHERE session_id = ?1 AND assignment_source = 'rule'",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO session_tags (session_id, tag, assignment_source) VALUES (?1, ?2, 'rule')",
            )?;
            let mut done =
                tx.prepare_cached("UPDATE sessions SET rule_tags_fp = ?2 WHERE session_id = ?1")?;
            for (session_id, session_tags) in tags {
                clear.execute([session_id])?;
                for tag in session_tags {
                    insert.execute(params![session_id, tag])?;
                }
                done.execute(params![session_id, fingerprint])?;
            }
        }
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![META_RULES_FP, fingerprint],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The tags of one session, by name.
    pub(crate) fn tags_of(&self, session_id: &str) -> Result<Vec<Tag>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT tag, assignment_source FROM session_tags WHERE session_id = ?1 ORDER BY tag",
        )?;
        let rows = statement.query_map([session_id], |row| {
            let source: String = row.get(1)?;
            Ok(Tag {
                name: row.get(0)?,
                source: if source == TagSource::User.name() { TagSource::User } else { TagSource::Rule },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Adds a user's tags to a session (a rule tag of the same name becomes the user's).
    pub(crate) fn add_user_tags(&mut self, session_id: &str, tags: &[String]) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO session_tags (session_id, tag, assignment_source) VALUES (?1, ?2, 'user')
                 ON CONFLICT (session_id, tag) DO UPDATE SET assignment_source = 'user'",
            )?;
            for tag in tags {
                insert.execute(params![session_id, tag])?;
            }
        }
        super::bump_generation(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a user's tags from a session; the session's rule tags are then recomputed (a rule may give
    /// one of them back). Returns, per tag asked, whether the user had it.
    pub(crate) fn remove_user_tags(&mut self, session_id: &str, tags: &[String]) -> Result<Vec<bool>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut removed = Vec::with_capacity(tags.len());
        {
            let mut delete = tx.prepare_cached(
                "DELETE FROM session_tags WHERE session_id = ?1 AND tag = ?2 AND assignment_source = 'user'",
            )?;
            for tag in tags {
                removed.push(delete.execute(params![session_id, tag])? > 0);
            }
        }
        tx.execute("UPDATE sessions SET rule_tags_fp = NULL WHERE session_id = ?1", [session_id])?;
        super::bump_generation(&tx)?;
        tx.commit()?;
        Ok(removed)
    }

    /// Sessions whose id starts with `prefix` (at most `limit`), oldest first.
    pub(crate) fn sessions_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<SessionRef>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT session_id, project, first_ms FROM sessions
             WHERE substr(session_id, 1, length(?1)) = ?1 ORDER BY first_ms, session_id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![prefix, i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
            Ok(SessionRef { session_id: row.get(0)?, project: row.get(1)?, first_ms: row.get(2)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The earliest and latest activity of the sessions with `tag`: where a `report --tag` that finds
    /// nothing in its range sends the user.
    pub(crate) fn tag_span(&self, tag: &str) -> Result<Option<(i64, i64)>> {
        let (first, last): (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT MIN(first_ms), MAX(last_ms) FROM sessions
             WHERE session_id IN (SELECT session_id FROM session_tags WHERE tag = ?1)",
            [tag],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(first.zip(last))
    }

    /// Every session's tag names, sorted, by session id (for report and export).
    pub(crate) fn tag_names(&self) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
        let mut statement =
            self.conn.prepare_cached("SELECT session_id, tag FROM session_tags ORDER BY 1, 2")?;
        let mut tags: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
        for row in rows {
            let (session_id, tag) = row?;
            tags.entry(session_id).or_default().push(tag);
        }
        Ok(tags)
    }
}

/// The query of what rules match on ([`facts_row`]) of the sessions `filter` (a `WHERE` clause, or
/// nothing for all) keeps; `:here` is this machine's id.
fn facts(filter: &str) -> String {
    format!(
        "SELECT sessions.session_id, project, git_branch, models, {MACHINE_NAME}
         FROM sessions LEFT JOIN machines ON machines.machine_id = sessions.machine_id {filter}"
    )
}

/// A session as rules see it (folder, branch, models, machine; no spans or messages) from
/// `session_id, project, git_branch, models, machine`.
fn facts_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        session_id: row.get(0)?,
        project: row.get(1)?,
        git_branch: row.get(2)?,
        spans: Vec::new(),
        messages: Vec::new(),
        models: row.get::<_, String>(3)?.lines().map(str::to_string).collect(),
        machine: row.get(4)?,
        ..Default::default()
    })
}

//! What was done besides the time (migration 16), for descriptions: the commits read with `git` at
//! ingest, by folder, and the titles Claude Code wrote for each session (only with `keep_titles`).

use std::collections::BTreeMap;

use anyhow::Result;
use rusqlite::{Transaction, TransactionBehavior, params};

use super::Store;
use crate::descriptions::{Commit, TitleLine};
use crate::sessions::Millis;

/// The meta key of `[capture] keep_titles` as the last ingest applied it (`1` on, `0` off).
const META_KEEP_TITLES: &str = "capture.keep_titles";

/// One folder's scan: the window read and every commit found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommitScan {
    pub(crate) folder: String,
    /// `[since, until)` in milliseconds: read whole, so a stored commit of it that was not found is gone.
    pub(crate) window: (Millis, Millis),
    pub(crate) commits: Vec<Commit>,
}

impl Store {
    /// Records scans in one transaction: each window's commits replace what was stored of that folder
    /// and window (an amended or rebased commit's old hash goes), each commit kept once by (folder,
    /// hash). When every window already holds exactly what was found, nothing is written.
    pub(crate) fn record_commits(&mut self, scans: &[CommitScan]) -> Result<()> {
        let mut changed = Vec::new();
        for scan in scans {
            if self.stored_commits(&scan.folder, scan.window)? != scan.commits {
                changed.push(scan);
            }
        }
        if changed.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for scan in changed {
            replace_window(&tx, scan)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A folder's stored commits with a committer time in `window`, by time then hash.
    fn stored_commits(&self, folder: &str, (since, until): (Millis, Millis)) -> Result<Vec<Commit>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT hash, committed_ms, subject FROM git_commits
             WHERE folder = ?1 AND committed_ms >= ?2 AND committed_ms < ?3 ORDER BY committed_ms, hash",
        )?;
        let rows = statement.query_map(params![folder, since, until], |row| {
            Ok(Commit { hash: row.get(0)?, at: row.get(1)?, subject: row.get(2)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every stored commit with a committer time in `[from, to)`, by folder, each folder's by time then
    /// hash: what a plan over that window describes with.
    pub(crate) fn commits_between(&self, from: Millis, to: Millis) -> Result<BTreeMap<String, Vec<Commit>>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT folder, hash, committed_ms, subject FROM git_commits
             WHERE committed_ms >= ?1 AND committed_ms < ?2 ORDER BY folder, committed_ms, hash",
        )?;
        let rows = statement.query_map(params![from, to], |row| {
            Ok((
                row.get::<_, String>(0)?,
                Commit { hash: row.get(1)?, at: row.get(2)?, subject: row.get(3)? },
            ))
        })?;
        let mut by_folder: BTreeMap<String, Vec<Commit>> = BTreeMap::new();
        for row in rows {
            let (folder, commit) = row?;
            by_folder.entry(folder).or_default().push(commit);
        }
        Ok(by_folder)
    }

    /// The title of each session with activity in `[from, to)` that has one (the sessions
    /// [`Store::query_range`] returns): the user's own, else Claude Code's, else a summary.
    pub(crate) fn titles_between(&self, from: Millis, to: Millis) -> Result<BTreeMap<String, String>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT session_titles.session_id, title FROM session_titles
             JOIN sessions ON sessions.session_id = session_titles.session_id
             WHERE sessions.last_ms >= ?1 AND sessions.first_ms < ?2
             ORDER BY session_titles.session_id, CASE kind WHEN 'custom' THEN 0 WHEN 'ai' THEN 1 ELSE 2 END",
        )?;
        let rows = statement
            .query_map(params![from, to], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
        let mut titles = BTreeMap::new();
        for row in rows {
            let (session, title) = row?;
            titles.entry(session).or_insert(title);
        }
        Ok(titles)
    }

    /// Brings the store in line with `[capture] keep_titles`: turned off, every stored title is
    /// forgotten (they are text derived from the conversation; off means none is kept); turned on,
    /// every transcript still on disk is read again once, so titles written before are found. The same
    /// setting as last time: nothing is written.
    pub(crate) fn apply_keep_titles(&mut self, keep: bool) -> Result<()> {
        // Titles are only ever stored while the setting is on, so "off" with nothing recorded has none.
        let was_on = self.cached(META_KEEP_TITLES)?.as_deref() == Some("1");
        if keep == was_on {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if keep {
            tx.execute("DELETE FROM files", [])?;
        } else {
            tx.execute("DELETE FROM session_titles", [])?;
        }
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![META_KEEP_TITLES, if keep { "1" } else { "0" }],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Whether any title is stored.
    #[cfg(test)]
    fn holds_titles(&self) -> Result<bool> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM session_titles)", [], |r| r.get(0))?)
    }
}

/// One scan's window made to hold exactly what it found.
fn replace_window(tx: &Transaction<'_>, scan: &CommitScan) -> Result<()> {
    let (since, until) = scan.window;
    tx.prepare_cached(
        "DELETE FROM git_commits WHERE folder = ?1 AND committed_ms >= ?2 AND committed_ms < ?3",
    )?
    .execute(params![scan.folder, since, until])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO git_commits (folder, hash, committed_ms, subject) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (folder, hash) DO UPDATE SET committed_ms = excluded.committed_ms, subject = excluded.subject",
    )?;
    for commit in &scan.commits {
        insert.execute(params![scan.folder, commit.hash, commit.at, commit.subject])?;
    }
    Ok(())
}

/// Records title lines in the ingest's transaction, in the order read: a later line of a kind replaces
/// the earlier one (a second `/rename` wins).
pub(super) fn save_titles(tx: &Transaction<'_>, titles: &[TitleLine]) -> Result<()> {
    if titles.is_empty() {
        return Ok(());
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO session_titles (session_id, kind, title) VALUES (?1, ?2, ?3)
         ON CONFLICT (session_id, kind) DO UPDATE SET title = excluded.title",
    )?;
    for line in titles {
        upsert.execute(params![line.session_id, line.kind.key(), line.text])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptions::TitleKind;
    use crate::sessions::{Origin, SessionDigest, SessionDigests};
    use crate::store::TimeModel;

    const MIN: i64 = 60_000;
    const MODEL: TimeModel = TimeModel { idle_ms: 15 * MIN, attention_ms: 15 * MIN };

    fn commit(at: Millis, hash: &str, subject: &str) -> Commit {
        Commit { at, hash: hash.into(), subject: subject.into() }
    }

    fn scan(window: (Millis, Millis), commits: Vec<Commit>) -> CommitScan {
        CommitScan { folder: "/w/shop".into(), window, commits }
    }

    #[test]
    fn a_scan_replaces_its_window_and_never_doubles_a_commit() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .record_commits(&[scan((0, 100), vec![commit(10, "a", "Add"), commit(20, "b", "Fix")])])
            .unwrap();
        // Read again (a re-ingest): the same rows, once.
        store
            .record_commits(&[scan((0, 100), vec![commit(10, "a", "Add"), commit(20, "b", "Fix")])])
            .unwrap();
        // `b` was amended into `c`; a later window leaves the earlier one alone.
        store.record_commits(&[scan((15, 100), vec![commit(30, "c", "Fix totals")])]).unwrap();
        store.record_commits(&[scan((100, 200), vec![commit(150, "d", "Later")])]).unwrap();
        let stored = store.commits_between(0, 1_000).unwrap();
        assert_eq!(
            stored["/w/shop"],
            vec![commit(10, "a", "Add"), commit(30, "c", "Fix totals"), commit(150, "d", "Later")]
        );
        assert_eq!(store.commits_between(0, 30).unwrap()["/w/shop"], vec![commit(10, "a", "Add")]);
        assert!(store.commits_between(200, 300).unwrap().is_empty());
    }

    fn with_title(session: &str, kind: TitleKind, text: &str) -> SessionDigests {
        let mut sessions = SessionDigests::default();
        sessions.absorb(
            session.into(),
            SessionDigest {
                origin: Some(Origin {
                    from_sidechain: false,
                    at: 0,
                    cwd: "/w/shop".into(),
                    git_branch: None,
                }),
                activity: vec![0, MIN],
                ..SessionDigest::default()
            },
        );
        sessions.titles.push(TitleLine { session_id: session.into(), kind, text: text.into() });
        sessions
    }

    #[test]
    fn a_sessions_title_is_its_own_then_claude_codes_then_a_summary_and_goes_when_turned_off() {
        let mut store = Store::open_in_memory().unwrap();
        store.apply_keep_titles(true).unwrap();
        store.record_ingest(with_title("s1", TitleKind::Summary, "Summary"), &[], MODEL).unwrap();
        store.record_ingest(with_title("s2", TitleKind::Summary, "Old summary"), &[], MODEL).unwrap();
        store.record_ingest(with_title("s2", TitleKind::Ai, "Generated"), &[], MODEL).unwrap();
        store.record_ingest(with_title("s2", TitleKind::Custom, "Mine"), &[], MODEL).unwrap();
        store.record_ingest(with_title("s2", TitleKind::Custom, "Mine, renamed"), &[], MODEL).unwrap();
        let titles = store.titles_between(0, 2 * MIN).unwrap();
        assert_eq!(
            titles.into_iter().collect::<Vec<_>>(),
            vec![("s1".to_string(), "Summary".to_string()), ("s2".to_string(), "Mine, renamed".to_string())]
        );
        assert!(store.titles_between(2 * MIN, 3 * MIN).unwrap().is_empty(), "no session then");
        store.apply_keep_titles(false).unwrap();
        assert!(store.titles_between(0, 2 * MIN).unwrap().is_empty());
        assert!(!store.holds_titles().unwrap());
    }
}

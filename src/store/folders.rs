//! Where session folders lead (`folder_targets`, migration 11): what the ingest found on disk for each
//! literal folder, so rules and mappings can match a symlink's target without touching the disk.

use anyhow::Result;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::Store;
use crate::folders::{FolderCheck, FolderTargets};

impl Store {
    /// What was found of one folder, if it was ever looked at.
    pub(crate) fn folder_check(&self, path: &str) -> Result<Option<FolderCheck>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT path, resolved, checked_ms FROM folder_targets WHERE path = ?1")?;
        Ok(statement.query_row([path], check_row).optional()?)
    }

    /// The folders missing at their last look (each is looked at again once a day).
    pub(crate) fn missing_folders(&self) -> Result<Vec<FolderCheck>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT path, resolved, checked_ms FROM folder_targets WHERE resolved IS NULL ORDER BY path",
        )?;
        let rows = statement.query_map([], check_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a pass over folders in one transaction: stored folders renamed to their NFC form (their
    /// sessions with them), then what each look found. A folder found to lead elsewhere has its sessions'
    /// rule tags recomputed (a rule may name the target), as has every renamed one.
    pub(crate) fn record_folder_checks(
        &mut self,
        renames: &[(String, String)],
        checks: &[FolderCheck],
    ) -> Result<()> {
        if renames.is_empty() && checks.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut rename = tx
                .prepare_cached("UPDATE sessions SET project = ?2, rule_tags_fp = NULL WHERE project = ?1")?;
            let mut forget = tx.prepare_cached("DELETE FROM folder_targets WHERE path = ?1")?;
            for (old, new) in renames {
                rename.execute(params![old, new])?;
                forget.execute([old])?;
            }
            let mut upsert = tx.prepare_cached(
                "INSERT INTO folder_targets (path, resolved, checked_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (path) DO UPDATE SET resolved = excluded.resolved, checked_ms = excluded.checked_ms",
            )?;
            let mut retag =
                tx.prepare_cached("UPDATE sessions SET rule_tags_fp = NULL WHERE project = ?1")?;
            for check in checks {
                upsert.execute(params![check.path, check.resolved, check.checked_ms])?;
                if check.resolved.as_ref().is_some_and(|resolved| *resolved != check.path) {
                    retag.execute([&check.path])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every folder that leads elsewhere, with its target: what rules and mappings match besides the
    /// literal path.
    pub(crate) fn folder_targets(&self) -> Result<FolderTargets> {
        let mut statement = self.conn.prepare_cached(
            "SELECT path, resolved FROM folder_targets WHERE resolved IS NOT NULL AND resolved <> path",
        )?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
        Ok(FolderTargets::new(rows.collect::<rusqlite::Result<Vec<_>>>()?))
    }
}

/// A `folder_targets` row from `path, resolved, checked_ms`.
fn check_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<FolderCheck> {
    Ok(FolderCheck { path: row.get(0)?, resolved: row.get(1)?, checked_ms: row.get(2)? })
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::folders::FolderCheck;
    use crate::store::Store;
    use crate::store::migrations::MIGRATIONS;

    fn check(path: &str, resolved: Option<&str>, checked_ms: i64) -> FolderCheck {
        FolderCheck { path: path.into(), resolved: resolved.map(str::to_string), checked_ms }
    }

    #[test]
    fn checks_round_trip_and_only_targets_elsewhere_are_read_as_targets() {
        let mut store = Store::open_in_memory().unwrap();
        let checks = [
            check("/link/w", Some("/real/w"), 5),
            check("/plain", Some("/plain"), 5),
            check("/gone", None, 7),
        ];
        store.record_folder_checks(&[], &checks).unwrap();
        assert_eq!(store.folder_check("/gone").unwrap(), Some(check("/gone", None, 7)));
        assert_eq!(store.folder_check("/never").unwrap(), None);
        assert_eq!(store.missing_folders().unwrap(), vec![check("/gone", None, 7)]);
        let targets = store.folder_targets().unwrap();
        assert_eq!(targets.resolved("/link/w"), Some("/real/w"));
        assert_eq!(targets.resolved("/plain"), None);
        // A later look at a missing folder replaces what was known.
        store.record_folder_checks(&[], &[check("/gone", Some("/gone"), 9)]).unwrap();
        assert_eq!(store.missing_folders().unwrap(), Vec::new());
    }

    #[test]
    fn the_upgrade_leaves_every_stored_folder_to_be_looked_at_and_a_rename_carries_its_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &MIGRATIONS[..10] {
                tx.execute_batch(sql).unwrap();
            }
            for (id, project) in [("s1", "/old/Cafe\u{301}"), ("s2", "/old/Cafe\u{301}"), ("s3", "/w/plain")]
            {
                tx.execute(
                    "INSERT INTO sessions (session_id, project, project_at, project_from_sidechain, first_ms, last_ms,
                     activity, messages, rule_tags_fp) VALUES (?1, ?2, 0, 0, 0, 1, x'', x'', 'fp')",
                    [id, project],
                )
                .unwrap();
            }
            tx.pragma_update(None, "user_version", 10).unwrap();
            tx.commit().unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            store.missing_folders().unwrap(),
            vec![check("/old/Cafe\u{301}", None, 0), check("/w/plain", None, 0)],
            "one row per distinct folder, never looked at"
        );
        store
            .record_folder_checks(
                &[("/old/Cafe\u{301}".into(), "/old/Caf\u{e9}".into())],
                &[check("/old/Caf\u{e9}", None, 9), check("/w/plain", Some("/real/plain"), 9)],
            )
            .unwrap();
        let rows: Vec<(String, String, Option<String>)> = store
            .conn
            .prepare("SELECT session_id, project, rule_tags_fp FROM sessions ORDER BY 1")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                ("s1".to_string(), "/old/Caf\u{e9}".to_string(), None),
                ("s2".to_string(), "/old/Caf\u{e9}".to_string(), None),
                ("s3".to_string(), "/w/plain".to_string(), None),
            ],
            "renamed sessions and those whose folder leads elsewhere get their rule tags again"
        );
        assert_eq!(store.folder_check("/old/Cafe\u{301}").unwrap(), None);
        assert_eq!(store.missing_folders().unwrap(), vec![check("/old/Caf\u{e9}", None, 9)]);
    }
}

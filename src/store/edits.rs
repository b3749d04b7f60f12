//! The user's edits of planned entries and the days they approved (issue 19, notes/11-review.md): read
//! with the ledger, written by `review` and `entries`.

use std::collections::BTreeSet;

use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::params;

use super::Store;
use super::ledger::{instant, parse_date, parse_instant};
use crate::ledger::LedgerScope;
use crate::overrides::{Edits, Override};

impl Store {
    /// A workspace's edits and approved days.
    pub(crate) fn edits(&self, scope: LedgerScope<'_>) -> Result<Edits> {
        let mut edits = Edits::default();
        let scoped = params![scope.destination, scope.workspace_id];
        let mut statement = self.conn.prepare_cached(
            "SELECT entry_key, excluded, delete_confirmed, description, project_id, billable, span_start,
                span_end FROM overrides WHERE destination = ?1 AND workspace_id = ?2",
        )?;
        let rows = statement.query_map(scoped, |r| {
            let span: (Option<String>, Option<String>) = (r.get(6)?, r.get(7)?);
            let edit = Override {
                excluded: r.get(1)?,
                delete_confirmed: r.get(2)?,
                description: r.get(3)?,
                project_id: r.get(4)?,
                billable: r.get(5)?,
                span: None,
            };
            Ok((r.get::<_, String>(0)?, edit, span))
        })?;
        for row in rows {
            let (key, mut edit, span) = row?;
            if let (Some(start), Some(end)) = span {
                edit.span = Some((parse_instant(&start)?, parse_instant(&end)?));
            }
            edits.by_key.insert(key, edit);
        }
        edits.approved_days = self.days_of("approved_days", scope)?;
        edits.held_days = self.days_of("held_days", scope)?;
        Ok(edits)
    }

    /// The dates of a scope's rows in a table of days (`approved_days`, `held_days`).
    fn days_of(&self, table: &str, scope: LedgerScope<'_>) -> Result<BTreeSet<NaiveDate>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT date FROM {table} WHERE destination = ?1 AND workspace_id = ?2"
        ))?;
        let dates =
            statement.query_map(params![scope.destination, scope.workspace_id], |r| r.get::<_, String>(0))?;
        let mut days = BTreeSet::new();
        for date in dates {
            days.insert(parse_date(&date?)?);
        }
        Ok(days)
    }

    /// Keeps an entry's edits (an empty one removes the row), `at` dating them.
    pub(crate) fn save_override(
        &self,
        scope: LedgerScope<'_>,
        key: &str,
        edit: &Override,
        at: &str,
    ) -> Result<()> {
        if edit.is_empty() {
            self.conn
                .prepare_cached(
                    "DELETE FROM overrides WHERE destination = ?1 AND workspace_id = ?2 AND entry_key = ?3",
                )?
                .execute(params![scope.destination, scope.workspace_id, key])?;
            return Ok(());
        }
        self.conn
            .prepare_cached(
                "INSERT INTO overrides (destination, workspace_id, entry_key, excluded, delete_confirmed,
                    description, project_id, billable, updated_at, span_start, span_end)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (destination, workspace_id, entry_key) DO UPDATE SET excluded = excluded.excluded,
                    delete_confirmed = excluded.delete_confirmed, description = excluded.description,
                    project_id = excluded.project_id, billable = excluded.billable,
                    updated_at = excluded.updated_at, span_start = excluded.span_start,
                    span_end = excluded.span_end",
            )?
            .execute(params![
                scope.destination,
                scope.workspace_id,
                key,
                edit.excluded,
                edit.delete_confirmed,
                edit.description,
                edit.project_id,
                edit.billable,
                at,
                edit.span.map(|(start, _)| instant(start)),
                edit.span.map(|(_, end)| instant(end))
            ])?;
        Ok(())
    }

    /// Approves days for posting (`approve = true`); approving twice changes nothing.
    pub(crate) fn approve_days(&self, scope: LedgerScope<'_>, days: &[NaiveDate], at: &str) -> Result<()> {
        let mut insert = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO approved_days (destination, workspace_id, date, approved_at)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for day in days {
            insert.execute(params![scope.destination, scope.workspace_id, day.to_string(), at])?;
        }
        Ok(())
    }

    /// Records the days a real run held back for approval (kept until posted; a day posted since is
    /// passed over by [`crate::overrides::Edits::earliest_unposted`]).
    pub(crate) fn hold_days(&self, scope: LedgerScope<'_>, days: &[NaiveDate]) -> Result<()> {
        let mut insert = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO held_days (destination, workspace_id, date) VALUES (?1, ?2, ?3)",
        )?;
        for day in days {
            insert.execute(params![scope.destination, scope.workspace_id, day.to_string()])?;
        }
        Ok(())
    }
}

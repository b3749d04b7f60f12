//! Ledger tables: keyed entries per destination and workspace, the days complete, and the plans fixed
//! when a day's first entry went out. Rows are converted to the core's `ledger` types here.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::{TransactionBehavior, params};

use super::Store;
use crate::allocate::PlannedEntry;
use crate::ledger::{EntryState, KeyedEntry, Ledger, LedgerScope, Operation, Sent};
use crate::sync::steps::EntryMode;

impl Store {
    /// Everything recorded of one destination's workspace.
    pub(crate) fn ledger(&self, scope: LedgerScope<'_>) -> Result<Ledger> {
        let mut ledger = Ledger::default();
        let scoped = params![scope.destination, scope.workspace_id];
        let mut days = self.conn.prepare_cached(
            "SELECT date, mode FROM synced_days WHERE destination = ?1 AND workspace_id = ?2",
        )?;
        for row in days.query_map(scoped, |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (date, mode) = row?;
            let date = parse_date(&date)?;
            ledger.synced_days.insert(date);
            if mode == EntryMode::Sessions.name() {
                ledger.sessions_days.insert(date);
            }
        }
        for entry in self.keyed_entries(scope, None)? {
            ledger.entries.insert(entry.key.clone(), entry);
        }
        self.load_fixed_plans(scope, &mut ledger)?;
        ledger.edits = self.edits(scope)?;
        Ok(ledger)
    }

    /// Every running entry of every destination and workspace (also those no longer configured), and
    /// every start or update of a running entry whose answer was lost (it may be running).
    pub(crate) fn running_entries(&self) -> Result<Vec<crate::ledger::RunningEntry>> {
        let mut query = self.conn.prepare_cached(
            "SELECT destination, workspace_id, remote_id, start_utc FROM ledger
             WHERE state = 'running' OR (state IN ('intended', 'in_doubt') AND end_utc IS NULL)
             ORDER BY start_utc, destination, workspace_id",
        )?;
        let rows = query.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (destination, workspace_id, remote_id, start) = row?;
            Ok(crate::ledger::RunningEntry {
                destination,
                workspace_id,
                remote_id,
                start: parse_instant(&start)?,
            })
        })
        .collect()
    }

    /// One keyed entry as recorded now, if any.
    pub(crate) fn ledger_entry(&self, scope: LedgerScope<'_>, key: &str) -> Result<Option<KeyedEntry>> {
        Ok(self.keyed_entries(scope, Some(key))?.pop())
    }

    /// The remote ids the ledger holds for a scope (entries already ours, never to be adopted again).
    pub(crate) fn known_remote_ids(
        &self,
        scope: LedgerScope<'_>,
    ) -> Result<std::collections::HashSet<String>> {
        let mut query = self.conn.prepare_cached(
            "SELECT remote_id FROM ledger
             WHERE destination = ?1 AND workspace_id = ?2 AND remote_id IS NOT NULL",
        )?;
        let ids = query.query_map(params![scope.destination, scope.workspace_id], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// A scope's keyed entries, or the one of `key`.
    fn keyed_entries(&self, scope: LedgerScope<'_>, key: Option<&str>) -> Result<Vec<KeyedEntry>> {
        let mut query = self.conn.prepare_cached(
            "SELECT entry_key, remote_id, start_utc, end_utc, fingerprint, state, operation, adopted,
                 sent, project_id, description, tags, billable, reason
             FROM ledger WHERE destination = ?1 AND workspace_id = ?2 AND (?3 IS NULL OR entry_key = ?3)",
        )?;
        let rows = query.query_map(params![scope.destination, scope.workspace_id, key], |r| {
            Ok(LedgerRow {
                key: r.get(0)?,
                remote_id: r.get(1)?,
                start: r.get(2)?,
                end: r.get(3)?,
                fingerprint: r.get(4)?,
                state: r.get(5)?,
                operation: r.get(6)?,
                adopted: r.get(7)?,
                sent: r.get(8)?,
                project_id: r.get(9)?,
                description: r.get(10)?,
                tags: r.get(11)?,
                billable: r.get(12)?,
                reason: r.get(13)?,
            })
        })?;
        rows.map(|row| row?.into_entry()).collect()
    }

    fn load_fixed_plans(&self, scope: LedgerScope<'_>, ledger: &mut Ledger) -> Result<()> {
        let mut plans = self.conn.prepare_cached(
            "SELECT date, project_id, mapped_path, start_utc, end_utc, seconds, share_ppm, tags, billable
             FROM day_plans
             WHERE destination = ?1 AND workspace_id = ?2 ORDER BY date, start_utc",
        )?;
        let rows = plans.query_map(params![scope.destination, scope.workspace_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<bool>>(8)?,
            ))
        })?;
        for row in rows {
            let (date, project_id, mapped_path, start, end, seconds, share, tags, billable) = row?;
            ledger.fixed_plans.entry(parse_date(&date)?).or_default().push(PlannedEntry {
                project_id: Some(project_id).filter(|id| !id.is_empty()),
                mapped_path,
                start: parse_instant(&start)?,
                end: parse_instant(&end)?,
                seconds,
                share_ppm: u32::try_from(share).unwrap_or(0),
                tags: tags.lines().map(str::to_string).collect(),
                billable,
            });
        }
        Ok(())
    }

    /// Fixes a day's plan before its first entry goes out; a day already fixed keeps its plan.
    pub(crate) fn fix_day_plan(
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
                     end_utc, seconds, share_ppm, tags, billable)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for entry in entries {
                insert.execute(params![
                    scope.destination,
                    day,
                    scope.workspace_id,
                    entry.project_id.as_deref().unwrap_or(""),
                    entry.mapped_path,
                    instant(entry.start),
                    instant(entry.end),
                    entry.seconds,
                    entry.share_ppm,
                    entry.tags.join("\n"),
                    entry.billable
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Writes one keyed entry whole (an intent before a request, its outcome after, or a row restored
    /// after a refusal), replacing what was recorded under its key.
    pub(crate) fn write_entry(&self, scope: LedgerScope<'_>, entry: &KeyedEntry) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO ledger (destination, workspace_id, entry_key, remote_id, start_utc, end_utc,
                     fingerprint, state, operation, adopted, sent, project_id, description, tags, billable,
                     reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (destination, workspace_id, entry_key) DO UPDATE SET
                     remote_id = excluded.remote_id, start_utc = excluded.start_utc,
                     end_utc = excluded.end_utc, fingerprint = excluded.fingerprint, state = excluded.state,
                     operation = excluded.operation, adopted = excluded.adopted, sent = excluded.sent,
                     project_id = excluded.project_id, description = excluded.description,
                     tags = excluded.tags, billable = excluded.billable, reason = excluded.reason",
            )?
            .execute(params![
                scope.destination,
                scope.workspace_id,
                entry.key,
                entry.remote_id,
                instant(entry.start),
                entry.end.map(instant),
                entry.fingerprint,
                entry.state.name(),
                entry.operation.name(),
                entry.adopted,
                entry.sent.is_some(),
                entry.sent.as_ref().and_then(|s| s.project_id.as_deref()),
                entry.sent.as_ref().map_or("", |s| s.description.as_str()),
                serde_json::to_string(entry.sent.as_ref().map_or(&[][..], |s| &s.tags[..]))?,
                entry.sent.as_ref().and_then(|s| s.billable),
                entry.reason,
            ])?;
        Ok(())
    }

    /// Forgets a keyed entry: it was deleted on the service, or its create was refused.
    pub(crate) fn remove_entry(&self, scope: LedgerScope<'_>, key: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "DELETE FROM ledger WHERE destination = ?1 AND workspace_id = ?2 AND entry_key = ?3",
            )?
            .execute(params![scope.destination, scope.workspace_id, key])?;
        Ok(())
    }

    /// Marks a day complete in a mode: every entry of it is recorded. A day keeps the mode that first
    /// synced it.
    pub(crate) fn mark_day_synced(
        &self,
        scope: LedgerScope<'_>,
        date: NaiveDate,
        mode: EntryMode,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO synced_days (destination, date, workspace_id, synced_at, mode)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                scope.destination,
                date.to_string(),
                scope.workspace_id,
                instant(at),
                mode.name()
            ])?;
        Ok(())
    }

    /// When a day of this destination's workspace was last marked synced (the last run that finished
    /// something), for `status`.
    pub(crate) fn last_synced_at(&self, scope: LedgerScope<'_>) -> Result<Option<DateTime<Utc>>> {
        let last: Option<String> = self.conn.query_row(
            "SELECT MAX(synced_at) FROM synced_days WHERE destination = ?1 AND workspace_id = ?2",
            params![scope.destination, scope.workspace_id],
            |r| r.get(0),
        )?;
        last.as_deref().map(parse_instant).transpose()
    }
}

pub(super) fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(super) fn parse_instant(text: &str) -> Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("bad instant `{text}` in the database"))?
        .to_utc())
}

pub(super) fn parse_date(text: &str) -> Result<NaiveDate> {
    text.parse().with_context(|| format!("bad date `{text}` in the database"))
}

/// A `ledger` row as SQLite holds it, before it is checked and converted.
struct LedgerRow {
    key: String,
    remote_id: Option<String>,
    start: String,
    end: Option<String>,
    fingerprint: String,
    state: String,
    operation: String,
    adopted: bool,
    sent: bool,
    project_id: Option<String>,
    description: String,
    tags: String,
    billable: Option<bool>,
    reason: Option<String>,
}

impl LedgerRow {
    fn into_entry(self) -> Result<KeyedEntry> {
        let sent = if self.sent {
            let tags = serde_json::from_str(&self.tags)
                .with_context(|| format!("bad tags `{}` in the database", self.tags))?;
            Some(Sent {
                project_id: self.project_id,
                description: self.description,
                tags,
                billable: self.billable,
            })
        } else {
            None
        };
        Ok(KeyedEntry {
            start: parse_instant(&self.start)?,
            end: self.end.as_deref().map(parse_instant).transpose()?,
            state: EntryState::from_name(&self.state)
                .with_context(|| format!("bad state `{}` in the database", self.state))?,
            operation: Operation::from_name(&self.operation)
                .with_context(|| format!("bad operation `{}` in the database", self.operation))?,
            key: self.key,
            remote_id: self.remote_id,
            fingerprint: self.fingerprint,
            adopted: self.adopted,
            sent,
            reason: self.reason,
        })
    }
}

//! What `entries` lists and `review` shows: one row per planned entry of a destination, with its key
//! (what the edits are kept against), times, project, what is sent, and where it stands. Pure: rows in,
//! text and JSON out; `planning::entry_rows` builds the rows from a plan.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;

/// Where a listed entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowState {
    /// Not posted yet: the next `sync`/`push` posts it.
    New,
    /// Posted, as it is now planned.
    Posted,
    /// Posted; the next run updates it (the work or an edit changed it).
    ToUpdate,
    /// Posted; the next run deletes it (no work stands for it, or its exclusion was confirmed).
    ToDelete,
    /// Excluded: never posted.
    Excluded,
    /// Excluded, and still on the service until its deletion is confirmed.
    ExcludedPosted,
    /// Its day waits for the user's approval (`approve = true`).
    Waiting,
    /// Deleted by the user in the service: not posted again.
    DeletedThere,
}

impl RowState {
    /// How the listing says it (also `--json`'s `state`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            RowState::New => "new",
            RowState::Posted => "posted",
            RowState::ToUpdate => "to update",
            RowState::ToDelete => "to delete",
            RowState::Excluded => "excluded",
            RowState::ExcludedPosted => "excluded, still posted",
            RowState::Waiting => "waiting for approval",
            RowState::DeletedThere => "deleted in the service",
        }
    }
}

/// One entry as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryRow {
    pub(crate) destination: &'static str,
    pub(crate) date: NaiveDate,
    pub(crate) key: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) project_id: Option<String>,
    /// The project as the listings show it: `/w/shop -> p-shop (Shop)`.
    pub(crate) project: String,
    pub(crate) description: String,
    pub(crate) tags: Vec<String>,
    pub(crate) billable: Option<bool>,
    pub(crate) state: RowState,
    /// The user edited it (description, project or billable).
    pub(crate) edited: bool,
}

impl EntryRow {
    /// A short handle for the key (8 hex digits of its hash), what the listing shows and the edits take:
    /// keys hold dates, project ids and tags, too long to type.
    pub(crate) fn id(&self) -> String {
        short_id(&self.key)
    }

    /// True when `name` is this entry's key or its short id.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        self.key == name || self.id() == name
    }
}

/// Each row's times and duration as shown: per destination and day, in the listing's order, so that a
/// day's durations add up ([`crate::figures::shown_spans`], as the dry runs show them).
pub(crate) fn shown(rows: &[EntryRow]) -> Vec<crate::figures::ShownSpan> {
    let mut shown = Vec::with_capacity(rows.len());
    let mut start = 0;
    while start < rows.len() {
        let same = |r: &EntryRow| r.destination == rows[start].destination && r.date == rows[start].date;
        let end = start + rows[start..].iter().take_while(|r| same(r)).count();
        let spans: Vec<_> = rows[start..end].iter().map(|r| (r.start, r.end)).collect();
        shown.extend(crate::figures::shown_spans(&spans));
        start = end;
    }
    shown
}

/// An entry key's short id ([`EntryRow::id`]).
pub(crate) fn short_id(key: &str) -> String {
    format!("{:08x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()) >> 32)
}

/// The text listing: a heading per destination and day, an entry per line (its id first), then how to
/// edit.
pub(crate) fn text(rows: &[EntryRow], tz: Tz) -> String {
    if rows.is_empty() {
        return "no entries in this range: `claude-tracker entries --since DATE` lists earlier days\n"
            .to_string();
    }
    let mut text = String::new();
    let mut heading = (None, None);
    for (row, span) in rows.iter().zip(shown(rows)) {
        if heading != (Some(row.destination), Some(row.date)) {
            heading = (Some(row.destination), Some(row.date));
            text.push_str(&format!("{} {} {}\n", row.destination, row.date, row.date.format("%a")));
        }
        let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%H:%M").to_string();
        let tags = if row.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", crate::figures::tag_list(&row.tags))
        };
        let billable = match row.billable {
            Some(true) => "  billable: yes",
            Some(false) => "  billable: no",
            None => "",
        };
        text.push_str(&format!(
            "  {}  {}-{} {:>5}  {}  \"{}\"{tags}{billable}  ({}{})\n",
            row.id(),
            local(span.start()),
            local(span.end()),
            crate::figures::duration(span.minutes()),
            row.project,
            row.description,
            row.state.name(),
            if row.edited { ", edited" } else { "" }
        ));
    }
    text.push_str(
        "\n`claude-tracker entries exclude|include|describe|project|billable KEY ...` edits one; `approve DATE` \
         approves a day\n",
    );
    text
}

/// `--json`: one object per entry.
pub(crate) fn json(rows: &[EntryRow]) -> String {
    let values: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::json!({
                "destination": row.destination,
                "date": row.date.to_string(),
                "id": row.id(),
                "key": row.key,
                "start": row.start.to_rfc3339_opts(SecondsFormat::Secs, true),
                "end": row.end.to_rfc3339_opts(SecondsFormat::Secs, true),
                "project_id": row.project_id,
                "project": row.project,
                "description": row.description,
                "tags": row.tags,
                "billable": row.billable,
                "state": row.state.name(),
                "edited": row.edited,
            })
        })
        .collect();
    serde_json::to_string(&values).unwrap_or_default() + "\n"
}

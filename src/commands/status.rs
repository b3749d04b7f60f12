//! `claude-tracker status`: one screen of what the tool sees and what is waiting (text or `--json`):
//! where transcripts are read from, the database, the last ingest, each destination's mode, last sync
//! and days waiting, and the warnings that matter. It reads files' metadata, the database and Claude
//! Code's settings; it never ingests, and never asks a service anything.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use crate::app::App;
use crate::destination::Destination;
use crate::planning::{DestinationStatus, destination_states};
use crate::store::{FileState, Store};
use crate::transcripts::discover::{TranscriptFile, discover, folder_states, open_problem};

use crate::connect::project_ids_key;
use crate::refresh::LAST_INGEST;

/// Claude Code's default `cleanupPeriodDays`.
const DEFAULT_CLEANUP_DAYS: i64 = 30;
/// A transcript this close to its deletion, with lines not yet read, is worth a warning.
const WARN_DAYS_BEFORE_DELETION: i64 = 3;

/// What `status` shows.
struct Status {
    folders: Vec<PathBuf>,
    files: usize,
    oldest_change: Option<DateTime<Utc>>,
    db_path: PathBuf,
    db_bytes: u64,
    sessions: u64,
    last_ingest: Option<DateTime<Utc>>,
    cleanup_days: i64,
    destinations: Vec<DestinationStatus>,
    share: Option<ShareStatus>,
    warnings: Vec<String>,
}

/// The shared folder as the last run left it: this machine, and each other machine's file.
struct ShareStatus {
    dir: PathBuf,
    machine: String,
    machine_id: Option<String>,
    others: Vec<OtherMachine>,
}

/// Another machine's file in the shared folder, as last read (or skipped).
struct OtherMachine {
    name: String,
    file: String,
    written_at: Option<DateTime<Utc>>,
    read_at: Option<DateTime<Utc>>,
    problem: Option<String>,
}

/// Runs `status`.
pub(crate) fn run(app: &App, json: bool) -> Result<()> {
    let store = app.open_store_to_read()?;
    let status = gather(app, &store)?;
    let text = if json { as_json(&status) } else { as_text(&status, app) };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

fn gather(app: &App, store: &Store) -> Result<Status> {
    let (files, problems) = discover(&app.projects_dirs);
    let last_ingest =
        store.cached(LAST_INGEST)?.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.to_utc());
    let cleanup_days = cleanup_period_days(app);
    let mut warnings =
        crate::refresh::transcripts_folder_warnings(app, &folder_states(&app.projects_dirs, &files));
    warnings.extend(problems);
    let read = store.file_states()?;
    warnings.extend(files.iter().filter(|file| is_unread(&read, file)).filter_map(open_problem));
    warnings.extend(cleanup_warnings(app, &read, &files, last_ingest, cleanup_days));
    warnings.extend(crate::secrets::permission_warnings(
        &app.config_path,
        app.config.holds_secret(),
        &app.secret_store,
    ));
    let destinations = destination_states(app, store)?;
    for state in &destinations {
        warnings.extend(mapping_warnings(store, &state.destination, &state.workspace)?);
    }
    warnings.extend(crate::connect::timer_warnings(app, store)?);
    let share = share_status(app, store)?;
    // A `post_from` naming no machine ever met: nothing is posted anywhere.
    let names = store.machine_names()?;
    for state in &destinations {
        if let Some(poster) = state.destination.posted_elsewhere(&app.machine)
            && !names.values().any(|name| name == poster)
        {
            warnings.push(format!(
                "{} is posted from `{poster}` (`post_from`), and no machine of that name has shared its sessions \
                 here yet: if that is not a typo, run any command on `{poster}` with the same `[share] dir`; else \
                 fix `post_from` in {} (this machine is `{}`)",
                state.destination.service.name(),
                app.config_path.display(),
                app.machine
            ));
        }
    }
    if let Some(share) = &share {
        for other in share.others.iter().filter(|o| o.problem.is_some()) {
            warnings.push(format!(
                "the shared file {} was skipped: {}",
                other.file,
                other.problem.as_deref().unwrap_or_default()
            ));
        }
    }
    Ok(Status {
        folders: app.projects_dirs.clone(),
        files: files.len(),
        oldest_change: files.iter().map(|f| f.mtime_ns).min().map(from_nanos),
        db_path: app.db_path.clone(),
        db_bytes: store.size_bytes()?,
        sessions: store.session_count()?,
        last_ingest,
        cleanup_days,
        destinations,
        share,
        warnings,
    })
}

/// What the last run read of the shared folder (status reads no file of it).
fn share_status(app: &App, store: &Store) -> Result<Option<ShareStatus>> {
    let Some(dir) = &app.share_dir else { return Ok(None) };
    let names = store.machine_names()?;
    let instant =
        |text: Option<&str>| text.and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc());
    let others = store
        .shared_files()?
        .into_values()
        .map(|file| OtherMachine {
            name: file
                .machine_id
                .as_ref()
                .and_then(|id| names.get(id).cloned())
                .unwrap_or_else(|| "(unknown)".to_string()),
            file: file.path.clone(),
            written_at: instant(file.written_at.as_deref()),
            read_at: DateTime::from_timestamp_millis(file.read_ms),
            problem: file.problem,
        })
        .collect();
    Ok(Some(ShareStatus {
        dir: dir.clone(),
        machine: app.machine.clone(),
        machine_id: store.known_machine_id()?,
        others,
    }))
}

fn from_nanos(nanos: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(nanos)
}

/// `cleanupPeriodDays` from Claude Code's settings, else its default.
fn cleanup_period_days(app: &App) -> i64 {
    app.claude_settings
        .as_ref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|settings| settings.get("cleanupPeriodDays").and_then(serde_json::Value::as_i64))
        .filter(|days| *days > 0)
        // A century at most: what Claude Code would keep is then "for ever", and date arithmetic holds.
        .map_or(DEFAULT_CLEANUP_DAYS, |days| days.min(36_500))
}

/// Whether `file` has changed since the last ingest read it (or was never read): a transcript that
/// cannot be opened is worth a warning only then (one read before and unchanged is in the database).
fn is_unread(read: &HashMap<PathBuf, FileState>, file: &TranscriptFile) -> bool {
    read.get(&file.path).is_none_or(|state| state.size != file.size || state.mtime_ns != file.mtime_ns)
}

/// Claude Code deletes transcripts unchanged for `cleanupPeriodDays`: an ingest older than that may have
/// missed some for good; a transcript about to go with lines not yet read should be read now.
fn cleanup_warnings(
    app: &App,
    read: &HashMap<PathBuf, FileState>,
    files: &[TranscriptFile],
    last_ingest: Option<DateTime<Utc>>,
    cleanup_days: i64,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let period = chrono::Duration::days(cleanup_days);
    if let Some(last) = last_ingest.filter(|last| app.now - *last > period) {
        warnings.push(format!(
            "the last ingest was {} days ago and Claude Code deletes transcripts unchanged for {cleanup_days} \
             days (`cleanupPeriodDays`): sessions in transcripts deleted since are lost; run `claude-tracker \
             ingest` now, and often (`claude-tracker watch` keeps up)",
            (app.now - last).num_days()
        ));
    }
    let unread = files.iter().filter(|file| is_unread(read, file));
    if let Some(oldest) = unread.min_by_key(|file| file.mtime_ns) {
        let goes = from_nanos(oldest.mtime_ns) + period;
        let days_left = (goes - app.now).num_days();
        if goes > app.now && days_left < WARN_DAYS_BEFORE_DELETION {
            warnings.push(format!(
                "{} holds lines not yet read and Claude Code deletes it in {} (unchanged for {cleanup_days} \
                 days): run `claude-tracker ingest`",
                oldest.path.display(),
                if days_left == 0 { "less than a day".to_string() } else { format!("{days_left} days") }
            ));
        }
    }
    warnings
}

/// Mapped ids (and the Other project) the service no longer listed when its projects were last listed
/// (`clockify projects`, `toggl projects`); no request is made.
fn mapping_warnings(store: &Store, destination: &Destination, workspace: &str) -> Result<Vec<String>> {
    let service = destination.service;
    let Some((listed_at, ids)) = store
        .cached(&project_ids_key(service, workspace))?
        .and_then(|text| serde_json::from_str::<(String, Vec<String>)>(&text).ok())
    else {
        return Ok(Vec::new());
    };
    let section = service.key();
    let mut mapped: Vec<(String, &str)> = destination
        .rules
        .mapping
        .keys()
        .filter_map(|key| {
            Some((format!("[{section}.project_mapping] \"{key}\""), destination.rules.mapping.id_of(key)?))
        })
        .collect();
    if let Some(other) = &destination.rules.other_project_id {
        mapped.push((format!("[{section}] other_project_id"), other.as_str()));
    }
    Ok(mapped
        .into_iter()
        .filter(|(_, id)| !ids.iter().any(|listed| listed == id))
        .map(|(setting, id)| {
            format!(
                "{setting} = {id}: {} did not list that project on {listed_at} (`claude-tracker {section} \
                 projects`): fix the id, or list the projects again if it is new",
                service.name()
            )
        })
        .collect())
}

fn as_text(status: &Status, app: &App) -> String {
    let when = |at: Option<DateTime<Utc>>| {
        at.map_or_else(
            || "never".to_string(),
            |at| at.with_timezone(&app.tz).format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    let folders: Vec<String> = status.folders.iter().map(|f| f.display().to_string()).collect();
    let mut text = format!(
        "transcripts: {} files in {} (oldest changed {}); Claude Code deletes them after {} days unchanged\n",
        status.files,
        if folders.is_empty() { "no folder found".to_string() } else { folders.join(", ") },
        status.oldest_change.map_or_else(|| "-".to_string(), |at| when(Some(at))),
        status.cleanup_days
    );
    text.push_str(&format!(
        "database: {} ({} KB, {} sessions); last ingest {}\n",
        status.db_path.display(),
        status.db_bytes.div_ceil(1024),
        status.sessions,
        when(status.last_ingest)
    ));
    for destination in &status.destinations {
        let mut extra = String::new();
        if let Some(since) = destination.running_since {
            extra.push_str(&format!("; a timer running since {}", when(Some(since))));
        }
        if destination.in_doubt > 0 {
            extra.push_str(&format!(
                "; {} in doubt (a lost answer: the next run looks before sending)",
                destination.in_doubt
            ));
        }
        if destination.refused > 0 {
            extra.push_str(&format!("; {} refused (the next run retries them)", destination.refused));
        }
        if let Some(poster) = destination.destination.posted_elsewhere(&app.machine) {
            extra.push_str(&format!("; posted from `{poster}`, not from this machine"));
        }
        text.push_str(&format!(
            "{} ({} mode): last sync {}; {} day(s) waiting{extra}\n",
            destination.destination.service.name(),
            destination.destination.mode.name(),
            when(destination.last_sync),
            destination.days_waiting
        ));
    }
    if status.destinations.is_empty() {
        text.push_str("no destination configured (config.example.toml shows [clockify] and [toggl])\n");
    }
    if let Some(share) = &status.share {
        text.push_str(&share_text(share, app, &when));
    }
    if status.warnings.is_empty() {
        text.push_str("no warnings\n");
    } else {
        text.push_str("warnings:\n");
        for warning in &status.warnings {
            text.push_str(&format!("  - {warning}\n"));
        }
    }
    text.push_str(&format!("({} time zone)\n", app.tz.name()));
    text
}

/// `shared folder: …` and a line per other machine: when its file was written (and how long ago), when
/// this machine last read it.
fn share_text(share: &ShareStatus, app: &App, when: &dyn Fn(Option<DateTime<Utc>>) -> String) -> String {
    let id = share.machine_id.as_deref().map_or("none yet", |id| id.get(..8).unwrap_or(id));
    let mut text =
        format!("shared folder: {} (this machine: {}, id {id})\n", share.dir.display(), share.machine);
    if share.others.is_empty() {
        text.push_str("  no other machine's file read yet\n");
    }
    for other in &share.others {
        let age = other.written_at.map_or_else(String::new, |at| {
            format!(" ({} ago)", crate::figures::duration((app.now - at).num_minutes()))
        });
        let state = match &other.problem {
            Some(_) => format!("skipped at {} (see warnings)", when(other.read_at)),
            None => format!("written {}{age}, read {}", when(other.written_at), when(other.read_at)),
        };
        text.push_str(&format!("  {}: {} {state}\n", other.name, other.file));
    }
    text
}

fn as_json(status: &Status) -> String {
    let instant = |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true));
    let value = json!({
        "transcripts": {
            "folders": status.folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "files": status.files,
            "oldest_change": instant(status.oldest_change),
            "cleanup_period_days": status.cleanup_days,
        },
        "database": {
            "path": status.db_path.display().to_string(),
            "bytes": status.db_bytes,
            "sessions": status.sessions,
            "last_ingest": instant(status.last_ingest),
        },
        "destinations": status.destinations.iter().map(|d| json!({
            "destination": d.destination.service.key(),
            "mode": d.destination.mode.name(),
            "last_sync": instant(d.last_sync),
            "days_waiting": d.days_waiting,
            "running_since": instant(d.running_since),
            "in_doubt": d.in_doubt,
            "refused": d.refused,
        })).collect::<Vec<_>>(),
        "share": status.share.as_ref().map(|share| json!({
            "dir": share.dir.display().to_string(),
            "machine": share.machine,
            "machine_id": share.machine_id,
            "machines": share.others.iter().map(|o| json!({
                "machine": o.name,
                "file": o.file,
                "written_at": instant(o.written_at),
                "read_at": instant(o.read_at),
                "problem": o.problem,
            })).collect::<Vec<_>>(),
        })),
        "warnings": status.warnings,
    });
    serde_json::to_string(&value).unwrap_or_default() + "\n"
}

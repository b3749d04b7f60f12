//! The shared folder (`[share] dir`): each machine writes its own sessions to `<dir>/<machine>.jsonl`
//! (a temp file renamed over it, so a syncing tool never carries half a file) and merges every other
//! machine's file that changed since it last read it. A file that is half-synced, damaged, unreadable
//! or newer is skipped with a warning and tried again on the next run; nothing of it is merged. No
//! server, no daemon, no network code: the folder is kept alike by what the user already runs.
//! notes/10-many-machines.md.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::app::App;
use crate::portable::{self, MachineRef};
use crate::store::{MergeCounts, SharedFileState, Store};

/// The meta key of what this machine last wrote to the folder: `<generation>|<path>`.
const META_WRITTEN: &str = "share.written";

/// What one pass over the folder did.
#[derive(Debug, Default)]
pub(crate) struct SharePass {
    pub(crate) merged: MergeCounts,
    /// Files merged this pass.
    pub(crate) files_read: usize,
    /// What went wrong, each with what to do (said on stderr by the caller).
    pub(crate) warnings: Vec<String>,
}

/// This machine as it names itself in the folder and in reports (its id made if it had none).
pub(crate) fn this_machine(app: &App, store: &mut Store) -> Result<MachineRef> {
    let machine = MachineRef { id: store.local_machine_id()?, name: app.machine.clone() };
    store.name_machine(&machine)?;
    Ok(machine)
}

/// One pass over the shared folder by `machine` ([`this_machine`]): the other machines' changed files
/// merged, then this machine's file written if its sessions changed since it was last written. Nothing
/// to do without `[share] dir`.
pub(crate) fn pass(app: &App, store: &mut Store, machine: &MachineRef) -> Result<SharePass> {
    let Some(dir) = app.share_dir.as_deref() else { return Ok(SharePass::default()) };
    let mut done = SharePass::default();
    if !dir.is_dir() {
        done.warnings.push(format!(
            "the shared folder {} (`[share] dir` in {}) does not exist: create it (or let your syncing tool \
             create it), or fix `dir`; nothing was shared",
            dir.display(),
            app.config_path.display()
        ));
        return Ok(done);
    }
    let own = own_file(dir, machine, &mut done.warnings);
    read_others(app, store, dir, machine, &own, &mut done)?;
    // A folder this machine cannot write (permissions, a full disk) leaves the sessions local: said,
    // never a reason for the command to fail.
    if let Err(error) = write_own(app, store, machine, &own) {
        done.warnings.push(format!(
            "this machine's sessions were not written to the shared folder ({error:#}); the other machines do \
             not see them until it can: check the folder's permissions and free space"
        ));
    }
    Ok(done)
}

/// `<dir>/<name>.jsonl`, unless a machine of the same name (another id) writes there: then
/// `<dir>/<name>-<first 8 of the id>.jsonl`, with a warning to give this one its own name.
fn own_file(dir: &Path, machine: &MachineRef, warnings: &mut Vec<String>) -> PathBuf {
    let plain = dir.join(format!("{}.jsonl", machine.name));
    let other = first_line(&plain).ok().and_then(|line| portable::header(&line).ok()).map(|h| h.machine.id);
    match other {
        Some(id) if id != machine.id => {
            warnings.push(format!(
                "another machine is also named `{}` in the shared folder ({}): this one writes {}-{}.jsonl \
                 instead; give each machine its own `[share] machine` name",
                machine.name,
                dir.display(),
                machine.name,
                short(&machine.id)
            ));
            dir.join(format!("{}-{}.jsonl", machine.name, short(&machine.id)))
        }
        _ => plain,
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn first_line(path: &Path) -> std::io::Result<String> {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(std::fs::File::open(path)?).read_line(&mut line)?;
    Ok(line)
}

/// Writes this machine's sessions when they changed since the last write (or the file is gone).
fn write_own(app: &App, store: &mut Store, machine: &MachineRef, path: &Path) -> Result<()> {
    let mark = format!("{}|{}", store.generation()?, path.display());
    if store.cached(META_WRITTEN)?.as_deref() == Some(mark.as_str()) && path.exists() {
        return Ok(());
    }
    let sessions = store.portable_sessions(true)?;
    let written_at = app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let text = portable::write(machine, &written_at, &sessions);
    // A temp file beside it, flushed, renamed over it: a syncing tool carries the old file or the new.
    crate::files::replace(path, &text, None)?;
    store.cache(META_WRITTEN, &mark)?;
    Ok(())
}

/// Merges every other machine's `.jsonl` file that changed since it was last read (or was skipped).
fn read_others(
    app: &App,
    store: &mut Store,
    dir: &Path,
    machine: &MachineRef,
    own: &Path,
    done: &mut SharePass,
) -> Result<()> {
    let mut known = store.shared_files()?;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            done.warnings.push(format!(
                "cannot read the shared folder {}: {error}; check its permissions",
                dir.display()
            ));
            return Ok(());
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl") && path != own)
        .collect();
    files.sort();
    for path in files {
        let key = path.to_string_lossy().into_owned();
        let previous = known.remove(&key);
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        let (size, mtime_ns) = (meta.len(), mtime_ns(&meta));
        let unchanged = previous
            .as_ref()
            .is_some_and(|p| p.size == size && p.mtime_ns == mtime_ns && p.problem.is_none());
        if unchanged {
            continue;
        }
        let mut state = SharedFileState {
            path: key,
            machine_id: None,
            size,
            mtime_ns,
            written_at: None,
            read_ms: app.now.timestamp_millis(),
            problem: None,
        };
        match read_one(&path, machine) {
            Ok(None) => {}
            Ok(Some(parsed)) => {
                state.machine_id = Some(parsed.header.machine.id.clone());
                state.written_at = Some(parsed.header.written_at.clone());
                for (line, why) in &parsed.refused {
                    done.warnings.push(format!(
                        "{}:{line}: a session line does not read ({why}); the file's other sessions were merged",
                        path.display()
                    ));
                }
                store.name_machine(&parsed.header.machine)?;
                let counts = store.merge_sessions(parsed.sessions, app.config.capture.time_model())?;
                done.merged.added += counts.added;
                done.merged.extended += counts.extended;
                done.merged.unchanged += counts.unchanged;
                done.files_read += 1;
            }
            Err(why) => {
                done.warnings.push(format!(
                    "skipped {} from the shared folder: {why}; it is tried again on the next run",
                    path.display()
                ));
                state.problem = Some(why);
            }
        }
        store.record_shared_file(&state)?;
    }
    // Files gone from the folder: forgotten (their sessions stay).
    for gone in known.keys() {
        store.forget_shared_file(gone)?;
    }
    Ok(())
}

/// One machine's file read whole; `None` when it is this machine's own (under an old name).
fn read_one(path: &Path, machine: &MachineRef) -> Result<Option<portable::Parsed>, String> {
    let bytes = std::fs::read(path).map_err(|error| format!("cannot read it ({error})"))?;
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text: it was damaged".to_string())?;
    let parsed = portable::parse(&text).map_err(|error| error.to_string())?;
    if parsed.header.machine.id == machine.id {
        return Ok(None);
    }
    Ok(Some(parsed))
}

#[cfg(unix)]
fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime().saturating_mul(1_000_000_000).saturating_add(meta.mtime_nsec())
}

#[cfg(not(unix))]
fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

//! The capture pipeline: find transcripts, read only what is new, parse it in parallel, and record the
//! result in the store in one transaction. A re-run over unchanged files reads no file contents: size and
//! modification time decide, and a grown file is read from the byte where the last run stopped. Every
//! `cwd` is brought to NFC on its way into the store, and each new folder is looked at on disk once
//! (symlinks followed) so rules and mappings can match where it leads (`notes/09-paths.md`). The folders
//! of the sessions this ingest changed are asked for their git commits (`git`, in parallel; a folder in
//! no repository costs no process), so descriptions can say what was done (`notes/11-descriptions.md`);
//! an ingest that changes no session runs no `git`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono_tz::Tz;
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::folders::{FolderCheck, is_resolvable, outcome, plan_pass};
use crate::git::Scan;
use crate::sessions::{Millis, SessionDigests};
use crate::store::{CommitScan, FileState, FileUpdate, Store, TimeModel};
use crate::transcripts::discover::{FolderState, TranscriptFile, discover, folder_states, unreadable};
use crate::transcripts::parse::{ChunkContext, ParsedChunk, SkippedLine, parse_chunk};
use crate::transcripts::read_from;
use crate::workday;

/// How many bytes before the parsed offset are hashed to tell an appended file from a rewritten one.
const TAIL_BYTES: u64 = 256;

/// What the ingest reads besides the lines themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IngestSettings {
    /// How activity becomes time.
    pub(crate) model: TimeModel,
    /// `[capture] keep_titles`: read and keep the titles Claude Code writes for sessions.
    pub(crate) keep_titles: bool,
    /// The local days commits are read over.
    pub(crate) tz: Tz,
}

/// What an ingest did, for the summary line and `--verbose`.
#[derive(Debug, Default)]
pub(crate) struct IngestSummary {
    pub(crate) files_seen: usize,
    pub(crate) files_read: usize,
    pub(crate) bytes_read: u64,
    pub(crate) sessions_updated: usize,
    /// Files with skipped lines, each line with its number and reason.
    pub(crate) skipped: Vec<(PathBuf, Vec<SkippedLine>)>,
    /// Empty transcript files (nothing to read, but worth a mention under `--verbose`).
    pub(crate) empty_files: Vec<PathBuf>,
    /// Folders or files that could not be read at all.
    pub(crate) problems: Vec<String>,
    /// Each folder searched and what it holds (for `ingest`'s folder warnings).
    pub(crate) folders: Vec<(PathBuf, FolderState)>,
    /// Why some folder's commits were not read (no `git`, `git` failed), for `--verbose`.
    pub(crate) commit_notes: Vec<String>,
}

impl IngestSummary {
    /// Number of lines passed over.
    pub(crate) fn skipped_lines(&self) -> usize {
        self.skipped.iter().map(|(_, lines)| lines.len()).sum()
    }
}

struct FileOutcome {
    update: FileUpdate,
    chunk: ParsedChunk,
    bytes_read: u64,
}

/// Reads new and changed transcripts under `roots` into the store, then looks at the folders due (`now_ms`
/// dates the looks).
pub(crate) fn ingest(
    store: &mut Store,
    roots: &[PathBuf],
    settings: IngestSettings,
    now_ms: Millis,
) -> Result<IngestSummary> {
    // Before anything is read: turned on, every file is read again (titles written before are found).
    store.apply_keep_titles(settings.keep_titles)?;
    let (files, problems) = discover(roots);
    let known = store.file_states()?;
    let changed: Vec<(&TranscriptFile, Option<FileState>)> = files
        .iter()
        .map(|file| (file, known.get(&file.path).copied()))
        .filter(|(file, state)| state.is_none_or(|s| s.size != file.size || s.mtime_ns != file.mtime_ns))
        .collect();
    let outcomes: Vec<Result<FileOutcome, String>> =
        changed.par_iter().map(|(file, state)| read_file(file, *state, settings.keep_titles)).collect();

    let folders = folder_states(roots, &files);
    let mut summary =
        IngestSummary { files_seen: files.len(), problems, folders, ..IngestSummary::default() };
    let mut sessions = SessionDigests::default();
    let mut updates = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(problem) => {
                summary.problems.push(problem);
                continue;
            }
        };
        summary.files_read += 1;
        summary.bytes_read += outcome.bytes_read;
        if outcome.update.state.size == 0 {
            summary.empty_files.push(outcome.update.path.clone());
        }
        if !outcome.chunk.skipped.is_empty() {
            summary.skipped.push((outcome.update.path.clone(), outcome.chunk.skipped));
        }
        for (session_id, digest) in outcome.chunk.sessions {
            sessions.absorb(session_id, digest);
        }
        sessions.titles.extend(outcome.chunk.titles);
        updates.push(outcome.update);
    }
    let folders = session_folders(&sessions);
    let windows = commit_windows(&sessions, settings);
    summary.sessions_updated = store.record_ingest(sessions, &updates, settings.model)?;
    resolve_folders(store, folders, now_ms)?;
    summary.commit_notes = record_commits(store, windows)?;
    Ok(summary)
}

/// For each folder of a session this ingest changed, the window its commits are read over: from the
/// start of the local day before the first new line (less the idle threshold: a commit in a gap the
/// next line closes), so that a commit made late the evening before, after the last line read then, is
/// found the next morning; to the end of the local day of the last new line. Whole days, because a
/// workday entry names the commits of its day.
fn commit_windows(sessions: &SessionDigests, settings: IngestSettings) -> BTreeMap<String, (Millis, Millis)> {
    let mut windows: BTreeMap<String, (Millis, Millis)> = BTreeMap::new();
    for digest in sessions.by_id.values() {
        let (Some(&first), Some(&last)) = (digest.activity.first(), digest.activity.last()) else { continue };
        let day = |at: Millis| {
            workday::local_date(chrono::DateTime::from_timestamp_millis(at).unwrap_or_default(), settings.tz)
        };
        let from = day(first - settings.model.idle_ms).pred_opt();
        let to = day(last).succ_opt();
        let (Some(from), Some(to)) = (from, to) else { continue };
        let window = (
            workday::day_start(from, settings.tz).timestamp_millis(),
            workday::day_start(to, settings.tz).timestamp_millis(),
        );
        let places = digest.places.iter().map(|place| &place.cwd);
        for cwd in digest.origin.as_ref().map(|origin| &origin.cwd).into_iter().chain(places) {
            let slot = windows.entry(cwd.clone()).or_insert(window);
            *slot = (slot.0.min(window.0), slot.1.max(window.1));
        }
    }
    windows
}

/// Reads each folder's commits over its window (in parallel) and records what was found; the notes are
/// why a folder gave nothing (no `git` is said once). A folder in no repository says nothing.
fn record_commits(store: &mut Store, windows: BTreeMap<String, (Millis, Millis)>) -> Result<Vec<String>> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let scans: Vec<(String, (Millis, Millis), Scan)> = windows
        .into_par_iter()
        .map(|(folder, window)| {
            let scan = crate::git::commits_in(&folder, window);
            (folder, window, scan)
        })
        .collect();
    let mut found = Vec::new();
    let mut notes = Vec::new();
    let mut no_git = false;
    for (folder, window, scan) in scans {
        match scan {
            Scan::Found(commits) => found.push(CommitScan { folder, window, commits }),
            Scan::NotARepository => {}
            Scan::NoGit => no_git = true,
            Scan::Failed(why) => notes.push(format!("{folder}: commits not read: {why}")),
        }
    }
    if no_git {
        notes.insert(0, "no `git` on the PATH: `{commits}` stays empty".to_string());
    }
    store.record_commits(&found)?;
    Ok(notes)
}

/// The folders this ingest's sessions worked in (their first folder and every `/cd` move), already in
/// NFC (the parser normalizes every `cwd` it keeps): the ones to look at on disk.
fn session_folders(sessions: &SessionDigests) -> BTreeSet<String> {
    let mut folders = BTreeSet::new();
    for digest in sessions.by_id.values() {
        let places = digest.places.iter().map(|place| &place.cwd);
        for cwd in digest.origin.as_ref().map(|origin| &origin.cwd).into_iter().chain(places) {
            if !folders.contains(cwd) {
                folders.insert(cwd.clone());
            }
        }
    }
    folders
}

/// Looks on disk at the folders due (this ingest's folders never looked at, those missing a day ago or
/// more, stored ones still in NFD) and records where each leads. Nothing due: no write.
fn resolve_folders(store: &mut Store, seen: BTreeSet<String>, now_ms: Millis) -> Result<()> {
    let mut known: BTreeMap<String, Option<FolderCheck>> =
        store.missing_folders()?.into_iter().map(|check| (check.path.clone(), Some(check))).collect();
    for path in seen {
        if let std::collections::btree_map::Entry::Vacant(slot) = known.entry(path) {
            let check = store.folder_check(slot.key())?;
            slot.insert(check);
        }
    }
    let pass = plan_pass(&known, now_ms);
    let checks: Vec<FolderCheck> = pass.due.into_iter().map(|path| look_at(path, now_ms)).collect();
    store.record_folder_checks(&pass.renames, &checks)
}

/// What the disk says of one folder now: its canonical path (symlinks followed), none when it does not
/// exist here or is not a path of this machine.
fn look_at(path: String, now_ms: Millis) -> FolderCheck {
    let canonical = if is_resolvable(&path) { std::fs::canonicalize(&path).ok() } else { None };
    let resolved = outcome(canonical.as_deref().and_then(Path::to_str));
    FolderCheck { path, resolved, checked_ms: now_ms }
}

/// Reads the unparsed part of one file (all of it when it shrank or was rewritten) and parses it.
fn read_file(
    file: &TranscriptFile,
    known: Option<FileState>,
    keep_titles: bool,
) -> Result<FileOutcome, String> {
    let describe = |e: std::io::Error| unreadable("transcript", &file.path, &e.to_string());
    let resume = known.filter(|k| file.size >= k.parsed_bytes);
    if let Some(known) = resume {
        let from = known.parsed_bytes.saturating_sub(TAIL_BYTES);
        let bytes = read_from(&file.path, from).map_err(describe)?;
        let overlap = usize::try_from(known.parsed_bytes - from).unwrap_or(usize::MAX);
        if bytes.len() >= overlap && xxh3_64(&bytes[..overlap]) == known.tail_hash {
            return Ok(parse_file(file, &bytes, (overlap, from, known.parsed_lines), keep_titles));
        }
    }
    let bytes = read_from(&file.path, 0).map_err(describe)?;
    Ok(parse_file(file, &bytes, (0, 0, 0), keep_titles))
}

/// Parses `bytes[start..]`, where `bytes` was read from file offset `file_offset` and the part before
/// `start` was parsed by an earlier run (`lines_before` lines).
fn parse_file(
    file: &TranscriptFile,
    bytes: &[u8],
    (start, file_offset, lines_before): (usize, u64, u64),
    keep_titles: bool,
) -> FileOutcome {
    let context = ChunkContext {
        sidechain_file: file.sidechain,
        fallback_session: &file.fallback_session,
        first_line: lines_before + 1,
        keep_titles,
    };
    let chunk = parse_chunk(&bytes[start..], context);
    let parsed_end = start + chunk.consumed;
    let tail_start = parsed_end.saturating_sub(usize::try_from(TAIL_BYTES).unwrap_or(usize::MAX));
    let skipped = chunk.skipped.iter().map(|s| (s.line, s.reason.clone())).collect();
    let update = FileUpdate {
        from_start: file_offset == 0 && start == 0,
        skipped,
        path: file.path.clone(),
        state: FileState {
            size: file_offset + bytes.len() as u64,
            mtime_ns: file.mtime_ns,
            parsed_bytes: file_offset + parsed_end as u64,
            parsed_lines: lines_before + chunk.lines,
            tail_hash: xxh3_64(&bytes[tail_start..parsed_end]),
        },
    };
    FileOutcome { update, chunk, bytes_read: (bytes.len() - start) as u64 }
}

/// `path:line: reason` lines for `--verbose`: the empty files this run met, then every skipped line on
/// record (this run's and earlier runs', `Store::skipped_lines`).
pub(crate) fn skipped_report(summary: &IngestSummary, recorded: &[(String, u64, String)]) -> Vec<String> {
    let mut lines = Vec::new();
    for path in &summary.empty_files {
        lines.push(format!("{}: empty file", path.display()));
    }
    lines.extend(recorded.iter().map(|(path, line, reason)| format!("{path}:{line}: {reason}")));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::folders::RECHECK_MISSING_MS;
    use crate::sessions::{Origin, SessionDigest};

    const NOW: Millis = 1_793_000_000_417;
    const MODEL: TimeModel = TimeModel { idle_ms: 60_000, attention_ms: 60_000 };

    fn digest(cwd: &str) -> SessionDigest {
        SessionDigest {
            origin: Some(Origin { from_sidechain: false, at: 5, cwd: cwd.into(), git_branch: None }),
            activity: vec![5, 60_005],
            ..SessionDigest::default()
        }
    }

    fn digests(sessions: &[(&str, &str)]) -> SessionDigests {
        let mut all = SessionDigests::default();
        for (id, cwd) in sessions {
            all.absorb(id.to_string(), digest(cwd));
        }
        all
    }

    /// What the store knows of a folder: where it leads and when it was looked at.
    fn known(store: &Store, path: &str) -> Option<(Option<String>, Millis)> {
        store.folder_check(path).unwrap().map(|c| (c.resolved, c.checked_ms))
    }

    #[test]
    fn the_folders_to_look_at_are_every_sessions_first_folder_and_every_move() {
        let mut sessions = digests(&[("a", "/w/a"), ("b", "/w/b"), ("c", "/w/a")]);
        let moved = sessions.by_id.get_mut("b").unwrap();
        moved.offer_place(5, "/w/b");
        moved.offer_place(60_005, "/w/b/sub");
        let folders = session_folders(&sessions);
        assert_eq!(folders.into_iter().collect::<Vec<_>>(), vec!["/w/a", "/w/b", "/w/b/sub"]);
    }

    #[test]
    fn the_pass_brings_old_folders_to_nfc_and_records_where_each_leads() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let real = base.join("real/shop");
        std::fs::create_dir_all(&real).unwrap();
        let link = base.join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let (real, link) = (real.to_str().unwrap().to_string(), link.to_str().unwrap().to_string());

        let mut store = Store::open_in_memory().unwrap();
        // What an older version stored (a cwd in NFD) and the upgrade left to be looked at.
        store.record_ingest(digests(&[("old", "/old/Cafe\u{301}")]), &[], MODEL).unwrap();
        let unchecked = FolderCheck { path: "/old/Cafe\u{301}".into(), resolved: None, checked_ms: 0 };
        store.record_folder_checks(&[], &[unchecked]).unwrap();

        resolve_folders(&mut store, [link.clone(), real.clone()].into_iter().collect(), NOW).unwrap();
        let projects: Vec<String> =
            store.query_range(0, i64::MAX).unwrap().into_iter().map(|s| s.project).collect();
        assert_eq!(projects, vec!["/old/Caf\u{e9}".to_string()]);
        assert_eq!(known(&store, "/old/Caf\u{e9}"), Some((None, NOW)), "missing here");
        assert_eq!(known(&store, &link), Some((Some(real.clone()), NOW)));
        assert_eq!(known(&store, &real), Some((Some(real.clone()), NOW)), "no symlink: itself");
        let targets = store.folder_targets().unwrap();
        assert_eq!(targets.resolved(&link), Some(real.as_str()));
        assert_eq!(targets.resolved(&real), None);

        // A missing folder is looked at again a day later, not sooner; found ones never again.
        resolve_folders(&mut store, [link.clone()].into_iter().collect(), NOW + 1).unwrap();
        assert_eq!(store.folder_check("/old/Caf\u{e9}").unwrap().unwrap().checked_ms, NOW);
        resolve_folders(&mut store, BTreeSet::new(), NOW + RECHECK_MISSING_MS).unwrap();
        assert_eq!(known(&store, "/old/Caf\u{e9}"), Some((None, NOW + RECHECK_MISSING_MS)));
        assert_eq!(known(&store, &link), Some((Some(real), NOW)));
    }
}

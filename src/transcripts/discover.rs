//! Finds transcript files under Claude Code's `projects` folders and says what each one is (a session's
//! main file or a side-chain), with the size and modification time that decide whether it needs reading.
//! It reads directory entries and metadata only, never file contents.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use walkdir::WalkDir;

/// A transcript on disk as the ingest sees it before reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TranscriptFile {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    /// Modification time in nanoseconds since the epoch (0 when the platform cannot say).
    pub(crate) mtime_ns: i64,
    /// Sub-agent transcripts: `agent-*.jsonl` beside a session, or anything in a folder below a project.
    pub(crate) sidechain: bool,
    /// The session a line without `sessionId` belongs to.
    pub(crate) fallback_session: String,
}

/// Every `*.jsonl` below the given roots; missing roots are skipped (a fresh machine has none).
/// Errors reading one entry are returned beside the files so one bad folder does not hide the rest; a
/// root that cannot be read is left to [`folder_states`], which says so with what to do.
pub(crate) fn discover(roots: &[PathBuf]) -> (Vec<TranscriptFile>, Vec<String>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for root in roots.iter().filter(|r| r.is_dir()) {
        for entry in WalkDir::new(root).min_depth(1).max_depth(MAX_DEPTH) {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => match error.path().filter(|path| *path != root.as_path()) {
                    Some(path) => {
                        let reason = error.io_error().map_or_else(|| error.to_string(), ToString::to_string);
                        problems.push(unreadable("folder", path, &reason));
                        continue;
                    }
                    None => continue,
                },
            };
            let path = entry.path();
            if !entry.file_type().is_file() || !is_transcript_name(path) {
                continue;
            }
            match entry.metadata() {
                Ok(metadata) => files.push(describe(root, path, &metadata)),
                Err(error) => problems.push(format!("cannot stat {}: {error}", path.display())),
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (files, problems)
}

/// Deep enough for workflow sub-agents (`<project>/<session>/subagents/workflows/<run>/<agent>.jsonl`) and
/// sub-agents they start, bounded so a symlink loop or a stray tree cannot make a walk endless.
const MAX_DEPTH: usize = 10;

/// Files that end in `.jsonl` but are not transcripts: a workflow's `journal.jsonl` (`started`/`result`
/// lines, no timestamps). They are never read.
const NOT_TRANSCRIPTS: [&str; 1] = ["journal.jsonl"];

fn is_transcript_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    path.extension().is_some_and(|e| e == "jsonl") && !NOT_TRANSCRIPTS.contains(&name)
}

fn describe(root: &Path, path: &Path, metadata: &std::fs::Metadata) -> TranscriptFile {
    let relative: Vec<String> = path
        .strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    // <project>/<session>.jsonl is a main file; <project>/<session>/.../x.jsonl belongs to that session.
    let (sidechain, fallback_session) = match relative.as_slice() {
        [_, _] | [_] => (stem.starts_with("agent-"), stem),
        [_project, session_folder, ..] => (true, session_folder.clone()),
        [] => (false, stem),
    };
    TranscriptFile {
        path: path.to_path_buf(),
        size: metadata.len(),
        mtime_ns: metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
        sidechain,
        fallback_session,
    }
}

/// Where the folders searched for transcripts came from: what a warning tells the user to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DirsSource {
    /// `[capture] projects_dirs` in this config file.
    Config(PathBuf),
    /// `$CLAUDE_CONFIG_DIR`, with its value.
    Env(String),
    /// Claude Code's default folders; only those that exist are searched.
    Defaults,
}

/// Claude Code's default transcript folders, as the user would write them.
const DEFAULT_DIRS: &str = "~/.claude/projects and ~/.config/claude/projects";

/// What one transcripts folder holds, as far as a warning cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FolderState {
    Missing,
    NotAFolder,
    /// Its entries cannot be listed (the reason, from the system).
    Unreadable(String),
    /// A folder without a single transcript below it.
    Empty,
    /// At least one transcript below it.
    Holds,
}

/// Each root's state: its metadata and whether its entries can be listed (I/O), whether a transcript
/// lies below it from `files` (what [`discover`] found).
pub(crate) fn folder_states(roots: &[PathBuf], files: &[TranscriptFile]) -> Vec<(PathBuf, FolderState)> {
    roots
        .iter()
        .map(|root| {
            let state = if !root.exists() {
                FolderState::Missing
            } else if !root.is_dir() {
                FolderState::NotAFolder
            } else if let Err(error) = std::fs::read_dir(root) {
                FolderState::Unreadable(error.to_string())
            } else if files.iter().any(|file| file.path.starts_with(root)) {
                FolderState::Holds
            } else {
                FolderState::Empty
            };
            (root.clone(), state)
        })
        .collect()
}

/// The warnings about the transcripts folders, each saying what is wrong, where, and what to set or
/// run: a folder that is missing, not a folder, unreadable or without a transcript, and no folder at
/// all. Silence when every folder holds transcripts (pure).
pub(crate) fn folder_warnings(states: &[(PathBuf, FolderState)], source: &DirsSource) -> Vec<String> {
    if states.is_empty() {
        return vec![format!(
            "no Claude Code transcripts folder found ({DEFAULT_DIRS} do not exist): if Claude Code keeps them \
             elsewhere, set `[capture] projects_dirs` in the config, or $CLAUDE_CONFIG_DIR to the folder that \
             holds `projects`"
        )];
    }
    let remedy = match source {
        DirsSource::Config(config) => format!(
            "fix `[capture] projects_dirs` in {}, or remove it to read $CLAUDE_CONFIG_DIR/projects (else \
             {DEFAULT_DIRS})",
            config.display()
        ),
        DirsSource::Env(value) => format!(
            "$CLAUDE_CONFIG_DIR is `{value}`: set it to the folder Claude Code uses (the one holding \
             `projects`), or unset it to read {DEFAULT_DIRS}"
        ),
        DirsSource::Defaults => "if Claude Code keeps them elsewhere, set `[capture] projects_dirs` in the \
                                 config, or $CLAUDE_CONFIG_DIR to the folder that holds `projects`"
            .to_string(),
    };
    states
        .iter()
        .filter_map(|(path, state)| {
            let root = path.display();
            Some(match state {
                FolderState::Holds => return None,
                FolderState::Missing => format!("the transcripts folder {root} does not exist: {remedy}"),
                FolderState::NotAFolder => format!("the transcripts folder {root} is not a folder: {remedy}"),
                FolderState::Unreadable(reason) => unreadable("transcripts folder", path, reason),
                FolderState::Empty => format!(
                    "the transcripts folder {root} holds no transcript (no .jsonl file): if Claude Code has \
                     not run on this machine yet, use it first; else {remedy}"
                ),
            })
        })
        .collect()
}

/// A folder or transcript that cannot be read: what and where, then how to give the access back
/// (pure).
pub(crate) fn unreadable(what: &str, path: &Path, reason: &str) -> String {
    let (access, left_out) =
        if what == "transcript" { ("u+r", "its sessions") } else { ("u+rx", "the transcripts in it") };
    format!(
        "cannot read the {what} {0} ({reason}): {left_out} are left out; run `chmod {access} {0}` (or run \
         claude-tracker as the user who owns it)",
        path.display()
    )
}

/// A transcript that cannot be opened, said as [`unreadable`]: what `status` checks, without reading it.
pub(crate) fn open_problem(file: &TranscriptFile) -> Option<String> {
    std::fs::File::open(&file.path)
        .err()
        .map(|error| unreadable("transcript", &file.path, &error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_main_and_sidechain_layouts() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("-home-u-proj");
        std::fs::create_dir_all(project.join("sess-1/subagents/workflows/wf_1")).unwrap();
        std::fs::write(project.join("sess-1.jsonl"), "{}\n").unwrap();
        std::fs::write(project.join("sess-1/subagents/workflows/wf_1/agent-aa.jsonl"), "{}\n").unwrap();
        std::fs::write(project.join("sess-1/subagents/workflows/wf_1/journal.jsonl"), "{}\n").unwrap();
        std::fs::write(project.join("agent-abc.jsonl"), "{}\n").unwrap();
        std::fs::write(project.join("sess-1/subagents/agent-def.jsonl"), "{}\n").unwrap();
        std::fs::write(project.join("notes.txt"), "x").unwrap();
        let (files, problems) = discover(&[root.path().to_path_buf(), root.path().join("missing")]);
        assert!(problems.is_empty());
        let summary: Vec<(String, bool, String)> = files
            .iter()
            .map(|f| {
                let name = f.path.strip_prefix(&project).unwrap().to_string_lossy().into_owned();
                (name, f.sidechain, f.fallback_session.clone())
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("agent-abc.jsonl".into(), true, "agent-abc".into()),
                ("sess-1/subagents/agent-def.jsonl".into(), true, "sess-1".into()),
                ("sess-1/subagents/workflows/wf_1/agent-aa.jsonl".into(), true, "sess-1".into()),
                ("sess-1.jsonl".into(), false, "sess-1".into()),
            ]
        );
        assert_eq!(files[3].size, 3);
        assert!(files[3].mtime_ns > 0);
    }

    #[test]
    fn folder_warnings_say_what_where_and_what_to_change() {
        let states = vec![
            (PathBuf::from("/a"), FolderState::Holds),
            (PathBuf::from("/b"), FolderState::Missing),
            (PathBuf::from("/c"), FolderState::Empty),
            (PathBuf::from("/d"), FolderState::Unreadable("Permission denied (os error 13)".into())),
        ];
        let env = DirsSource::Env("/b,/c".into());
        assert_eq!(
            folder_warnings(&states, &env),
            vec![
                "the transcripts folder /b does not exist: $CLAUDE_CONFIG_DIR is `/b,/c`: set it to the folder \
                 Claude Code uses (the one holding `projects`), or unset it to read ~/.claude/projects and \
                 ~/.config/claude/projects",
                "the transcripts folder /c holds no transcript (no .jsonl file): if Claude Code has not run on \
                 this machine yet, use it first; else $CLAUDE_CONFIG_DIR is `/b,/c`: set it to the folder Claude \
                 Code uses (the one holding `projects`), or unset it to read ~/.claude/projects and \
                 ~/.config/claude/projects",
                "cannot read the transcripts folder /d (Permission denied (os error 13)): the transcripts in it \
                 are left out; run `chmod u+rx /d` (or run claude-tracker as the user who owns it)",
            ]
        );
        let config = DirsSource::Config(PathBuf::from("/home/u/.config/claude-tracker/config.toml"));
        assert_eq!(
            folder_warnings(&states[1..2], &config),
            vec![
                "the transcripts folder /b does not exist: fix `[capture] projects_dirs` in \
                 /home/u/.config/claude-tracker/config.toml, or remove it to read $CLAUDE_CONFIG_DIR/projects \
                 (else ~/.claude/projects and ~/.config/claude/projects)"
            ]
        );
        assert!(folder_warnings(&states[..1], &DirsSource::Defaults).is_empty());
        assert_eq!(folder_warnings(&[], &DirsSource::Defaults).len(), 1, "no folder at all");
    }
}

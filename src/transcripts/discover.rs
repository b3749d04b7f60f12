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
/// Errors reading one entry are returned beside the files so one bad folder does not hide the rest.
pub(crate) fn discover(roots: &[PathBuf]) -> (Vec<TranscriptFile>, Vec<String>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for root in roots.iter().filter(|r| r.is_dir()) {
        for entry in WalkDir::new(root).min_depth(1).max_depth(MAX_DEPTH) {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    problems.push(format!("cannot read {error}"));
                    continue;
                }
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
}

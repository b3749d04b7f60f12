//! The capture pipeline: find transcripts, read only what is new, parse it in parallel, and record the
//! result in the store in one transaction. A re-run over unchanged files reads no file contents: size and
//! modification time decide, and a grown file is read from the byte where the last run stopped.

use std::path::PathBuf;

use anyhow::Result;
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::sessions::SessionDigests;
use crate::store::{FileState, FileUpdate, Store, TimeModel};
use crate::transcripts::discover::{TranscriptFile, discover};
use crate::transcripts::parse::{ChunkContext, ParsedChunk, SkippedLine, parse_chunk};
use crate::transcripts::read_from;

/// How many bytes before the parsed offset are hashed to tell an appended file from a rewritten one.
const TAIL_BYTES: u64 = 256;

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

/// Reads new and changed transcripts under `roots` into the store.
pub(crate) fn ingest(store: &mut Store, roots: &[PathBuf], model: TimeModel) -> Result<IngestSummary> {
    let (files, problems) = discover(roots);
    let known = store.file_states()?;
    let changed: Vec<(&TranscriptFile, Option<FileState>)> = files
        .iter()
        .map(|file| (file, known.get(&file.path).copied()))
        .filter(|(file, state)| state.is_none_or(|s| s.size != file.size || s.mtime_ns != file.mtime_ns))
        .collect();
    let outcomes: Vec<Result<FileOutcome, String>> =
        changed.par_iter().map(|(file, state)| read_file(file, *state)).collect();

    let mut summary = IngestSummary { files_seen: files.len(), problems, ..IngestSummary::default() };
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
        updates.push(outcome.update);
    }
    summary.sessions_updated = store.record_ingest(sessions, &updates, model)?;
    Ok(summary)
}

/// Reads the unparsed part of one file (all of it when it shrank or was rewritten) and parses it.
fn read_file(file: &TranscriptFile, known: Option<FileState>) -> Result<FileOutcome, String> {
    let describe = |e: std::io::Error| format!("cannot read {}: {e}", file.path.display());
    let resume = known.filter(|k| file.size >= k.parsed_bytes);
    if let Some(known) = resume {
        let from = known.parsed_bytes.saturating_sub(TAIL_BYTES);
        let bytes = read_from(&file.path, from).map_err(describe)?;
        let overlap = usize::try_from(known.parsed_bytes - from).unwrap_or(usize::MAX);
        if bytes.len() >= overlap && xxh3_64(&bytes[..overlap]) == known.tail_hash {
            return Ok(parse_file(file, &bytes, overlap, from, known.parsed_lines));
        }
    }
    let bytes = read_from(&file.path, 0).map_err(describe)?;
    Ok(parse_file(file, &bytes, 0, 0, 0))
}

/// Parses `bytes[start..]`, where `bytes` was read from file offset `file_offset` and the part before
/// `start` was parsed by an earlier run (`lines_before` lines).
fn parse_file(
    file: &TranscriptFile,
    bytes: &[u8],
    start: usize,
    file_offset: u64,
    lines_before: u64,
) -> FileOutcome {
    let context = ChunkContext {
        sidechain_file: file.sidechain,
        fallback_session: &file.fallback_session,
        first_line: lines_before + 1,
    };
    let chunk = parse_chunk(&bytes[start..], context);
    let parsed_end = start + chunk.consumed;
    let tail_start = parsed_end.saturating_sub(usize::try_from(TAIL_BYTES).unwrap_or(usize::MAX));
    let update = FileUpdate {
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

/// `path:line: reason` lines for `--verbose`.
pub(crate) fn skipped_report(summary: &IngestSummary) -> Vec<String> {
    let mut lines = Vec::new();
    for path in &summary.empty_files {
        lines.push(format!("{}: empty file", path.display()));
    }
    for (path, skipped) in &summary.skipped {
        lines.extend(skipped.iter().map(|s| format!("{}:{}: {}", path.display(), s.line, s.reason)));
    }
    lines
}

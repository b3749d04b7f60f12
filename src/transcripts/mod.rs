//! Claude Code transcripts: where they are (`discover`) and what they say (`parse`).

pub(crate) mod discover;
pub(crate) mod kinds;
pub(crate) mod parse;

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Reads a transcript from `offset` to its end: the part not yet parsed.
pub(crate) fn read_from(path: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let length = file.metadata()?.len();
    let mut bytes = Vec::with_capacity(usize::try_from(length.saturating_sub(offset)).unwrap_or(0));
    if offset > 0 {
        file.seek(SeekFrom::Start(offset))?;
    }
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

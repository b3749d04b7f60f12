//! Replacing a file whole, safely: the new content goes to a temporary file in the same folder, flushed
//! to disk, then renamed over the old one. A crash leaves the old file or the new one, never a truncated
//! one, and a reader (Claude Code reading its settings) never sees half a file.

use std::fs::Permissions;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `text` to `path` as described; the file gets `permissions`, else stays private to the user
/// (the temporary file's 0600).
pub(crate) fn replace(path: &Path, text: &str, permissions: Option<Permissions>) -> Result<()> {
    let folder = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the folder {}", parent.display()))?;
            parent
        }
        None => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    if let Some(permissions) = permissions {
        file.as_file()
            .set_permissions(permissions)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    file.persist(path).map_err(|e| e.error).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

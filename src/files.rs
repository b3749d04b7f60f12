//! Replacing a file whole, safely: the new content goes to a temporary file in the same folder, flushed
//! to disk, then renamed over the old one. A crash leaves the old file or the new one, never a truncated
//! one, and a reader (Claude Code reading its settings) never sees half a file.
//!
//! A symbolic link is written through, not over: a dotfile manager keeps `settings.json` as a link into
//! its repository, and replacing the link with a plain file would cut it off. The file the link points at
//! is replaced (the temporary file goes in that file's folder, so the rename stays on its file system)
//! and the link stays as it was.

use std::fs::Permissions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes `text` to `path` (to the file it links to, when it is a symbolic link) as described; the file
/// gets `permissions`, else stays private to the user (the temporary file's 0600).
pub(crate) fn replace(path: &Path, text: &str, permissions: Option<Permissions>) -> Result<()> {
    let target = follow_links(path)?;
    let path = target.as_path();
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

/// How many links in a row are followed before the chain is taken for a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

/// The file `path` names once every symbolic link on the way is followed (a relative link is read from
/// the link's folder); `path` itself when it is no link. The file need not exist (a dangling link names
/// the file to create).
fn follow_links(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)
                    .with_context(|| format!("cannot read the link {}", current.display()))?;
                current = match current.parent() {
                    Some(folder) if target.is_relative() => folder.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    anyhow::bail!(
        "cannot write {}: it is a chain of more than {MAX_LINKS} symbolic links (a loop?): point it at a file",
        path.display()
    )
}

/// The names in a folder, sorted: what tests compare to prove nothing was left beside a file.
#[cfg(test)]
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    use crate::files::names;

    #[test]
    fn a_link_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dotfiles")).unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        let real = dir.path().join("dotfiles/settings.json");
        std::fs::write(&real, "old").unwrap();
        // app/settings.json -> app/middle.json -> ../dotfiles/settings.json (absolute, then relative).
        symlink("../dotfiles/settings.json", dir.path().join("app/middle.json")).unwrap();
        symlink(dir.path().join("app/middle.json"), dir.path().join("app/settings.json")).unwrap();
        replace(&dir.path().join("app/settings.json"), "new", None).unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(
            std::fs::read_link(dir.path().join("app/settings.json")).unwrap(),
            dir.path().join("app/middle.json")
        );
        assert_eq!(
            std::fs::read_link(dir.path().join("app/middle.json")).unwrap(),
            Path::new("../dotfiles/settings.json")
        );
        assert_eq!(names(&dir.path().join("app")), ["middle.json", "settings.json"]);
        assert_eq!(names(&dir.path().join("dotfiles")), ["settings.json"]);
    }

    #[test]
    fn a_dangling_link_gets_its_file_and_a_loop_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        symlink("missing.json", dir.path().join("link.json")).unwrap();
        replace(&dir.path().join("link.json"), "made", None).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("missing.json")).unwrap(), "made");
        assert!(std::fs::symlink_metadata(dir.path().join("link.json")).unwrap().file_type().is_symlink());

        symlink("b", dir.path().join("a")).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        assert_eq!(
            format!("{:#}", replace(&dir.path().join("a"), "x", None).unwrap_err()),
            format!(
                "cannot write {}: it is a chain of more than 40 symbolic links (a loop?): point it at a file",
                dir.path().join("a").display()
            )
        );
    }
}

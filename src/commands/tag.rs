//! `claude-tracker tag` and `untag`: a user's own tags on a session, which rules never overwrite or
//! remove. A session is named by its id or a unique prefix of one, as git takes a short hash.

use std::io::Write;

use anyhow::Result;

use crate::app::App;
use crate::refresh::resolve_session;

/// Runs `tag`.
pub(crate) fn tag(app: &App, prefix: &str, tags: &[String]) -> Result<()> {
    let tags = clean(tags)?;
    let mut store = app.open_store()?;
    crate::refresh::refresh(app, &mut store)?;
    let session = resolve_session(&store, prefix)?;
    store.add_user_tags(&session.session_id, &tags)?;
    writeln!(std::io::stdout().lock(), "{}: tagged {}", session.session_id, tags.join(", "))?;
    Ok(())
}

/// Runs `untag`.
pub(crate) fn untag(app: &App, prefix: &str, tags: &[String]) -> Result<()> {
    let tags = clean(tags)?;
    let mut store = app.open_store()?;
    crate::refresh::refresh(app, &mut store)?;
    let session = resolve_session(&store, prefix)?;
    let removed = store.remove_user_tags(&session.session_id, &tags)?;
    // A rule that matches the session gives its own tags back at once.
    crate::refresh::refresh(app, &mut store)?;
    let mut out = std::io::stdout().lock();
    let (gone, kept): (Vec<_>, Vec<_>) = tags.iter().zip(removed).partition(|(_, removed)| *removed);
    if !gone.is_empty() {
        let names: Vec<&str> = gone.iter().map(|(t, _)| t.as_str()).collect();
        writeln!(out, "{}: untagged {}", session.session_id, names.join(", "))?;
    }
    for (name, _) in kept {
        writeln!(
            out,
            "{}: `{name}` is not a tag you gave it{}",
            session.session_id,
            if store.tags_of(&session.session_id)?.iter().any(|t| &t.name == name) {
                " (a rule gives it: change the rule to drop it)"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// Tags as given, trimmed; an empty one is refused.
fn clean(tags: &[String]) -> Result<Vec<String>> {
    tags.iter()
        .map(|t| {
            let trimmed = t.trim();
            anyhow::ensure!(!trimmed.is_empty(), "a tag cannot be empty");
            Ok(trimmed.to_string())
        })
        .collect()
}

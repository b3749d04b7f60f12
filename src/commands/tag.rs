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
    let session = resolve_session(&store, prefix, app.tz)?;
    store.add_user_tags(&session.session_id, &tags)?;
    writeln!(std::io::stdout().lock(), "{}: tagged {}", session.session_id, tags.join(", "))?;
    Ok(())
}

/// Runs `untag`.
pub(crate) fn untag(app: &App, prefix: &str, tags: &[String]) -> Result<()> {
    let tags = clean(tags)?;
    let mut store = app.open_store()?;
    crate::refresh::refresh(app, &mut store)?;
    let session = resolve_session(&store, prefix, app.tz)?;
    let removed = store.remove_user_tags(&session.session_id, &tags)?;
    // A rule that matches the session gives its own tags back at once.
    crate::refresh::refresh(app, &mut store)?;
    let mut out = std::io::stdout().lock();
    let (gone, kept): (Vec<_>, Vec<_>) = tags.iter().zip(removed).partition(|(_, removed)| *removed);
    if !gone.is_empty() {
        let names: Vec<&str> = gone.iter().map(|(t, _)| t.as_str()).collect();
        writeln!(out, "{}: untagged {}", session.session_id, names.join(", "))?;
    }
    out.flush()?;
    // A tag that was not the user's is an error (exit 1), so a script sees that nothing changed for it.
    let current = store.tags_of(&session.session_id)?;
    let problems: Vec<String> = kept
        .iter()
        .map(|(name, _)| {
            let why = if current.iter().any(|t| &t.name == *name) {
                " (a rule gives it: change the rule to drop it)".to_string()
            } else {
                let own: Vec<&str> = current
                    .iter()
                    .filter(|t| t.source == crate::classify::TagSource::User)
                    .map(|t| t.name.as_str())
                    .collect();
                if own.is_empty() {
                    " (it has no tags of yours)".to_string()
                } else {
                    format!(
                        " (yours: {})",
                        crate::figures::tag_list(&own.iter().map(|t| t.to_string()).collect::<Vec<_>>())
                    )
                }
            };
            format!("{}: `{name}` is not a tag you gave it{why}", session.session_id)
        })
        .collect();
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n"));
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

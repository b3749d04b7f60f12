//! `claude-tracker tag` and `untag`: a user's own tags on a session, which rules never overwrite or
//! remove. A session is named by its id or a unique prefix of one, as git takes a short hash.

use std::io::Write;

use anyhow::Result;
use chrono::DateTime;

use crate::app::App;
use crate::store::{SessionRef, Store};

/// How many candidates an ambiguous prefix lists.
const CANDIDATES_SHOWN: usize = 10;

/// The one session `prefix` names; an unknown or ambiguous prefix is an error that lists what to type.
pub(crate) fn resolve_session(store: &Store, prefix: &str) -> Result<SessionRef> {
    anyhow::ensure!(!prefix.is_empty(), "name a session: its id or the first characters of it");
    let found = store.sessions_with_prefix(prefix, CANDIDATES_SHOWN + 1)?;
    match found.as_slice() {
        [] => anyhow::bail!(
            "no session id starts with `{prefix}`: `claude-tracker export --csv --sessions` lists sessions, or \
             look in Claude Code's transcript file names"
        ),
        [one] => Ok(one.clone()),
        many => {
            let mut message = format!("`{prefix}` names several sessions; type more of the id:");
            for candidate in many.iter().take(CANDIDATES_SHOWN) {
                let started = DateTime::from_timestamp_millis(candidate.first_ms).unwrap_or_default();
                message.push_str(&format!(
                    "\n  {}  {}  {}",
                    candidate.session_id,
                    started.format("%Y-%m-%d %H:%M UTC"),
                    candidate.project
                ));
            }
            if many.len() > CANDIDATES_SHOWN {
                message.push_str("\n  ...");
            }
            anyhow::bail!(message)
        }
    }
}

/// Runs `tag`.
pub(crate) fn tag(app: &App, prefix: &str, tags: &[String]) -> Result<()> {
    let tags = clean(tags)?;
    let mut store = app.open_store()?;
    super::ingest::refresh(app, &mut store)?;
    let session = resolve_session(&store, prefix)?;
    store.add_user_tags(&session.session_id, &tags)?;
    writeln!(std::io::stdout().lock(), "{}: tagged {}", session.session_id, tags.join(", "))?;
    Ok(())
}

/// Runs `untag`.
pub(crate) fn untag(app: &App, prefix: &str, tags: &[String]) -> Result<()> {
    let tags = clean(tags)?;
    let mut store = app.open_store()?;
    super::ingest::refresh(app, &mut store)?;
    let session = resolve_session(&store, prefix)?;
    let removed = store.remove_user_tags(&session.session_id, &tags)?;
    // A rule that matches the session gives its own tags back at once.
    super::ingest::refresh(app, &mut store)?;
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

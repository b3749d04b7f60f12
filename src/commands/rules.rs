//! `claude-tracker rules check`: are the auto-tag rules valid, and (`--dry-run`) which sessions would each
//! one tag. The config itself has been checked on load: a bad rule never gets this far (the error names
//! the file, the line and what to write).

use std::io::Write;

use anyhow::Result;

use crate::app::App;
use crate::classify::{Classifier, ProjectKey, Rules, TagSource};
use crate::cli::RulesCheckArgs;
use crate::destination;
use crate::folders::FolderTargets;
use crate::sessions::Session;

use crate::refresh::resolve_session;

/// Runs `rules check`.
pub(crate) fn check(app: &App, args: &RulesCheckArgs) -> Result<()> {
    if !app.config_path.exists() {
        eprintln!(
            "claude-tracker: warning: no config file at {}: no rules (config.example.toml shows \
             `[[rules.auto_tag]]`)",
            app.config_path.display()
        );
        return Ok(());
    }
    let rules = &app.rules;
    let text = match (&args.session, args.dry_run) {
        (Some(prefix), _) => one_session(app, rules, prefix)?,
        (None, true) => dry_run(app, rules)?,
        (None, false) => summary(app, rules),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 { format!("1 {word}") } else { format!("{count} {word}s") }
}

/// `config.toml: 3 rules loaded, all valid`, or the warnings about patterns that load but cannot mean
/// what they look like.
fn summary(app: &App, rules: &Rules) -> String {
    let warnings: Vec<String> = rules
        .specs()
        .flat_map(|spec| {
            crate::classify::placeholder_classes(spec).into_iter().map(move |(field, class)| {
                format!(
                    "  rule \"{}\" (line {}): `{class}` in `{field}` is a character class (one of its letters), \
                     not a placeholder: write the name itself, or `[[]` for a literal `[`\n",
                    spec.name, spec.line
                )
            })
        })
        .collect();
    let loaded = format!("{}: {} loaded", app.config_path.display(), plural(rules.len(), "rule"));
    if warnings.is_empty() {
        format!("{loaded}, all valid\n")
    } else {
        format!("{loaded}, {}:\n{}", plural(warnings.len(), "warning"), warnings.concat())
    }
}

/// The sessions the rules in force have not tagged yet (new or changed ones, or all after a rules
/// change): per rule (in order, those that match any), how many it would tag and with what; then those
/// no rule matches. Nothing is written.
fn dry_run(app: &App, rules: &Rules) -> Result<String> {
    let mut store = app.open_store()?;
    crate::refresh::refresh_sessions(app, &mut store)?;
    let sessions = store.sessions_needing_rule_tags(rules.fingerprint())?;
    let folders = store.folder_targets()?;
    let mut counts = vec![0_usize; rules.len()];
    let mut unmatched = 0;
    for session in &sessions {
        let matched = rules.first_match(session, &folders);
        match rules.specs().position(|spec| matched.is_some_and(|m| std::ptr::eq(spec, m))) {
            Some(index) => counts[index] += 1,
            None => unmatched += 1,
        }
    }
    let mut text = format!("{} without rule-applied tags:\n", plural(sessions.len(), "session"));
    for (spec, count) in rules.specs().zip(counts).filter(|(_, count)| *count > 0) {
        text.push_str(&format!("  {count} match \"{}\" → {}\n", spec.name, spec.tags.join(", ")));
    }
    text.push_str(&format!("  {unmatched} unmatched\n"));
    Ok(text)
}

/// One session: where it ran (and where that folder leads, when a symlink is in it), its tags with their
/// sources, the rule that matches it (with its line) and what that rule would apply beyond what the
/// session already has.
fn one_session(app: &App, rules: &Rules, prefix: &str) -> Result<String> {
    let mut store = app.open_store()?;
    crate::refresh::refresh(app, &mut store)?;
    let session_ref = resolve_session(&store, prefix, app.tz)?;
    let session = store
        .session_facts(&session_ref.session_id)?
        .ok_or_else(|| anyhow::anyhow!("session `{}` vanished while being read", session_ref.session_id))?;
    let tags = store.tags_of(&session.session_id)?;
    let folders = store.folder_targets()?;
    let short: String = session.session_id.chars().take(8).collect();
    let mut text = format!("Session {short}: {}\n", session.project);
    if let Some(resolved) = folders.resolved(&session.project) {
        text.push_str(&format!(
            "  Resolves to: {resolved} (a symlink; rules and mappings match either path)\n"
        ));
    }
    text.push_str(&format!("  Branch: {}\n", session.git_branch.as_deref().unwrap_or("(none)")));
    text.push_str(&machine_line(app, rules, &session));
    let current: Vec<String> = tags.iter().map(|t| format!("{} ({})", t.name, t.source.name())).collect();
    text.push_str(&format!(
        "  Current tags: {}\n",
        if current.is_empty() { "(none)".to_string() } else { current.join(", ") }
    ));
    text.push_str(&projects(app, rules, &session, &folders));
    match rules.first_match(&session, &folders) {
        None => text.push_str("  Matched rule: none\n"),
        Some(rule) => {
            text.push_str(&format!("  Matched rule: \"{}\" (line {})\n", rule.name, rule.line));
            let from_user = |name: &str| tags.iter().any(|t| t.name == name && t.source == TagSource::User);
            let (held, applied): (Vec<&String>, Vec<&String>) = rule.tags.iter().partition(|t| from_user(t));
            let applied: Vec<&str> = applied.iter().map(|t| t.as_str()).collect();
            let mut line = format!(
                "  Would apply: {}",
                if applied.is_empty() { "nothing".into() } else { applied.join(", ") }
            );
            if !held.is_empty() {
                let held: Vec<&str> = held.iter().map(|t| t.as_str()).collect();
                line.push_str(&format!(" (already has: {} from user)", held.join(", ")));
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    Ok(text)
}

/// The machine the session is attributed to. This machine, while the database has not named it, shows
/// its name with why a `machine` pattern does not see it yet (when a rule has one).
fn machine_line(app: &App, rules: &Rules, session: &Session) -> String {
    if !session.machine.is_empty() {
        return format!("  Machine: {}\n", session.machine);
    }
    if rules.specs().all(|spec| spec.machine.is_none()) {
        return format!("  Machine: {}\n", app.machine);
    }
    format!(
        "  Machine: {} (this machine, not named in the database yet: a `machine` pattern sees it once a \
         `[share] dir` pass or `export --format jsonl` has named it)\n",
        app.machine
    )
}

/// Where the session's time goes in each destination, and why: a rule's `project` key wins over the path
/// mapping when the destination maps that key; a path mapping may cover only where the folder leads.
fn projects(app: &App, rules: &Rules, session: &Session, folders: &FolderTargets) -> String {
    let rule_key = rules.first_match(session, folders).and_then(|rule| rule.project.as_deref());
    let mut text = String::new();
    for destination in destination::configured(&app.config, app.tz) {
        let classifier = Classifier::new(destination.rules.mapping.keys());
        let key = classifier.classify_with(rules, session, folders);
        let by_literal = classifier.classify(session, FolderTargets::none());
        let (id, _) = destination.rules.target(&key);
        let id = id.unwrap_or_else(|| format!("(set {})", destination.service.other_project_setting()));
        let line = match &key {
            ProjectKey::Mapped(name) if Some(name.as_str()) == rule_key => {
                format!("{name} -> {id} (the rule's project key, over the path mapping)")
            }
            ProjectKey::Mapped(name) if by_literal != key => {
                format!("{name} -> {id} (path mapping, of where the folder leads)")
            }
            ProjectKey::Mapped(name) => format!("{name} -> {id} (path mapping)"),
            ProjectKey::Unmapped(_) => format!("Other -> {id}"),
        };
        text.push_str(&format!("  Project ({}): {line}\n", destination.service.name()));
    }
    text
}

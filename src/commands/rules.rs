//! `claude-tracker rules check`: are the auto-tag rules valid, and (`--dry-run`) which sessions would each
//! one tag. The config itself has been checked on load: a bad rule never gets this far (the error names
//! the file, the line and what to write).

use std::io::Write;

use anyhow::Result;

use crate::app::App;
use crate::classify::Rules;
use crate::cli::RulesCheckArgs;
use crate::sessions::Millis;

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
    let home = app.home.as_deref().and_then(|h| h.to_str());
    let rules = Rules::compile(app.config.rule_specs.clone(), home).map_err(anyhow::Error::msg)?;
    let text = if args.dry_run { dry_run(app, &rules)? } else { summary(app, &rules) };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 { format!("1 {word}") } else { format!("{count} {word}s") }
}

/// `config.toml: 3 rules loaded, all valid`.
fn summary(app: &App, rules: &Rules) -> String {
    format!("{}: {} loaded, all valid\n", app.config_path.display(), plural(rules.len(), "rule"))
}

/// Per rule (in order, those that tag any session), how many sessions it would tag and with what; then
/// the sessions no rule matches. Tags are not stored yet, so every session counts as untagged.
fn dry_run(app: &App, rules: &Rules) -> Result<String> {
    let mut store = app.open_store()?;
    super::ingest::refresh(app, &mut store)?;
    let sessions = store.query_range(Millis::MIN, Millis::MAX)?;
    let mut counts = vec![0_usize; rules.len()];
    let mut unmatched = 0;
    for session in &sessions {
        let matched = rules.first_match(session);
        match rules.specs().position(|spec| Some(spec) == matched) {
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

//! What the benchmarks drive directly, without the binary: the rules engine over synthetic sessions. Not
//! an API for anything else (hidden from the docs).

use crate::classify::{RuleSpec, Rules};
use crate::folders::FolderTargets;
use crate::sessions::Session;

/// Synthetic sessions in `folders` client folders under `/home/dev/work`, a third on a hotfix branch.
#[doc(hidden)]
pub struct RulesBench {
    sessions: Vec<Session>,
    rules: Rules,
}

impl RulesBench {
    /// `sessions` sessions and `rules` rules (one per client folder, the last few on branches and models).
    pub fn new(sessions: usize, rules: usize) -> RulesBench {
        let specs = (0..rules)
            .map(|i| RuleSpec {
                name: format!("client {i}"),
                line: i + 1,
                cwd: Some(format!("~/work/client-{i}/*")),
                git_branch: (i % 10 == 9).then(|| "hotfix/*".to_string()),
                model: (i % 25 == 24).then(|| "claude-opus-*".to_string()),
                machine: None,
                tags: vec![format!("client-{i}"), "billable".to_string()],
                billable: Some(true),
                project: Some(format!("client-{i}")),
                count: None,
                count_automated: None,
            })
            .collect();
        let rules = Rules::compile(specs, Some("/home/dev")).unwrap_or_default();
        let sessions = (0..sessions)
            .map(|i| Session {
                session_id: format!("{i:08x}-0000-4000-8000-000000000000"),
                project: format!("/home/dev/work/client-{}/repo-{}", i % (rules.len() + 10), i % 7),
                git_branch: Some(if i % 3 == 0 { "hotfix/x".to_string() } else { "main".to_string() }),
                spans: Vec::new(),
                messages: Vec::new(),
                models: vec!["claude-sonnet-4-5".to_string()],
                ..Default::default()
            })
            .collect();
        RulesBench { sessions, rules }
    }

    /// Classifies and tags every session; returns how many tags were given (so nothing is optimised away).
    pub fn run(&self) -> usize {
        self.sessions.iter().map(|session| self.rules.tags_for(session, FolderTargets::none()).len()).sum()
    }
}

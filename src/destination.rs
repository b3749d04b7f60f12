//! The services `sync` posts to, and what each one's config says: its workspace, its project mapping
//! and Other project, its description, tags and billable flag. The work day and time zone are shared.

use chrono_tz::Tz;

use std::collections::BTreeMap;

use crate::allocate::{AllocationRules, ProjectMapping};
use crate::config::Config;
use crate::sync::steps::{EntryMode, EntryTemplate, ForeignTimer, Granularity};

/// A timesheet service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Service {
    Clockify,
    Toggl,
}

impl Service {
    /// The name in the ledger, in `--json` and on the command line.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Service::Clockify => "clockify",
            Service::Toggl => "toggl",
        }
    }

    /// The name in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Service::Clockify => "Clockify",
            Service::Toggl => "Toggl Track",
        }
    }

    /// The config setting that receives unmapped time.
    pub(crate) fn other_project_setting(self) -> &'static str {
        match self {
            Service::Clockify => "`[clockify] other_project_id`",
            Service::Toggl => "`[toggl] other_project_id`",
        }
    }

    /// What to do when a day has unmapped time but no Other project.
    pub(crate) fn unmapped_time_hint(self) -> &'static str {
        match self {
            Service::Clockify => {
                "map them in `[clockify.project_mapping]` or set `[clockify] other_project_id` \
                 (`claude-tracker clockify projects` lists the ids)"
            }
            Service::Toggl => {
                "map them in `[toggl.project_mapping]` or set `[toggl] other_project_id` (`claude-tracker \
                 toggl projects` lists the ids)"
            }
        }
    }
}

/// One configured destination.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Destination {
    pub(crate) service: Service,
    /// `None` for Toggl without `workspace_id`: the profile's default workspace is looked up.
    pub(crate) workspace_id: Option<String>,
    pub(crate) base_url: String,
    pub(crate) rules: AllocationRules,
    pub(crate) template: EntryTemplate,
    /// The daily ratio split, or the real timeline.
    pub(crate) mode: EntryMode,
    pub(crate) granularity: Granularity,
    /// Live mode: a running entry we did not start is left alone or stopped.
    pub(crate) foreign_timer: ForeignTimer,
    /// What of the active time is billed, and whether sessions with no person are.
    pub(crate) billing: crate::attention::Billing,
    /// `post_from`: the one machine that posts here (the others plan and say so); `None`: every one.
    pub(crate) post_from: Option<String>,
    /// `approve = true`: `sync` and `push` post only the days the user approved.
    pub(crate) approve: bool,
}

impl Destination {
    /// The machine that posts here when it is not `machine` (this one): then this machine only plans.
    pub(crate) fn posted_elsewhere(&self, machine: &str) -> Option<&str> {
        self.post_from.as_deref().filter(|poster| *poster != machine)
    }
}

/// The destinations the config sets up: Clockify when `[clockify] workspace_id` is set, Toggl Track when
/// there is a `[toggl]` section.
pub(crate) fn configured(config: &Config, tz: Tz) -> Vec<Destination> {
    let sync = &config.sync;
    let rules = |mapping: &BTreeMap<String, String>, other: &Option<String>| AllocationRules {
        tz,
        work_day_start: sync.work_day_start,
        work_day_end: sync.work_day_end,
        round_to_minutes: sync.round_to_minutes,
        mapping: ProjectMapping::new(mapping.iter().map(|(p, id)| (p.clone(), id.clone()))),
        other_project_id: other.clone(),
    };
    let clockify = &config.clockify;
    let mut destinations = Vec::new();
    if clockify.workspace_id.is_some() {
        destinations.push(Destination {
            service: Service::Clockify,
            workspace_id: clockify.workspace_id.clone(),
            base_url: clockify.base_url.clone(),
            rules: rules(&clockify.project_mapping, &clockify.other_project_id),
            template: EntryTemplate {
                description: clockify.description.clone().unwrap_or_else(|| sync.description.clone()),
                billable: clockify.billable,
                tags: Vec::new(),
                limit: crate::clockify::DESCRIPTION_LIMIT,
            },
            mode: clockify.mode,
            granularity: clockify.granularity,
            foreign_timer: clockify.foreign_timer,
            billing: crate::attention::Billing { count: clockify.count, automated: clockify.count_automated },
            post_from: clockify.post_from.clone(),
            approve: clockify.approve,
        });
    }
    if let Some(toggl) = &config.toggl {
        destinations.push(Destination {
            service: Service::Toggl,
            workspace_id: toggl.workspace_id.clone(),
            base_url: toggl.base_url.clone(),
            rules: rules(&toggl.project_mapping, &toggl.other_project_id),
            template: EntryTemplate {
                description: toggl.description.clone().unwrap_or_else(|| sync.description.clone()),
                billable: toggl.billable,
                tags: toggl.tags.clone(),
                limit: crate::toggl::DESCRIPTION_LIMIT,
            },
            mode: toggl.mode,
            granularity: toggl.granularity,
            foreign_timer: toggl.foreign_timer,
            billing: crate::attention::Billing { count: toggl.count, automated: toggl.count_automated },
            post_from: toggl.post_from.clone(),
            approve: toggl.approve,
        });
    }
    destinations
}

/// The local-only rules for a spreadsheet when no destination is configured: every project is its own
/// bucket, its id its path.
pub(crate) fn local_rules<'a>(
    config: &Config,
    tz: Tz,
    projects: impl Iterator<Item = &'a str>,
) -> AllocationRules {
    AllocationRules {
        tz,
        work_day_start: config.sync.work_day_start,
        work_day_end: config.sync.work_day_end,
        round_to_minutes: config.sync.round_to_minutes,
        mapping: ProjectMapping::new(projects.map(|p| (p.to_string(), p.to_string()))),
        other_project_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn destinations_follow_the_config_sections() {
        let config = Config::parse(
            "[clockify]\nworkspace_id = \"ws\"\nother_project_id = \"o\"\n[clockify.project_mapping]\n\"/a\" = \"c1\"\n\
             [toggl]\nother_project_id = 9\ntags = [\"ai\"]\nmode = \"sessions\"\ngranularity = \"session\"\n\
             description = \"{project} ({branch})\"\n[toggl.project_mapping]\n\"/a\" = 11\n",
            Path::new("c.toml"),
        )
        .unwrap();
        let all = configured(&config, chrono_tz::UTC);
        assert_eq!(
            all.iter().map(|d| d.service).collect::<Vec<_>>(),
            vec![Service::Clockify, Service::Toggl]
        );
        assert_eq!(all[0].rules.mapping.id_of("/a"), Some("c1"));
        assert_eq!(all[1].rules.mapping.id_of("/a"), Some("11"));
        assert_eq!(all[1].workspace_id, None);
        assert_eq!(all[1].template.tags, vec!["ai".to_string()]);
        assert_eq!(all[0].template.description, "Development");
        assert_eq!(all[1].template.description, "{project} ({branch})");
        assert_eq!((all[0].mode, all[0].granularity), (EntryMode::Workday, Granularity::Segment));
        assert_eq!((all[1].mode, all[1].granularity), (EntryMode::Sessions, Granularity::Session));
        assert!(configured(&Config::default(), chrono_tz::UTC).is_empty());
    }
}

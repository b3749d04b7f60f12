//! `rules check`: validation with positions and hints, the count, and the dry run over real sessions.

use std::process::Output;

use crate::support::World;

const RULES: &str = "timezone = \"UTC\"\n\
    [[rules.auto_tag]]\n\
    name = \"Acme projects\"\n\
    match = { cwd = \"~/work/acme/*\" }\n\
    tags = [\"acme\", \"billable\"]\n\
    \n\
    [[rules.auto_tag]]\n\
    name = \"Hotfixes\"\n\
    match = { git_branch = \"hotfix/*\" }\n\
    tags = [\"support\"]\n\
    [share]\n\
    machine = \"dev\"\n";

fn check(world: &World, config: &str, extra: &[&str]) -> Output {
    let path = world.config(config);
    let mut args = vec!["--config", path.to_str().unwrap(), "rules", "check"];
    args.extend_from_slice(extra);
    world.cmd().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn valid_rules_are_counted() {
    let world = World::new();
    let output = check(&world, RULES, &[]);
    assert!(output.status.success());
    let path = world.dir.path().join("config.toml");
    assert_eq!(text(&output.stdout), format!("{}: 2 rules loaded, all valid\n", path.display()));
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn a_bracketed_placeholder_is_valid_glob_but_warned_about() {
    let world = World::new();
    let config =
        "[[rules.auto_tag]]\nname = \"Mine\"\nmatch = { cwd = \"/Users/[USER]/work/*\" }\ntags = [\"own\"]\n";
    let output = check(&world, config, &[]);
    let path = world.dir.path().join("config.toml");
    assert_eq!(
        (text(&output.stdout), text(&output.stderr), output.status.code()),
        (
            format!(
                "{}: 1 rule loaded, 1 warning:\n  rule \"Mine\" (line 1): `[USER]` in `cwd` is a character class (one \
                 of its letters), not a placeholder: write the name itself, or `[[]` for a literal `[`\n",
                path.display()
            ),
            String::new(),
            Some(0)
        )
    );
}

#[test]
fn bad_rules_name_the_file_line_and_what_to_write() {
    let world = World::new();
    let path = world.dir.path().join("config.toml");
    let cases = [
        (
            RULES.replace("~/work/acme/*", "~/work/[acme"),
            "line 4, column 17: invalid glob `~/work/[acme`: unclosed character class; missing ']'; `*` matches \
             any characters, and a literal `[` is written `[[]`",
        ),
        (
            RULES.replace("match = { cwd", "match = { cdw"),
            "line 4, column 11: unknown field `cdw`, expected one of `cwd`, `primary_cwd`, `git_branch`, \
             `model`, `machine`; did you mean `cwd`? (every key is described in config.example.toml)",
        ),
        (
            RULES.replace("tags = [\"support\"]\n", ""),
            "line 7, column 1: missing field `tags`; every `[[rules.auto_tag]]` needs `tags = [\"...\"]` \
             (every key is described in config.example.toml)",
        ),
    ];
    for (config, expected) in cases {
        let output = check(&world, &config, &[]);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(
            text(&output.stderr),
            format!("claude-tracker: error: config file {}, {expected}\n", path.display())
        );
        assert_eq!(text(&output.stdout), "");
    }
}

#[test]
fn no_config_file_is_a_warning_not_an_error() {
    let world = World::new();
    let output = world.cmd().args(["rules", "check"]).output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        text(&output.stderr),
        format!(
            "claude-tracker: warning: no config file at {}: no rules (config.example.toml shows \
             `[[rules.auto_tag]]`)\n",
            world.dir.path().join("no-config.toml").display()
        )
    );
    assert_eq!(text(&output.stdout), "");
}

#[test]
fn the_dry_run_counts_sessions_per_rule_first_match_winning() {
    let world = World::new();
    let home = world.home();
    let acme = format!("{}/work/acme/shop", home.display());
    world.session("a1", &acme, "2026-11-02T09:00:00Z", 30);
    world.session("a2", &format!("{}/work/acme/api", home.display()), "2026-11-02T11:00:00Z", 30);
    world.session("o1", "/elsewhere/oss", "2026-11-02T13:00:00Z", 30);
    // The transcripts' lines say `gitBranch: main`; a hotfix branch makes the second rule match.
    let hotfix = crate::support::Transcript::new("h1", "/elsewhere/tool")
        .user("2026-11-03T09:00:00Z")
        .user("2026-11-03T09:05:00Z");
    world.write("-elsewhere-tool/h1.jsonl", &hotfix.text().replace("\"main\"", "\"hotfix/7\""));
    let output = check(&world, RULES, &["--dry-run"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "4 sessions without rule-applied tags:\n  2 match \"Acme projects\" → acme, billable\n  \
         1 match \"Hotfixes\" → support\n  1 unmatched\n"
    );
}

/// Two sessions under the Acme folder (`acme-one...`, `acme-two...`) and one elsewhere (`other...`).
fn tagged_world() -> (World, std::path::PathBuf) {
    let world = World::new();
    let home = world.home();
    world.session("acme-one-1111", &format!("{}/work/acme/shop", home.display()), "2026-11-02T09:00:00Z", 30);
    world.session("acme-two-2222", &format!("{}/work/acme/api", home.display()), "2026-11-02T11:00:00Z", 30);
    world.session("other-3333", "/elsewhere/oss", "2026-11-02T13:00:00Z", 30);
    let config = world.config(RULES);
    (world, config)
}

fn run(world: &World, config: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    world.cmd().args(all).output().unwrap()
}

#[test]
fn user_tags_win_over_rule_tags_and_survive_rule_changes() {
    let (world, config) = tagged_world();
    let tagged = run(&world, &config, &["tag", "acme-one", "acme", "urgent"]);
    assert_eq!(text(&tagged.stdout), "acme-one-1111: tagged acme, urgent\n");
    let shown = run(&world, &config, &["rules", "check", "--session", "acme-one"]);
    let home = world.home();
    assert_eq!(
        text(&shown.stdout),
        format!(
            "Session acme-one: {}/work/acme/shop\n  Branch: main\n  Machine: dev\n  Current tags: acme (user), billable (rule), \
             urgent (user)\n  Matched rule: \"Acme projects\" (line 2)\n  Would apply: billable (already has: \
             acme from user)\n",
            home.display()
        )
    );
    // The rules change: rule tags follow at the next run, for old sessions too; user tags stay.
    world.config(&RULES.replace("[\"acme\", \"billable\"]", "[\"client-a\"]"));
    let after = run(&world, &config, &["rules", "check", "--session", "acme-one"]);
    assert_eq!(
        text(&after.stdout),
        format!(
            "Session acme-one: {}/work/acme/shop\n  Branch: main\n  Machine: dev\n  Current tags: acme (user), client-a (rule), \
             urgent (user)\n  Matched rule: \"Acme projects\" (line 2)\n  Would apply: client-a\n",
            home.display()
        )
    );
    let untagged = run(&world, &config, &["untag", "acme-one", "urgent", "client-a"]);
    assert_eq!(
        (text(&untagged.stdout), text(&untagged.stderr), untagged.status.code()),
        (
            "acme-one-1111: untagged urgent\n".to_string(),
            "claude-tracker: error: acme-one-1111: `client-a` is not a tag you gave it (a rule gives it: change \
             the rule to drop it)\n"
                .to_string(),
            Some(1)
        )
    );
    let never = run(&world, &config, &["untag", "acme-one", "nightly"]);
    assert_eq!(
        (text(&never.stdout), text(&never.stderr), never.status.code()),
        (
            String::new(),
            "claude-tracker: error: acme-one-1111: `nightly` is not a tag you gave it (yours: acme)\n"
                .to_string(),
            Some(1)
        )
    );
}

#[test]
fn an_ambiguous_or_unknown_prefix_says_what_to_type() {
    let (world, config) = tagged_world();
    let ambiguous = run(&world, &config, &["tag", "acme", "x"]);
    assert_eq!(ambiguous.status.code(), Some(1));
    let home = world.home();
    assert_eq!(
        text(&ambiguous.stderr),
        format!(
            "claude-tracker: error: `acme` names several sessions; type more of the id:\n  acme-one-1111  \
             2026-11-02 09:00 UTC  {home}/work/acme/shop\n  acme-two-2222  2026-11-02 11:00 UTC  \
             {home}/work/acme/api\n",
            home = home.display()
        )
    );
    let unknown = run(&world, &config, &["untag", "zzz", "x"]);
    assert_eq!(
        text(&unknown.stderr),
        "claude-tracker: error: no session id starts with `zzz`: `claude-tracker export --csv --sessions` lists \
         sessions with their ids, or look in Claude Code's transcript file names\n"
    );
}

#[test]
fn the_dry_run_previews_only_what_the_rules_have_not_applied() {
    let (world, config) = tagged_world();
    let applied = run(&world, &config, &["report", "--since", "2026-11-02", "--until", "2026-11-02"]);
    assert!(applied.status.success());
    let nothing_new = run(&world, &config, &["rules", "check", "--dry-run"]);
    assert_eq!(text(&nothing_new.stdout), "0 sessions without rule-applied tags:\n  0 unmatched\n");
    world.config(&RULES.replace("~/work/acme/*", "/elsewhere/*"));
    let changed = run(&world, &config, &["rules", "check", "--dry-run"]);
    assert_eq!(
        text(&changed.stdout),
        "3 sessions without rule-applied tags:\n  1 match \"Acme projects\" → acme, billable\n  2 unmatched\n"
    );
}

#[test]
fn reports_group_and_filter_by_tag() {
    let (world, config) = tagged_world();
    let day = ["--since", "2026-11-02", "--until", "2026-11-02"];
    let by_tag = run(&world, &config, &[&["report", "--by", "tag"][..], &day].concat());
    assert_eq!(
        text(&by_tag.stdout),
        "Claude Code time on 2026-11-02 (UTC)\n\n tag         active  hands-on  supervised  autonomous  sessions  \
         input  output  cache write  cache read\n acme          1:00      1:00        0:00        0:00         2      0       \
         0            0           0\n billable      1:00      1:00        0:00        0:00         2      0       0            \
         0           0\n (untagged)    0:30      0:30        0:00        0:00         1      0       0            0           \
         0\n total         1:30      1:30        0:00        0:00         3      0       0            0           0\n\nA \
         session with several tags counts in the line of each; the total counts it once.\n"
    );
    let filtered = run(&world, &config, &[&["report", "--json", "--tag", "billable"][..], &day].concat());
    let report: serde_json::Value = serde_json::from_slice(&filtered.stdout).unwrap();
    let rows: Vec<(String, i64, serde_json::Value)> = report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["active_seconds"].as_i64().unwrap(),
                p["tags"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("api".to_string(), 1800, serde_json::json!(["acme", "billable"])),
            ("shop".to_string(), 1800, serde_json::json!(["acme", "billable"])),
        ]
    );
    assert_eq!(report["total"]["sessions"], 2);
}

#[test]
fn a_rules_project_key_picks_the_destination_project_and_check_says_why() {
    let (world, _) = tagged_world();
    let home = world.home();
    // Clockify names the rule's key; Toggl Track maps only the folder.
    let config = world.config(&format!(
        "{}[clockify]\nworkspace_id = \"ws\"\nother_project_id = \"c-other\"\n\
         [clockify.project_mapping]\n\"acme\" = \"c-acme\"\n\
         [toggl]\nworkspace_id = 5\nother_project_id = 9\n[toggl.project_mapping]\n\"{}/work/acme\" = 77\n",
        RULES.replace(
            "tags = [\"acme\", \"billable\"]\n",
            "tags = [\"acme\", \"billable\"]\nproject = \"acme\"\n"
        ),
        home.display()
    ));
    let shown = run(&world, &config, &["rules", "check", "--session", "acme-two"]);
    assert_eq!(
        text(&shown.stdout),
        format!(
            "Session acme-two: {home}/work/acme/api\n  Branch: main\n  Machine: dev\n  Current tags: acme (rule), billable \
             (rule)\n  Project (Clockify): acme -> c-acme (the rule's project key, over the path mapping)\n  \
             Project (Toggl Track): {home}/work/acme -> 77 (path mapping)\n  Matched rule: \"Acme projects\" \
             (line 2)\n  Would apply: acme, billable\n",
            home = home.display()
        ),
        "{}",
        text(&shown.stderr)
    );
    // The plan follows: both Acme folders are one Clockify entry under the rule's key.
    let plan =
        run(&world, &config, &["sync", "--dry-run", "--json", "--to", "clockify", "--until", "2026-11-02"]);
    let days: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let entries: Vec<(String, i64)> = days[0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["project_id"].as_str().unwrap().to_string(), e["seconds"].as_i64().unwrap()))
        .collect();
    assert_eq!(entries, vec![("c-acme".to_string(), 19_200), ("c-other".to_string(), 9_600)]);
}

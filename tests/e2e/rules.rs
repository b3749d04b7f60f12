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
    tags = [\"support\"]\n";

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
             `model`; did you mean `cwd`? (every key is described in config.example.toml)",
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

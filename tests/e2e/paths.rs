//! Paths as seed 003 says (issue 16, part 5): a `cwd` written in NFD (as macOS does) is stored in NFC and
//! meets a rule typed in NFC; a folder that is a symlink is matched by the rule naming its target, while
//! globs still see the literal path, which is the one stored and shown.

use std::path::Path;
use std::process::Output;

use crate::support::{Transcript, World};

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn run(world: &World, config: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    world.cmd().args(all).output().unwrap()
}

/// A session of 16 active minutes in `cwd` from `hour` on 2026-11-02, answered by `model`: 970.234 s, of
/// them hands-on 689.185 s (from the first answer to the second prompt) and supervised 281.049 s (each
/// prompt to its answer), none autonomous.
fn session(world: &World, id: &str, cwd: &str, hour: u32, model: &str) {
    let at = |minute: u32, rest: &str| format!("2026-11-02T{hour:02}:{minute:02}:{rest}Z");
    let transcript = Transcript::new(id, cwd)
        .user(&at(0, "00.417"))
        .assistant_msg(&at(0, "30.903"), &format!("msg_{id}_1"), [3, 120, 400, 900], model)
        .user(&at(12, "00.088"))
        .assistant_msg(&at(16, "10.651"), &format!("msg_{id}_2"), [1, 80, 0, 1300], model);
    world.write(&format!("p-{id}/{id}.jsonl"), transcript.text());
}

#[test]
fn a_cwd_written_in_nfd_is_stored_in_nfc_and_matched_by_a_rule_written_in_nfc() {
    let world = World::new();
    // "Café" as macOS writes it (e + combining acute accent); the rule types it as one character.
    session(&world, "nfd-0001", "/Users/dev/work/Cafe\u{301}", 9, "claude-sonnet-4-5");
    let config = world.config(
        "timezone = \"UTC\"\n[[rules.auto_tag]]\nname = \"Caf\u{e9}\"\nmatch = { cwd = \"/Users/dev/work/Caf\u{e9}\" }\n\
         tags = [\"cafe\"]\n[share]\nmachine = \"dev\"\n",
    );
    let report =
        run(&world, &config, &["report", "--json", "--since", "2026-11-02", "--until", "2026-11-02"]);
    assert_eq!(
        (text(&report.stdout), text(&report.stderr), report.status.code()),
        (
            "{\"since\":\"2026-11-02\",\"until\":\"2026-11-02\",\"timezone\":\"UTC\",\"projects\":[{\"project\":\
             \"/Users/dev/work/Caf\u{e9}\",\"name\":\"Caf\u{e9}\",\"active_seconds\":970,\"hands_on_seconds\":689,\
             \"supervised_seconds\":281,\"autonomous_seconds\":0,\"sessions\":1,\"automated_sessions\":0,\
             \"input_tokens\":4,\"output_tokens\":200,\"cache_creation_input_tokens\":400,\"cache_read_input_tokens\":2200,\"last_activity\":\
             \"2026-11-02T09:16:10.651Z\",\"tags\":[\"cafe\"]}],\"total\":{\"active_seconds\":970,\
             \"hands_on_seconds\":689,\"supervised_seconds\":281,\"autonomous_seconds\":0,\"sessions\":1,\
             \"automated_sessions\":0,\"input_tokens\":4,\"output_tokens\":200,\"cache_creation_input_tokens\":400,\"cache_read_input_tokens\":2200}}\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );

    let check = run(&world, &config, &["rules", "check", "--session", "nfd"]);
    assert_eq!(
        (text(&check.stdout), text(&check.stderr), check.status.code()),
        (
            "Session nfd-0001: /Users/dev/work/Caf\u{e9}\n  Branch: main\n  Machine: dev\n  Current tags: cafe (rule)\n  Matched rule: \
             \"Caf\u{e9}\" (line 2)\n  Would apply: cafe\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );
}

#[test]
fn a_symlinked_folder_is_matched_by_a_rule_on_its_target_and_globs_still_see_the_literal_path() {
    let world = World::new();
    // The real folder, and a link to it that Claude Code ran in (it writes the path as the shell had it).
    let base = std::fs::canonicalize(world.dir.path()).unwrap();
    let real = base.join("clients/acme/shop");
    std::fs::create_dir_all(&real).unwrap();
    let link = base.join("links/shop");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (base, link) = (base.display().to_string(), link.display().to_string());
    session(&world, "lnk-opus", &link, 9, "claude-opus-4-1");
    session(&world, "lnk-sonnet", &link, 11, "claude-sonnet-4-5");
    // The first rule names the literal folder (for one model); the second the target's parent.
    let config = world.config(&format!(
        "timezone = \"UTC\"\n\
         [[rules.auto_tag]]\nname = \"Linked\"\nmatch = {{ cwd = \"{base}/links/*\", model = \"claude-opus-*\" }}\n\
         tags = [\"linked\"]\n\
         [[rules.auto_tag]]\nname = \"Acme\"\nmatch = {{ cwd = \"{base}/clients/acme/*\" }}\ntags = [\"acme\"]\n\
         [toggl]\nworkspace_id = 5\nother_project_id = 9\n[toggl.project_mapping]\n\"{base}/clients/acme\" = 77\n\
         [share]\nmachine = \"dev\"\n"
    ));
    let report =
        run(&world, &config, &["report", "--by", "tag", "--since", "2026-11-02", "--until", "2026-11-02"]);
    // Each session: 11.49 min hands-on, 4.68 supervised. The totals are the exact ones rounded (22.97 ->
    // 0:23, 9.37 -> 0:09) and the rows add up to them, so one row shows 0:12 / 0:04 (each within a minute).
    assert_eq!(
        (text(&report.stdout), text(&report.stderr), report.status.code()),
        (
            "Claude Code time on 2026-11-02 (UTC)\n\n tag     active  hands-on  supervised  autonomous  sessions  input  \
             output  cache write  cache read\n acme      0:16      0:12        0:04        0:00         1      4     200          \
             400        2.2k\n linked    0:16      0:11        0:05        0:00         1      4     200          400        \
             2.2k\n total     0:32      0:23        0:09        0:00         2      8     400          800        4.4k\n"
                .to_string(),
            String::new(),
            Some(0)
        ),
        "one session through the target (acme), one by the literal path (linked)"
    );
    // The plan maps both through the target (the literal folder is not mapped): one entry per tag set.
    let plan = run(&world, &config, &["export", "--csv", "--since", "2026-11-02", "--until", "2026-11-02"]);
    assert_eq!(
        (text(&plan.stdout), text(&plan.stderr), plan.status.code()),
        (
            format!(
                "date,destination,project,project_id,start,end,hours\n\
                 2026-11-02,toggl,{base}/clients/acme,77,2026-11-02T09:00:00+00:00,2026-11-02T13:00:00+00:00,4.0000\n\
                 2026-11-02,toggl,{base}/clients/acme,77,2026-11-02T13:00:00+00:00,2026-11-02T17:00:00+00:00,4.0000\n"
            ),
            String::new(),
            Some(0)
        )
    );
    // `rules check --session` shows the literal folder (the one stored), where it leads, and why.
    let shown = |id: &str, tag: &str, rule: &str, line: usize| {
        format!(
            "Session {short}: {link}\n  Resolves to: {base}/clients/acme/shop (a symlink; rules and mappings match \
             either path)\n  Branch: main\n  Machine: dev\n  Current tags: {tag} (rule)\n  Project (Toggl Track): {base}/clients/acme \
             -> 77 (path mapping, of where the folder leads)\n  Matched rule: \"{rule}\" (line {line})\n  Would apply: \
             {tag}\n",
            short = &id[..8]
        )
    };
    let sonnet = run(&world, &config, &["rules", "check", "--session", "lnk-sonnet"]);
    assert_eq!(
        (text(&sonnet.stdout), text(&sonnet.stderr), sonnet.status.code()),
        (shown("lnk-sonnet", "acme", "Acme", 6), String::new(), Some(0))
    );
    let opus = run(&world, &config, &["rules", "check", "--session", "lnk-opus"]);
    assert_eq!(
        (text(&opus.stdout), text(&opus.stderr), opus.status.code()),
        (shown("lnk-opus", "linked", "Linked", 2), String::new(), Some(0))
    );
}

//! `completions <shell>` and `man`: the binary prints what clap_complete and clap_mangen make of the
//! command line's definition (the man page naming commands as typed, not as pages), and bash, given the
//! script, completes a subcommand's options.

use clap::CommandFactory;

use crate::support::World;

#[test]
fn completions_for_every_shell_come_from_the_command_line_itself() {
    let world = World::new();
    for (name, shell) in [
        ("bash", clap_complete::Shell::Bash),
        ("zsh", clap_complete::Shell::Zsh),
        ("fish", clap_complete::Shell::Fish),
    ] {
        let mut expected = Vec::new();
        clap_complete::generate(
            shell,
            &mut claude_tracker::cli::Cli::command(),
            "claude-tracker",
            &mut expected,
        );
        let mut expected = String::from_utf8(expected).unwrap();
        if name == "bash" {
            // clap_complete labels a subcommand's case `claude__subcmd__tracker__subcmd__report)`, set
            // as `claude__tracker__subcmd__report`: the binary writes the labels as they are set.
            assert_eq!(expected.matches("        claude__subcmd__tracker__subcmd__report)\n").count(), 1);
            expected = expected.replace("claude__subcmd__tracker__subcmd__", "claude__tracker__subcmd__");
        }
        let printed = world.ok(&["completions", name]);
        assert_eq!(printed, expected, "{name}");
        assert!(printed.contains("dashboard") && printed.contains("watch"), "{name}: every command");
        assert!(
            !printed.contains("--now") && !printed.contains("-l now"),
            "{name}: the hidden --now is never offered"
        );
    }
}

/// The page is clap_mangen's, except that its command list names each command as typed: clap_mangen
/// writes `claude-tracker-ingest(1)`, a page that no one installs.
#[test]
fn the_man_page_is_the_command_lines_own_and_names_no_missing_page() {
    let world = World::new();
    let command = claude_tracker::cli::Cli::command();
    let mut rendered = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut rendered).unwrap();
    let mut expected = String::from_utf8(rendered).unwrap();
    let mut names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
    names.push("help".into());
    for name in &names {
        let page = format!("claude\\-tracker\\-{}(1)\n", name.replace('-', "\\-"));
        assert!(expected.contains(&page), "clap_mangen names the page {page}");
        expected = expected.replace(&page, &format!("claude\\-tracker {}\n", name.replace('-', "\\-")));
    }
    expected = expected.replace(
        ".SH VERSION",
        ".PP\nA command\\*(Aqs options: claude\\-tracker COMMAND \\-\\-help.\n.SH VERSION",
    );
    let printed = world.ok(&["man"]);
    assert_eq!(printed, expected);
    assert!(printed.starts_with(".ie \\n(.g .ds Aq \\(aq"), "roff");
    assert_eq!(printed.matches(".ie \\n(.g").count(), 1, "one preamble");
    assert!(!printed.contains("(1)") && !printed.contains("\\-\\-now"), "no page reference, no --now");
}

/// Bash, given the generated script, completes `claude-tracker report --` with report's options (not
/// file names), and `report --by ` with its values.
#[test]
fn bash_completes_a_subcommands_options() {
    if std::process::Command::new("bash").arg("-c").arg("true").output().is_err() {
        eprintln!("bash_completes_a_subcommands_options: skipped, no `bash` on PATH");
        return;
    }
    let world = World::new();
    let script = world.dir.path().join("claude-tracker.bash");
    std::fs::write(&script, world.ok(&["completions", "bash"])).unwrap();
    let complete = |words: &[&str]| -> (String, String, Option<i32>) {
        // What bash does on Tab: COMP_WORDS and COMP_CWORD set, the function called with the command,
        // the word being completed and the word before it.
        let program = r#"source "$1"; shift
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
            COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _claude__tracker claude-tracker "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            printf '%s\n' "${COMPREPLY[@]}""#;
        let output = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", program, "bash"])
            .arg(&script)
            .args(words)
            .output()
            .unwrap();
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
            output.status.code(),
        )
    };
    assert_eq!(
        complete(&["claude-tracker", "report", "--"]),
        (
            "--since\n--until\n--by\n--tag\n--json\n--config\n--db\n--verbose\n--help\n--version\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );
    assert_eq!(
        complete(&["claude-tracker", "report", "--by", ""]),
        ("project\nday\ntag\nmachine\n".to_string(), String::new(), Some(0))
    );
}

/// Fish, given the generated script, completes `claude-tracker report --` with report's options, each
/// with its description, and `report --by ` with its values: `complete -C LINE` prints what fish offers
/// on Tab for LINE (a candidate, a tab, its description; fish sorts them). Run with no config and a
/// temporary home (fish creates its folders there).
#[test]
fn fish_completes_a_subcommands_options() {
    if std::process::Command::new("fish").args(["--no-config", "-c", "true"]).output().is_err() {
        eprintln!("fish_completes_a_subcommands_options: skipped, no `fish` on PATH");
        return;
    }
    let world = World::new();
    let script = world.dir.path().join("claude-tracker.fish");
    std::fs::write(&script, world.ok(&["completions", "fish"])).unwrap();
    let complete = |line: &str| -> (String, String, Option<i32>) {
        let output = std::process::Command::new("fish")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", world.home())
            .env("XDG_CONFIG_HOME", world.home().join(".config"))
            .env("XDG_DATA_HOME", world.home().join(".local/share"))
            .args(["--no-config", "-c", "source $argv[1]; complete -C $argv[2]"])
            .arg(&script)
            .arg(line)
            .output()
            .unwrap();
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
            output.status.code(),
        )
    };
    assert_eq!(
        complete("claude-tracker report --"),
        (
            "--by\tOne row per project, per day or per tag (a session with two tags counts in both, once in \
             the total), or per machine\n\
             --config\tConfig file [default: $CLAUDE_TRACKER_CONFIG, else ~/.config/claude-tracker/config.toml]\n\
             --db\tDatabase file [default: $CLAUDE_TRACKER_DB, else the platform data dir, e.g. \
             ~/.local/share/claude-tracker/tracker.db]\n\
             --help\tPrint help\n\
             --json\tPrint JSON instead of a table\n\
             --since\tFirst local day of a custom range: YYYY-MM-DD, today, yesterday or a weekday (the latest \
             one)\n\
             --tag\tOnly sessions with this tag\n\
             --until\tLast local day of a custom range, inclusive, as --since [default: today]\n\
             --verbose\tSay more: which transcript lines were skipped and why\n\
             --version\tPrint version\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );
    assert_eq!(
        complete("claude-tracker report --by "),
        ("day\nmachine\nproject\ntag\n".to_string(), String::new(), Some(0))
    );
}

/// Zsh's completion system, given the generated script, completes `claude-tracker report --` with
/// report's options and their descriptions, and `report --by ` with its values. Zsh completes only in
/// its line editor, which needs a terminal, so the test does what a person does: an interactive zsh in an
/// 80x24 pseudo-terminal (the dashboard test's [`Pty`](crate::terminal::Pty)), reading only its own
/// `.zshrc` (`ZDOTDIR`; `-d` skips the system's), which runs `compinit` and sources the script (its
/// `compdef` binds `_claude-tracker` to the command); then the line is typed and Tab pressed, and the
/// whole screen compared: zsh's own listing of what `_arguments` offered, descriptions cut at the width.
#[cfg(unix)]
#[test]
fn zsh_completes_a_subcommands_options() {
    use crate::terminal::{Pty, screen_of};
    if std::process::Command::new("zsh").args(["-f", "-c", "true"]).output().is_err() {
        eprintln!("zsh_completes_a_subcommands_options: skipped, no `zsh` on PATH");
        return;
    }
    let world = World::new();
    let script = world.dir.path().join("_claude-tracker");
    std::fs::write(&script, world.ok(&["completions", "zsh"])).unwrap();
    let zdotdir = world.dir.path().join("zsh");
    std::fs::create_dir_all(&zdotdir).unwrap();
    std::fs::write(
        zdotdir.join(".zshrc"),
        format!(
            "PS1='$ '\nunsetopt prompt_sp\nautoload -Uz compinit && compinit -u -D\nsource '{}'\n",
            script.display()
        ),
    )
    .unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let home = world.home();
    let env = [
        ("PATH", path.as_os_str()),
        ("HOME", home.as_os_str()),
        ("ZDOTDIR", zdotdir.as_os_str()),
        ("TERM", "xterm-256color".as_ref()),
    ];
    let command = Pty::command(std::path::Path::new("zsh"), &["-d", "-i"], &env, world.dir.path());
    let mut zsh = Pty::spawn(command, 80, 24);
    let prompt = screen_of(&["$"], 80, 24);
    assert_eq!(zsh.wait_for_screen(&prompt), prompt, "the prompt, nothing else: the rc file ran cleanly");

    zsh.send("claude-tracker report --\t");
    let options = screen_of(
        &[
            "$ claude-tracker report --",
            "--by       -- One row per project, per day or per tag (a session with two ta",
            "--config   -- Config file [default: $CLAUDE_TRACKER_CONFIG, else ~/.config/c",
            "--db       -- Database file [default: $CLAUDE_TRACKER_DB, else the platform",
            "--help     -- Print help",
            "--json     -- Print JSON instead of a table",
            "--since    -- First local day of a custom range: YYYY-MM-DD, today, yesterda",
            "--tag      -- Only sessions with this tag",
            "--until    -- Last local day of a custom range, inclusive, as --since [defau",
            "--verbose  -- Say more: which transcript lines were skipped and why",
            "--version  -- Print version",
        ],
        80,
        24,
    );
    assert_eq!(zsh.wait_for_screen(&options), options);

    // Ctrl-U empties the line, Ctrl-L clears the screen.
    zsh.send("\x15\x0cclaude-tracker report --by \t");
    let values = screen_of(&["$ claude-tracker report --by", "day      machine  project  tag"], 80, 24);
    assert_eq!(zsh.wait_for_screen(&values), values);

    zsh.send("\x15exit\r");
    assert_eq!(zsh.wait_for_exit(), (0, None));
}

/// `--help` lists a command's own options, then the global ones under their own heading (they were
/// interleaved).
#[test]
fn help_keeps_global_options_apart() {
    let world = World::new();
    assert_eq!(world.ok(&["report", "--help"]), HELP);
}

const HELP: &str = r#"Show active time and tokens per project (or per day)

Usage: claude-tracker report [OPTIONS] [PERIOD]

Arguments:
  [PERIOD]  Which days: today, the last 7 days (week) or the last 30 days (month), today included [default: today] [possible values: today, week, month]

Options:
      --since <DATE>  First local day of a custom range: YYYY-MM-DD, today, yesterday or a weekday (the latest one)
      --until <DATE>  Last local day of a custom range, inclusive, as --since [default: today]
      --by <BY>       One row per project, per day or per tag (a session with two tags counts in both, once in the total), or per machine [default: project] [possible values: project, day, tag, machine]
      --tag <NAME>    Only sessions with this tag
      --json          Print JSON instead of a table
  -h, --help          Print help
  -V, --version       Print version

Global options:
      --config <FILE>  Config file [default: $CLAUDE_TRACKER_CONFIG, else ~/.config/claude-tracker/config.toml]
      --db <FILE>      Database file [default: $CLAUDE_TRACKER_DB, else the platform data dir, e.g. ~/.local/share/claude-tracker/tracker.db]
  -v, --verbose        Say more: which transcript lines were skipped and why
"#;

//! A database the user cannot write (its file mode 0444, and its folder 0555 too): the commands that only
//! read (`report`, `status`, `export`, `dashboard`) show what it holds, with a note that transcripts were
//! not read into it, and leave it exactly as it was (no `-wal` or `-shm` beside it, not a byte changed);
//! a command that writes is refused with a message naming the file and what to do.
//!
//! File modes do not stop root: when the tests run as root, the world is handed to `nobody` and the
//! runs go as that user.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::support::World;

/// The user the runs go as when the tests run as root.
const NOBODY: u32 = 65_534;

/// True when this process writes files whatever their mode says (root, or the capability to override).
fn privileged() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::OpenOptions::new().write(true).open(&probe).is_ok()
}

/// Gives `path` and everything below it to `nobody`.
fn give_to_nobody(path: &Path) {
    std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            give_to_nobody(&entry.unwrap().path());
        }
    }
}

/// A world whose database lives in a folder of its own (so that folder can be made read-only alone).
struct Setup {
    world: World,
    /// Run as `nobody`: the tests run as root.
    as_nobody: bool,
}

impl Setup {
    /// Monday's session read into a writable database, then a Tuesday session written and not read.
    fn new() -> Setup {
        let setup = Setup { world: World::new(), as_nobody: privileged() };
        setup.world.session("mon", "/w/shop", "2026-11-02T09:00:00Z", 30);
        if setup.as_nobody {
            give_to_nobody(setup.world.dir.path());
        }
        setup.ok(&["ingest"]);
        setup.world.session("tue", "/w/shop", "2026-11-03T09:00:00Z", 60);
        setup
    }

    fn db_folder(&self) -> PathBuf {
        self.world.dir.path().join("data")
    }

    fn db(&self) -> PathBuf {
        self.db_folder().join("tracker.db")
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut command = self.world.std_cmd();
        command.env("CLAUDE_TRACKER_DB", self.db()).args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        if self.as_nobody {
            command.uid(NOBODY).gid(NOBODY);
        }
        command.output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// The database file 0444, and its folder 0555 when `folder`.
    fn make_read_only(&self, folder: bool) {
        if self.as_nobody {
            give_to_nobody(self.world.dir.path());
        }
        std::fs::set_permissions(self.db(), std::fs::Permissions::from_mode(0o444)).unwrap();
        if folder {
            std::fs::set_permissions(self.db_folder(), std::fs::Permissions::from_mode(0o555)).unwrap();
        }
    }

    /// The names in the database's folder.
    fn beside_db(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.db_folder())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Setup {
    /// The folder writable again, so the temporary world can be removed.
    fn drop(&mut self) {
        let _ = std::fs::set_permissions(self.db_folder(), std::fs::Permissions::from_mode(0o755));
    }
}

fn note(setup: &Setup) -> String {
    format!(
        "claude-tracker: note: the database {} is read-only: transcripts were not read into it, so this shows \
         what it already holds (make it writable to bring it up to date)\n",
        setup.db().display()
    )
}

/// What the reading commands print on the database as Monday's ingest left it.
struct Seen {
    status: String,
    export: String,
    dashboard: String,
}

const STATUS: [&str; 2] = ["status", "--json"];
const EXPORT: [&str; 5] = ["export", "--csv", "--sessions", "--since", "2026-11-02"];
const DASHBOARD: [&str; 5] = ["dashboard", "--snapshot", "80x24", "--tab", "week"];

/// The reading commands on a read-only database: each succeeds with exactly what the database holds
/// (what a writable run printed before Tuesday's transcript existed), the note on stderr, and nothing
/// changed or created beside the database.
fn reads_as_it_is(folder: bool) {
    let setup = Setup::new();
    // What the commands print from Monday alone, before Tuesday's transcript was written (status does
    // not ingest; export and the dashboard would read Tuesday, so they are asked on a copy without it).
    let seen = {
        let without_tuesday = Setup::new_monday_only();
        Seen {
            status: setup.ok(&STATUS),
            export: without_tuesday.ok(&EXPORT),
            dashboard: without_tuesday.ok(&DASHBOARD),
        }
    };
    setup.make_read_only(folder);
    let before = std::fs::read(setup.db()).unwrap();

    let report = setup.run(&["report", "--since", "2026-11-02", "--until", "2026-11-03"]);
    assert_eq!(
        (
            String::from_utf8(report.stdout).unwrap(),
            String::from_utf8(report.stderr).unwrap(),
            report.status.code()
        ),
        (
            // Monday's half hour (prompts only: all hands-on); Tuesday's hour is in a transcript the
            // database never read.
            "Claude Code time from 2026-11-02 to 2026-11-03 (UTC)\n\n  \
             project  active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
             * shop       0:30      0:30        0:00        0:00         1      0       0            0           0\n  \
             total      0:30      0:30        0:00        0:00         1      0       0            0           0\n\n\
             * latest activity\n"
                .to_string(),
            note(&setup),
            Some(0)
        )
    );
    for (args, expected, noted) in [
        (&STATUS[..], &seen.status, false),
        (&EXPORT[..], &seen.export, true),
        (&DASHBOARD[..], &seen.dashboard, true),
    ] {
        let output = setup.run(args);
        assert_eq!(
            (
                String::from_utf8(output.stdout).unwrap(),
                String::from_utf8(output.stderr).unwrap(),
                output.status.code()
            ),
            (expected.clone(), if noted { note(&setup) } else { String::new() }, Some(0)),
            "{args:?}"
        );
    }

    let ingest = setup.run(&["ingest"]);
    // With the folder read-only too, the file is what is named: it is looked at first.
    let why = "you cannot write it";
    assert_eq!(
        (
            String::from_utf8(ingest.stdout).unwrap(),
            String::from_utf8(ingest.stderr).unwrap(),
            ingest.status.code()
        ),
        (
            String::new(),
            format!(
                "claude-tracker: error: the database {0} is read-only ({why}) and this command writes to it: \
                 make it writable (`chmod u+w {0}`), or pass `--db` a copy you can write; `report`, `status`, \
                 `export` and `dashboard` read it as it is\n",
                setup.db().display()
            ),
            Some(1)
        )
    );
    assert_eq!(setup.beside_db(), ["tracker.db"]);
    assert!(std::fs::read(setup.db()).unwrap() == before, "the database changed");
}

impl Setup {
    /// [`Setup::new`] without Tuesday's transcript.
    fn new_monday_only() -> Setup {
        let setup = Setup { world: World::new(), as_nobody: false };
        setup.world.session("mon", "/w/shop", "2026-11-02T09:00:00Z", 30);
        setup.ok(&["ingest"]);
        setup
    }
}

#[test]
fn a_read_only_database_file_is_read_as_it_is_and_refused_to_writers() {
    reads_as_it_is(false);
}

#[test]
fn a_database_in_a_read_only_folder_is_read_as_it_is_and_refused_to_writers() {
    reads_as_it_is(true);
}

/// A writable file in a read-only folder: SQLite cannot create the `-wal` and `-shm` files a write
/// needs, and the message says so.
#[test]
fn a_writable_database_in_a_read_only_folder_is_refused_to_writers_with_the_folder_named() {
    let setup = Setup::new();
    if setup.as_nobody {
        give_to_nobody(setup.world.dir.path());
    }
    std::fs::set_permissions(setup.db_folder(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let ingest = setup.run(&["ingest"]);
    assert_eq!(
        (
            String::from_utf8(ingest.stdout).unwrap(),
            String::from_utf8(ingest.stderr).unwrap(),
            ingest.status.code()
        ),
        (
            String::new(),
            format!(
                "claude-tracker: error: the database {} is read-only (its folder {} is read-only and SQLite keeps \
                 its `-wal` and `-shm` files there) and this command writes to it: make the folder writable, or \
                 pass `--db` a copy you can write; `report`, `status`, `export` and `dashboard` read it as it is\n",
                setup.db().display(),
                setup.db_folder().display()
            ),
            Some(1)
        )
    );
    let report = setup.run(&["report", "--since", "2026-11-02", "--until", "2026-11-02"]);
    assert_eq!((String::from_utf8(report.stderr).unwrap(), report.status.code()), (note(&setup), Some(0)));
    assert_eq!(setup.beside_db(), ["tracker.db"]);
}

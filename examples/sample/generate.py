#!/usr/bin/env python3
"""Regenerates the sample Claude Code transcripts in examples/sample/projects/.

Stdlib only and deterministic (a fixed random seed, no clock): running it twice gives the same bytes.
It (re)writes:

  examples/sample/projects/   transcripts in Claude Code's on-disk layout
  examples/sample/expected.json  the figures claude-tracker should report for them
  examples/sample/README.md   what the corpus holds, where each trap is, and the expected figures

The expected figures are computed by reading the written files back (see `expected()`), not from the
generator's own bookkeeping, so they check the files as they are on disk.

Usage: python3 examples/sample/generate.py
"""

import json
import os
import random
import shutil
import string
from datetime import datetime, timedelta, timezone
import uuid as uuidlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "projects")

SEED = 20261109
VERSION = "2.0.31"
MODEL = "claude-sonnet-4-5-20250929"
SUBAGENT_MODEL = "claude-haiku-4-5-20251001"
SYNTHETIC = "<synthetic>"
IDLE_MS = 15 * 60 * 1000
ATTENTION_MS = IDLE_MS  # [capture] attention_minutes defaults to the idle threshold
# Openings of user text the harness writes (notes/09-time-model.md): the agent's, not a person's.
HARNESS_OPENINGS = ("<task-notification", "<scheduled-task", "<<autonomous-loop", "[SYSTEM NOTIFICATION",
                    "<local-command-stdout", "<local-command-stderr", "<local-command-caveat", "<bash-stdout",
                    "<bash-stderr", "<system-reminder", "This session is being continued")
# Europe/Berlin is UTC+1 for the whole corpus (summer time ended 2026-10-25, starts again 2027-03-28).
BERLIN = timezone(timedelta(hours=1))
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

rng = random.Random(SEED)
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

# --------------------------------------------------------------------------------------------------
# Ids and times


def new_uuid():
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


def b62(n):
    return "".join(rng.choice(B62) for _ in range(n))


def msg_id():
    return "msg_01" + b62(22)


def req_id():
    return "req_011" + b62(21)


def tool_id():
    return "toolu_01" + b62(22)


def hex8():
    return "%08x" % rng.getrandbits(32)


def at(text):
    """'2026-11-09T08:05' (UTC) -> epoch milliseconds."""
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
    return (dt - EPOCH) // timedelta(milliseconds=1)


def iso(t):
    dt = EPOCH + timedelta(milliseconds=t)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t % 1000)


def parse_iso(text):
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return (dt - EPOCH) // timedelta(milliseconds=1)


def secs(lo, hi):
    """A random duration from lo to hi seconds, in milliseconds."""
    return rng.randint(lo * 1000, hi * 1000)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------------------------------
# What the projects look like (file snippets, commands, prompts)

P_WEBSHOP = "/home/dev/code/webshop"
P_TRACKER = "/home/dev/code/claude-tracker"
P_INFRA = "/home/dev/code/infra"
P_FRONTEND = "/home/dev/code/webshop/frontend"

PROJECTS = {
    P_WEBSHOP: {
        "files": {
            "src/cart.rs": "use crate::money::Money;\n\npub struct LineItem {\n    pub sku: String,\n    pub price: Money,\n    pub quantity: u32,\n}\n\npub struct Cart {\n    pub items: Vec<LineItem>,\n}\n\nimpl Cart {\n    pub fn total(&self) -> Money {\n        self.items.iter().map(|i| i.price * i.quantity).sum()\n    }\n}\n",
            "src/money.rs": "#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]\npub struct Money(pub i64);\n\nimpl std::ops::Mul<u32> for Money {\n    type Output = Money;\n    fn mul(self, n: u32) -> Money {\n        Money(self.0 * i64::from(n))\n    }\n}\n",
            "src/checkout.rs": "use crate::cart::Cart;\n\npub fn place_order(cart: &Cart) -> Result<OrderId, CheckoutError> {\n    if cart.items.is_empty() {\n        return Err(CheckoutError::EmptyCart);\n    }\n    let total = cart.total();\n    payments::charge(total)?;\n    Ok(OrderId::new())\n}\n",
            "Cargo.toml": "[package]\nname = \"webshop\"\nversion = \"0.4.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n",
        },
        "commands": [
            ("cargo test", "Run the test suite", "running 14 tests\ntest cart::tests::empty_cart_total_is_zero ... ok\ntest cart::tests::total_sums_quantities ... ok\n\ntest result: ok. 14 passed; 0 failed; 0 ignored"),
            ("cargo clippy --all-targets", "Run clippy", "    Checking webshop v0.4.0\n    Finished `dev` profile target(s) in 2.31s"),
            ("git status --short", "Show changed files", " M src/cart.rs\n M src/checkout.rs"),
        ],
        "greps": [("fn total", ["src/cart.rs", "src/checkout.rs"]), ("Money(", ["src/money.rs", "src/cart.rs"])],
        "edits": [("src/cart.rs", "pub fn total(&self) -> Money {", "pub fn total(&self) -> Money {\n        // Quantities are never negative."),
                  ("src/checkout.rs", "let total = cart.total();", "let total = cart.total_with_tax();")],
        "prompts": [
            "Add a unit test for the cart total",
            "Why does checkout fail for an empty cart?",
            "Rename LineItem::price to unit_price",
            "Add tax to the cart total, 19 percent",
            "Run the tests and fix what fails",
            "Make Money implement Display",
            "Refactor place_order into smaller functions",
            "Check clippy warnings",
            "Add a discount code field to the cart",
            "Write a doc comment for Cart::total",
            "Show me where Money is multiplied",
            "Add an error variant for payment timeouts",
        ],
        "summaries": ["Cart total unit tests", "Tax in cart total", "Checkout error handling", "Discount codes in cart"],
    },
    P_TRACKER: {
        "files": {
            "src/report.rs": "pub struct Totals {\n    pub active_ms: i64,\n    pub sessions: u64,\n}\n\nimpl Totals {\n    pub fn active_seconds(&self) -> i64 {\n        (self.active_ms + 500).div_euclid(1000)\n    }\n}\n",
            "src/sessions.rs": "pub fn active_spans(activity: &[Millis], idle_ms: i64) -> Vec<Span> {\n    let mut spans: Vec<Span> = Vec::new();\n    for &at in activity {\n        // consecutive lines closer than idle_ms share a span\n    }\n    spans\n}\n",
            "src/config.rs": "pub const DEFAULT_IDLE_MINUTES: u32 = 15;\n\npub struct CaptureConfig {\n    pub projects_dirs: Option<Vec<PathBuf>>,\n    pub idle_minutes: u32,\n}\n",
            "Cargo.toml": "[package]\nname = \"claude-tracker\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        },
        "commands": [
            ("cargo test", "Run the test suite", "running 41 tests\ntest sessions::tests::gap_equal_to_threshold_is_idle ... ok\n\ntest result: ok. 41 passed; 0 failed; 0 ignored"),
            ("cargo fmt --check", "Check formatting", ""),
            ("cargo build --release", "Build release binary", "   Compiling claude-tracker v0.1.0\n    Finished `release` profile [optimized] target(s) in 24.80s"),
        ],
        "greps": [("idle_ms", ["src/sessions.rs", "src/config.rs"]), ("active_seconds", ["src/report.rs"])],
        "edits": [("src/config.rs", "pub const DEFAULT_IDLE_MINUTES: u32 = 15;", "/// Default idle threshold in minutes.\npub const DEFAULT_IDLE_MINUTES: u32 = 15;"),
                  ("src/report.rs", "pub sessions: u64,", "pub sessions: u64,\n    pub messages: u64,")],
        "prompts": [
            "Add a --json flag to the report command",
            "Explain how active spans are computed",
            "Write a test for a gap equal to the idle threshold",
            "Make the config error name the line and column",
            "Speed up parsing of large transcript files",
            "Add a report grouped by day",
            "Why is the session count off by one?",
            "Add a doc comment to CaptureConfig",
            "Run the tests",
            "Handle a transcript line without a timestamp",
            "Print durations as hours and minutes",
            "Check the release build",
        ],
        "summaries": ["Report JSON output", "Idle threshold tests", "Per-day report", "Config error messages"],
    },
    P_INFRA: {
        "files": {
            "main.tf": "terraform {\n  required_version = \">= 1.6\"\n}\n\nmodule \"web\" {\n  source        = \"./modules/web\"\n  instance_type = \"t3.small\"\n  replicas      = 2\n}\n",
            "variables.tf": "variable \"region\" {\n  type    = string\n  default = \"eu-central-1\"\n}\n\nvariable \"environment\" {\n  type = string\n}\n",
            "scripts/deploy.sh": "#!/bin/sh\nset -eu\nterraform -chdir=terraform plan -out=plan.bin\nterraform -chdir=terraform apply plan.bin\n",
        },
        "commands": [
            ("terraform fmt -check -recursive", "Check terraform formatting", ""),
            ("terraform validate", "Validate configuration", "Success! The configuration is valid."),
            ("shellcheck scripts/deploy.sh", "Lint the deploy script", ""),
        ],
        "greps": [("instance_type", ["main.tf", "modules/web/main.tf"]), ("region", ["variables.tf"])],
        "edits": [("main.tf", "replicas      = 2", "replicas      = 3"),
                  ("variables.tf", "type = string\n}", "type        = string\n  description = \"Deployment environment name\"\n}")],
        "prompts": [
            "Add a variable for the environment name",
            "Validate the terraform config",
            "Increase web replicas to 3",
            "Lint the deploy script",
            "Explain what the web module creates",
            "Add a description to every variable",
            "Format all terraform files",
            "Make the deploy script stop on errors",
        ],
        "summaries": ["Terraform variables cleanup", "Web module replicas"],
    },
    P_FRONTEND: {
        "files": {
            "src/components/Cart.tsx": "import { formatMoney } from '../money';\n\nexport function Cart({ items }: { items: Item[] }) {\n  const total = items.reduce((sum, i) => sum + i.price * i.quantity, 0);\n  return (\n    <section className=\"cart\">\n      <p>Total: {formatMoney(total)}</p>\n    </section>\n  );\n}\n",
            "src/money.ts": "export function formatMoney(cents: number): string {\n  return (cents / 100).toFixed(2) + ' EUR';\n}\n",
            "package.json": "{\n  \"name\": \"webshop-frontend\",\n  \"private\": true,\n  \"scripts\": { \"test\": \"vitest run\", \"lint\": \"eslint src\" }\n}\n",
        },
        "commands": [
            ("npm test", "Run unit tests", " RUN  v2.1.4\n \u2713 src/money.test.ts (3 tests)\n \u2713 src/components/Cart.test.tsx (4 tests)\n\n Test Files  2 passed (2)"),
            ("npm run lint", "Lint the sources", "> webshop-frontend@0.0.0 lint\n> eslint src"),
        ],
        "greps": [("formatMoney", ["src/money.ts", "src/components/Cart.tsx"]), ("className", ["src/components/Cart.tsx"])],
        "edits": [("src/money.ts", "return (cents / 100).toFixed(2) + ' EUR';", "return new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' }).format(cents / 100);"),
                  ("src/components/Cart.tsx", "<p>Total: {formatMoney(total)}</p>", "<p className=\"cart-total\">Total: {formatMoney(total)}</p>")],
        "prompts": [
            "Show the cart total with a currency format",
            "Add a test for formatMoney",
            "Fix the lint errors",
            "Add an empty cart message",
            "Make the checkout button disabled while loading",
            "Split Cart into smaller components",
            "Add a quantity selector to each item",
            "Run the unit tests",
        ],
        "summaries": ["Cart currency formatting", "Checkout form state"],
    },
}

REPLIES = [
    "Done. The change is in place and the tests pass.",
    "I updated the function and added a short test for it.",
    "The cause is an early return before the total is computed. I moved the check.",
    "Here is a summary of what changed: one function renamed, two call sites updated.",
    "All checks pass now.",
    "I added the field and kept the old behaviour as the default.",
    "That code path is only reached when the list is empty; I added a guard.",
    "The warning came from an unused import, which I removed.",
    "I left the public API unchanged and only touched the internals.",
    "Done. Let me know if you want the same change in the other module.",
]
STEP_TEXTS = ["Let me look at the current code first.", "I'll check how this is used.", "Let me run the tests."]


# --------------------------------------------------------------------------------------------------
# Writing one transcript


class Chain:
    """The lines of one transcript file, for one session (or one sub-agent of a session)."""

    def __init__(self, session_id, cwd, branch, sidechain=False, agent_id=None, parent_uuid=None,
                 model=MODEL):
        self.sid = session_id
        self.cwd = cwd
        self.branch = branch
        self.sidechain = sidechain
        self.agent_id = agent_id
        self.model = model
        self.lines = []
        self.last_uuid = parent_uuid
        self.context = rng.randint(10500, 16000)  # tokens already in the prompt cache
        self.replies = 0

    def _head(self):
        head = {
            "parentUuid": self.last_uuid,
            "isSidechain": self.sidechain,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.sid,
            "version": VERSION,
            "gitBranch": self.branch,
        }
        if self.agent_id:
            head["agentId"] = self.agent_id
        return head

    def _emit(self, line):
        self.lines.append(dumps(line))
        self.last_uuid = line["uuid"]

    def user(self, t, content, tool_result=None, uuid=None):
        line = self._head()
        line["type"] = "user"
        line["message"] = {"role": "user", "content": content}
        line["uuid"] = uuid or new_uuid()
        line["timestamp"] = iso(t)
        if tool_result is not None:
            line["toolUseResult"] = tool_result
        self._emit(line)

    def usage(self, output=None):
        """Plausible counters: the cache grows by what each turn adds, and is compacted when large."""
        if self.replies == 0:
            created = rng.randint(6000, 20000)
        else:
            created = rng.choice([0, rng.randint(80, 900), rng.randint(300, 2500), rng.randint(1500, 7000)])
        read = self.context
        self.replies += 1
        out = output if output is not None else int(rng.triangular(20, 1500, 250))
        self.context = read + created
        if self.context > 150000:
            self.context = rng.randint(18000, 26000)  # auto-compaction
        return {
            "input_tokens": rng.randint(3, 50),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": created, "ephemeral_1h_input_tokens": 0},
            "output_tokens": out,
            "service_tier": "standard",
        }

    def assistant(self, t, content, usage=None, mid=None, rid=None, model=None):
        line = self._head()
        line["message"] = {
            "model": model or self.model,
            "id": mid or msg_id(),
            "type": "message",
            "role": "assistant",
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage or self.usage(),
        }
        line["requestId"] = rid or req_id()
        line["type"] = "assistant"
        line["uuid"] = new_uuid()
        line["timestamp"] = iso(t)
        self._emit(line)

    def api_error(self, t):
        """What Claude Code writes itself when the API fails: a synthetic message with zero usage."""
        line = self._head()
        line["message"] = {
            "model": SYNTHETIC,
            "id": new_uuid(),
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"}],
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "usage": {
                "input_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                "output_tokens": 0,
                "service_tier": None,
            },
        }
        line["type"] = "assistant"
        line["uuid"] = new_uuid()
        line["timestamp"] = iso(t)
        line["isApiErrorMessage"] = True
        self._emit(line)

    def snapshot(self, t, message_uuid):
        self.lines.append(dumps({
            "type": "file-history-snapshot",
            "messageId": message_uuid,
            "snapshot": {"messageId": message_uuid, "trackedFileBackups": {}, "timestamp": iso(t)},
            "isSnapshotUpdate": False,
        }))

    def tool_call(self, t, project, first_usage=None, mid=None, rid=None):
        """One tool use and its result; returns the time after the result."""
        info = PROJECTS[project]
        kind = rng.choice(["Read", "Read", "Bash", "Grep", "Edit"])
        tid = tool_id()
        if kind == "Read":
            rel = rng.choice(sorted(info["files"]))
            path = os.path.join(project, rel)
            text = info["files"][rel]
            lines = text.rstrip("\n").split("\n")
            numbered = "\n".join("%6d\u2192%s" % (i + 1, l) for i, l in enumerate(lines))
            tool_input = {"file_path": path}
            result = numbered
            extra = {"type": "text", "file": {"filePath": path, "content": text, "numLines": len(lines),
                                              "startLine": 1, "totalLines": len(lines)}}
        elif kind == "Bash":
            command, description, stdout = rng.choice(info["commands"])
            tool_input = {"command": command, "description": description}
            result = stdout
            extra = {"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False}
        elif kind == "Grep":
            pattern, files = rng.choice(info["greps"])
            names = [os.path.join(project, f) for f in files]
            tool_input = {"pattern": pattern, "path": project, "output_mode": "files_with_matches"}
            result = "Found %d files\n%s" % (len(names), "\n".join(names))
            extra = {"mode": "files_with_matches", "filenames": names, "numFiles": len(names)}
        else:
            rel, old, new = rng.choice(info["edits"])
            path = os.path.join(project, rel)
            tool_input = {"file_path": path, "old_string": old, "new_string": new}
            result = "The file %s has been updated." % path
            extra = {"filePath": path, "oldString": old, "newString": new, "userModified": False,
                     "replaceAll": False}
        self.assistant(t, [{"type": "tool_use", "id": tid, "name": kind, "input": tool_input}],
                       usage=first_usage, mid=mid, rid=rid)
        t += secs(1, 6)
        self.user(t, [{"tool_use_id": tid, "type": "tool_result", "content": result}], tool_result=extra)
        return t


# --------------------------------------------------------------------------------------------------
# Sessions

# (start UTC, active minutes to aim for, project, branch, idle gaps (20-50 min) once these fractions of
#  the active minutes are done, summary line?, trap)
SCHEDULE = [
    ("2026-11-09T08:05", 25, P_WEBSHOP, "main", [0.35, 0.7], True, None),
    ("2026-11-09T13:10", 20, P_INFRA, "main", [], False, None),
    ("2026-11-10T08:20", 30, P_TRACKER, "main", [0.25, 0.5, 0.75], True, None),
    ("2026-11-10T14:00", 20, P_FRONTEND, "main", [], False, "malformed"),
    ("2026-11-11T09:00", 20, P_WEBSHOP, "feature/cart-total", [0.5], True, "duplicate"),
    ("2026-11-11T13:30", 20, P_TRACKER, "main", [], False, None),
    ("2026-11-12T08:10", 20, P_INFRA, "main", [], True, "cwd_change"),
    ("2026-11-12T12:40", 15, P_FRONTEND, "main", [0.5], False, None),
    ("2026-11-12T22:40", 40, P_TRACKER, "main", [0.75], True, "midnight"),
    ("2026-11-13T14:00", 20, P_INFRA, "main", [], True, "streaming"),
    ("2026-11-16T08:00", 25, P_TRACKER, "main", [0.5], False, "subagent_new"),
    ("2026-11-17T08:30", 20, P_FRONTEND, "feature/checkout-form", [0.6], False, "subagent_old"),
    ("2026-11-18T08:15", 25, P_WEBSHOP, "main", [0.5], True, "resume_source"),
    ("2026-11-19T09:05", 20, P_WEBSHOP, "main", [], False, "resumed"),
    ("2026-11-20T08:00", 20, P_TRACKER, "main", [0.5], False, "api_error"),
    ("2026-11-20T13:00", 15, P_INFRA, "main", [0.5], False, None),
]


def project_dir(cwd):
    return cwd.replace("/", "-")


class Corpus:
    def __init__(self):
        self.files = {}  # relative path -> list of lines
        self.traps = {}  # trap name -> description with file names
        self.sessions = []  # (first ms, last ms, file) of each main session file's own lines

    def add(self, rel, lines):
        assert rel not in self.files, rel
        self.files[rel] = lines

    def line_of(self, rel, needle):
        """1-based number of the first line of a file containing needle."""
        for no, line in enumerate(self.files[rel], 1):
            if needle in line:
                return no
        raise KeyError((rel, needle))


def plain_exchange(chain, t, project, prompt, snapshot=False):
    """A prompt, zero to two tool calls, and an answer; returns the time of the answer."""
    uuid = new_uuid()
    if snapshot:
        chain.snapshot(t, uuid)
    chain.user(t, prompt, uuid=uuid)
    t += secs(4, 35)
    for _ in range(rng.choice([0, 0, 0, 1, 1, 1, 2])):
        t = chain.tool_call(t, project)
        t += secs(5, 30)
    chain.assistant(t, [{"type": "text", "text": rng.choice(REPLIES)}])
    return t


def subagent_exchange(corpus, chain, t, project, prompt, layout):
    """The main chain calls the Task tool; a sub-agent writes its own side-chain file meanwhile."""
    chain.user(t, prompt)
    t += secs(5, 20)
    tid = tool_id()
    agent = hex8()
    task = "Find every place that computes a total and list the file and function."
    chain.assistant(t, [{"type": "tool_use", "id": tid, "name": "Task",
                         "input": {"description": "Find total computations", "prompt": task,
                                   "subagent_type": "Explore"}}])
    started = t
    sub = Chain(chain.sid, chain.cwd, chain.branch, sidechain=True, agent_id=agent, model=SUBAGENT_MODEL)
    t += secs(1, 3)
    sub.user(t, task)
    for _ in range(3):
        t += secs(3, 15)
        t = sub.tool_call(t, project)
    t += secs(5, 20)
    found = "Totals are computed in one function only; the other matches just format or display the result."
    sub.assistant(t, [{"type": "text", "text": found}])
    t += secs(1, 3)
    chain.user(t, [{"tool_use_id": tid, "type": "tool_result", "content": [{"type": "text", "text": found}]}],
               tool_result={"status": "completed", "prompt": task, "agentId": agent,
                            "content": [{"type": "text", "text": found}],
                            "totalDurationMs": t - started, "totalToolUseCount": 3})
    t += secs(5, 25)
    chain.assistant(t, [{"type": "text", "text": "The sub-agent found one place that computes totals; I will change it there."}])
    d = project_dir(project)
    if layout == "old":
        rel = "%s/agent-%s.jsonl" % (d, agent)
    else:
        rel = "%s/%s/subagents/agent-%s.jsonl" % (d, chain.sid, agent)
    corpus.add(rel, sub.lines)
    return t, rel


def streaming_exchange(chain, t, project, prompt):
    """One API response written as two lines (text, then tool use): same message.id and requestId,
    different uuids, output_tokens growing from 12 to 480, other counters equal."""
    chain.user(t, prompt)
    t += secs(4, 15)
    mid, rid = msg_id(), req_id()
    first = chain.usage(output=12)
    chain.assistant(t, [{"type": "text", "text": "Let me check the variables file first."}], usage=first, mid=mid, rid=rid)
    second = json.loads(json.dumps(first))
    second["output_tokens"] = 480
    t += 1237
    t = chain.tool_call(t, project, first_usage=second, mid=mid, rid=rid)
    t += secs(5, 25)
    chain.assistant(t, [{"type": "text", "text": rng.choice(REPLIES)}])
    return t, mid


def run_session(corpus, spec, resume_from=None):
    start_text, minutes, project, branch, idle_fracs, with_summary, trap = spec
    info = PROJECTS[project]
    sid = new_uuid()
    start = at(start_text) + rng.randint(0, 59999)
    budget = minutes * 60000
    idle_marks = [int(f * budget) for f in idle_fracs]
    idle_total = 0
    head_lines = []
    parent = None
    if resume_from is not None:
        head_lines = resume_from.lines[-5:]
        parent = resume_from.last_uuid
    chain = Chain(sid, project, branch, parent_uuid=parent)
    d = project_dir(project)
    rel = "%s/%s.jsonl" % (d, sid)
    prompts = list(info["prompts"])
    rng.shuffle(prompts)
    t = start
    n = 0
    snapshots = trap != "resume_source" and rng.random() < 0.4
    while True:
        prompt = prompts[n % len(prompts)]
        if trap == "cwd_change" and n == 3:
            chain.cwd = project + "/terraform"
            corpus.traps["cwd_change"] = (rel, '"cwd":"%s"' % chain.cwd)
            prompt = "Now work in the terraform folder: validate it"
        if trap == "subagent_old" and n == 2 or trap == "subagent_new" and n == 4:
            layout = "old" if trap == "subagent_old" else "new"
            t, sub_rel = subagent_exchange(corpus, chain, t, project, "Find where totals are computed across the code", layout)
            corpus.traps["sidechain_" + layout] = (sub_rel, rel)
        elif trap == "streaming" and n == 1:
            t, mid = streaming_exchange(chain, t, project, "Add a description to the region variable")
            corpus.traps["streaming"] = (rel, '"id":"%s"' % mid)
        elif trap == "api_error" and n == 2:
            chain.user(t, prompt)
            t += secs(10, 40)
            chain.api_error(t)
            corpus.traps["api_error"] = (rel, '"isApiErrorMessage":true')
            t += secs(20, 60)
            t = plain_exchange(chain, t, project, "Try again please")
        else:
            t = plain_exchange(chain, t, project, prompt, snapshot=snapshots and n % 4 == 1)
            if trap == "duplicate" and n == 2:
                chain.lines.append(chain.lines[-1])  # the same line written twice
                corpus.traps["duplicate"] = (rel, chain.lines[-1])
            if trap == "malformed" and n == 3:
                last = chain.lines[-1]
                chain.lines[-1] = last[: len(last) // 2]  # cut in the middle; the newline follows
                corpus.traps["malformed"] = (rel, chain.lines[-1])
        n += 1
        active = t - start - idle_total
        if active >= budget:
            break
        if idle_marks and active >= idle_marks[0]:
            idle_marks.pop(0)
            idle = rng.randint(20 * 60000, 50 * 60000)  # away: a meeting, lunch
            idle_total += idle
            t += idle
        else:
            t += int(rng.triangular(20000, 300000, 300000))  # reading, thinking, typing
    lines = head_lines + chain.lines
    if with_summary:
        title = rng.choice(info["summaries"])
        lines.insert(0, dumps({"type": "summary", "summary": title, "leafUuid": chain.last_uuid}))
    corpus.add(rel, lines)
    corpus.sessions.append((start, t, rel))
    if trap == "midnight":
        corpus.traps["midnight"] = (rel, iso(start), iso(t))
    if trap == "resume_source":
        corpus.traps["resume_source"] = rel
    if trap == "resumed":
        corpus.traps["resumed"] = (rel, resume_from.sid, sid)
    return chain


def generate():
    corpus = Corpus()
    source = None
    for spec in SCHEDULE:
        chain = run_session(corpus, spec, resume_from=source if spec[6] == "resumed" else None)
        if spec[6] == "resume_source":
            source = chain
    for (s1, e1, f1), (s2, e2, f2) in zip(corpus.sessions, corpus.sessions[1:]):
        assert e1 < s2, ("overlapping sessions", f1, f2)
    for s1, e1, f1 in corpus.sessions:
        assert 20 * 60000 <= e1 - s1 <= 180 * 60000, ("session length", f1, (e1 - s1) / 60000)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for rel, lines in sorted(corpus.files.items()):
        path = os.path.join(OUT, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(line + "\n" for line in lines))
    return corpus


# --------------------------------------------------------------------------------------------------
# Expected figures, from the files on disk


def is_persons(line):
    """A person's line by its shape (2.0.x transcripts carry no `promptSource`): a user line that is not
    a tool result, meta or a compaction summary, whose text does not open with harness text, or whose
    blocks hold no tool result (notes/09-time-model.md)."""
    if line.get("type") != "user" or line.get("isMeta") or line.get("isCompactSummary"):
        return False
    if "toolUseResult" in line or "sourceToolAssistantUUID" in line:
        return False
    content = (line.get("message") or {}).get("content")
    if isinstance(content, str):
        return not content.startswith(HARNESS_OPENINGS)
    if isinstance(content, list):
        return not any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
    return False


def expected():
    """Reads projects/ back and computes what a correct tracker reports (idle threshold 15 minutes)."""
    seen_uuids = set()
    activity = {}  # session -> set of ms
    origin = {}  # session -> (ms, cwd) of the earliest main-chain line
    folders = {}  # session -> set of (ms, cwd) of its main-chain lines: where it worked, from when
    person = {}  # session -> set of ms of a person's lines (by shape: this corpus has no promptSource)
    messages = {}  # (message.id, requestId) -> (session, {field: max})
    message_at = {}  # (message.id, requestId) -> ms of its first line
    skipped = []
    for root, dirs, files in os.walk(OUT):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".jsonl"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, OUT)
            depth = len(rel.split(os.sep))
            sidechain_file = name.startswith("agent-") or depth > 2
            with open(path, encoding="utf-8") as f:
                for no, text in enumerate(f, 1):
                    try:
                        line = json.loads(text)
                    except ValueError:
                        skipped.append("%s:%d" % (rel, no))
                        continue
                    if line.get("type") not in ("user", "assistant"):
                        continue
                    sid = line["sessionId"]
                    ms_at = parse_iso(line["timestamp"])
                    sidechain = sidechain_file or line.get("isSidechain", False)
                    msg = line.get("message") or {}
                    if line["type"] == "assistant" and msg.get("model") != SYNTHETIC and "usage" in msg:
                        u = msg["usage"]
                        key = (msg["id"], line.get("requestId"))
                        fields = {k: u.get(k, 0) for k in ("input_tokens", "output_tokens",
                                                           "cache_creation_input_tokens",
                                                           "cache_read_input_tokens")}
                        message_at[key] = min(message_at.get(key, ms_at), ms_at)
                        if key in messages:
                            kept = messages[key][1]
                            for k in fields:
                                kept[k] = max(kept[k], fields[k])
                        else:
                            messages[key] = (sid, fields)
                    if sidechain or line["uuid"] in seen_uuids:
                        continue
                    seen_uuids.add(line["uuid"])
                    activity.setdefault(sid, set()).add(ms_at)
                    folders.setdefault(sid, set()).add((ms_at, line["cwd"]))
                    if is_persons(line):
                        person.setdefault(sid, set()).add(ms_at)
                    if sid not in origin or ms_at < origin[sid][0]:
                        origin[sid] = (ms_at, line["cwd"])

    def blank():
        return {"active_ms": 0, "hands_on_ms": 0, "supervised_ms": 0, "sessions": 0, "input_tokens": 0, "output_tokens": 0,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}

    # A session that moves folder (`/cd`) is split at the move: each stretch between two of its lines
    # belongs to the folder of the line it starts at, each message to the folder in effect when it was
    # written; before the first move, the folder is the session's project.
    def moves(sid):
        places = []
        for ms_at, cwd in sorted(folders[sid]):
            if not places or places[-1][1] != cwd:
                places.append((ms_at, cwd))
        return [(origin[sid][1] if i == 0 else cwd, ms_at) for i, (ms_at, cwd) in enumerate(places)]

    def folder_at(sid, ms_at):
        folder = origin[sid][1]
        for cwd, since in moves(sid)[1:]:
            if since <= ms_at:
                folder = cwd
        return folder

    projects = {}
    days = {}  # Berlin date -> active ms
    day_sessions = {}  # Berlin date -> sessions with active time that day
    counted = {}  # folder -> sessions with active time in it
    for sid, stamps in activity.items():
        for cwd, _ in moves(sid):
            projects.setdefault(cwd, blank())
        stamps = sorted(stamps)
        persons = sorted(person.get(sid, ()))
        for a, b in zip(stamps, stamps[1:]):
            if b - a < IDLE_MS:
                row = projects[folder_at(sid, a)]
                row["active_ms"] += b - a
                # Bands: a gap that ends in a person's line is them reading and typing (hands-on); else
                # the part within the attention window after their latest line is supervised.
                if b in person.get(sid, ()):
                    row["hands_on_ms"] += b - a
                else:
                    latest = max((t for t in persons if t <= a), default=None)
                    if latest is not None:
                        row["supervised_ms"] += max(0, min(b, latest + ATTENTION_MS) - a)
                if b > a:
                    counted.setdefault(folder_at(sid, a), set()).add(sid)
                # split the gap at Berlin midnights
                while a < b:
                    local = (EPOCH + timedelta(milliseconds=a)).astimezone(BERLIN)
                    next_midnight = (local.replace(hour=0, minute=0, second=0, microsecond=0)
                                     + timedelta(days=1))
                    cut = min(b, (next_midnight - EPOCH) // timedelta(milliseconds=1))
                    key = local.date().isoformat()
                    days[key] = days.get(key, 0) + cut - a
                    if cut > a:
                        day_sessions.setdefault(key, set()).add(sid)
                    a = cut
    for cwd, sids in counted.items():
        projects[cwd]["sessions"] = len(sids)
    for key, (sid, fields) in messages.items():
        row = projects[folder_at(sid, message_at[key])]
        for k, v in fields.items():
            row[k] += v
    total = blank()
    for row in projects.values():
        for k in total:
            total[k] += row[k]
    total["sessions"] = len(set().union(*counted.values()))

    def public(row):
        out = {"active_seconds": (row["active_ms"] + 500) // 1000}
        out.update({k: v for k, v in row.items() if not k.endswith("_ms")})
        return out

    bands = {p: {"hands_on_ms": r["hands_on_ms"], "supervised_ms": r["supervised_ms"],
                 "autonomous_ms": r["active_ms"] - r["hands_on_ms"] - r["supervised_ms"]}
             for p, r in sorted(projects.items())}

    result = {"projects": {p: public(projects[p]) for p in sorted(projects)}, "total": public(total),
              "bands_ms": bands}
    raw = {"projects": {p: projects[p] for p in sorted(projects)}, "total": total, "days": days,
           "day_sessions": {d: len(s) for d, s in day_sessions.items()}, "skipped": skipped}
    return result, raw


# --------------------------------------------------------------------------------------------------
# README


def hms(ms_value):
    """The exact figure to the second, in claude-tracker's one duration style with seconds: H:MM:SS."""
    s = (ms_value + 500) // 1000
    return "%d:%02d:%02d" % (s // 3600, s % 3600 // 60, s % 60)


def hm(minutes):
    """claude-tracker's one duration style: H:MM."""
    return "%d:%02d" % (minutes // 60, minutes % 60)


def apportion(parts, unit):
    """Whole units per part summing to the rounded total (half up): floors, then the units left to the
    largest remainders, ties to the earlier part (notes/09-figures.md). Written here independently."""
    total = (sum(parts) + unit // 2) // unit
    shares = [p // unit for p in parts]
    order = sorted(range(len(parts)), key=lambda i: (-(parts[i] % unit), i))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares


def readme(corpus, result, raw):
    traps = corpus.traps
    old_sub, old_parent = traps["sidechain_old"]
    new_sub, new_parent = traps["sidechain_new"]
    dup_file = traps["duplicate"][0]
    dup_line = corpus.line_of(*traps["duplicate"])
    stream_file = traps["streaming"][0]
    stream_line = corpus.line_of(*traps["streaming"])
    bad_file = traps["malformed"][0]
    bad_line = corpus.line_of(*traps["malformed"])
    late_file, late_start, late_end = traps["midnight"]
    resumed_file, resumed_orig, resumed_new = traps["resumed"]
    api_file = traps["api_error"][0]
    api_line = corpus.line_of(*traps["api_error"])
    cwd_file = traps["cwd_change"][0]
    cwd_line = corpus.line_of(*traps["cwd_change"])

    def berlin(text):
        return (EPOCH + timedelta(milliseconds=parse_iso(text))).astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")
    total_bytes = sum(len(("".join(l + "\n" for l in lines)).encode()) for lines in corpus.files.values())

    out = []
    w = out.append
    w("# Sample transcripts\n")
    w("*This file is written by `generate.py`; edit the script, not this file.*\n")
    w("A small, made-up corpus of Claude Code transcripts in the real on-disk format, so that claude-tracker "
      "can be tried without any Claude Code history of your own:\n")
    w("```sh\ncargo run -- --config examples/sample/config.toml --db target/sample.db report --since 2026-11-09 --until 2026-11-20\n```\n")
    w("`config.toml` points `projects_dirs` at `projects/` (relative to this folder), uses the time zone "
      "`Europe/Berlin` and an idle threshold of 15 minutes.\n")
    w("## What it holds\n")
    w("- %d transcript files (%d sessions, %.0f KB) for 4 projects, under `projects/<cwd with / replaced by ->/`:"
      % (len(corpus.files), result["total"]["sessions"], total_bytes / 1024))
    for p in sorted(PROJECTS):
        w("  - `%s` in `projects/%s/`" % (p, project_dir(p)))
    walls = [(e - b) / 60000 for b, e, _ in corpus.sessions]
    w("- Work days Monday 2026-11-09 to Friday 2026-11-20, roughly 08:00-17:00 UTC (plus one late session), "
      "sessions of %d to %d minutes from first to last line: prompts and replies 5 s to 5 min apart, tool "
      "results a few seconds after their call, and idle gaps of 20-50 minutes (a meeting, lunch) inside the "
      "longer sessions." % (min(walls), max(walls)))
    w("- User prompts, assistant text and tool calls (`Read`, `Bash`, `Grep`, `Edit`, `Task`) with their "
      "`tool_result` lines and `toolUseResult` objects; `summary` lines at the top of about half the files "
      "and a few `file-history-snapshot` lines. All text is invented and neutral; paths are under `/home/dev/code`.\n")
    w("## Traps (paths relative to `projects/`)\n")
    w("1. **Side-chain transcripts** (sub-agents; they add tokens to the parent session, never time):")
    w("   - old layout: `%s`, beside its parent `%s`;" % (old_sub, old_parent))
    w("   - new layout: `%s`, for the parent `%s`." % (new_sub, new_parent))
    w("   Their lines have `\"isSidechain\":true`, an `agentId`, the parent's `sessionId`, timestamps inside "
      "the parent's Task call, and their own message ids and usage (model `%s`)." % SUBAGENT_MODEL)
    w("2. **Repeated assistant lines**:")
    w("   - `%s`, lines %d and %d: the exact same assistant line written twice (same uuid, message.id, requestId)."
      % (dup_file, dup_line, dup_line + 1))
    w("   - `%s`, lines %d and %d: one API response on two lines (text, then tool use) with the same "
      "message.id and requestId, different uuids, `output_tokens` 12 then 480, other counters equal. "
      "Counted once, with output 480." % (stream_file, stream_line, stream_line + 1))
    w("3. **Malformed line**: `%s`, line %d: an assistant line cut in the middle (the newline follows). "
      "It must be skipped; it carries no time and no tokens, and the next line's `parentUuid` points at it."
      % (bad_file, bad_line))
    w("4. **Session across local midnight**: `%s`, %s to %s, i.e. %s to %s in Europe/Berlin "
      "(UTC+1): its time is split between Thursday 2026-11-12 and Friday 2026-11-13."
      % (late_file, late_start, late_end, berlin(late_start), berlin(late_end)))
    w("5. **cwd changing mid-session**: `%s` starts in `%s`; from line %d on its lines' cwd is `%s/terraform`. "
      "The session is split at the move (as after `/cd`): its time and tokens until then are `%s`'s, from then "
      "on `%s/terraform`'s." % (cwd_file, P_INFRA, cwd_line, P_INFRA, P_INFRA, P_INFRA))
    w("6. **Resumed session**: `%s` (new session `%s`) starts with the last 5 lines of `%s` verbatim "
      "(session `%s`, same uuids and timestamps), then goes on about a day later under its own sessionId. "
      "The repeated lines count once, for the original session; the new session is a session of its own."
      % (resumed_file, resumed_new, traps["resume_source"], resumed_orig))
    w("7. **Synthetic API error**: `%s`, line %d: `\"model\":\"<synthetic>\"`, all-zero usage, "
      "`\"isApiErrorMessage\":true`. No tokens; its timestamp is ordinary activity." % (api_file, api_line))
    w("")
    w("## Expected figures\n")
    w("Computed by `generate.py` from the files on disk, independently of claude-tracker, and written to "
      "`expected.json`. Rules: a session's project is the `cwd` of its earliest non-side-chain user/assistant "
      "line, and a session whose lines' `cwd` changes is split at the change (each gap between two lines "
      "belongs to the folder of the first, each message to the folder in effect when it was written; a "
      "session counts in a folder where it has active time, once in the total); active time is, per session, the sum of gaps shorter than 15 minutes between consecutive distinct "
      "timestamps of its non-side-chain user/assistant lines (lines deduplicated by uuid, attributed by their "
      "own `sessionId`), rounded to whole seconds after summing; tokens count each distinct "
      "(`message.id`, `requestId`) once, keeping the largest value of each counter, excluding model "
      "`<synthetic>`, side-chain files included in their parent's project. Every line falls in November 2026, "
      "so `report --since 2026-11-01 --until 2026-11-30` covers all of it.\n")
    # `report` rounds a whole table at once (largest remainder, in the order it shows: most active first),
    # so its rows add up to its total.
    shown_order = sorted(raw["projects"], key=lambda p: -raw["projects"][p]["active_ms"])
    shown = dict(zip(shown_order, apportion([raw["projects"][p]["active_ms"] for p in shown_order], 60000)))
    shown_total = (raw["total"]["active_ms"] + 30000) // 60000
    assert sum(shown.values()) == shown_total
    w("| project | active | active s | `report` shows | hands-on | supervised | autonomous | sessions | input | output | cache creation | cache read |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = list(result["projects"].items()) + [("**total**", result["total"])]
    raws = list(raw["projects"].values()) + [raw["total"]]
    minutes = [shown[p] for p in result["projects"]] + [shown_total]
    for (name, r), rr, m in zip(rows, raws, minutes):
        label = name if name.startswith("**") else "`%s`" % name
        autonomous = rr["active_ms"] - rr["hands_on_ms"] - rr["supervised_ms"]
        w("| %s | %s | %d | %s | %s | %s | %s | %d | %d | %d | %d | %d |" % (
            label, hms(rr["active_ms"]), r["active_seconds"], hm(m), hms(rr["hands_on_ms"]),
            hms(rr["supervised_ms"]), hms(autonomous), r["sessions"], r["input_tokens"],
            r["output_tokens"], r["cache_creation_input_tokens"], r["cache_read_input_tokens"]))
    w("")
    w("Attention bands (notes/09-time-model.md, attention window 15 minutes): a gap that ends in a person's line "
      "(a prompt: a user line that is not a tool result) is hands-on; the part of any other gap within 15 minutes "
      "after the person's latest line is supervised; the rest autonomous. Every prompt in this corpus is followed "
      "by replies within minutes, so nothing is autonomous; `expected.json` has the milliseconds (`bands_ms`).\n")
    w("`active` is exact to the second (H:MM:SS); `report` shows whole minutes (H:MM), each row its share of "
      "the total rounded, so the rows add up to the total (%s); `report --json` rounds its seconds the same "
      "way, which gives the `active s` column." % hm(shown_total))
    w("")
    w("Active milliseconds before rounding: %s; total %d.\n" % (
        ", ".join("`%s` %d" % (p, raw["projects"][p]["active_ms"]) for p in raw["projects"]),
        raw["total"]["active_ms"]))
    w("Active time per local day (Europe/Berlin), as `report --by day` shows it:\n")
    w("| day | active | active s | `report` shows | sessions |")
    w("|---|---|---:|---:|---:|")
    day_list = sorted(raw["days"])
    day_minutes = apportion([raw["days"][d] for d in day_list], 60000)
    day_seconds = apportion([raw["days"][d] for d in day_list], 1000)
    assert sum(day_minutes) == shown_total
    for day, m, sec in zip(day_list, day_minutes, day_seconds):
        w("| %s | %s | %d | %s | %d |" % (day, hms(raw["days"][day]), sec, hm(m), raw["day_sessions"][day]))
    w("| **total** | %s | %d | %s | %d |" % (hms(raw["total"]["active_ms"]), sum(day_seconds), hm(shown_total),
                                            result["total"]["sessions"]))
    w("")
    w("The session across midnight (trap 4) counts on both of its days (%d in the column) and once in the "
      "total (%d): `report --by day` says so under its table. `active s` is rounded with the other days, as "
      "`report --by day --json` does." % (sum(raw["day_sessions"].values()), result["total"]["sessions"]))
    w("")
    w("## Figures that changed, and why\n")
    w("- Issue 16 (the user's time): a session that moves folder is split at the move (trap 5), so "
      "`/home/dev/code/infra` went from 1:20:20 (4820 s, 4 sessions) to %s and `/home/dev/code/infra/terraform` "
      "is a row of its own (%s, 1 session); the tokens of that session's lines after the move went with it. "
      "Totals are unchanged." % (hms(raw["projects"][P_INFRA]["active_ms"]),
                                 hms(raw["projects"][P_INFRA + "/terraform"]["active_ms"])))
    w("- Issue 16: `report` rounds a whole table at once, so rows add up to the total (they were cut to the "
      "minute one by one: 2:24 + 1:35 + 1:20 + 1:01 under 6:22); the total counts a session once (17 sessions "
      "with `--by day` before, 16 now).")
    w("- Issue 16: the hands-on, supervised and autonomous columns are new (`report`, `--json`, `export`, the "
      "dashboard).")
    w("- Every line of this corpus is in the 2.0.x format (no `promptSource`): its prompts are a person's by their "
      "shape (notes/09-time-model.md), so no session is automated.\n")
    w("## Regenerating\n")
    w("```sh\npython3 examples/sample/generate.py\n```\n")
    w("Stdlib only, fixed seed, no clock: the output is the same on every run. It rewrites `projects/`, "
      "`expected.json` and this README, and prints the expected figures.")
    return "\n".join(out) + "\n"


def main():
    corpus = generate()
    result, raw = expected()
    bad = corpus.traps["malformed"][0]
    assert raw["skipped"] == ["%s:%d" % (bad.replace("/", os.sep), corpus.line_of(*corpus.traps["malformed"]))], raw["skipped"]
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(result, indent=2) + "\n")
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(readme(corpus, result, raw))
    print(json.dumps(result, indent=2))
    print("traps:")
    for name, value in sorted(corpus.traps.items()):
        print("  %s: %s" % (name, value))
    print("active ms per Berlin day:", json.dumps(raw["days"], sort_keys=True))


if __name__ == "__main__":
    main()

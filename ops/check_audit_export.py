"""Check a `reformflow audit export` outside the system: recompute every event's hash, and check
each link between consecutive events (`prev_hash` is the hash of the event numbered one less).
Reads what `audit export` (and the web's 下载 JSONL / 下载 CSV) writes: JSON lines, CSV (with its
byte-order mark; one leading apostrophe taken off any cell that has one) or the --json document
{"events": [...]}. The Python standard library only: it runs where reformflow is not installed.

    python3 check_audit_export.py EXPORT [--whole]

A whole export (no --instance) holds events 1, 2, 3, … : every link is checked, event 1's against
64 zeros. One plan's export holds that plan's events only: the events between them belong to other
plans, so a link can be checked only where two events are consecutive; each event's own hash is
always checked. A file that starts at event 1 is a whole export, and a number missing from it is a
problem; --whole says so of a file that does not start there (its first events removed).

Exit 0: every hash and every link checked matches; 1: a problem (each on standard error, starting
"hash:", "link:" or "gap:"); 2: the file cannot be read as an export."""
import csv
import hashlib
import io
import json
import sys

GENESIS = "0" * 64  # event 1 chains onto 64 zeros
FIELDS = ("seq", "occurred_at", "actor", "event_type", "instance_id", "task_id", "payload", "prev_hash", "hash",
          "recorded_at")
NUMBERS = ("seq", "instance_id", "task_id")


def event_hash(e):
    """sha256 of the compact JSON array of the fields, recorded_at appended when set (docs/cli.md)."""
    fields = [e["seq"], e["occurred_at"], e["actor"], e["event_type"], e["instance_id"], e["task_id"],
              e["payload"], e["prev_hash"]] + ([e["recorded_at"]] if e["recorded_at"] else [])
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def read_events(text):
    """The events of an export in any of its formats, as JSON lines give them."""
    text = text.lstrip("\ufeff")  # the byte-order mark a CSV file starts with, for Excel
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:  # JSON lines: one event a line
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return document["events"] if "events" in document else [document]
    return [_from_csv(row) for row in csv.DictReader(io.StringIO(text, newline=""))]


def _from_csv(row):
    """A CSV row as the event that was hashed: the apostrophe put before a cell a spreadsheet would
    run as a formula (and before one that began with an apostrophe) taken off; numbers as numbers,
    empty cells as null."""
    if set(FIELDS) - set(row):
        raise ValueError(f"CSV columns {sorted(row)} are not an audit export's {list(FIELDS)}")
    e = {k: v[1:] if v.startswith("'") else v for k, v in row.items() if k in FIELDS}
    for k in NUMBERS:
        e[k] = int(e[k]) if e[k] != "" else None
    e["recorded_at"] = e["recorded_at"] or None
    return e


def check(events, whole=False):
    """(problems, summary): each problem starts with "hash:", "link:" or "gap:"."""
    problems, links, gaps = [], 0, 0
    previous = None
    for e in events:
        if event_hash(e) != e["hash"]:
            problems.append(f"hash: event {e['seq']}: its content does not match its hash (the event was changed)")
        if previous is None and e["seq"] == 1:
            prev_hash, links = GENESIS, links + 1
        elif previous is not None and e["seq"] == previous["seq"] + 1:
            prev_hash, links = previous["hash"], links + 1
        else:
            prev_hash = None  # the event before it is not in the file: its link cannot be checked here
            if previous is not None and e["seq"] <= previous["seq"]:
                problems.append(f"link: event {e['seq']} comes after event {previous['seq']}: the file is out of order")
            elif whole:
                first_missing = previous["seq"] + 1 if previous is not None else 1
                missing = (f"event {first_missing}" if first_missing == e["seq"] - 1
                           else f"events {first_missing}–{e['seq'] - 1}")
                problems.append(f"gap: {missing} missing from a whole export (removed)")
            elif previous is not None:  # (one plan's first event: the one before it is another plan's)
                gaps += 1
        if prev_hash is not None and e["prev_hash"] != prev_hash:
            before = f"event {e['seq'] - 1}" if e["seq"] > 1 else "64 zeros"
            problems.append(f"link: event {e['seq']}: its prev_hash is not the hash of {before} (an event was "
                            "changed, removed or inserted there)")
        previous = e
    summary = (f"{len(events)} events, every hash matches; "
               + (f"{links} links between consecutive events match" if links != 1 else "1 link between consecutive events matches")
               + (f"; {gaps} gaps (other plans' events between: the links across them are not checked)" if gaps > 1
                  else "; 1 gap (other plans' events between: the link across it is not checked)" if gaps else "")
               + (f"; last {previous['hash']}" if previous else ""))
    return problems, summary


def main(argv):
    paths = [a for a in argv if a != "--whole"]
    if len(paths) != 1:
        print("usage: " + __doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    try:
        with open(paths[0], encoding="utf-8", newline="") as f:
            events = read_events(f.read())
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
        print(f"{paths[0]}: not an audit export that can be read: {exc}", file=sys.stderr)
        return 2
    # a file from event 1 is a whole export: no plan's events start the trail (deploying comes first)
    problems, summary = check(events, whole="--whole" in argv or bool(events) and events[0]["seq"] == 1)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        kinds = {k: sum(p.startswith(k + ":") for p in problems) for k in ("hash", "link", "gap")}
        print(f"{len(problems)} problem(s) in {len(events)} events: " + ", ".join(f"{k} {n}" for k, n in kinds.items() if n),
              file=sys.stderr)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

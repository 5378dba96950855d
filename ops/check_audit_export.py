"""Check a `reformflow audit export` outside the system: recompute every event's hash, and check
each link between consecutive events (`prev_hash` is the hash of the event numbered one less).
Reads what `audit export` (and the web's 下载 JSONL / 下载 CSV) writes: JSON lines, CSV (with its
byte-order mark and Chinese headers, the field in brackets; one leading apostrophe taken off any
cell that has one) or the --json document {"events": [...]}, line by line: a file of millions of
events needs no more memory than one. The Python standard library only: it runs where reformflow
is not installed.

    python3 check_audit_export.py EXPORT [--whole] [--anchor ANCHOR ...]

A whole export (no --instance) holds events 1, 2, 3, … : it must start at event 1, whose previous
hash is 64 zeros, and every number must follow the one before. One plan's export holds that plan's
events only, all with the same plan number: the events between them belong to other plans, so a
link can be checked only where two events are consecutive (and across a gap the event must not link
to the one before it); each event's own hash is always checked. A file holding events of several
plans, or events of no plan (users, sign-ins, deploys), is a whole export: a number missing from it
is a problem, its first events included. --whole says a file is a whole export whatever it holds.

What a file alone cannot show is its end cut off (the newest events deleted, or an export taken
after the trail was cut and re-hashed in the database): --anchor ANCHOR, an anchor written by
`reformflow audit anchor` and kept apart, checks that the anchored event is in the file with the
anchored hash; a whole export must reach it. Repeat --anchor for several.

Exit 0: every hash, link and anchor checked matches; 1: a problem (each on standard error, starting
"hash:", "link:", "gap:" or "anchor:"); 2: the file or an anchor cannot be read."""
import csv
import hashlib
import json
import re
import sys

GENESIS = "0" * 64  # event 1 chains onto 64 zeros
FIELDS = ("seq", "occurred_at", "actor", "event_type", "instance_id", "task_id", "payload", "prev_hash", "hash",
          "recorded_at")
# since migration 0025 (reformflow 0.x): how the person acted and the API token's id; an export written
# before has neither column, and its events none
LATER_FIELDS = ("channel", "token_id")
NUMBERS = ("seq", "instance_id", "task_id", "token_id")
# the end of a CSV cell cut at Excel's 32,767-character limit (engine/audit.py CUT_MARK): that event's
# full text is in the JSON lines export, and its hash can be checked there only
CUT_MARK = "…［已截断：超出 Excel 单元格 32767 字的上限，全文见 JSONL 导出 (cut at Excel's cell limit: the full value is in the JSONL export)］"


def event_hash(e):
    """sha256 of the compact JSON array of the fields, recorded_at appended when set, then the channel
    and the token's id when there is a channel (docs/cli.md)."""
    fields = [e["seq"], e["occurred_at"], e["actor"], e["event_type"], e["instance_id"], e["task_id"],
              e["payload"], e["prev_hash"]] + ([e["recorded_at"]] if e["recorded_at"] else [])
    if e.get("channel"):
        fields += [e["channel"], e.get("token_id")]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def read_events(f):
    """The events of an export in any of its formats, one at a time, as JSON lines give them."""
    first = f.readline().lstrip("\ufeff")  # the byte-order mark a CSV file starts with, for Excel
    if first.lstrip().startswith('{"events"'):  # the --json document: `{"events": [`, then an event a line
        yield from _document(first, f)
    elif first.strip() == "{":  # a JSON document laid out otherwise (re-saved by an editor): read whole
        yield from json.loads(first + f.read())["events"]
    elif first.lstrip().startswith("{"):  # JSON lines: one event a line
        for line in _chained([first], f):
            if line.strip():
                yield json.loads(line)
    elif first.strip():
        rows = csv.reader(_chained([first], f))
        names = [_field(h) for h in next(rows)]
        if set(FIELDS) - set(names):
            raise ValueError(f"CSV columns {names} are not an audit export's {list(FIELDS)}")
        for row in rows:
            yield _from_csv(dict(zip(names, row)))


def _chained(first, rest):
    yield from first
    yield from rest


def _document(first, f):
    rest = first.strip()[len('{"events"'):].lstrip(" :[")
    if rest and rest not in ("]}", "]}\n"):  # not written an event a line: read it whole (small)
        yield from json.loads(first + f.read())["events"]
        return
    for line in f:
        line = line.strip().strip(",")
        if line and line != "]}":
            yield json.loads(line)


def _field(header):
    """A CSV column's field: `序号 (seq)` → seq; an older export's plain `seq` as it is."""
    found = re.search(r"\((\w+)\)$", header.strip())
    return found[1] if found else header.strip().lstrip("\ufeff")


def _from_csv(row):
    """A CSV row as the event that was hashed: the apostrophe put before a cell a spreadsheet would
    run as a formula (and before one that began with an apostrophe) taken off; numbers as numbers,
    empty cells as null."""
    e = {k: v[1:] if v.startswith("'") else v for k, v in row.items() if k in FIELDS + LATER_FIELDS}
    for k in NUMBERS:
        if k in e:
            e[k] = int(e[k]) if e[k] != "" else None
    e["recorded_at"] = e["recorded_at"] or None
    e["channel"] = e.get("channel") or None
    e["cut"] = any(isinstance(v, str) and v.endswith(CUT_MARK) for v in e.values())
    return e


class _Check:
    """The export's events, checked as they are read: only the previous one kept."""

    def __init__(self, whole=False, anchors=()):
        self.whole = whole
        self.anchors = {a["seq"]: a["hash"] for a in anchors}
        self.problems, self.links, self.count, self.cut = [], 0, 0, 0
        self.previous = self.first = None
        self.plan = None  # the one plan every event so far belongs to; False once they do not
        self.gaps = []  # (first missing, last missing): other plans' events in one plan's export
        self.lead = None  # the events before its first, missing unless it is one plan's export
        self.anchored, self.matched = set(), set()

    def add(self, e):
        self.count += 1
        if self.first is None:
            self.first = e
            self.plan = e["instance_id"] if e["instance_id"] is not None else False
        elif self.plan is not False and e["instance_id"] != self.plan:
            self.plan = False
        if e.get("cut"):
            self.cut += 1  # its content is cut at Excel's limit: the JSON lines hold it whole
        elif event_hash(e) != e["hash"]:
            self.problems.append(f"hash: event {e['seq']}: its content does not match its hash (the event was changed)")
        if e["seq"] in self.anchors:
            self.anchored.add(e["seq"])
            if self.anchors[e["seq"]] == e["hash"]:
                self.matched.add(e["seq"])
            else:
                self.problems.append(f"anchor: event {e['seq']} does not have the anchored hash: it or events before "
                                     "it were rewritten")
        previous = self.previous
        if previous is None:
            if e["seq"] == 1:
                self._link(e, GENESIS, "64 zeros")
            elif e["prev_hash"] == GENESIS:
                self.problems.append(f"link: event {e['seq']} links to 64 zeros, as only event 1 does")
            else:
                self.lead = (1, e["seq"] - 1)  # the file does not start the chain: a plan's export only
        elif e["seq"] == previous["seq"] + 1:
            self._link(e, previous["hash"], f"event {previous['seq']}")
        elif e["seq"] <= previous["seq"]:
            self.problems.append(f"link: event {e['seq']} comes after event {previous['seq']}: the file is out of order")
        else:
            self.gaps.append((previous["seq"] + 1, e["seq"] - 1))
            if e["prev_hash"] == previous["hash"]:  # linked to the event before it: nothing was between
                self.problems.append(f"link: event {e['seq']} links to event {previous['seq']} although numbered "
                                     f"{e['seq'] - previous['seq'] - 1} after it: events were renumbered")
        if self.plan is False or self.whole:
            self._gaps_are_problems()
        self.previous = e

    def _link(self, e, prev_hash, before):
        self.links += 1
        if e["prev_hash"] != prev_hash:
            self.problems.append(f"link: event {e['seq']}: its prev_hash is not the hash of {before} (an event was "
                                 "changed, removed or inserted there)")

    def _gaps_are_problems(self):
        """In a whole export every number missing is an event removed."""
        for first, last in ([self.lead] if self.lead else []) + self.gaps:
            missing = f"event {first}" if first == last else f"events {first}–{last}"
            where = " at its start" if first == 1 else ""
            self.problems.append(f"gap: {missing} missing from a whole export{where} (removed)")
        self.gaps, self.lead = [], None

    def finish(self):
        whole = self.whole or self.plan is False
        last = self.previous["seq"] if self.previous else 0
        for seq in sorted(set(self.anchors) - self.anchored):
            if whole and seq > last:
                self.problems.append(f"anchor: the anchored event {seq} is not in the export, which ends at event "
                                     f"{last}: its end was cut (or it was exported before the anchor was taken)")
            elif whole:
                self.problems.append(f"anchor: the anchored event {seq} is missing from the export (removed)")
        if self.previous is None and self.anchors:
            self.problems.append("anchor: the export holds no events")
        gaps = len(self.gaps)
        summary = (f"{self.count} events, every hash matches; "
                   + (f"{self.links} links between consecutive events match" if self.links != 1
                      else "1 link between consecutive events matches")
                   + (f"; {gaps} gaps (other plans' events between: the links across them are not checked)" if gaps > 1
                      else "; 1 gap (other plans' events between: the link across it is not checked)" if gaps else "")
                   + (f"; {self.cut} event(s) cut at Excel's cell limit: their hashes are not checked here, check the "
                      "JSON lines export" if self.cut else "")
                   + "".join(f"; anchor of event {seq} matches" for seq in sorted(self.matched))
                   + "".join(f"; anchor of event {seq} not in this plan's export: not checked"
                             for seq in sorted(set(self.anchors) - self.anchored) if not whole)
                   + (f"; last {self.previous['hash']}" if self.previous else ""))
        return self.problems, summary


def check(events, whole=False, anchors=()):
    """(problems, summary): each problem starts with "hash:", "link:", "gap:" or "anchor:"."""
    checking = _Check(whole, anchors)
    for e in events:
        checking.add(e)
    return checking.finish()


def read_anchor(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if (not isinstance(data, dict) or not isinstance(data.get("seq"), int) or data["seq"] < 1
            or not isinstance(data.get("hash"), str) or len(data["hash"]) != 64):
        raise ValueError('an anchor needs "seq", a positive integer, and "hash", 64 hex digits')
    return data


def main(argv):
    paths, anchor_paths, args = [], [], list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--anchor" and args:
            anchor_paths.append(args.pop(0))
        elif arg != "--whole":
            paths.append(arg)
    if len(paths) != 1 or "--anchor" in paths:
        print("usage: " + __doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    try:
        anchors = [read_anchor(p) for p in anchor_paths]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"not an anchor that can be read: {exc}", file=sys.stderr)
        return 2
    try:
        with open(paths[0], encoding="utf-8", newline="") as f:
            problems, summary = check(read_events(f), whole="--whole" in argv, anchors=anchors)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, StopIteration) as exc:
        print(f"{paths[0]}: not an audit export that can be read: {exc}", file=sys.stderr)  # JSONDecodeError is a ValueError
        return 2
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        kinds = {k: sum(p.startswith(k + ":") for p in problems) for k in ("hash", "link", "gap", "anchor")}
        print(f"{len(problems)} problem(s) in {summary.split(' events')[0]} events: "
              + ", ".join(f"{k} {n}" for k, n in kinds.items() if n), file=sys.stderr)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

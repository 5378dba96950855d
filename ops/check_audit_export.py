"""Recompute every hash of a full `reformflow audit export` (JSONL) and check the chain.
Usage: python3 check_audit_export.py trail.jsonl  (exit 0: every hash matches)"""
import hashlib, json, sys

prev_seq, prev_hash = 0, "0" * 64  # event 1 chains onto 64 zeros
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    fields = [e["seq"], e["occurred_at"], e["actor"], e["event_type"], e["instance_id"],
              e["task_id"], e["payload"], e["prev_hash"]] + ([e["recorded_at"]] if e["recorded_at"] else [])
    material = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if hashlib.sha256(material).hexdigest() != e["hash"] or (e["seq"], e["prev_hash"]) != (prev_seq + 1, prev_hash):
        sys.exit(f"event {e['seq']}: hash or link does not match")
    prev_seq, prev_hash = e["seq"], e["hash"]
print(f"{prev_seq} events, every hash matches; last {prev_hash}")

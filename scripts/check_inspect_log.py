#!/usr/bin/env python3
"""Validate an Inspect `.eval` log (as written by `airlock export --format inspect`).

Usage: python check_inspect_log.py FILE.eval
Reads FILE with inspect_ai.log.read_eval_log (full and header_only=True), checks
sample member naming, and prints one JSON summary object to stdout.
Exits non-zero with a message on stderr on any failure. Needs only inspect_ai + stdlib.
Written against inspect-ai==0.3.285.
"""
import json
import math
import sys
import zipfile


def fail(msg: str) -> None:
    print(f"check_inspect_log: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def num(v):
    return None if isinstance(v, float) and math.isnan(v) else v  # keep stdout strict JSON


def main() -> None:
    if len(sys.argv) != 2:
        fail("usage: python check_inspect_log.py FILE.eval")
    path = sys.argv[1]
    try:
        from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries
    except ImportError as e:
        fail(f"cannot import inspect_ai ({e}); pip install inspect-ai==0.3.285")
    try:
        header = read_eval_log(path, header_only=True)
        log = read_eval_log(path)
    except Exception as e:
        fail(f"read_eval_log failed: {type(e).__name__}: {e}")

    if header.samples is not None:
        fail("header_only read unexpectedly returned samples")
    if not log.samples:
        fail("log has no samples (need samples/<id>_epoch_<n>.json members)")
    if header.status != log.status or header.eval.task != log.eval.task:
        fail("header_only and full reads disagree")

    # Inspect's viewer and read_eval_log_sample locate samples by exact member name.
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    for s in log.samples:
        if f"samples/{s.id}_epoch_{s.epoch}.json" not in names:
            fail(f"sample id={s.id!r} epoch={s.epoch} not stored as samples/{s.id}_epoch_{s.epoch}.json")
    if "summaries.json" in names:
        try:
            n = len(read_eval_log_sample_summaries(path))
        except Exception as e:
            fail(f"summaries.json invalid: {type(e).__name__}: {e}")
        if n != len(log.samples):
            fail(f"summaries.json has {n} entries, log has {len(log.samples)} samples")

    scores = log.results.scores if log.results else []
    first = log.samples[0]
    first_score = next(iter((first.scores or {}).values()), None)
    print(json.dumps({
        "status": log.status,
        "task": log.eval.task,
        "model": log.eval.model,
        "samples": len(log.samples),
        "epochs": log.eval.config.epochs,
        "scorers": [s.name for s in scores],
        "metrics": {s.name: {k: num(m.value) for k, m in s.metrics.items()} for s in scores},
        "sample_ids": list(dict.fromkeys(s.id for s in log.samples)),
        "errors": sum(1 for s in log.samples if s.error is not None),
        "first_sample": {
            "id": first.id,
            "epoch": first.epoch,
            "target": first.target,
            "completion": first.output.completion,
            "score_value": first_score.value if first_score else None,
            "message_roles": [m.role for m in first.messages],
        },
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Scores `rootline analyze` on the corpus of public incidents in examples/cases/.

Usage: bench/cases.py ROOTLINE_BINARY [CASES_DIR] [--only NAME_SUBSTRING] [--json]

For every case directory (one `case.json` and its excerpt files), the excerpt files are copied
into a scratch directory with their modification time pinned to noon UTC of the case's report
date (so year inference and snapshot placement never depend on the checkout), and analysed with
`rootline analyze --format json --tz UTC --now <that time>`. The definitions of the three
figures are in examples/cases/README.md ("Scoring"); this script is their reference.
Python 3 standard library only; nothing leaves the machine.
"""

import calendar
import json
import os
import shutil
import subprocess
import sys
import tempfile

GOAL_FAMILY = 0.90
GOAL_RECALL = 0.95
GOAL_RAISED = 0

SEVERITY_RANK = {"critical": 4, "error": 3, "warning": 2, "notice": 1, "info": 0}
PROBLEM_KINDS = ("fault", "symptom")


def family_of(signature):
    return signature.split(".", 1)[0] if signature else None


def predicted_family(analysis):
    """The family of the top incident's root cause; without incidents, of the most severe
    fault or symptom finding (severity, then fault before symptom, then JSON order)."""
    incidents = analysis.get("incidents") or []
    if incidents:
        return family_of(incidents[0]["root_cause"]["signature"]), "incident"
    best = None
    for index, f in enumerate(analysis.get("findings") or []):
        if f.get("kind") not in PROBLEM_KINDS:
            continue
        key = (-SEVERITY_RANK.get(f.get("severity"), -1), 0 if f.get("kind") == "fault" else 1, index)
        if best is None or key < best[0]:
            best = (key, f)
    if best is None:
        return None, "none"
    return family_of(best[1]["signature"]), "finding"


def raised(analysis):
    """A look-alike is raised when the verdict is not no_incident, or any fault or symptom
    finding of severity warning or above appears."""
    if analysis.get("verdict") != "no_incident":
        return True
    for f in analysis.get("findings") or []:
        if f.get("kind") in PROBLEM_KINDS and SEVERITY_RANK.get(f.get("severity"), -1) >= SEVERITY_RANK["warning"]:
            return True
    return False


def pinned_time(date):
    """Noon UTC of a YYYY-MM-DD date, as epoch seconds and RFC 3339."""
    year, month, day = (int(x) for x in date.split("-"))
    epoch = calendar.timegm((year, month, day, 12, 0, 0, 0, 0, 0))
    return epoch, "%04d-%02d-%02dT12:00:00Z" % (year, month, day)


def excerpt_files(case_dir):
    return sorted(
        name
        for name in os.listdir(case_dir)
        if name != "case.json" and os.path.isfile(os.path.join(case_dir, name))
    )


def analyse(binary, case_dir, meta, scratch):
    epoch, now = pinned_time(meta["date"])
    work = os.path.join(scratch, os.path.basename(case_dir))
    os.makedirs(work)
    paths = []
    for name in excerpt_files(case_dir):
        dst = os.path.join(work, name)
        shutil.copyfile(os.path.join(case_dir, name), dst)
        os.utime(dst, (epoch, epoch))
        paths.append(dst)
    cmd = [binary, "analyze", "--format", "json", "--tz", "UTC", "--now", now] + paths
    env = dict(os.environ, LANG="C.UTF-8")
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    out = subprocess.run(cmd, capture_output=True, env=env, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), out.returncode, out.stderr.decode(errors="replace")))
    return json.loads(out.stdout)


def score_case(name, meta, analysis):
    found = sorted({f["signature"] for f in analysis.get("findings") or []})
    must = meta.get("must_find") or []
    hits = [s for s in must if s in found]
    missed = [s for s in must if s not in found]
    row = {
        "case": name,
        "expect": meta.get("expect", "incident"),
        "family": meta["family"],
        "must_find": must,
        "found": found,
        "missed": missed,
        "missing_from_pack": [s for s in missed if s in (meta.get("missing_from_pack") or [])],
        "recall_hits": len(hits),
        "verdict": analysis.get("verdict"),
    }
    if row["expect"] == "quiet":
        row["raised"] = raised(analysis)
        row["problems"] = sorted(
            {
                f["signature"]
                for f in analysis.get("findings") or []
                if f.get("kind") in PROBLEM_KINDS
            }
        )
    else:
        got, basis = predicted_family(analysis)
        row["predicted_family"] = got
        row["predicted_from"] = basis
        row["family_ok"] = got == meta["family"]
        incidents = analysis.get("incidents") or []
        row["top_root_cause"] = incidents[0]["root_cause"]["signature"] if incidents else None
        row["root_cause_visible"] = meta.get("root_cause_visible", True)
    return row


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    as_json = "--json" in argv
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1]
        args = [a for a in args if a != only]
    if not args:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    binary = args[0]
    cases_dir = args[1] if len(args) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "cases")
    names = sorted(
        d for d in os.listdir(cases_dir) if os.path.isfile(os.path.join(cases_dir, d, "case.json"))
    )
    if only:
        names = [n for n in names if only in n]
    rows = []
    with tempfile.TemporaryDirectory(prefix="rootline-cases-") as scratch:
        for name in names:
            case_dir = os.path.join(cases_dir, name)
            with open(os.path.join(case_dir, "case.json"), encoding="utf-8") as fh:
                meta = json.load(fh)
            rows.append(score_case(name, meta, analyse(binary, case_dir, meta, scratch)))

    incidents = [r for r in rows if r["expect"] != "quiet"]
    quiet = [r for r in rows if r["expect"] == "quiet"]
    fam_ok = sum(1 for r in incidents if r["family_ok"])
    must_total = sum(len(r["must_find"]) for r in rows)
    must_hits = sum(r["recall_hits"] for r in rows)
    raised_n = sum(1 for r in quiet if r["raised"])
    family = fam_ok / len(incidents) if incidents else 0.0
    visible = [r for r in incidents if r["root_cause_visible"]]
    vis_ok = sum(1 for r in visible if r["family_ok"])
    recall = must_hits / must_total if must_total else 0.0
    summary = {
        "cases": len(rows),
        "incident_cases": len(incidents),
        "lookalikes": len(quiet),
        "family_accuracy": round(family, 3),
        "family_right": fam_ok,
        "family_accuracy_visible_root_cause": round(vis_ok / len(visible), 3) if visible else 0.0,
        "signature_recall": round(recall, 3),
        "signatures_found": must_hits,
        "signatures_expected": must_total,
        "signatures_missing_from_pack": sum(len(r["missing_from_pack"]) for r in rows),
        "lookalikes_raised": raised_n,
        "goals": {"family_accuracy": GOAL_FAMILY, "signature_recall": GOAL_RECALL, "lookalikes_raised": GOAL_RAISED},
    }
    if as_json:
        json.dump({"summary": summary, "cases": rows}, sys.stdout, indent=1)
        print()
        return 0

    print("%-48s %-9s %-22s %-7s %s" % ("case", "expected", "got", "recall", "missed / raised by"))
    for r in rows:
        recall_txt = "%d/%d" % (r["recall_hits"], len(r["must_find"]))
        if r["expect"] == "quiet":
            got = "RAISED" if r["raised"] else "quiet"
            mark = "x" if r["raised"] else "ok"
            detail = ", ".join(r["problems"])
            print("%-48s %-9s %-22s %-7s %s" % (r["case"][:48], "quiet", "%s %s" % (mark, got), "-", detail))
        else:
            mark = "ok" if r["family_ok"] else "x"
            got = "%s %s" % (mark, r["predicted_family"] or "(nothing)")
            detail = ", ".join(
                s + (" (not in pack)" if s in r["missing_from_pack"] else "") for s in r["missed"]
            )
            print("%-48s %-9s %-22s %-7s %s" % (r["case"][:48], r["family"], got, recall_txt, detail))
    print()
    print("cases: %d (%d incidents, %d look-alikes)" % (len(rows), len(incidents), len(quiet)))
    print(
        "family accuracy:   %.2f  (%d of %d)   goal >= %.2f  %s"
        % (family, fam_ok, len(incidents), GOAL_FAMILY, "met" if family >= GOAL_FAMILY else "NOT MET")
    )
    print(
        "                   %.2f  (%d of %d) on the cases whose stated root cause shows in the lines"
        % (vis_ok / len(visible) if visible else 0.0, vis_ok, len(visible))
    )
    print(
        "signature recall:  %.2f  (%d of %d; %d of the misses are ids the pack lacks)   goal >= %.2f  %s"
        % (
            recall,
            must_hits,
            must_total,
            summary["signatures_missing_from_pack"],
            GOAL_RECALL,
            "met" if recall >= GOAL_RECALL else "NOT MET",
        )
    )
    print(
        "look-alikes raised: %d of %d   goal %d  %s"
        % (raised_n, len(quiet), GOAL_RAISED, "met" if raised_n <= GOAL_RAISED else "NOT MET")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

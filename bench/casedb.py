#!/usr/bin/env python3
"""The case database benchmark's helpers (bench/casedb.sh runs them).

  casedb.py bases BINARY OUT_DIR
      Analyses every example with an incident (examples/incidents/*, and the excerpt files of
      examples/cases/*, their times pinned to the case's date as bench/cases.py does) into
      OUT_DIR/analyses/NAME.json.
  casedb.py gen BASE.jsonl N OUT.jsonl [SEED]
      Writes N case documents (rootline.case/v1 lines for `rootline cases import`) made from the
      base cases of BASE.jsonl (an export of the analysed examples), each with other entities
      (host, map, dm, device numbers, volume, WWID), another date in 2023-2026, and a shape of its
      own: some chain links, signatures, templates and changes dropped, new templates added, now
      and then the root cause moved to another rule of its family, and a resolution on a third.
      The same arguments give the same bytes.
  casedb.py time BINARY DB QUERIES_DIR ROUNDS
      Runs `rootline cases --db DB similar Q.json --format json` for every analysis of QUERIES_DIR,
      ROUNDS times over, and prints the wall-clock latency of each run (process start to exit):
      p50, p95, max, and what the searches scored.
  casedb.py exhaustive BINARY DB QUERIES_DIR
      Compares each query's top 5 with the search's bounds (the default) and without them
      (`--exhaustive`, every case that shares a feature scored): what the bounds cost in answers,
      and what they save in time.
"""

import calendar
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time


def env():
    e = dict(os.environ, LANG="C.UTF-8", TZ="UTC")
    e.pop("LC_ALL", None)
    e.pop("LC_MESSAGES", None)
    e.pop("ROOTLINE_DB", None)
    # Never the user's case database: analyses here must not carry "seen before".
    e["XDG_DATA_HOME"] = "/nonexistent/rootline-bench"
    return e


def analyse(binary, paths, out, extra=()):
    cmd = [binary, "analyze", "--format", "json", "-o", out] + list(extra) + paths
    r = subprocess.run(cmd, capture_output=True, env=env(), timeout=300)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.decode(errors="replace")))
    with open(out, encoding="utf-8") as fh:
        return json.load(fh)


def bases(binary, out_dir):
    dest = os.path.join(out_dir, "analyses")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    scratch = os.path.join(out_dir, "scratch")
    shutil.rmtree(scratch, ignore_errors=True)
    kept = 0
    for name in sorted(os.listdir("examples/incidents")):
        path = os.path.join("examples/incidents", name)
        if not os.path.isdir(path):
            continue
        out = os.path.join(dest, name + ".json")
        if analyse(binary, [path], out)["verdict"] == "no_incident":
            os.remove(out)
        else:
            kept += 1
    for name in sorted(os.listdir("examples/cases")):
        case_dir = os.path.join("examples/cases", name)
        meta_path = os.path.join(case_dir, "case.json")
        if not os.path.isfile(meta_path):
            continue
        with open(meta_path, encoding="utf-8") as fh:
            meta = json.load(fh)
        y, m, d = (int(x) for x in meta["date"].split("-"))
        epoch = calendar.timegm((y, m, d, 12, 0, 0, 0, 0, 0))
        now = "%04d-%02d-%02dT12:00:00Z" % (y, m, d)
        work = os.path.join(scratch, name)
        os.makedirs(work)
        paths = []
        for f in sorted(os.listdir(case_dir)):
            if f == "case.json" or not os.path.isfile(os.path.join(case_dir, f)):
                continue
            dst = os.path.join(work, f)
            shutil.copyfile(os.path.join(case_dir, f), dst)
            os.utime(dst, (epoch, epoch))
            paths.append(dst)
        out = os.path.join(dest, "case-" + name + ".json")
        if analyse(binary, paths, out, ["--tz", "UTC", "--now", now])["verdict"] == "no_incident":
            os.remove(out)
        else:
            kept += 1
    shutil.rmtree(scratch, ignore_errors=True)
    print("%d analyses with an incident under %s" % (kept, dest), file=sys.stderr)


HEX = "0123456789abcdef"


def hexs(rng, n):
    return "".join(rng.choice(HEX) for _ in range(n))


def vary_text(s, names):
    for old, new in names:
        s = s.replace(old, new)
    return s


def gen(base_path, n, out_path, seed):
    with open(base_path, encoding="utf-8") as fh:
        base = [json.loads(l) for l in fh if l.strip()]
    rng = random.Random(seed)
    by_family = {}
    all_sigs = sorted({s for b in base for s in b.get("signatures", [])})
    for b in base:
        by_family.setdefault(b["root_cause"]["family"], set()).update(
            s for s in b.get("signatures", []) if s.split(".")[0] == b["root_cause"]["family"]
        )
    resolutions = [
        "multipathd restart flushed the stale map; node rebooted for the map still held open",
        "iSCSI session logged out and in again; paths reinstated",
        "array controller failover completed; no action on the node",
        "libvirt pod deleted after the map flush; probe timeout raised to 15 s",
        "bad SFP replaced on the storage switch",
        "kernel upgraded to the fixed version; node drained and rebooted",
        "Ceph OSD restarted; client blocklist entry removed",
    ]
    start0 = calendar.timegm((2023, 1, 1, 0, 0, 0, 0, 0, 0))
    span = calendar.timegm((2026, 12, 31, 0, 0, 0, 0, 0, 0)) - start0
    with open(out_path, "w", encoding="utf-8") as out:
        for i in range(n):
            b = json.loads(json.dumps(base[i % len(base)]))
            host = "s-bench%02d-com%03d-krw1a" % (rng.randrange(40), rng.randrange(500))
            names = []
            if b.get("host"):
                names.append((b["host"], host))
            ents = b["root_cause"].get("entities", {})
            for kind, values in list(ents.items()):
                new = []
                for v in values:
                    if kind == "map" and v.startswith("mpath"):
                        w = "mpath" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(1, 4)))
                    elif kind == "dm" and v.startswith("dm-"):
                        w = "dm-%d" % rng.randrange(0, 400)
                    elif kind == "devt" and ":" in v:
                        w = "253:%d" % rng.randrange(0, 400)
                    elif kind == "volume" and len(v) == 36:
                        w = "%s-%s-%s-%s-%s" % (hexs(rng, 8), hexs(rng, 4), hexs(rng, 4), hexs(rng, 4), hexs(rng, 12))
                    elif kind == "wwid":
                        w = "36" + hexs(rng, 31)
                    elif kind == "disk" and re.fullmatch(r"sd[a-z]+", v):
                        w = "sd" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(2))
                    else:
                        w = v
                    names.append((v, w))
                    new.append(w)
                ents[kind] = new
            b["host"] = host
            t = start0 + rng.randrange(span)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            b["start"] = stamp
            b["end"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t + rng.randrange(60, 7200)))
            for e in b["root_cause"].get("evidence", []):
                e["text"] = vary_text(e["text"], names)
                e["time"] = stamp
                e["path"] = "bench/%s/%s" % (host, os.path.basename(e["path"]))
            b["root_cause"]["summary"] = vary_text(b["root_cause"]["summary"], names)
            # The shape of its own.
            if rng.random() < 0.05:
                fam = sorted(by_family.get(b["root_cause"]["family"], []))
                if fam:
                    b["root_cause"]["signature"] = rng.choice(fam)
            b["chain"] = [p for p in b.get("chain", []) if rng.random() >= 0.15]
            sigs = set(b.get("signatures", []))
            sigs = {s for s in sigs if s == b["root_cause"]["signature"] or rng.random() >= 0.1}
            for _ in range(rng.randrange(0, 3)):
                sigs.add(rng.choice(all_sigs))
            sigs.add(b["root_cause"]["signature"])
            b["signatures"] = sorted(sigs)
            tpl = {t for t in b.get("templates", []) if rng.random() >= 0.2}
            for _ in range(rng.randrange(0, 6)):
                tpl.add(hexs(rng, 16))
            b["templates"] = sorted(tpl)
            b["changes"] = [c for c in b.get("changes", []) if rng.random() >= 0.3]
            b["title"] = re.sub(r" on \S+$", "", b["title"]) + " on " + host
            b["resolution"] = rng.choice(resolutions) if rng.random() < 0.33 else None
            b["fixed_by"] = "on-call %d" % rng.randrange(12) if b["resolution"] else None
            b["source"] = "bench/casedb.py gen #%d from %s" % (i, b.get("source"))
            b["added"] = stamp
            b.pop("id", None)
            b["key"] = ""
            out.write(json.dumps(b, separators=(",", ":")) + "\n")
    print("%d cases from %d base cases in %s" % (n, len(base), out_path), file=sys.stderr)


def pct(xs, p):
    """The nearest-rank percentile."""
    xs = sorted(xs)
    return xs[max(0, math.ceil(p / 100.0 * len(xs)) - 1)]


def timing(binary, db, queries_dir, rounds):
    queries = sorted(os.path.join(queries_dir, q) for q in os.listdir(queries_dir) if q.endswith(".json"))
    lat = []
    scored = []
    found = []
    for _ in range(rounds):
        for q in queries:
            cmd = [binary, "cases", "--db", db, "similar", q, "--format", "json"]
            t0 = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, env=env(), timeout=120)
            lat.append((time.perf_counter() - t0) * 1000.0)
            if r.returncode != 0:
                raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.decode(errors="replace")))
            found.append(len(json.loads(r.stdout)["matches"]))
    # What the searches did (once per query, from the text output's first line).
    for q in queries:
        r = subprocess.run([binary, "cases", "--db", db, "similar", q], capture_output=True, env=env(), timeout=120)
        m = re.match(r"(\d+) cases? stored, (\d+) scored", r.stdout.decode())
        if m:
            scored.append(int(m.group(2)))
    print(
        "%d searches (%d queries x %d): p50 %.1f ms, p95 %.1f ms, max %.1f ms; cases scored per search: median %d, max %d; matches: median %d"
        % (len(lat), len(queries), rounds, pct(lat, 50), pct(lat, 95), max(lat), statistics.median(scored), max(scored), statistics.median(found))
    )


def exhaustive(binary, db, queries_dir):
    """What the search's bounds cost: each query's top 5 against the exhaustive search's."""
    queries = sorted(os.path.join(queries_dir, q) for q in os.listdir(queries_dir) if q.endswith(".json"))
    same = 0
    kept = []
    lat = []
    for q in queries:
        def top(extra):
            cmd = [binary, "cases", "--db", db, "similar", q, "--format", "json"] + extra
            t0 = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, env=env(), timeout=600)
            ms = (time.perf_counter() - t0) * 1000.0
            if r.returncode != 0:
                raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.decode(errors="replace")))
            return [(m["case"], m["score"]) for m in json.loads(r.stdout)["matches"]], ms
        bounded, _ = top([])
        full, ms = top(["--exhaustive"])
        lat.append(ms)
        same += bounded == full
        if full:
            kept.append(len({c for c, _ in bounded} & {c for c, _ in full}) / float(len(full)))
    print(
        "bounded vs exhaustive search: the same top 5 (cases and scores) for %d of %d queries; mean share of the exhaustive top 5 found: %.3f; exhaustive search p50 %.0f ms, max %.0f ms"
        % (same, len(queries), statistics.mean(kept) if kept else 1.0, pct(lat, 50), max(lat))
    )


def main(argv):
    if len(argv) >= 3 and argv[0] == "bases":
        bases(argv[1], argv[2])
    elif len(argv) >= 4 and argv[0] == "gen":
        gen(argv[1], int(argv[2]), argv[3], int(argv[4]) if len(argv) > 4 else 19)
    elif len(argv) >= 5 and argv[0] == "time":
        timing(argv[1], argv[2], argv[3], int(argv[4]))
    elif len(argv) >= 4 and argv[0] == "exhaustive":
        exhaustive(argv[1], argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

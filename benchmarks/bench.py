"""cnncount against the floor its dependencies set, against onnx-tool, and its start-up.

Run with the project's interpreter (it needs onnx and numpy to write the models)::

    python benchmarks/bench.py [--quick] [--repeat N] [--onnx-tool-python PATH] [--json OUT]

Every tool runs as a subprocess on the same files, written to a temporary directory:

- ``cnncount``: the real CLI, ``cnncount summary MODEL --format json``;
- ``floor``: what our dependencies cost at least, a process that imports onnx, loads the file
  without external data and runs ``onnx.shape_inference.infer_shapes(m, data_prop=True)``;
- ``onnx-tool``: its profiler CLI, ``python -m onnx_tool -i MODEL -f OUT.csv``, run by the python
  of a separate venv (never the project's): skipped, with a note, when it is not installed.

Wall time is the best of N runs; peak memory is the child's ``ru_maxrss`` (from ``os.wait4``),
the largest of the N runs. Linux counts in a child's ``ru_maxrss`` the memory of the process it
was forked from, so this script stays small: it never imports onnx or numpy itself, and writes
the models in a subprocess (``models.py``). Two tables are printed as reStructuredText, ready for
``docs/benchmarks.rst``: the measurements, then each target and whether it is met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no benchmarks/__pycache__ in the work tree
import models  # noqa: E402  (benchmarks/models.py, beside this file: imports nothing heavy)

FLOOR = ("import sys, onnx\n"
         "m = onnx.load(sys.argv[1], load_external_data=False)\n"
         "onnx.shape_inference.infer_shapes(m, data_prop=True)\n")
TEN_GB = 10 * 1024**3


# ---------------------------------------------------------------------------------------------
# Running a child and measuring it


@dataclass
class Run:
    wall: float  # seconds, best of the runs
    rss_mb: float  # peak resident set of the child, MiB, largest of the runs
    rc: int | None  # exit status of the last run; None: killed at the timeout
    stdout: str  # path of the last run's standard output


def run_once(cmd: list[str], out: Path, timeout: float | None = None) -> tuple[float, float, int | None]:
    """Run ``cmd`` once with stdout to ``out``: (wall seconds, peak RSS MiB, exit status or None)."""
    with open(out, "wb") as stdout, open(out.with_suffix(".err"), "wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.send_signal(signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child: its own ru_maxrss
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    return wall, usage.ru_maxrss / 1024, None if killed.is_set() else proc.returncode


def measure_together(jobs: list[tuple[list[str], Path]], repeat: int,
                     timeout: float | None = None) -> list[Run]:
    """Run the commands in turns (a, b, a, b, ...), ``repeat`` rounds: a drift in the machine's
    speed (this one's moves by 10 to 20 %) then falls on every command of a ratio alike."""
    walls: list[list[float]] = [[] for _ in jobs]
    rss: list[list[float]] = [[] for _ in jobs]
    rcs: list[int | None] = [0] * len(jobs)
    for _ in range(repeat):
        for k, (cmd, out) in enumerate(jobs):
            if rcs[k] != 0:  # a failure or a timeout: once is enough to know
                continue
            wall, mb, rcs[k] = run_once(cmd, out, timeout)
            walls[k].append(wall)
            rss[k].append(mb)
    return [Run(min(w), max(r), rc, str(out)) for w, r, rc, (_, out) in zip(walls, rss, rcs, jobs)]


def measure(cmd: list[str], out: Path, repeat: int, timeout: float | None = None) -> Run:
    return measure_together([(cmd, out)], repeat, timeout)[0]


# ---------------------------------------------------------------------------------------------
# The tools


@dataclass
class Job:
    case: str
    tool: str
    cmd: list[str]
    out: Path
    nodes: int | None = None


class Tools:
    def __init__(self, work: Path, repeat: int, onnx_tool_python: str | None) -> None:
        self.work, self.repeat = work, repeat
        script = Path(sys.executable).parent / "cnncount"
        self.cnncount = [str(script)] if script.exists() else [sys.executable, "-m", "sphinx_cnncount"]
        self.onnx_tool_python = onnx_tool_python
        self.runs: list[dict] = []  # every measurement, for the table and --json
        self._n = 0

    def _out(self, tag: str) -> Path:
        self._n += 1
        return self.work / "out" / f"{self._n:02d}-{tag}.txt"

    def record(self, case: str, tool: str, run: Run, nodes: int | None = None) -> Run:
        self.runs.append({"case": case, "tool": tool, "nodes": nodes, **asdict(run)})
        status = "ok" if run.rc == 0 else ("TIMEOUT" if run.rc is None else f"exit {run.rc}")
        print(f"  {case:<34} {tool:<10} {run.wall:8.3f} s {run.rss_mb:8.1f} MiB  {status}",
              file=sys.stderr, flush=True)
        return run

    def cnncount_job(self, case: str, model: Path, nodes: int | None = None) -> Job:
        return Job(case, "cnncount", [*self.cnncount, "summary", str(model), "--format", "json"],
                   self._out("cnncount"), nodes)

    def floor_job(self, case: str, model: Path, nodes: int | None = None) -> Job:
        return Job(case, "floor", [sys.executable, "-c", FLOOR, str(model)], self._out("floor"), nodes)

    def onnx_tool_job(self, case: str, model: Path, nodes: int | None = None) -> Job | None:
        if not self.onnx_tool_python:
            return None
        out = self._out("onnx-tool")
        return Job(case, "onnx-tool", [self.onnx_tool_python, "-m", "onnx_tool", "-i", str(model),
                                       "-f", str(out.with_suffix(".csv"))], out, nodes)

    def run(self, *jobs: Job | None, repeat: int | None = None,
            timeout: float | None = None) -> list[Run | None]:
        """Measure the jobs together (in turns) and record them; None for a job not given."""
        given = [j for j in jobs if j is not None]
        runs = iter(measure_together([(j.cmd, j.out) for j in given], repeat or self.repeat, timeout))
        return [None if j is None else self.record(j.case, j.tool, next(runs), j.nodes) for j in jobs]


def check_params(run: Run, blocks: int) -> None:
    """The run must have counted the model, not failed fast: its parameter total is known.

    (This process's peak memory shows in its children's ru_maxrss: it parses the JSON only when
    the head of the file does not give the total.)"""
    if run.rc != 0:
        raise SystemExit(f"cnncount failed (exit {run.rc}); see {run.stdout} and its .err")
    with open(run.stdout, encoding="utf-8") as f:  # the totals come first
        found = re.search(r'"totals":\s*\{"params":\s*(\d+)', f.read(4096))
    params = int(found.group(1)) if found else json.loads(Path(run.stdout).read_text())["totals"]["params"]
    if params != models.params_of(blocks):
        raise SystemExit(f"cnncount counted {params} params on {blocks} blocks, "
                         f"expected {models.params_of(blocks)}")


def find_onnx_tool(given: str | None) -> tuple[str | None, str]:
    """The python of a venv with onnx-tool, and its version; (None, why) when there is none."""
    candidates = [given] if given else [os.environ.get("ONNX_TOOL_PYTHON")]
    for py in filter(None, candidates):
        if not Path(py).exists():
            continue
        probe = subprocess.run([py, "-c", "from importlib.metadata import version; print(version('onnx-tool'))"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return py, probe.stdout.strip()
    return None, ("onnx-tool not installed: skipped (make a venv, pip install onnx-tool in it, "
                  "and give its python with --onnx-tool-python or $ONNX_TOOL_PYTHON)")


# ---------------------------------------------------------------------------------------------
# The models


def write_chain(blocks: int, path: Path, weights: str = "external") -> Path:
    """models.chain, in a subprocess: numpy and onnx never enter this process."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(HERE / "models.py"), str(blocks), str(path), "--weights", weights],
                   check=True, stdout=subprocess.DEVNULL)
    return path


def skeleton_with_data(skeleton: Path, folder: Path, data: str) -> Path:
    """A copy of ``skeleton`` in ``folder`` whose external data file is ``data``:
    "sparse10g" (a 10 GiB sparse file) or "fifo" (opening it for reading would block)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / skeleton.name
    shutil.copyfile(skeleton, model)
    target = folder / (skeleton.stem + ".data")
    if data == "fifo":
        os.mkfifo(target)
    else:
        with open(target, "wb") as f:
            f.truncate(TEN_GB)
    return model


def with_sparse_weights(skeleton: Path, folder: Path, blocks: int) -> Path:
    """A copy of ``skeleton`` whose data file holds every weight (zeros, sparse): a model that
    tools which read weights (onnx-tool) can load."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / skeleton.name
    shutil.copyfile(skeleton, model)
    with open(folder / (skeleton.stem + ".data"), "wb") as f:
        f.truncate(4 * models.params_of(blocks))
    return model


# ---------------------------------------------------------------------------------------------
# The Sphinx build: 20 pages, one model


DRIVER = """\
import os, sys
from sphinx.cmd.build import build_main
import sphinx_cnncount.sphinx_ext as ext

src, out, log, *extra = sys.argv[1:]
if hasattr(ext, "_compute"):  # count the analyses: every one made, in any process (-j)
    real = ext._compute
    def compute(*args, **kwargs):
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\\n")
        return real(*args, **kwargs)
    ext._compute = compute
rc = build_main(["-q", "-E", "-b", "html", *extra, src, out])
cached = getattr(ext, "_analyze", None)
print(cached.cache_info() if hasattr(cached, "cache_info") else "no lru_cache")
sys.exit(rc)
"""


def sphinx_project(folder: Path, model: Path, pages: int, directive: bool = True) -> Path:
    """``pages`` pages, each with ``.. cnncount:: model.onnx`` (or, ``directive`` False, a
    paragraph in its place: Sphinx's own cost of the same project)."""
    src = folder / ("src" if directive else "src-plain")
    src.mkdir(parents=True)
    shutil.copyfile(model, src / "model.onnx")
    (src / "conf.py").write_text('extensions = ["sphinx_cnncount"]\nproject = "bench"\n')
    names = [f"page{i:02d}" for i in range(1, pages + 1)]
    (src / "index.rst").write_text("Bench\n=====\n\n.. toctree::\n\n" + "".join(f"   {n}\n" for n in names))
    body = ".. cnncount:: model.onnx\n" if directive else "A paragraph where the table would be.\n"
    for n in names:
        (src / f"{n}.rst").write_text(f"{n}\n{'=' * len(n)}\n\n{body}")
    (folder / "driver.py").write_text(DRIVER)
    return src


def sphinx_builds(tools: Tools, folder: Path, srcs: dict[str, Path], repeat: int) -> list[dict]:
    """Each project built with -j 1 and -j 2, all four in turns, ``repeat`` rounds."""
    jobs, meta = [], []
    for label, src in srcs.items():
        for j in (1, 2):
            log = folder / f"loads-{label}-j{j}.log"
            log.touch()
            cmd = [sys.executable, str(folder / "driver.py"), str(src),
                   str(folder / f"html-{label}-j{j}"), str(log), *(["-j", str(j)] if j > 1 else [])]
            jobs.append((cmd, tools._out(f"sphinx-{label}-j{j}")))
            meta.append((label, j, log))
    out = []
    for (label, j, log), run in zip(meta, measure_together(jobs, repeat)):
        tools.record(f"sphinx 20 pages, {label}, -j {j}", "sphinx", run)
        loads = log.read_text().split()
        out.append({"project": label, "jobs": j, "wall": run.wall, "rc": run.rc,
                    "analyses": len(loads) // repeat, "processes": len(set(loads)),
                    "cache_info": Path(run.stdout).read_text().strip()})
    return out


# ---------------------------------------------------------------------------------------------
# The report


def machine() -> str:
    cpu = "unknown CPU"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    try:
        kb = int(re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
        ram = f"{kb / 1024**2:.0f} GiB RAM"
    except (OSError, AttributeError):
        ram = "RAM unknown"
    from importlib.metadata import version  # not the modules: they would grow this process
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpu}, {cores} cores, {ram}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, onnx {version('onnx')}, networkx {version('networkx')}, "
            f"sphinx {version('sphinx')}, sphinx-cnncount {version('sphinx-cnncount')}")


def rst_table(header: list[str], rows: list[list[str]]) -> str:
    """A reStructuredText simple table (also readable as plain text)."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    rule = "  ".join("=" * w for w in widths)
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([rule, line(header), rule, *map(line, rows), rule])


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small models, one run each: a smoke test")
    ap.add_argument("--repeat", type=int, help="runs per measurement, best wall time kept (default 5, quick 1)")
    ap.add_argument("--onnx-tool-python", help="python of a venv with onnx-tool "
                    "(default: $ONNX_TOOL_PYTHON)")
    ap.add_argument("--json", type=Path, help="also write every measurement to this file")
    args = ap.parse_args(argv)

    quick = args.quick
    repeat = args.repeat or (1 if quick else 5)
    big, inline, scale = (250, 60, (125, 250, 500)) if quick else (2000, 500, (1000, 2000, 4000))
    ot_python, ot_version = find_onnx_tool(args.onnx_tool_python)
    notes = [] if ot_python else [ot_version]

    with tempfile.TemporaryDirectory(prefix="cnncount-bench-") as tmp:
        work = Path(tmp)
        (work / "out").mkdir()
        tools = Tools(work, repeat, ot_python)
        print(f"writing models in {work}", file=sys.stderr)
        skel = {b: write_chain(b, work / f"skel{b}" / f"chain{b}.onnx") for b in sorted({big, *scale})}
        inl = write_chain(inline, work / f"inline{inline}" / f"chain{inline}.onnx", weights="inline")
        inl_mb = inl.stat().st_size / 1024**2
        n = lambda b: 7 * b  # noqa: E731  (nodes of a chain)

        # 1. The floor: the big skeleton, cnncount vs onnx load + infer_shapes, measured in turns.
        case_big = f"chain {big} blocks, ext. data"
        c_big, f_big = tools.run(tools.cnncount_job(case_big, skel[big], n(big)),
                                 tools.floor_job(case_big, skel[big], n(big)))
        check_params(c_big, big)
        o_big = None
        if ot_python:  # onnx-tool reads weights: give it a data file that holds them (sparse zeros)
            full = with_sparse_weights(skel[big], work / "sparse-weights", big)
            o_big, = tools.run(tools.onnx_tool_job(f"{case_big} (sparse zeros)", full, n(big)),
                               repeat=1)  # slow: once

        # 2. Real weights inside the file: cnncount vs floor vs onnx-tool.
        case_inl = f"chain {inline} blocks, inline {inl_mb:.0f} MiB"
        c_inl, _, o_inl = tools.run(tools.cnncount_job(case_inl, inl, n(inline)),
                                    tools.floor_job(case_inl, inl, n(inline)),
                                    tools.onnx_tool_job(case_inl, inl, n(inline)))
        check_params(c_inl, inline)

        # 3. Scaling with the number of nodes: every size in the same turns.
        scaled = tools.run(*(job for b in scale for job in (
            tools.cnncount_job(f"chain {b} blocks (scaling)", skel[b], n(b)),
            tools.floor_job(f"chain {b} blocks (scaling)", skel[b], n(b)))))
        c_scale = dict(zip(scale, scaled[::2]))
        for b in scale:
            check_params(c_scale[b], b)

        # 4. Flat in weight size: 10 GiB of sparse external data, in turns with the skeleton;
        # a FIFO as the data file.
        sparse = skeleton_with_data(skel[big], work / "sparse10g", "sparse10g")
        c_skel, c_sparse = tools.run(
            tools.cnncount_job(f"chain {big}, no data file", skel[big], n(big)),
            tools.cnncount_job(f"chain {big}, 10 GiB sparse data", sparse, n(big)))
        check_params(c_sparse, big)
        fifo = skeleton_with_data(skel[big], work / "fifo", "fifo")
        timeout = max(30.0, 10 * c_big.wall)
        c_fifo, = tools.run(tools.cnncount_job(f"chain {big}, FIFO as data file", fifo, n(big)),
                            timeout=timeout)
        if c_fifo.rc == 0:
            check_params(c_fifo, big)

        # 5. Sphinx: 20 pages with one model, serial and -j 2; the same pages without the
        # directive, for what Sphinx itself costs (its -j 2 forks worker processes).
        sph = work / "sphinx"
        srcs = {"cnncount": sphinx_project(sph, skel[scale[0]], 20),
                "no directive": sphinx_project(sph, skel[scale[0]], 20, directive=False)}
        sphinx = sphinx_builds(tools, sph, srcs, 1 if quick else 3)

        # 6. Start-up, every case in turns: the CLI alone, a summary and a lint of LeNet-5,
        # against the interpreter alone and an interpreter that imports onnx.
        lenet = ROOT / "examples" / "lenet5.onnx"
        startup = tools.run(
            Job("cnncount --version", "cnncount", [*tools.cnncount, "--version"], tools._out("version")),
            Job("cnncount summary lenet5.onnx", "cnncount", [*tools.cnncount, "summary", str(lenet)],
                tools._out("lenet")),
            Job("cnncount lint lenet5.onnx", "cnncount", [*tools.cnncount, "lint", str(lenet)],
                tools._out("lint")),
            Job("python -c pass", "python", [sys.executable, "-c", "pass"], tools._out("python")),
            Job("python -c 'import onnx'", "python", [sys.executable, "-c", "import onnx"],
                tools._out("onnx")),
            repeat=max(repeat, 7))
        c_version, c_lenet, c_lint, py_bare, py_onnx = startup

    # ---- the tables
    mach = machine()
    floors = {r["case"]: r for r in tools.runs if r["tool"] == "floor"}
    rows = []
    for r in tools.runs:
        f = floors.get(r["case"].removesuffix(" (sparse zeros)")) if r["tool"] != "floor" else None
        rows.append([r["case"], r["tool"], f"{r['nodes']:,}" if r["nodes"] else "",
                     f"{r['wall']:.3f}", ratio(r["wall"], f["wall"]) if f else "",
                     f"{r['rss_mb']:.0f}", ratio(r["rss_mb"], f["rss_mb"]) if f else "",
                     "ok" if r["rc"] == 0 else ("timeout" if r["rc"] is None else f"exit {r['rc']}")])
    measurements = rst_table(["case", "tool", "nodes", "wall s", "/ floor", "peak MiB", "/ floor", "status"],
                             rows)

    def met(ok: bool) -> str:
        return "yes" if ok else "NO"

    t = []
    t.append([f"time vs floor, {n(big):,} nodes", ratio(c_big.wall, f_big.wall), "<= 1.6x",
              met(c_big.wall <= 1.6 * f_big.wall)])
    t.append([f"peak memory vs floor, {n(big):,} nodes", ratio(c_big.rss_mb, f_big.rss_mb), "<= 1.5x",
              met(c_big.rss_mb <= 1.5 * f_big.rss_mb)])
    if o_inl and o_inl.rc == 0:
        t.append([f"speed-up over onnx-tool, {inline} blocks inline", ratio(o_inl.wall, c_inl.wall), ">= 3x",
                  met(o_inl.wall >= 3 * c_inl.wall)])
    else:
        notes.append("onnx-tool: not measured on the inline model")
    if o_big and o_big.rc == 0:
        t.append([f"speed-up over onnx-tool, {big} blocks (info)", ratio(o_big.wall, c_big.wall), "(>= 3x)",
                  met(o_big.wall >= 3 * c_big.wall)])
    floor_scale = {b: next(r for r in tools.runs if r["tool"] == "floor"
                           and r["case"] == f"chain {b} blocks (scaling)") for b in scale}
    per_size = {b: c_scale[b].wall / floor_scale[b]["wall"] for b in scale}
    for b in scale:
        t.append([f"time vs floor, {n(b):,} nodes (scaling)", f"{per_size[b]:.2f}x", "(info)", ""])
    spread = max(per_size.values()) / min(per_size.values())
    t.append([f"ratio to floor, {n(scale[-1]):,} vs {n(scale[0]):,} nodes",
              f"{spread:.2f}x", "<= 1.1x", met(spread <= 1.1)])
    t.append(["time 10 GiB sparse data / skeleton", ratio(c_sparse.wall, c_skel.wall), "~1x (<= 1.1x)",
              met(c_sparse.wall <= 1.1 * c_skel.wall)])
    t.append(["FIFO as data file", "finished" if c_fifo.rc == 0 else
              (f"blocked > {timeout:.0f} s" if c_fifo.rc is None else f"exit {c_fifo.rc}"),
              "does not block", met(c_fifo.rc == 0)])
    by = {(s["project"], s["jobs"]): s for s in sphinx}
    for j in (1, 2):
        s = by[("cnncount", j)]
        t.append([f"analyses, 20 pages, -j {j}", str(s["analyses"]) if s["rc"] == 0
                  else f"build exit {s['rc']}", "1", met(s["rc"] == 0 and s["analyses"] == 1)])
    with_, plain = by[("cnncount", 1)], by[("no directive", 1)]
    t.append(["per directive, -j 1 (20 pages)", f"{(with_['wall'] - plain['wall']) / 20 * 1000:.0f} ms",
              "(info)", ""])
    j1, j2 = by[("cnncount", 1)]["wall"], by[("cnncount", 2)]["wall"]
    p1, p2 = by[("no directive", 1)]["wall"], by[("no directive", 2)]["wall"]
    t.append(["sphinx -j 2 / -j 1, with cnncount", ratio(j2, j1), "<= 1x", met(j2 <= j1)])
    t.append(["sphinx -j 2 / -j 1, no directive (info)", ratio(p2, p1), "(Sphinx alone)", ""])
    t.append(["cnncount --version", f"{c_version.wall:.3f} s", "< 0.3 s", met(c_version.wall < 0.3)])
    t.append(["summary lenet5 / python -c 'import onnx'", ratio(c_lenet.wall, py_onnx.wall), "<= 1.3x",
              met(c_lenet.wall <= 1.3 * py_onnx.wall)])
    t.append(["summary lenet5", f"{c_lenet.wall:.3f} s", "< 0.4 s", met(c_lenet.wall < 0.4)])
    t.append(["lint lenet5 / python -c 'import onnx' (info)", ratio(c_lint.wall, py_onnx.wall), "", ""])
    targets = rst_table(["target", "measured", "limit", "met"], t)

    print(f"Machine: {mach}")
    print(f"Runs: best wall of {repeat} (start-up: of {max(repeat, 7)}); peak RSS: largest of "
          f"the runs; onnx-tool: {ot_version if ot_python else 'not installed'}"
          + ("; onnx-tool on the big chain: one run" if o_big and not quick else ""))
    print()
    print(measurements)
    print()
    print(targets)
    for s in sphinx:
        print(f"sphinx {s['project']} -j {s['jobs']}: {s['analyses']} analyses, "
              f"build {s['wall']:.2f} s, {s['cache_info']}")
    print(f"python -c pass: {py_bare.wall:.3f} s (the interpreter's own start-up)")
    for note in notes:
        print(f"note: {note}")
    if args.json:
        args.json.write_text(json.dumps({"machine": mach, "repeat": repeat, "runs": tools.runs,
                                         "sphinx": sphinx, "targets": t, "notes": notes}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a Sphinx project of many pages pays for the directive: builds to time from outside.

Writes two projects of ``--pages`` pages (50 by default): ``with``, each page holding two
directives (LeNet-5, drawn as the paper's figure, and ResNet-18 at depth 2, a long chain drawn
folded and wrapped), and ``without``, the same pages with a paragraph in place of each directive. Then
builds one of them, the way a timer outside this process should see it (one process, as
``sphinx-build``)::

    python benchmarks/sphinx_pages.py write DIR [--pages 50]
    python benchmarks/sphinx_pages.py build DIR/with            # a build: what is outdated
    python benchmarks/sphinx_pages.py build DIR/with --touch    # every page read and written
    python benchmarks/sphinx_pages.py build DIR/with --fresh    # from nothing (-E, new outdir)
    python benchmarks/sphinx_pages.py profile DIR/with [--touch]  # cProfile of one build

``--touch`` moves every page's mtime forward first: Sphinx reads and writes every page, and
the extension takes its analyses from the cache it keeps beside the doctrees (the models did
not change). Without ``--touch`` or ``--fresh`` a second build finds nothing to do. The build
runs ``sphinx-build -q -b html`` (``-j`` given after ``--`` is passed on).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"lenet5.onnx": ROOT / "examples" / "lenet5.onnx",
          "resnet18.onnx": ROOT / "tests" / "data" / "torchvision" / "resnet18.torchscript.onnx"}
PAGE = """\
{title}
{rule}

LeNet-5, as the paper draws it:

.. cnncount:: lenet5.onnx
   :caption: LeNet-5 on page {n}

ResNet-18 at depth 2, folded and wrapped:

.. cnncount:: resnet18.onnx
   :depth: 2
   :caption: ResNet-18 on page {n}

C3 has :cnncount:`lenet5.onnx:C3.params` parameters.
"""
PLAIN = """\
{title}
{rule}

LeNet-5, as the paper draws it:

A paragraph where the first table would be, on page {n}.

ResNet-18 at depth 2, folded and wrapped:

A paragraph where the second table would be, on page {n}.

C3 has 1,516 parameters.
"""


def write(folder: Path, pages: int) -> None:
    for name, text in (("with", PAGE), ("without", PLAIN)):
        src = folder / name
        if src.exists():
            shutil.rmtree(src)
        src.mkdir(parents=True)
        (src / "conf.py").write_text('extensions = ["sphinx_cnncount"]\nproject = "pages"\n'
                                     'numfig = True\nexclude_patterns = ["_build"]\n')
        names = [f"page{i:02d}" for i in range(1, pages + 1)]
        (src / "index.rst").write_text("Pages\n=====\n\n.. toctree::\n\n"
                                       + "".join(f"   {n}\n" for n in names))
        for i, n in enumerate(names, 1):
            title = f"Page {i}"
            (src / f"{n}.rst").write_text(text.format(title=title, rule="=" * len(title), n=i))
        if name == "with":
            for model, source in MODELS.items():
                shutil.copyfile(source, src / model)
    print(f"wrote {folder / 'with'} and {folder / 'without'}: {pages} pages each")


def build_args(src: Path, touch: bool, fresh: bool, extra: list[str]) -> list[str]:
    out = src / "_build"
    if fresh and out.exists():
        shutil.rmtree(out)
    if touch:  # later than the last read, so Sphinx reads every page again
        later = time.time() + 1
        for page in src.glob("*.rst"):
            os.utime(page, (later, later))
    return ["-q", "-b", "html", *extra, str(src), str(out / "html"), "-d",
            str(out / "doctrees")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("write", "build", "profile"))
    ap.add_argument("folder", type=Path)
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--touch", action="store_true", help="read and write every page again")
    ap.add_argument("--fresh", action="store_true", help="build from nothing")
    ap.add_argument("extra", nargs="*", help="more sphinx-build arguments, after --")
    args = ap.parse_args(argv)
    if args.action == "write":
        write(args.folder, args.pages)
        return 0
    from sphinx.cmd.build import build_main

    sphinx_args = build_args(args.folder, args.touch, args.fresh, args.extra)
    if args.action == "build":
        return build_main(sphinx_args)
    import cProfile
    import pstats

    profile = cProfile.Profile()
    rc = profile.runcall(build_main, sphinx_args)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    return rc


if __name__ == "__main__":
    sys.exit(main())

"""Where ``cnncount summary MODEL --format json`` spends its time, phase by phase.

Runs the same calls as the CLI, in a fresh process and with the cycle collector off as the
``cnncount`` command runs, and prints one line per phase (milliseconds, best of N processes)::

    python benchmarks/phases.py MODEL [--repeat N]

The layers are timed alone (count forms them again, so that line is also inside count's).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import gc, json, sys, time
gc.disable()
T = time.perf_counter
marks = {}
t = T()
def mark(name):
    global t
    now = T(); marks[name] = marks.get(name, 0) + (now - t) * 1000; t = now
import onnx
mark("import onnx")
from sphinx_cnncount import bind as B, count as C, graph as G, infer as I, layers, load as L
from sphinx_cnncount import read as R, shapes as S
from sphinx_cnncount.limits import Budget
from sphinx_cnncount.render.text import Format, render
from sphinx_cnncount.spelling import CLI
mark("import sphinx_cnncount")
path = sys.argv[1]
model, rows = R.normalize(path, R.read_model(path))
mark("read the file and its nodes (read.normalize)")
file_inputs = {vi.name: S.shape_of(vi.type) for vi in R.real_inputs(model.graph)}
notes, _ = B.bind_inputs(path, model, {}, {}, CLI)
declared = B.declared_annotations(model.graph, file_inputs)
mark("bind the inputs (bind.bind_inputs)")
inference = I.infer(path, model, rows, declared, {}, Budget(path))
if inference.structure_changed:
    rows = S.node_rows(inference.model.graph)
mark("infer shapes (infer.infer)")
B.check_shapes(path, inference.model.graph, rows, inference.shapes, CLI, False,
               inference.values)
mark("check the shapes (bind.check_shapes)")
loaded = L.LoadedModel(path, inference.model, inference.shapes, inference.dtypes, tuple(notes),
                       frozenset(inference.non_tensors), rows, inference)
g = G.build(path, loaded.model.graph, rows)
mark("graph index (graph.build)")
groups = layers.group_layers(g, 1, loaded.shapes, loaded.dtypes)
mark("layers (layers.group_layers)")
summary = C.count(loaded, 1, g)
mark("count (layers again, receptive fields, memory, params and costs)")
text = render(summary, Format.JSON, None)
mark("JSON text")
print(json.dumps(marks))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--repeat", type=int, default=5, help="processes, best time per phase kept")
    args = ap.parse_args()
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, args.model], check=True,
                             capture_output=True, text=True).stdout
        for name, ms in json.loads(out).items():
            best[name] = min(best.get(name, ms), ms)
    width = max(map(len, best))
    for name, ms in best.items():
        print(f"{name:<{width}}  {ms:7.1f} ms")
    print(f"{'sum':<{width}}  {sum(best.values()):7.1f} ms")


if __name__ == "__main__":
    main()

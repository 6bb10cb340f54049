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
from sphinx_cnncount import count as C, graph as G, infer as I, layers, load as L, memory
from sphinx_cnncount import receptive
from sphinx_cnncount.render.text import Format, render
mark("import sphinx_cnncount")
path = sys.argv[1]
model, rows = L.normalize(path, L.read_model(path))
mark("read the file and its nodes (load.normalize)")
file_inputs = {vi.name: L.shape_of(vi.type) for vi in L.real_inputs(model.graph)}
notes, _ = L.bind_inputs(path, model, {}, {})
declared = L.declared_annotations(model.graph, file_inputs)
mark("bind the inputs")
inference = I.infer(path, model, rows, declared, {})
if inference.structure_changed:
    rows = L.node_rows(inference.model.graph)
mark("infer shapes (infer.infer)")
L.check_shapes(path, inference.model.graph, rows, inference.shapes, L.CLI_FLAGS, False)
mark("check the windows (load.check_shapes)")
loaded = L.LoadedModel(path, inference.model, inference.shapes, inference.dtypes, tuple(notes),
                       frozenset(inference.non_tensors), rows, inference)
g = G.build(path, loaded.model.graph, rows)
mark("graph index (graph.build)")
groups = layers.group_layers(g, 1, loaded.shapes, loaded.dtypes)
mark("layers (layers.group_layers)")
t0 = T()
summary = C.count(loaded, 1, g)
mark("count (layers, receptive fields, memory and the costs)")
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

"""Where ``cnncount summary MODEL --format json`` spends its time, phase by phase.

Runs the same calls as the CLI, in a fresh process and with the cycle collector off as the
``cnncount`` command runs, and prints one line per phase (milliseconds, best of N processes)::

    python benchmarks/phases.py MODEL [--repeat N]

The counting passes (layers, receptive fields, memory) are timed alone, then inside
``count`` with the rest of it: "count, the rest" is count's own loop over the nodes.
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
from sphinx_cnncount import count as C, graph as G, infer as I, load as L, memory, receptive
from sphinx_cnncount.render.text import Format, render
mark("import sphinx_cnncount")
path = sys.argv[1]
model = L.normalize(path, L.read_model(path))
mark("read the file")
notes = L.bind_inputs(path, model, {}, {})
rows = L.node_rows(model.graph)
mark("read the nodes (load.node_rows)")
inferred, shapes, dtypes, non_tensors = I.infer(path, model, rows)
mark("infer shapes and read them (infer.infer)")
loaded = L.LoadedModel(path, inferred, shapes, dtypes, tuple(notes), frozenset(non_tensors), rows)
g = G.build(path, inferred.graph, rows)
mark("graph index (graph.build)")
groups = group_layers(g, 1, loaded.shapes, loaded.dtypes)
mark("layers (graph.group_layers)")
receptive.receptive_fields(g, shapes)
mark("receptive fields")
layer_of = {i: li for li, group in enumerate(groups) for i in group.nodes}
memory.activation_memory(g, layer_of, len(groups), shapes, dtypes)
mark("activation memory")
t0 = T()
summary = C.count(loaded, 1, g)
whole = (T() - t0) * 1000
t = T()
marks["count, the rest"] = whole - sum(marks[k] for k in (
    "layers (graph.group_layers)", "receptive fields", "activation memory"))
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

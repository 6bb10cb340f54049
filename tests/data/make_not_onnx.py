#!/usr/bin/env python3
"""Make the files in tests/data/not_onnx/: real files of the kinds people pass cnncount by
mistake, written by the libraries that write them, for the tests of what cnncount says of them
(tests/test_file_kinds.py).

NOT run in CI and not a dependency of the project: run it by hand in an environment with torch,
h5py and keras (made with torch 2.14.1, keras 3.15.1 on the torch backend, h5py), e.g.

    KERAS_BACKEND=torch ../torchvenv/bin/python tests/data/make_not_onnx.py

A two-input Linear layer (3 parameters) in each format, so the files stay a few KB:

* ``checkpoint.pt``: ``torch.save(state_dict)`` (a zip: ``checkpoint/data.pkl``, ...);
* ``legacy.pt``: the same with ``_use_new_zipfile_serialization=False`` (a pickle);
* ``scripted.pt``: ``torch.jit.save(torch.jit.script(model))`` (a zip with ``code/``);
* ``model.keras``: Keras 3's ``model.save`` (a zip: ``config.json``, ``model.weights.h5``);
* ``model.h5``: Keras's legacy HDF5 ``model.save("model.h5")``.
"""

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import torch  # noqa: E402

OUT = Path(__file__).resolve().parent / "not_onnx"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    torch.manual_seed(0)
    layer = torch.nn.Linear(2, 1)
    torch.save(layer.state_dict(), OUT / "checkpoint.pt")
    torch.save(layer.state_dict(), OUT / "legacy.pt", _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(layer), OUT / "scripted.pt")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.save(OUT / "model.keras")
    model.save(OUT / "model.h5")


if __name__ == "__main__":
    main()

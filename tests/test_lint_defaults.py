"""``cnncount lint``'s defaults, as ruff's: a run with no configuration fails only on what is
certainly wrong; folders are searched for models; an error is said once."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import onnx
import pytest
from onnx import helper

from sphinx_cnncount.lint.cli import main
from sphinx_cnncount.lint.codes import Rule, Severity
from sphinx_cnncount.lint.config import DEFAULT_EXCLUDE

from .conftest import EXAMPLES, ROOT
from .helpers import model, weight

mk = helper.make_node


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["lint", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_default_rules():
    """On by default: the declared-number rules, what cannot be read, what no run could have,
    hygiene and what the counter could not count; off: the architecture observations."""
    assert {r.code for r in Rule if not r.default} == {"CNC101", "CNC103", "CNC106"}
    # what fails by default (errors): only what is certainly wrong
    assert {r.kebab for r in Rule if r.default and r.severity is Severity.ERROR} == {
        "analysis-error", "declared-mismatch", "unknown-layer", "bad-declaration",
        "unchecked-declaration", "window-too-large", "invalid-node"}


def _all_models() -> list[str]:
    """Every .onnx under tests/data and examples/, found independently of the linter."""
    found = [p for top in ("tests/data", "examples") for p in (ROOT / top).rglob("*.onnx")]
    return sorted(os.path.relpath(p, ROOT) for p in found)


def test_no_configuration_over_every_model_in_the_repository_passes(capsys, monkeypatch):
    """Over every model of tests/data and examples/ (torchvision, Keras, onnxruntime's contrib
    ops, models from the wild), the default run exits 0: what it reports are warnings, the
    counter's limits and inputs nobody bound."""
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, "tests/data", "examples", "--isolated", "--format", "json")
    assert (code, err) == (0, "")
    findings = json.loads(out)
    assert {f["severity"] for f in findings} == {"warning"}
    assert {f["code"] for f in findings} <= {"CNC201", "CNC202", "CNC203", "CNC205", "CNC206"}
    # every model was linted: each is either clean or in a finding (the walk missed none)
    assert len(_all_models()) == 83
    code, out, _ = run(capsys, "tests/data", "examples", "--isolated", "--select", "ALL",
                       "--ignore", "CNC1,CNC2", "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_a_dynamo_export_whose_shapes_are_all_known_is_not_partial(capsys):
    """Its integer Reshape target is in the missing data file, but the exporter's annotations
    give every shape: nothing is unknown, so CNC201 and CNC205 do not fire."""
    path = str(ROOT / "tests/data/keras/torch_cnn.dynamo_external.onnx")
    assert run(capsys, path, "--isolated", "--select", "CNC2") == (0, "All checks passed.\n", "")


def test_floor_drop_and_param_share_are_opt_in(capsys, tmp_path, monkeypatch):
    keras = str(EXAMPLES / "keras_cnn.onnx")
    assert run(capsys, keras, "--isolated")[:2] == (0, "All checks passed.\n")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.cnncount]\nextend-select = ['floor-drop']\nfail-level = 'warning'\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, keras)
    assert code == 1 and out.count("CNC101 [warning]") == 2 and "CNC106" not in out
    code, out, _ = run(capsys, keras, "--extend-select", "param-share", "--fail-level", "error")
    assert code == 0 and out.endswith("Found 3 findings (2 warnings, 1 info).\n")


def _unbound(tmp_path: Path) -> Path:
    m = model([mk("Relu", ["x"], ["y"])], {"x": [1, "seq"]}, ["y"])
    onnx.save(m, tmp_path / "m.onnx")
    return tmp_path / "m.onnx"


def test_an_unbound_input_is_said_and_does_not_fail(capsys, tmp_path):
    path = _unbound(tmp_path)
    code, out, err = run(capsys, str(path), "--isolated")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{path}: CNC206 [warning] not counted: input 'x' has symbolic dim 'seq' at axis 1; bind "
        "it with --dim seq=SIZE, or give the whole shape with --input-shape x=1xSIZE",
        "Found 1 finding (1 warning).",
    ]
    assert run(capsys, str(path), "--isolated", "--dim", "seq=4")[:2] == (0, "All checks passed.\n")


def test_an_unbound_input_with_declared_numbers_fails(capsys, tmp_path):
    """Its declared numbers cannot be checked: that is an error."""
    path = _unbound(tmp_path)
    (tmp_path / "m.cnncount.toml").write_text("[total]\nparams = 0\n")
    code, out, _ = run(capsys, str(path), "--isolated")
    assert code == 2
    assert out.splitlines()[0] == (
        f"{path}: CNC000 [error] input 'x' has symbolic dim 'seq' at axis 1; bind it with --dim "
        f"seq=SIZE, or give the whole shape with --input-shape x=1xSIZE; the numbers "
        f"{tmp_path / 'm.cnncount.toml'} declares cannot be checked until then")


def test_a_declared_number_the_counter_cannot_count_fails(capsys, tmp_path):
    """An op with no rule leaves the MACs unknown: a declared MAC count is not checked, which
    fails (CNC004); the counter's own warnings do not."""
    nodes = [mk("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], name="/conv/Conv"),
             mk("Mystery", ["c"], ["y"], domain="custom", name="/odd/Mystery")]
    m = model(nodes, {"x": [1, 1, 8, 8]}, {"y": [1, 2, 6, 6]}, [weight("w", 2, 1, 3, 3)],
              extra_opsets=[helper.make_opsetid("custom", 1)])
    onnx.save(m, tmp_path / "m.onnx")
    assert run(capsys, str(tmp_path / "m.onnx"), "--isolated")[0] == 0  # warnings only
    toml = tmp_path / "m.cnncount.toml"
    toml.write_text("[total]\nparams = 18\nmacs = 648\n")  # 3*3*1 * 2 (no bias); 3*3*1 * 2*6*6
    code, out, _ = run(capsys, str(tmp_path / "m.onnx"), "--isolated")
    assert code == 1
    assert f"{toml}:3: CNC004 [error] m.onnx: total: macs declared 648 cannot be checked: the " \
           "model's figure is not counted (?; its count is partial)" in out.splitlines()
    assert "CNC001" not in out  # params = 18 holds


# ---------------------------------------------------------------------------------------------
# A folder: the models under it


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """models/ with nested models, and the folders a walk must not enter."""
    lenet = EXAMPLES / "lenet5.onnx"
    for rel in ("models/a.onnx", "models/sub/b.onnx", "models/sub/deeper/c.ONNX",
                "models/.git/x.onnx", "models/.venv/x.onnx", "models/node_modules/x.onnx",
                "models/build/x.onnx", "models/env/x.onnx", "models/old/x.onnx"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(lenet, tmp_path / rel)
    (tmp_path / "models/env/pyvenv.cfg").write_text("home = /usr/bin\n")  # a venv of any name
    (tmp_path / "models/notes.txt").write_text("not a model\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _linted(out: str) -> list[str]:
    """The models a run with --select param-share saw (LeNet's C5 holds 79%: one each)."""
    return [line.split(": ")[0] for line in out.splitlines() if "CNC106" in line]


def test_a_folder_is_searched_for_models(capsys, tree):
    code, out, err = run(capsys, "models", "--isolated", "--select", "param-share")
    assert (code, err) == (0, "")
    # in the order of a sorted walk: a folder's files, then its folders
    assert _linted(out) == ["models/a.onnx", "models/old/x.onnx", "models/sub/b.onnx",
                            "models/sub/deeper/c.ONNX"]


def test_the_excludes_are_configured_as_ruffs(capsys, tree):
    (tree / "pyproject.toml").write_text(
        "[tool.cnncount]\nextend-exclude = ['old', 'models/sub/deeper']\n")
    code, out, _ = run(capsys, "models", "--select", "param-share")
    assert sorted(_linted(out)) == ["models/a.onnx", "models/sub/b.onnx"]
    # --exclude replaces the defaults: .git, build, ... are entered again
    code, out, _ = run(capsys, "models", "--isolated", "--select", "param-share",
                       "--exclude", ".venv,env")
    assert sorted(_linted(out)) == ["models/.git/x.onnx", "models/a.onnx", "models/build/x.onnx",
                                    "models/node_modules/x.onnx", "models/old/x.onnx",
                                    "models/sub/b.onnx", "models/sub/deeper/c.ONNX"]
    # a model named on the command line is linted wherever it is
    code, out, _ = run(capsys, "models/build/x.onnx", "--isolated", "--select", "param-share")
    assert _linted(out) == ["models/build/x.onnx"]


def test_the_default_excludes():
    for name in (".git", ".venv", "node_modules", "build", "dist", "_build", "__pycache__"):
        assert name in DEFAULT_EXCLUDE


def test_a_folder_with_no_models(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert run(capsys, "empty", "--isolated") == (
        0, "All checks passed.\n", "cnncount: warning: empty: no .onnx models found under it\n")


# ---------------------------------------------------------------------------------------------
# Said once


def test_a_missing_model_is_said_once(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "missing.onnx") == (
        2, "missing.onnx: CNC000 [error] no such file\nFound 1 finding (1 error).\n", "")
    code, out, err = run(capsys, "missing.onnx", "--format", "json")
    assert code == 2 and err == "cnncount: error: missing.onnx: no such file\n"
    assert [f["message"] for f in json.loads(out)] == ["no such file"]

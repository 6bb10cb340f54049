"""``cnncount lint``: exit codes, selection, configuration, the four formats, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sphinx_cnncount.lint.cli import main
from sphinx_cnncount.lint.rules import Rule

from .conftest import EXAMPLES, ROOT

LENET = str(EXAMPLES / "lenet5.onnx")
KERAS = str(EXAMPLES / "keras_cnn.onnx")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["lint", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A scratch project: the examples copied under models/, cwd at its root."""
    (tmp_path / "models").mkdir()
    for name in ("lenet5.onnx", "keras_cnn.onnx", "lenet5.cnncount.toml",
                 "keras_cnn.cnncount.toml"):
        shutil.copy(EXAMPLES / name, tmp_path / "models" / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------------------------------
# The examples, as CI runs them


def test_lenet5_passes_with_its_expectations(capsys):
    assert run(capsys, LENET, "--isolated") == (0, "All checks passed.\n", "")
    rc, out, err = run(capsys, LENET, "--isolated", "--extend-select", "param-share")
    assert rc == 0 and err == ""
    assert out.splitlines() == [
        f"{LENET}: CNC106 [info] C5: holds 48,120 of the model's 60,840 params (79%), more than the "
        "param-share threshold 50%",
        "Found 1 finding (1 info).",
    ]


def test_keras_cnn_passes_the_defaults(capsys):
    """The seed article's CNN holds its declared numbers: the default run passes, although its
    pools floor away rows (an architecture observation, opt-in)."""
    assert run(capsys, KERAS, "--isolated") == (0, "All checks passed.\n", "")


def test_keras_cnn_reports_the_two_floor_drops_when_selected(capsys):
    rc, out, _ = run(capsys, KERAS, "--isolated", "--extend-select", "CNC1")
    assert rc == 0  # warnings and info are reported; the default fail-level is error
    lines = out.splitlines()
    assert [line.split(": ")[1].split()[0] for line in lines[:-1]] == ["CNC101", "CNC101",
                                                                       "CNC106"]
    assert lines[-1] == "Found 3 findings (2 warnings, 1 info)."
    assert run(capsys, KERAS, "--isolated", "--extend-select", "CNC1",
               "--fail-level", "warning")[0] == 1
    assert run(capsys, KERAS, "--isolated", "--extend-select", "CNC1", "--fail-level", "warning",
               "--ignore", "floor-drop")[0] == 0
    assert run(capsys, KERAS, "--isolated", "--select", "ALL", "--ignore", "CNC101,CNC106")[1] \
        == "All checks passed.\n"


def test_select(capsys):
    rc, out, _ = run(capsys, KERAS, "--isolated", "--select", "CNC106")
    assert rc == 0 and out.count("CNC106") == 1 and "CNC101" not in out
    rc, out, _ = run(capsys, LENET, "--isolated", "--select", "CNC1", "--fail-level", "info")
    assert rc == 1  # the info finding fails at --fail-level info


def test_mismatch_exit_1_at_the_toml_line(capsys, work):
    toml = work / "models" / "lenet5.cnncount.toml"
    toml.write_text(toml.read_text().replace("params = 1516 ", "params = 1500 "))
    rc, out, _ = run(capsys, "models/lenet5.onnx", "--isolated", "--select", "CNC0")
    assert rc == 1
    assert out.splitlines()[0] == ("models/lenet5.cnncount.toml:23: CNC001 [error] lenet5.onnx: C3: "
                                   "params declared 1,500, model has 1,516")
    assert run(capsys, "models/lenet5.onnx", "--isolated", "--no-expect")[0] == 0


def test_explicit_expect(capsys, work):
    (work / "other.toml").write_text("[total]\nparams = 60841\n")
    rc, out, _ = run(capsys, "models/lenet5.onnx", "--isolated", "--expect", "other.toml")
    assert rc == 1
    assert out.startswith("other.toml:2: CNC001 [error] lenet5.onnx: total: params declared 60,841, "
                          "model has 60,840\n")


# ---------------------------------------------------------------------------------------------
# Configuration


def test_pyproject_config(capsys, work):
    (work / "pyproject.toml").write_text("""\
[project]
name = "x"

[tool.cnncount]
extend-select = ["floor-drop", "param-share"]
ignore = ["param-share"]
fail-level = "warning"

[tool.cnncount.severity]
floor-drop = "info"

[tool.cnncount.thresholds]
param-share = 0.9

[tool.cnncount.per-file-ignores]
"models/lenet*.onnx" = ["CNC1"]
""")
    sub = work / "models"
    os.chdir(sub)  # found by walking up
    rc, out, _ = run(capsys, "keras_cnn.onnx", "lenet5.onnx")
    assert rc == 0  # floor-drop lowered to info
    assert out.count("CNC101") == 2 and "CNC106" not in out
    assert "Found 2 findings (2 info)." in out
    assert run(capsys, "keras_cnn.onnx", "--isolated")[0] == 0  # floor-drop is opt-in
    assert run(capsys, "keras_cnn.onnx", "--isolated", "--extend-select", "floor-drop",
               "--fail-level", "warning")[0] == 1


def test_config_expect_mapping_and_threshold_flag(capsys, work):
    (work / "expect").mkdir()
    (work / "expect" / "k.toml").write_text("[total]\nparams = 1\n")
    (work / "pyproject.toml").write_text(
        '[tool.cnncount.expect]\n"models/keras*.onnx" = "expect/k.toml"\n')
    rc, out, _ = run(capsys, "models/keras_cnn.onnx", "--select", "CNC0")
    assert rc == 1 and out.startswith(str(Path("expect/k.toml").resolve()) + ":2: CNC001")
    rc, out, _ = run(capsys, "models/keras_cnn.onnx", "--select", "param-share",
                     "--threshold", "param-share=0.1")
    # over 10%: conv2d_1 18,496 and conv2d_2 73,856 of 101,578; dense's 8,256 is 8%
    assert [line.split()[3] for line in out.splitlines()[:-1]] == ["conv2d_1:", "conv2d_2:"]


# ---------------------------------------------------------------------------------------------
# What a pre-commit hook passes: a changed model, expectation file or pyproject.toml


def _models_linted(out: str) -> list[str]:
    return sorted({line.partition(":")[0] for line in out.splitlines()[:-1]})


def test_an_expectation_file_lints_its_model(capsys, work):
    toml = work / "models" / "lenet5.cnncount.toml"
    rc, out, _ = run(capsys, "models/lenet5.cnncount.toml", "--select", "CNC0")
    assert (rc, out) == (0, "All checks passed.\n")
    # A wrong number in the expectation file alone fails (the hook runs on that file).
    toml.write_text(toml.read_text().replace("params = 60840", "params = 60841"))
    rc, out, _ = run(capsys, "models/lenet5.cnncount.toml", "--select", "CNC0")
    assert rc == 1 and "CNC001 [error] lenet5.onnx: total: params declared 60,841, model has " \
        "60,840" in out


def test_an_expectation_file_without_a_model(capsys, work):
    (work / "models" / "gone.cnncount.toml").write_text("[total]\nparams = 1\n")
    rc, out, _ = run(capsys, "models/gone.cnncount.toml", "models/lenet5.onnx",
                     "--select", "CNC0")
    assert rc == 1
    assert out.splitlines() == [
        "models/gone.cnncount.toml: CNC003 [error] no model for this expectation file: no "
        "gone.onnx beside it and no [tool.cnncount.expect] entry names it",
        "Found 1 finding (1 error)."]


def test_a_mapped_expectation_file_lints_the_models_it_maps(capsys, work):
    (work / "expect").mkdir()
    (work / "expect" / "k.toml").write_text("[total]\nparams = 101578\n")
    shutil.copy(work / "models" / "keras_cnn.onnx", work / "models" / "keras_b.onnx")
    (work / "pyproject.toml").write_text(
        '[tool.cnncount.expect]\n"models/keras*.onnx" = "expect/k.toml"\n')
    rc, out, _ = run(capsys, "expect/k.toml", "--select", "param-share")
    assert rc == 0 and _models_linted(out) == ["models/keras_b.onnx", "models/keras_cnn.onnx"]


def test_pyproject_lints_every_model_with_declared_numbers(capsys, work):
    (work / "pyproject.toml").write_text("[tool.cnncount]\nselect = ['param-share']\n")
    (work / "fixtures").mkdir()  # no expectation file beside it: not linted for pyproject.toml
    shutil.copy(work / "models" / "keras_cnn.onnx", work / "fixtures" / "plain.onnx")
    (work / ".venv" / "x").mkdir(parents=True)  # hidden: never walked
    shutil.copy(work / "models" / "lenet5.onnx", work / ".venv" / "x" / "lenet5.onnx")
    shutil.copy(work / "models" / "lenet5.cnncount.toml", work / ".venv" / "x")
    rc, out, _ = run(capsys, "pyproject.toml", "models/lenet5.onnx")
    assert rc == 0 and _models_linted(out) == ["models/keras_cnn.onnx", "models/lenet5.onnx"]


def test_the_hook_runs_on_models_expectations_and_pyproject():
    import re

    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    (pattern,) = re.findall(r"^\s*files: (.+)$", hooks, re.M)
    files = re.compile(pattern)  # pre-commit matches it with re.search on the repo-relative path
    for path in ("models/lenet5.onnx", "lenet5.onnx", "models/lenet5.cnncount.toml",
                 "pyproject.toml", "sub/pyproject.toml"):
        assert files.search(path), path
    for path in ("models/lenet5.onnx.data", "README.md", "notpyproject.toml", "a.toml"):
        assert not files.search(path), path


@pytest.mark.parametrize("table, message", [
    ("[tool.cnncount]\nselct = ['ALL']\n", "unknown key 'selct'"),
    ("[tool.cnncount]\nignore = ['CNC999']\n", "unknown rule 'CNC999'"),
    ("[tool.cnncount.severity]\nfloor-drop = 'fatal'\n", "unknown severity 'fatal'"),
    ("[tool.cnncount.thresholds]\nparam-share = 2\n", "must be a number in (0, 1]"),
])
def test_bad_config_is_exit_2(capsys, work, table, message):
    (work / "pyproject.toml").write_text(table)
    rc, out, err = run(capsys, "models/lenet5.onnx")
    assert rc == 2 and out == ""
    assert err.startswith("cnncount: error: ") and message in err and err.count("\n") == 1


# ---------------------------------------------------------------------------------------------
# Errors: one line, exit 2, never a traceback


@pytest.mark.parametrize("argv, message", [
    ([], "cnncount: error: lint: give one or more models, or --docs DIR\n"),
    (["models/lenet5.onnx", "--select", "nope"], "cnncount: error: unknown rule 'nope' (give a "
     "code such as CNC101, a prefix such as CNC1, or a name such as floor-drop)\n"),
    (["models/lenet5.onnx", "--dim", "batch"], "cnncount: error: --dim expects SYMBOL=N, got "
     "'batch'\n"),
    (["models/lenet5.onnx", "--expect", "nope.toml"], "cnncount: error: nope.toml: no such "
     "expectation file\n"),
    (["models/lenet5.onnx", "models/keras_cnn.onnx", "--expect", "x.toml"], "cnncount: error: "
     "lint: --expect takes one model; give per-model files in [tool.cnncount.expect] or as "
     "MODEL.cnncount.toml\n"),
    (["models/lenet5.onnx", "--threshold", "share=1"], "cnncount: error: --threshold expects "
     "NAME=VALUE with NAME one of param-share, got 'share=1'\n"),
])
def test_usage_errors(capsys, work, argv, message):
    rc, out, err = run(capsys, *argv, "--isolated")
    assert (rc, err) == (2, message)


def test_unreadable_model_among_good_ones(capsys, work):
    (work / "junk.onnx").write_bytes(b"\x00not a model")
    rc, out, err = run(capsys, "junk.onnx", "models/lenet5.onnx", "--isolated",
                       "--extend-select", "param-share")
    assert (rc, err) == (2, "")
    assert out.startswith("junk.onnx: CNC000 [error] is not an ONNX model")
    assert "models/lenet5.onnx: CNC106" in out  # the others are still linted


def test_a_bad_declaration_is_a_finding_at_its_line_and_the_rest_is_checked(capsys, work):
    (work / "models" / "lenet5.cnncount.toml").write_text(
        "[layers.C3]\nparams = 1.5\n[layers.C1]\nparams = 157\n")
    rc, out, err = run(capsys, "models/lenet5.onnx", "--isolated")
    assert (rc, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == ("models/lenet5.cnncount.toml:2: CNC003 [error] params = 1.5: write an exact int "
                        '(60840) or a string with an SI suffix ("1.81G")')
    assert lines[1] == ("models/lenet5.cnncount.toml:4: CNC001 [error] lenet5.onnx: C1: params declared "
                        "157, model has 156")


def test_the_cnncount_command_has_lint_and_diff():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-m", "sphinx_cnncount", "lint", LENET, "--isolated",
                        "--format", "json", "--extend-select", "param-share"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert [f["code"] for f in json.loads(p.stdout)] == ["CNC106"]
    p = subprocess.run([sys.executable, "-m", "sphinx_cnncount", "diff", LENET, "nope.onnx"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    assert (p.returncode, p.stderr) == (2, "cnncount: error: nope.onnx: no such file\n")


# ---------------------------------------------------------------------------------------------
# Formats


def test_json_format(capsys, work):
    toml = work / "models" / "lenet5.cnncount.toml"
    toml.write_text(toml.read_text().replace("params = 1516 ", "params = 1500 "))
    rc, out, _ = run(capsys, "models/lenet5.onnx", "--isolated", "--format", "json",
                     "--extend-select", "param-share")
    assert rc == 1
    first, second = json.loads(out)
    assert first == {
        "code": "CNC001", "name": "declared-mismatch", "severity": "error",
        "model": "models/lenet5.onnx", "layer": "C3", "node": None,
        "message": "lenet5.onnx: C3: params declared 1,500, model has 1,516",
        "declared": "1,500", "actual": "1,516",
        "file": "models/lenet5.cnncount.toml", "line": 23,
    }
    assert (second["code"], second["severity"], second["line"]) == ("CNC106", "info", None)


def test_github_format(capsys, work):
    rc, out, _ = run(capsys, "models/keras_cnn.onnx", "--isolated", "--format", "github",
                     "--select", "CNC1", "--fail-level", "warning")
    lines = out.splitlines()
    assert rc == 1 and len(lines) == 3
    assert lines[0].startswith("::warning file=models/keras_cnn.onnx,title=CNC101 floor-drop::"
                               "max_pooling2d_1: MaxPool")
    assert lines[2].startswith("::notice file=models/keras_cnn.onnx,title=CNC106 param-share::")
    assert "(73%25)" in lines[2]  # % is escaped in workflow command data


def test_github_format_has_lines(capsys, work):
    (work / "e.toml").write_text("[layers.C1]\n\nparams = 1\n")
    _, out, _ = run(capsys, "models/lenet5.onnx", "--isolated", "--expect", "e.toml",
                    "--format", "github")
    assert out.splitlines()[0] == ("::error file=e.toml,line=3,title=CNC001 declared-mismatch::"
                                   "lenet5.onnx: C1: params declared 1, model has 156")


def test_sarif_format(capsys, work):
    (work / "e.toml").write_text("[layers.C1]\nparams = 1\n")
    rc, _, _ = run(capsys, "models/lenet5.onnx", "--isolated", "--expect", "e.toml",
                   "--format", "sarif", "-o", "out.sarif", "--extend-select", "param-share")
    assert rc == 1
    log = json.loads((work / "out.sarif").read_text())
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = log["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in Rule]
    assert rules[1]["name"] == "declared-mismatch"
    assert rules[1]["defaultConfiguration"] == {"level": "error", "enabled": True}
    assert rules[[r.code for r in Rule].index("CNC101")]["defaultConfiguration"] == {
        "level": "warning", "enabled": False}
    assert run_["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    mismatch, share = run_["results"]
    assert mismatch["ruleId"] == "CNC001" and mismatch["level"] == "error"
    assert rules[mismatch["ruleIndex"]]["id"] == "CNC001"
    loc = mismatch["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "e.toml", "uriBaseId": "%SRCROOT%"},
                   "region": {"startLine": 2}}
    assert share["level"] == "note"
    assert share["locations"][0]["logicalLocations"] == [{"name": "C5", "kind": "module"}]


def test_pre_commit_hook_definition():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: cnncount-lint\n" in text
    assert "  entry: cnncount lint\n" in text


def test_help_lists_the_rules_as_a_list_in_the_reference_page():
    """sphinx-argparse renders a subcommand's epilog as reST: the rules must stay one item
    each (not one paragraph of every rule run together), in the order of the codes."""
    import argparse

    from docutils import nodes
    from docutils.core import publish_doctree

    from sphinx_cnncount.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    tree = publish_doctree(sub.choices["lint"].epilog)
    items = [i.astext() for i in tree.findall(nodes.list_item)]
    assert [i.split()[:2] for i in items] == [[r.code, r.kebab] for r in Rule]

"""Every snippet of README.md is run or checked against what it shows.

* a ``$ cnncount ...`` block is run from the repository's root and its output compared (a block
  ending in ``...`` shows the output's first lines);
* the install block is run up to its ``cnncount`` command (the install itself is what ``.ci/run``
  does in a fresh venv) and that command's output compared with the block after it;
* the Python block is executed in a scratch directory; a line ``expr  # 60840`` is checked to
  evaluate to that integer;
* the Sphinx snippets (``conf.py`` line and reST) are built with warnings as errors;
* a synopsis block's options exist in the command's parser, with the choices it lists;
* the JSON interface block names exactly the keys ``--format json`` writes;
* the GitHub Actions steps' cnncount commands run on a scratch ``models/`` directory, and the
  pre-commit snippet is the hook ``.pre-commit-hooks.yaml`` defines;
* the test command is the one ``.ci/run`` runs, and every file of the Layout block exists.
"""

from __future__ import annotations

import glob
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXAMPLES, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
BLOCKS = [(m.group(1), m.group(2), README.count("\n", 0, m.start()) + 1)
          for m in _FENCE.finditer(README)]


def cnncount(argv: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sphinx_cnncount", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def blocks(lang: str, starts: str = "") -> list[tuple[str, int]]:
    return [(body, line) for kind, body, line in BLOCKS
            if kind == lang and body.startswith(starts)]


def test_the_readme_has_the_snippets_this_test_runs():
    assert len(blocks("", "$ cnncount ")) >= 3
    assert len(blocks("python")) == 2 and len(blocks("rst")) == 1 and len(blocks("yaml")) == 2


@pytest.mark.parametrize("body, line", blocks("", "$ cnncount "),
                         ids=lambda v: f"line{v}" if isinstance(v, int) else None)
def test_console_block(body: str, line: int):
    command, _, shown = body.partition("\n")
    done = cnncount(shlex.split(command.removeprefix("$ "))[1:])
    assert done.returncode in (0, 1), done.stderr
    if shown.endswith("...\n"):
        head = shown.removesuffix("...\n").splitlines()
        assert done.stdout.splitlines()[:len(head)] == head
    else:
        assert done.stdout == shown


def test_install_and_try_it():
    (install, line), = [(b, n) for b, n in blocks("sh") if "pip install -e . &&" in b]
    command = install.strip().split(" && ")[-1]
    assert command == "cnncount summary examples/lenet5.onnx"
    shown = next(body for kind, body, n in BLOCKS if n > line and kind == "")
    assert cnncount(shlex.split(command)[1:]).stdout == shown


def test_the_test_command_is_what_ci_runs():
    (test, _), = [(b, n) for b, n in blocks("sh") if "pytest" in b]
    assert test.strip() == "pip install -e '.[test]' && python -m pytest -q"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pip install -q -e '.[test]'" in ci
    assert "\npython -m pytest -q\n" in ci


def test_python_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (code, _), = [(b, n) for b, n in blocks("python") if "analyze" in b]
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 (the README's own code)
    checked = 0
    for statement in code.splitlines():
        m = re.match(r"^(\S.*?)\s+# ([\d_]+)\b", statement)
        if m:
            assert eval(m.group(1), scope) == int(m.group(2)), statement  # noqa: S307
            checked += 1
    assert checked >= 2
    assert (tmp_path / "lenet5.svg").read_bytes().startswith(b"<svg ")


def test_sphinx_snippet(tmp_path: Path):
    (conf, _), = [(b, n) for b, n in blocks("python") if "extensions" in b]
    (rst, _), = blocks("rst")
    src = tmp_path / "src"
    (src / "models").mkdir(parents=True)
    shutil.copy(EXAMPLES / "lenet5.onnx", src / "models")
    (src / "conf.py").write_text(conf)
    (src / "index.rst").write_text("Page\n====\n\n" + rst)
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src),
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    page = (tmp_path / "out" / "index.html").read_text()
    assert "60,840" in page and 'C3 has <span class="cnncount">1,516</span> parameters' in page


def _synopses() -> list[tuple[str, str]]:
    """(subcommand, its synopsis text) for each ``cnncount SUB ...`` synopsis line group."""
    out = []
    for body, _ in blocks("", "cnncount "):
        for part in re.split(r"\n(?=cnncount )", body):
            out.append((part.split()[1], part))
    return out


@pytest.mark.parametrize("sub, synopsis", _synopses(), ids=lambda v: v if " " not in v else None)
def test_synopsis_options_exist(sub: str, synopsis: str):
    from sphinx_cnncount.cli import build_parser

    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if a.dest == "command"]
    options = {s: a for a in subparsers.choices[sub]._actions for s in a.option_strings}
    for flag, choices in re.findall(r"\[(--[\w-]+)(?: ([\w|]+))?", synopsis):
        assert flag in options, f"{sub} {flag}"
        listed = choices.split("|")
        if len(listed) > 1:
            assert set(listed) == set(options[flag].choices), f"{sub} {flag}"


def test_json_interface_block():
    (body, _), = [(b, n) for b, n in blocks("") if b.startswith('{"model": str')]
    data = json.loads(cnncount(["summary", "examples/lenet5.onnx", "--format", "json"]).stdout)
    top = re.findall(r'^ ?[{ ]"(\w+)":', body, re.M)
    assert top == list(data)
    sections = {m.group(1): m.group(2) for m in
                re.finditer(r'^ ?[{ ]"(\w+)":\s*(.*?)(?=^ ?[{ ]"\w+":|\Z)', body, re.M | re.S)}
    assert set(re.findall(r'"(\w+)"', sections["totals"])) == set(data["totals"])
    assert set(re.findall(r'"(\w+)"', sections["layers"])) == set(data["layers"][0])
    assert set(re.findall(r'"(\w+)"', sections["inputs"])) == set(data["inputs"][0])
    from sphinx_cnncount.summary import ControlFlow
    from sphinx_cnncount.shapes import Diagnostic

    assert re.findall(r'"(\w+)"', sections["control_flow"]) == \
        list(ControlFlow.__dataclass_fields__)
    assert re.findall(r'"(\w+)"', sections["diagnostics"]) == \
        list(Diagnostic.__dataclass_fields__)


def test_github_actions_steps(tmp_path: Path):
    (steps, _), = [(b, n) for b, n in blocks("yaml") if "codeql" in b]
    models = tmp_path / "models"
    models.mkdir()
    for name in ("lenet5.onnx", "lenet5.cnncount.toml"):
        shutil.copy(EXAMPLES / name, models)
    runs = re.findall(r"- run: (cnncount .*)", steps)
    assert len(runs) == 2
    for command in runs:
        argv = [w for word in shlex.split(command)[1:]
                for w in (sorted(glob.glob(word, root_dir=tmp_path)) or [word])]
        done = cnncount(argv, cwd=tmp_path)
        assert done.returncode == 0, done.stderr  # LeNet holds its numbers; CNC106 is info
    assert json.loads((tmp_path / "cnncount.sarif").read_text())["runs"][0]["invocations"][0][
        "executionSuccessful"] is True


def test_pre_commit_snippet_is_the_hook():
    (snippet, _), = [(b, n) for b, n in blocks("yaml") if "pre-commit" in b or "hooks:" in b]
    hook = (ROOT / ".pre-commit-hooks.yaml").read_text()

    def field(text: str, key: str) -> str:
        (value,) = re.findall(rf"^\s*-?\s*{key}: (.+)$", text, re.M)
        return value.strip()

    for key in ("id", "entry", "files"):
        assert field(snippet, key) == field(hook, key), key


def test_layout_block_files_exist():
    (body, _), = [(b, n) for b, n in blocks("") if b.startswith("sphinx_cnncount/\n")]
    names = re.findall(r"(?:^|\s)([\w]+(?:\.py|/))(?=\s)", body)
    assert len(names) > 20
    for name in names:
        matches = list((ROOT / "sphinx_cnncount").rglob(name.rstrip("/")))
        assert matches or name == "sphinx_cnncount/", name


# ---------------------------------------------------------------------------------------------
# The docs' console examples: each ``$ cnncount ...`` line followed by output lines is run and
# its output compared, as for the README (synopses, whose files do not exist, are skipped).


def _docs_examples() -> list[tuple[str, str, str]]:
    out = []
    for page in sorted((ROOT / "docs").glob("*.rst")):
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r"^\.\. code-block:: console\n\n((?:   .*\n|\n)+)", text, re.M):
            lines = [line[3:] for line in m.group(1).rstrip("\n").splitlines()]
            starts = [k for k, line in enumerate(lines) if line.startswith("$ ")] + [len(lines)]
            for a, b in zip(starts, starts[1:]):
                command, shown = lines[a][2:], "\n".join(lines[a + 1:b]).strip("\n")
                words = shlex.split(command)
                files = [w for w in words if w.endswith(".onnx")]
                if words[0] == "cnncount" and shown and files and all(
                        (ROOT / f).is_file() for f in files):
                    out.append((page.name, command, shown + "\n"))
    return out


@pytest.mark.parametrize("page, command, shown", _docs_examples(),
                         ids=lambda v: v if v.endswith(".rst") else None)
def test_docs_console_example(page: str, command: str, shown: str):
    done = cnncount(shlex.split(command)[1:])
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout == shown


def test_the_docs_have_console_examples_this_test_runs():
    assert {page for page, _, _ in _docs_examples()} >= {"lint.rst"}

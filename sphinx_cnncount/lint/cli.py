"""The ``lint`` and ``diff`` subcommands; :func:`register` adds them to ``cnncount``.

Exit codes: 0 nothing at or above the failing severity, 1 findings (lint) or a budget exceeded
(diff), 2 a usage error or a model that cannot be read (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..command import PROG, Parser, add_model_options, error, guarded
from ..escape import message as printable
from .formats import Format
from .codes import Finding, Rule, Severity



def _model_options(p: argparse.ArgumentParser) -> None:
    add_model_options(p, depth_default=None,
                      depth_help="the expectation file's, the config's, else 1")


def register(subparsers: Any) -> None:
    """Add ``lint`` and ``diff`` to an argparse subparsers object."""
    # one bullet per rule: a list in the terminal and, in sphinx-argparse's page, in reST
    codes = "\n".join(f"* {r.code}  {r.kebab:<22} {r.severity.label:<8} "
                      f"{'on ' if r.default else 'off'}  {r.summary}" for r in Rule)
    p = subparsers.add_parser(
        "lint", help="check models against declared numbers and architecture rules",
        description="Check ONNX models against their declared numbers (MODEL.cnncount.toml, "
                    "--expect, or the cnncount directives and roles of a Sphinx tree with "
                    "--docs) and against architecture rules.",
        epilog=f"rules (code, name, severity, on by default):\n\n{codes}\n\n"
               "exit codes: 0 clean, 1 findings at or above --fail-level, "
               "2 usage error or unreadable model",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", metavar="PATH",
                   help=".onnx files, or folders to search for them (skipping --exclude); an "
                        "expectation file (X.cnncount.toml) stands for the models it declares, "
                        "a pyproject.toml for every model under it with declared numbers (so a "
                        "pre-commit hook re-lints what a changed file affects)")
    p.add_argument("--expect", metavar="FILE.toml",
                   help="expectation file (default: MODEL.cnncount.toml beside the model)")
    p.add_argument("--no-expect", action="store_true",
                   help="do not read expectation files")
    p.add_argument("--docs", action="append", default=[], metavar="DIR",
                   help="check every cnncount directive and role under DIR (.rst pages, and "
                        "MyST .md pages' {cnncount} fences and roles)")
    p.add_argument("--format", choices=[f.value for f in Format], default=Format.TEXT.value,
                   help="text: one line per finding; json: the records; github: workflow "
                        "annotations; sarif: a SARIF 2.1.0 log for code scanning "
                        "(default: text)")
    p.add_argument("--select", action="append", default=[], metavar="CODES",
                   help="comma-separated codes, prefixes (CNC1, ALL) or names to check, in "
                        "place of the default rules and the configuration's select")
    p.add_argument("--extend-select", action="append", default=[], metavar="CODES",
                   help="codes, prefixes or names to check besides the selected ones "
                        "(e.g. floor-drop)")
    p.add_argument("--ignore", action="append", default=[], metavar="CODES",
                   help="comma-separated codes, prefixes or names to skip")
    p.add_argument("--fail-level", choices=[s.label for s in Severity], default=None,
                   help="lowest severity that makes the exit code 1 (default: error; "
                        "warnings and info are reported and do not fail)")
    p.add_argument("--exclude", action="append", default=None, metavar="PATTERNS",
                   help="comma-separated file or folder names or globs a folder's search "
                        "skips, in place of the default (.git, .venv, node_modules, build, "
                        "dist, ...) and the configuration's exclude")
    p.add_argument("--extend-exclude", action="append", default=[], metavar="PATTERNS",
                   help="names or globs to skip besides the excluded ones")
    p.add_argument("--threshold", action="append", default=[], metavar="NAME=VALUE",
                   help="a rule's limit, e.g. param-share=0.3")
    p.add_argument("--config", metavar="PYPROJECT",
                   help="read [tool.cnncount] from this file (default: the nearest "
                        "pyproject.toml that has one)")
    p.add_argument("--isolated", action="store_true", help="ignore any configuration file")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here, not stdout")
    _model_options(p)
    p.set_defaults(func=guarded(lint_command))

    d = subparsers.add_parser(
        "diff", help="compare two models layer by layer, with growth budgets",
        description="Per-layer and total changes from OLD to NEW (added, removed and changed "
                    "layers; shape, params, connections, MACs, FLOPs).",
        epilog="exit codes: 0 within budget, 1 a --fail-on budget exceeded, 2 usage error or "
               "unreadable model")
    d.add_argument("old", metavar="OLD.onnx", help="the model before the change")
    d.add_argument("new", metavar="NEW.onnx", help="the model after it")
    d.add_argument("--fail-on", action="append", default=[], metavar="KEY=+N%",
                   help="budgets on the totals, e.g. params=+5%%,macs=+10%% or flops=+1G")
    d.add_argument("--format", choices=["text", "markdown", "json"], default="text",
                   help="text: an aligned table; markdown: the table for a pull request "
                        "comment; json: every figure, exact")
    _model_options(d)
    d.set_defaults(func=guarded(diff_command))


def _split(values: Sequence[str]) -> list[str]:
    return [s.strip() for v in values for s in v.split(",") if s.strip()]


@dataclass
class Run:
    """The settings of one lint run, CLI over config over defaults."""

    enabled: set[Rule]
    fail_level: Severity
    severity: dict[Rule, Severity]
    thresholds: dict[str, float]
    dims: dict[str, int]
    input_shapes: dict[str, tuple[int, ...]]
    depth: int | None
    config: Any
    errors: int = 0
    cache: dict[tuple, Any] = field(default_factory=dict)
    debug: bool = False  # --debug: a failure raises (and shows its traceback)
    sources: dict[str, str] = field(default_factory=dict)  # symbol or input -> config key
    flagged: frozenset[str] = frozenset()  # symbols and inputs bound by a flag
    input_values: dict[str, tuple[int | float, ...]] = field(default_factory=dict)

    def failed(self, model: str, exc: BaseException, file: str | None = None,
               line: int | None = None) -> Any:
        """The analysis-error finding for a model (or a document) that could not be analysed;
        it makes the run exit 2."""
        from ..load import ModelError
    
        self.errors += 1
        if self.debug:
            raise exc
        if isinstance(exc, ModelError):
            reason = exc.reason
        elif isinstance(exc, RecursionError):
            reason = "the graph is too deeply nested"
        elif isinstance(exc, ValueError):
            reason = str(exc)
        else:
            reason = (f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and "
                      "report it")
        return Finding(Rule.ANALYSIS_ERROR, reason, model, file or model, line)

    def analyze(self, path: str, depth: int, dims: dict[str, int] | None = None,
                shapes: dict[str, tuple[int, ...]] | None = None,
                sources: dict[str, str] | None = None, options: bool = False,
                symbolic: bool = False) -> Any:
        """(loaded, graph, summary) of a model, cached per path and settings. ``dims`` and
        ``shapes`` override the run's (a directive's options: ``options``, so that messages
        name those); ``sources`` names where other defaults came from (conf.py).
        ``symbolic`` (a directive's ``:symbolic:``): the summary at the first binding of the
        symbols left free, as the page shows it beside the formulas; (None, None, summary)."""
        from ..count import count
        from ..graph import build
        from ..load import load
        from ..spelling import Spelling, Syntax

        named = set(dims or {}) | set(shapes or {}) | self.flagged
        sources = {k: v for k, v in {**self.sources, **(sources or {})}.items()
                   if k not in named}
        dims = {**self.dims, **(dims or {})}
        shapes = {**self.input_shapes, **(shapes or {})}
        key = (os.path.abspath(path), depth, tuple(sorted(dims.items())),
               tuple(sorted(shapes.items())), tuple(sorted(self.input_values.items())),
               tuple(sorted(sources.items())), options, symbolic)
        if key not in self.cache and symbolic:
            from ..formula import symbolic as formulas

            flags = Spelling(Syntax.DIRECTIVE if options else Syntax.CLI, sources)
            self.cache[key] = (None, None, formulas(path, dims, depth, flags,
                                                    input_shapes=shapes,
                                                    input_values=self.input_values))
        if key not in self.cache:
            flags = Spelling(Syntax.DIRECTIVE if options else Syntax.CLI, sources)
            loaded = load(path, dims, shapes, flags,
                          strict=frozenset(named & set(dims)),
                          input_values=self.input_values)
            g = build(loaded.path, loaded.model.graph, loaded.rows)
            self.cache[key] = (loaded, g, count(loaded, depth, g))
        return self.cache[key]


def selected(select: Sequence[str], extend: Sequence[str], ignore: Sequence[str]) -> set[Rule]:
    """The rules a run checks, as ruff chooses them: ``select`` (default: the rules on by
    default), plus ``extend``, minus ``ignore``."""
    enabled = ({r for s in select for r in Rule.lookup(s)} if select else set(Rule.defaults()))
    enabled |= {r for s in extend for r in Rule.lookup(s)}
    for s in ignore:
        enabled -= set(Rule.lookup(s))
    return enabled


def _settings(args: argparse.Namespace) -> Run:
    from ..spelling import parse_dims, parse_input_shapes, parse_input_values
    from .config import Config, load_config

    config = Config() if args.isolated else load_config(args.config)
    if args.exclude is not None or args.extend_exclude:
        config = replace(config, exclude=tuple(_split(args.exclude)) if args.exclude is not None
                         else config.exclude,
                         extend_exclude=(*config.extend_exclude, *_split(args.extend_exclude)))
    enabled = selected(_split(args.select) or list(config.select),
                       [*config.extend_select, *_split(args.extend_select)],
                       [*config.ignore, *_split(args.ignore)])
    thresholds = dict(config.thresholds)
    for spec in _split(args.threshold):
        name, sep, value = spec.partition("=")
        if not sep or name.strip() not in thresholds:
            raise ValueError(f"--threshold expects NAME=VALUE with NAME one of "
                             f"{', '.join(thresholds)}, got {spec!r}")
        try:
            thresholds[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--threshold {name}: {value!r} is not a number") from None
    fail = (Severity.parse(args.fail_level) if args.fail_level
            else config.fail_level or Severity.ERROR)
    flag_dims, flag_shapes = parse_dims(args.dim), parse_input_shapes(args.input_shape)
    where = f"{Path(config.path).name} [tool.cnncount]" if config.path else "[tool.cnncount]"
    return Run(
        enabled=enabled, fail_level=fail, severity=dict(config.severity),
        thresholds=thresholds,
        dims={**config.dims, **flag_dims},
        input_shapes={**config.shapes, **flag_shapes},
        depth=args.depth if args.depth is not None else config.depth,
        config=config,
        debug=args.debug,
        sources={**dict.fromkeys(config.dims, f"{where} dims"),
                 **dict.fromkeys(config.shapes, f"{where} input-shapes")},
        flagged=frozenset(flag_dims) | frozenset(flag_shapes),
        input_values=parse_input_values(args.input_value),
    )


def walk_models(run: Run, root: Path, declared_only: bool = False) -> list[str]:
    """The .onnx files under ``root``, sorted, in the folders a walk enters: none that the
    configuration excludes (DEFAULT_EXCLUDE: version control, environments, caches, build
    output) and none that holds a ``pyvenv.cfg``. ``declared_only``: only the models with
    declared numbers, those the config's ``[tool.cnncount.expect]`` maps and those with a
    MODEL.cnncount.toml beside them."""
    from .expect import default_path

    found = [_near(m) for pattern in run.config.expect
             for m in sorted(run.config.root.glob(pattern))] if declared_only else []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not run.config.excluded(os.path.join(top, d))
                         and not os.path.isfile(os.path.join(top, d, "pyvenv.cfg")))
        paths = [os.path.normpath(os.path.join(top, f)) for f in sorted(files)
                 if f.lower().endswith(".onnx")]
        found += [f for f in paths if not run.config.excluded(f)
                  and (not declared_only or default_path(f).is_file())]
    return found


def _near(path: Path) -> str:
    """A path found by a glob from the config's root, relative to the working directory when
    it is under it (as a user names it)."""
    rel = os.path.relpath(path)
    return path.as_posix() if rel.startswith("..") else rel


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def expand_targets(run: Run, targets: Sequence[str]) -> tuple[list[str], list]:
    """The models to lint for what was named: a model is itself; an expectation file the models
    it declares (the config's ``[tool.cnncount.expect]`` entries that name it, else for
    ``X.cnncount.toml`` the ``X.onnx`` beside it); a ``pyproject.toml`` every model under its
    directory with declared numbers (mapped by the config or with an expectation file beside
    it); a folder every model under it (:func:`walk_models`). An expectation file with no model
    is a bad-declaration finding. Each model once, in the order named."""
    from .expect import SUFFIX

    models: list[str] = []
    findings = []
    for target in targets:
        path = Path(target)
        if path.name == "pyproject.toml":
            models += walk_models(run, path.parent, declared_only=True)
        elif path.is_dir() and not (path / "saved_model.pb").is_file():
            found = walk_models(run, path)
            if not found:  # as ruff says it: a warning, not a failure
                said = printable(f"{target}: no .onnx models found under it")
                print(f"{PROG}: warning: {said}", file=sys.stderr)
            models += found
        elif path.suffix == ".toml":
            mapped = [_near(m) for pattern, file in run.config.expect.items()
                      if _same_file(run.config.root / file, path)
                      for m in sorted(run.config.root.glob(pattern))]
            beside = path.with_name(path.name.removesuffix(SUFFIX).removesuffix(".toml")
                                    + ".onnx")
            if mapped:
                models += mapped
            elif path.name.endswith(SUFFIX) and beside.is_file():
                models.append(str(beside))
            else:
                findings.append(Finding(
                    Rule.BAD_DECLARATION, "no model for this expectation file: "
                    + (f"no {beside.name} beside it and " if path.name.endswith(SUFFIX) else "")
                    + "no [tool.cnncount.expect] entry names it",
                    target, target))
        else:
            models.append(target)
    return list(dict.fromkeys(models)), findings


def lint_models(run: Run, models: Sequence[str], expect: str | None, no_expect: bool) -> list:
    """Findings for each model, each on its own: its expectation file's, then the architecture
    rules'. A model that cannot be analysed is an analysis-error finding (and exit 2 at the
    end); an expectation file that cannot be read is a bad-declaration finding at its line."""
    from ..load import BindingError, ModelError, WindowError
    from .expect import ExpectError, check_expectations, default_path, load_expectations
    from .rules import Context, run_checks

    findings: list[Finding] = []
    for model in models:
        exp = None
        if not no_expect:
            source = expect or run.config.expectation_for(model)
            if source is None and default_path(model).is_file():
                source = default_path(model)
            if source is not None:
                try:
                    exp = load_expectations(source)
                except ExpectError as exc:
                    findings.append(_bad_expectations(exc, model))
                else:
                    findings.extend(_bad_expectations(p, model) for p in exp.problems)
        depth = run.depth or (exp.depth if exp else None) or 1
        try:
            loaded, g, summary = run.analyze(model, depth)
        except WindowError as exc:  # the model is readable, its shapes impossible
            findings.append(Finding(Rule.WINDOW_TOO_LARGE, exc.reason, model, model,
                                    node=exc.node or None))
            continue
        except BindingError as exc:  # readable; a dim nobody bound stops the count
            if exp is not None and exp.declarations:  # ... and the check of what it declares
                findings.append(run.failed(model, ModelError(
                    model, f"{exc.reason}; the numbers {exp.path} declares cannot be checked "
                           "until then")))
            else:
                findings.append(Finding(Rule.UNBOUND_INPUT, f"not counted: {exc.reason}",
                                        model, model))
            continue
        except (ModelError, ValueError, RecursionError, MemoryError) as exc:
            findings.append(run.failed(model, exc))
            continue
        try:
            if exp is not None:
                findings.extend(check_expectations(summary, exp, model))
            findings.extend(run_checks(Context(model, loaded, g, summary, run.thresholds)))
        except ExpectError as exc:
            findings.append(_bad_expectations(exc, model))
        except Exception as exc:  # a bug of ours: reported for this model, the others go on
            findings.append(run.failed(model, exc))
    return findings


def _bad_expectations(exc: Any, model: str) -> Any:

    return Finding(Rule.BAD_DECLARATION, exc.reason, model, exc.path, exc.line or None)


def lint_docs(run: Run, roots: Sequence[str]) -> list:
    """Findings for the declarations of every ``.. cnncount::`` directive, and for every
    ``cnncount`` role, of the pages under ``roots``."""
    from ..declare import DeclarationError
    from ..load import ModelError
    from ..spelling import parse_dims, parse_input_shapes
    from ..render import parse_columns
    from ..choices import parse_convention, parse_diagram
    from ..textfiles import FileProblem, read_text
    from .docs import (doc_files, parse_page, parse_roles, resolve_model, source_root,
                       sphinx_defaults)
    from .expect import check_declarations, validate

    findings = []
    for root in roots:
        if not Path(root).exists():
            raise ValueError(f"--docs {root}: no such directory")
        srcdir = source_root(root)
        conf_depth, conf_dims = sphinx_defaults(srcdir)
        for page in doc_files(root):
            file = os.path.relpath(page) if not os.path.isabs(root) else str(page)
            try:
                text = read_text(page)
            except FileProblem as exc:
                findings.append(run.failed(file, ValueError(str(exc).partition(": ")[2])))
                continue
            for directive in parse_page(text, file):
                model = resolve_model(directive, srcdir)
                try:
                    decls = directive.declarations()
                    depth = run.depth or directive.depth() or conf_depth or 1
                    dims = parse_dims(directive.dims())  # the directive's own, over conf.py's
                    shapes = parse_input_shapes(directive.input_shapes())
                    if "columns" in directive.options:  # as the Sphinx build reads them
                        parse_columns(directive.options["columns"])
                    for name in ("diagram", "kind"):  # one option, two names
                        if directive.options.get(name, "").strip():
                            parse_diagram(directive.options[name])
                    if "units" in directive.options:
                        from ..sphinx_ext import parse_units

                        parse_units(directive.options["units"])
                    if directive.options.get("convention", "").strip():
                        parse_convention(directive.options["convention"])
                except (DeclarationError, ValueError) as exc:
                    findings.append(Finding(Rule.BAD_DECLARATION, f"cnncount directive: {exc}",
                                            model, file, directive.line))
                    continue
                findings.extend(Finding(Rule.BAD_DECLARATION, f"cnncount directive: {problem}",
                                        model, file, line)
                                for line, problem in directive.unreadable())
                good = []
                for d in decls:
                    problem = validate(d)
                    if problem:
                        findings.append(Finding(Rule.BAD_DECLARATION, problem, model, file,
                                                d.line, d.target))
                    else:
                        good.append(d)
                # Analysed even with nothing declared: a missing or broken model fails the
                # Sphinx build too.
                try:
                    _, _, summary = run.analyze(
                        model, depth,
                        {**{k: v for k, v in conf_dims.items() if k not in run.dims}, **dims},
                        shapes, {k: "conf.py cnncount_dims" for k in conf_dims if k not in dims},
                        options=True, symbolic="symbolic" in directive.options)
                except (ModelError, ValueError, RecursionError, MemoryError) as exc:
                    failure = run.failed(model, exc, file, directive.line)
                    findings.append(replace(failure, message=f"{model}: {failure.message}"))
                    continue
                findings.extend(check_declarations(summary, good, model, file))
            findings += lint_roles(run, parse_roles(text, file), srcdir, conf_depth, conf_dims)
    return findings


def lint_roles(run: Run, roles: Sequence[Any], srcdir: Path, conf_depth: int | None,
               conf_dims: dict[str, int]) -> list:
    """Findings for ``cnncount`` roles, each read as the Sphinx role reads it (declare's
    parse_reference and reference_depths): its text, its model (CNC000 at the role's line),
    the layer at the depth asked or the one a dotted path names (CNC002), the key (CNC003)."""
    from ..declare import DeclarationError, has_layer, parse_reference, quote, reference_depths
    from ..layers import parse_depth
    from ..load import ModelError
    from .docs import resolve_model

    findings = []
    for role in roles:
        try:
            ref = parse_reference(role.text)
        except DeclarationError as exc:
            findings.append(Finding(Rule.BAD_DECLARATION, f"cnncount role: {exc}", role.file,
                                    role.file, role.line))
            continue
        model = resolve_model(role, srcdir, ref.model)
        dims = {k: v for k, v in conf_dims.items() if k not in run.dims}
        sources = dict.fromkeys(conf_dims, "conf.py cnncount_dims")
        try:
            depths = reference_depths(ref, parse_depth(
                ref.depth if ref.depth is not None else run.depth or conf_depth or 1))
            _, _, summary = run.analyze(model, depths[0], dims, {}, sources, options=True)
            depth = depths[0]
            for deeper in depths[1:]:
                if has_layer(summary, ref.target):
                    break
                _, _, candidate = run.analyze(model, deeper, dims, {}, sources, options=True)
                if has_layer(candidate, ref.target):
                    summary, depth = candidate, deeper
        except (ModelError, ValueError, RecursionError, MemoryError) as exc:
            failure = run.failed(model, exc, role.file, role.line)
            findings.append(replace(failure, message=f"{model}: {failure.message}"))
            continue
        try:
            quote(summary, ref.target, ref.key)
        except KeyError:
            names = ", ".join(layer.name for layer in summary.layers)
            findings.append(Finding(
                Rule.UNKNOWN_LAYER, f"cnncount role: {ref.model}: no layer {ref.target!r} at "
                f"depth {depth} (layers: {names}); another depth: "
                f"{ref.model}@DEPTH:{ref.target}.{ref.key}", model, role.file, role.line,
                ref.target))
        except DeclarationError as exc:
            findings.append(Finding(Rule.BAD_DECLARATION, f"cnncount role: {ref.model}: {exc}",
                                    model, role.file, role.line))
    return findings


def lint_command(args: argparse.Namespace) -> int:
    from .formats import render

    if not args.models and not args.docs:
        return error("lint: give one or more models, or --docs DIR")
    if args.expect and len(args.models) != 1:
        return error("lint: --expect takes one model; give per-model files in "
                     "[tool.cnncount.expect] or as MODEL.cnncount.toml")
    if args.expect:  # named on the command line: one that cannot be read is a usage error
        from ..textfiles import FileProblem, read_text

        try:
            read_text(args.expect)
        except FileProblem as exc:
            return error(str(exc).replace(": no such file", ": no such expectation file"))
    run = _settings(args)
    config = run.config
    findings = [Finding(Rule.BAD_DECLARATION, f"[tool.cnncount.expect] {pattern!r}: {why}; "
                        "patterns are relative to the project and never leave it",
                        config.path or "", config.path or "", line or None)
                for pattern, why, line in config.refused]
    models, found = expand_targets(run, args.models)
    findings += found
    findings += lint_models(run, models, args.expect, args.no_expect)
    findings += lint_docs(run, args.docs)
    # What could not be read is in the report; when the report is not text on the terminal
    # (a machine format, or a file), it is said on stderr too, once.
    echo = Format(args.format) is not Format.TEXT or bool(args.output)
    kept = []
    for f in findings:
        if f.rule is Rule.ANALYSIS_ERROR:  # never filtered: nothing about it was checked
            if echo:
                error(f"{f.file}:{f.line}: {f.message}" if f.line else f.message
                      if f.message.startswith(f"{f.file}:") else f"{f.file}: {f.message}")
            kept.append(f)
            continue
        if f.rule not in run.enabled:
            continue
        ignored = run.config.ignored_for(f.file) | run.config.ignored_for(f.model)
        if f.rule in ignored:
            continue
        kept.append(f.with_severity(run.severity[f.rule]) if f.rule in run.severity else f)
    report = render(kept, Format(args.format))
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    if run.errors:
        return 2
    return 1 if any(f.level >= run.fail_level for f in kept) else 0


def diff_command(args: argparse.Namespace) -> int:
    from ..escape import message as line
    from ..spelling import parse_dims, parse_input_shapes, parse_input_values
    from .diff import as_json, diff, markdown, parse_budgets, text

    budgets = parse_budgets(args.fail_on)
    dims, shapes = parse_dims(args.dim), parse_input_shapes(args.input_shape)
    run = Run(set(), Severity.WARNING, {}, {}, dims, shapes, args.depth, None,
              input_values=parse_input_values(args.input_value))
    depth = args.depth or 1
    summaries = []
    for path in (args.old, args.new):
        _, _, summary = run.analyze(path, depth)
        for note in summary.notes:
            print(f"{PROG}: {line(f'{path}: {note}')}", file=sys.stderr)
        for d in summary.diagnostics:
            print(f"{PROG}: warning: {line(f'{path}: {d.message}')}", file=sys.stderr)
        summaries.append(summary)
    d = diff(args.old, args.new, *summaries, budgets)
    sys.stdout.write({"json": as_json, "markdown": markdown, "text": text}[args.format](d))
    return 1 if d.exceeded or d.unchecked else 0


def build_parser() -> Parser:
    """A parser with only ``lint`` and ``diff``, for ``python -m sphinx_cnncount.lint``."""
    parser = Parser(prog=PROG)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    parser.commands = dict(sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return 0

"""The package's shape: one-way layers, no imports of the root, a complete lazy namespace.

* the layering contract of ``pyproject.toml`` (``[tool.importlinter]``) holds;
* no module inside ``src/cnnzoo`` imports the package root (``import cnnzoo``,
  ``from cnnzoo import …``, or a relative import that resolves to it);
* ``cnnzoo.__all__`` is exactly the eagerly imported names plus ``cnnzoo._LAZY``, and the
  ``if TYPE_CHECKING:`` imports of ``cnnzoo/__init__.py`` declare the same lazy names with
  the same targets;
* in a fresh interpreter the lazy names resolve, verbs are functions, and listing models
  imports neither torch, torchvision nor timm;
* the import paths plugins use keep working.
"""

from __future__ import annotations

import ast
import inspect
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cnnzoo
from tests.helpers import ROOT

SRC = ROOT / "src"
PACKAGE = SRC / "cnnzoo"
INIT = PACKAGE / "__init__.py"
HEAVY = ("torch", "torchvision", "timm")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _run(code: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )


# --------------------------------------------------------------------------- (a) layers


def _lint_imports() -> list[str]:
    """The ``lint-imports`` of this interpreter's environment (PATH as a fallback)."""
    script = Path(sys.executable).with_name("lint-imports")
    if script.is_file():
        return [str(script)]
    found = shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[dev]' (import-linter)")
    return [found]


def test_layering_contract_holds() -> None:
    """``lint-imports`` checks every contract of ``[tool.importlinter]`` in pyproject.toml."""
    proc = subprocess.run(
        [*_lint_imports(), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, f"lint-imports failed:\n{proc.stdout}\n{proc.stderr}"


# --------------------------------------------------------------------------- (b) the root


def _root_imports(path: Path, source: str | None = None) -> list[str]:
    """``file:line: statement`` for every import of the bare package ``cnnzoo`` in ``path``.

    Function-level and ``TYPE_CHECKING`` imports count too; ``import cnnzoo.build.factory``
    (a real module) does not.
    """
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if source is None:
        source = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            hit = any(alias.name == "cnnzoo" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                target = ".".join(parts + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            hit = target == "cnnzoo"
        else:
            continue
        if hit:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_scan_finds_every_spelling_of_a_root_import() -> None:
    source = textwrap.dedent("""\
        import cnnzoo
        import cnnzoo as zoo
        from cnnzoo import create
        from .. import create
        import cnnzoo.build.factory
        from cnnzoo.build.factory import create
        from . import factory
        def f():
            import cnnzoo
    """)
    hits = _root_imports(PACKAGE / "build" / "probe.py", source)
    assert [int(hit.split(":")[1]) for hit in hits] == [1, 2, 3, 4, 9], hits


def test_no_module_imports_the_package_root() -> None:
    """Inside the package, import the real module (``from cnnzoo.build.factory import
    create``, ``from cnnzoo._version import __version__``), never ``cnnzoo`` itself: the
    root imports every layer lazily, so going through it hides upward imports and cycles."""
    offenders = [hit for path in _modules() if path != INIT for hit in _root_imports(path)]
    assert not offenders, (
        f"{len(offenders)} import(s) of the package root inside src/cnnzoo:\n"
        + "\n".join(offenders)
    )


# --------------------------------------------------------------------------- (c) namespace


def _init_tree() -> ast.Module:
    return ast.parse(INIT.read_text(encoding="utf-8"), filename=str(INIT))


def _eager_names(tree: ast.Module) -> dict[str, str]:
    """Names bound at the top of ``cnnzoo/__init__.py`` by ``from cnnzoo.… import …``."""
    names = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (
            node.module or ""
        ).startswith("cnnzoo."):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _type_checking_imports(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """name -> (module, imported name) for the imports under ``if TYPE_CHECKING:``."""
    blocks = [
        node for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "cnnzoo/__init__.py should have one `if TYPE_CHECKING:` block"
    found: dict[str, tuple[str, str]] = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom) and node.level == 0, ast.unparse(node)
        for alias in node.names:
            name = alias.asname or alias.name
            assert name not in found, f"{name} is imported twice under TYPE_CHECKING"
            found[name] = (node.module or "", alias.name)
    return found


def test_all_is_the_eager_names_plus_the_lazy_ones() -> None:
    eager = _eager_names(_init_tree())
    lazy = set(cnnzoo._LAZY)
    assert len(cnnzoo.__all__) == len(set(cnnzoo.__all__)), "duplicates in cnnzoo.__all__"
    assert not lazy & set(eager), f"both eager and lazy: {sorted(lazy & set(eager))}"
    assert set(cnnzoo.__all__) == lazy | set(eager), (
        f"missing from __all__: {sorted((lazy | set(eager)) - set(cnnzoo.__all__))}; "
        f"in __all__ but neither eager nor lazy: "
        f"{sorted(set(cnnzoo.__all__) - lazy - set(eager))}"
    )


def test_type_checking_imports_declare_every_lazy_name() -> None:
    """What type checkers and IDEs see is what ``__getattr__`` returns at run time."""
    declared = _type_checking_imports(_init_tree())
    eager = _eager_names(_init_tree())
    assert set(declared) == set(cnnzoo._LAZY), (
        f"lazy but not under TYPE_CHECKING: {sorted(set(cnnzoo._LAZY) - set(declared))}; "
        f"under TYPE_CHECKING but not lazy: {sorted(set(declared) - set(cnnzoo._LAZY))}"
    )
    assert set(declared) | set(eager) == set(cnnzoo.__all__)
    wrong = []
    for name, (module, attr) in sorted(cnnzoo._LAZY.items()):
        source, imported = declared[name]
        # `from a.b import c` declares either the module a.b.c or the attribute c of a.b
        if (source, imported) != ((module, attr) if attr else (module.rpartition(".")[0],
                                                                 module.rpartition(".")[2])):
            wrong.append(f"{name}: _LAZY says {module}:{attr}, TYPE_CHECKING imports "
                         f"{imported} from {source}")
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- (d) fresh imports


def test_lazy_namespace_resolves_in_a_fresh_interpreter() -> None:
    proc = _run("""
        import importlib, inspect, json, sys, types
        import cnnzoo
        modules = {n: isinstance(getattr(cnnzoo, n), types.ModuleType)
                   for n in ("hub", "weights", "data", "predict", "export")}
        unresolved, mismatched = [], []
        for name in cnnzoo.__all__:
            try:
                value = getattr(cnnzoo, name)
            except Exception as exc:
                unresolved.append(f"{name}: {type(exc).__name__}: {exc}")
                continue
            if name in cnnzoo._LAZY:
                module, attr = cnnzoo._LAZY[name]
                target = importlib.import_module(module)
                if attr is not None:
                    target = getattr(target, attr)
                if value is not target:
                    mismatched.append(name)
        print(json.dumps({
            "modules": modules,
            "unresolved": unresolved,
            "mismatched": mismatched,
            "functions": {n: inspect.isfunction(getattr(cnnzoo, n))
                          for n in ("explain", "quantize", "create")},
            "listed": sorted(set(cnnzoo.__all__) - set(dir(cnnzoo))),
        }))
    """)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["modules"] == dict.fromkeys(("hub", "weights", "data", "predict", "export"),
                                              True)
    assert result["unresolved"] == [], "\n".join(result["unresolved"])
    assert result["mismatched"] == [], "not the object _LAZY names: " + str(result["mismatched"])
    assert result["functions"] == dict.fromkeys(("explain", "quantize", "create"), True)
    assert result["listed"] == [], "missing from dir(cnnzoo): " + str(result["listed"])


def test_listing_models_imports_no_torch() -> None:
    proc = _run(f"""
        import json, sys
        import cnnzoo
        after_import = [m for m in {HEAVY!r} if m in sys.modules]
        names = cnnzoo.list_models()
        print(json.dumps({{
            "after_import": after_import,
            "after_list": [m for m in {HEAVY!r} if m in sys.modules],
            "models": len(names),
        }}))
    """)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["after_import"] == []
    assert result["after_list"] == [], "import cnnzoo; cnnzoo.list_models() imported heavy deps"
    assert result["models"] > 0


# --------------------------------------------------------------------------- (e) plugin paths


def test_plugin_import_paths() -> None:
    """The names third-party plugins import, from the paths they import them from."""
    from torch import nn

    from cnnzoo.errors import CnnzooError as error_base
    from cnnzoo.models.base import ZooModel
    from cnnzoo.registry import CnnzooError, FeatureStage, ModelSpec, Paper, WeightsSpec
    from cnnzoo.spec import FeatureStage as spec_stage
    from cnnzoo.spec import ModelSpec as spec_model
    from cnnzoo.spec import Paper as spec_paper
    from cnnzoo.spec import WeightsSpec as spec_weights

    assert CnnzooError is error_base
    assert (ModelSpec, WeightsSpec, FeatureStage, Paper) == (
        spec_model, spec_weights, spec_stage, spec_paper)
    assert inspect.isclass(ZooModel) and issubclass(ZooModel, nn.Module)

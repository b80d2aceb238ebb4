"""The package's shape: the import rule of hwcae/__init__.py, module and function sizes."""
import ast
from pathlib import Path

import hwcae

PKG = Path(hwcae.__file__).parent
LAYER_OF = {name: i for i, names in enumerate(hwcae.LAYERS) for name in names}


def _unit(module: str) -> str:
    """hwcae.codec.entropy -> codec; hwcae -> hwcae; hwcae.errors -> errors."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "hwcae"


def _imports(path: Path):
    """Every hwcae module a file imports, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] == "hwcae":
            if node.module == "hwcae":  # from hwcae import X: X may be a package
                yield from (f"hwcae.{a.name}" if f"hwcae.{a.name}".split(".")[1] in LAYER_OF and a.name not in
                            ("N_CHANNELS",) else "hwcae" for a in node.names)
            else:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "hwcae")


def test_every_package_has_a_layer():
    units = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    units |= {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"}
    assert units <= set(LAYER_OF), sorted(units - set(LAYER_OF))


def test_no_module_imports_a_layer_above_or_beside_it():
    bad = []
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG)
        own = rel.parts[0] if len(rel.parts) > 1 else (rel.stem if rel.stem != "__init__" else "hwcae")
        for mod in _imports(f):
            other = _unit(mod)
            if rel == Path("__init__.py") and mod == "hwcae.api":  # the lazy API facade
                continue
            if other != own and LAYER_OF[other] >= LAYER_OF[own]:
                bad.append(f"{rel} imports {mod} ({other}: layer {LAYER_OF[other]}, {own}: layer {LAYER_OF[own]})")
    assert not bad, "\n".join(bad)


def test_modules_and_functions_stay_small():
    """No module over ~300 lines, no function over ~60 (65 allowed: the guide's readability budget)."""
    long_modules, long_functions = [], []
    for f in PKG.rglob("*.py"):
        text = f.read_text()
        if len(text.splitlines()) > 300:
            long_modules.append(f"{f.relative_to(PKG)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 65:
                long_functions.append(f"{f.relative_to(PKG)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1}")
    assert not long_modules and not long_functions, "\n".join(long_modules + long_functions)


def test_the_api_is_exported_with_docstrings():
    for name in hwcae.__all__:
        fn = getattr(hwcae, name)
        assert callable(fn) and fn.__doc__ and len(fn.__doc__) > 40, name
    assert set(hwcae.__all__) <= set(dir(hwcae))
    subpackages = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert not set(hwcae.__all__) & subpackages  # an imported sub-package would shadow the function

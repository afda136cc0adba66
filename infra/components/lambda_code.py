"""The Lambda code asset: the dlqctl modules the handlers import, and nothing else.

Nothing is bundled at synth time, so the asset is src/ seen through a whitelist made from
the handlers' import statements, followed through every dlqctl module they reach (imports
inside functions too) and every package on the way, whose __init__.py runs on import. A
module no handler imports, a new part of the CLI, caches and build metadata stay out
without an exclude list anyone has to keep.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from aws_cdk import IgnoreMode
from aws_cdk import aws_lambda as lambda_

PACKAGE = "dlqctl"


def code(src: Path, handlers: Iterable[str]) -> lambda_.Code:
    """The asset for handlers named as Lambda names them (`dlqctl.pipeline.worker.handler`)."""
    files = imported_files(src, (handler.rsplit(".", 1)[0] for handler in handlers))
    return lambda_.Code.from_asset(str(src), exclude=whitelist(files), ignore_mode=IgnoreMode.GIT)


def imported_files(src: Path, modules: Iterable[str]) -> set[PurePosixPath]:
    """The files under `src` that importing `modules` can load from the package."""
    todo, seen, files = list(modules), set(), set()
    while todo:
        module = todo.pop()
        if module in seen or module.partition(".")[0] != PACKAGE:
            continue
        seen.add(module)
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        todo += [module.rsplit(".", depth)[0] for depth in range(1, module.count(".") + 1)]
        path = _module_file(src, module)
        if path is not None:  # else a name imported from a module, not a module
            files.add(path)
            todo += _imports(src / path, module, is_package=path.name == "__init__.py")
    return files


def whitelist(files: Iterable[PurePosixPath]) -> list[str]:
    """gitignore rules that leave exactly `files`: ignore everything, then re-include each
    directory on the way (ignoring its contents) and finally each file. Sorted paths put a
    directory before its subdirectories, as gitignore needs."""
    files = sorted(files)
    directories = sorted(
        {parent for file in files for parent in file.parents} - {PurePosixPath(".")}
    )
    rules = ["/*"]
    for directory in directories:
        rules += [f"!/{directory}/", f"/{directory}/*"]
    return rules + [f"!/{file}" for file in files]


def _module_file(src: Path, module: str) -> PurePosixPath | None:
    relative = PurePosixPath(*module.split("."))
    for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
        if (src / candidate).is_file():
            return candidate
    return None


def _imports(path: Path, module: str, *, is_package: bool) -> Iterator[str]:
    """Every module `path` may import at run time: `import x` names x, `from x import y`
    names x and x.y (y may be a submodule); relative imports are resolved against
    `module`. Imports under `if TYPE_CHECKING:` never run, so they do not count."""
    package = module if is_package else module.rpartition(".")[0]
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (base, node.module or "") if part)
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk, without the bodies of `if TYPE_CHECKING:` (their else branches stay)."""
    yield node
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children: list[ast.AST] = list(node.orelse)
    else:
        children = list(ast.iter_child_nodes(node))
    for child in children:
        yield from _runtime_nodes(child)


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"

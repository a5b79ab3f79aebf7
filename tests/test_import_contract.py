"""The house's import contract (DESIGN.md, Layout): no circle, no import running back up.

Every module of the project packages is parsed, imports inside functions included
(they hide circles from Python but not from the next engineer), and each import
is checked against the floors: the core `corpus` imports only itself; the stage
packages import `corpus` and themselves; `ray_jobs` imports those; the CLI,
`corpus_cli`, on top imports everything, and nothing imports it.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLOORS = {"corpus": 0, "crawlers": 1, "filters": 1, "dedup": 1, "ray_jobs": 2, "corpus_cli": 3}


def project_modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project packages under `root`."""
    modules = {}
    for package in FLOORS:
        for path in sorted((root / package).rglob("*.py")):
            name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name an import in the file names, relative imports resolved."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            names.add(stem)
            names.update(f"{stem}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name resolves to its longest module prefix)."""
    modules = project_modules(root)
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def home(module: str) -> tuple[str, int]:
    """The package a module belongs to for layering, and that package's floor."""
    top = module.split(".")[0]
    return top, FLOORS[top]


def back_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports of another package on the same floor or above: the ones running back up."""
    bad = []
    for module, targets in sorted(graph.items()):
        package, floor = home(module)
        for target in sorted(targets):
            target_package, target_floor = home(target)
            if target_package != package and target_floor >= floor:
                bad.append(f"{module} -> {target}")
    return bad


def circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle, each module importing the next, or [] when there is none."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return error.args[1][::-1]  # graphlib lists each module before the one importing it
    return []


def test_project_has_no_circle_and_no_back_import() -> None:
    graph = import_graph(REPO)
    assert {"corpus.config", "ray_jobs.pipeline", "corpus_cli.main"} <= graph.keys()  # the walk found the project
    assert circle(graph) == [], "import circle: " + " -> ".join(circle(graph))
    assert back_imports(graph) == []


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for package in FLOORS:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()


def test_checker_catches_a_back_import_hidden_in_a_function(tmp_path: Path) -> None:
    write_package(tmp_path, {
        "corpus/schema.py": "def columns():\n    from filters.quality import RULES\n    return RULES\n",
        "filters/quality.py": "from corpus.schema import columns\nRULES = []\n",
    })
    graph = import_graph(tmp_path)
    assert back_imports(graph) == ["corpus.schema -> filters.quality"]
    assert sorted(set(circle(graph))) == ["corpus.schema", "filters.quality"]


def test_checker_catches_a_circle_inside_one_package(tmp_path: Path) -> None:
    write_package(tmp_path, {
        "corpus/config.py": "def check():\n    from corpus.budget import parse\n",
        "corpus/budget.py": "from .config import check\n",
    })
    graph = import_graph(tmp_path)
    assert back_imports(graph) == []
    assert circle(graph) in (["corpus.budget", "corpus.config", "corpus.budget"], ["corpus.config", "corpus.budget", "corpus.config"])


def test_checker_catches_an_import_of_the_cli_from_below(tmp_path: Path) -> None:
    """The CLI is the top floor: a job, a stage or the core that reaches for its helpers runs back up."""
    write_package(tmp_path, {
        "corpus_cli/app.py": "from corpus.config import load_config\n",
        "corpus/config.py": "def load_config():\n    from corpus_cli.app import usage\n",
        "ray_jobs/submit.py": "from corpus_cli.app import build_config\n",
    })
    graph = import_graph(tmp_path)
    assert back_imports(graph) == ["corpus.config -> corpus_cli.app", "ray_jobs.submit -> corpus_cli.app"]
    assert sorted(set(circle(graph))) == ["corpus.config", "corpus_cli.app"]


def test_checker_allows_imports_down_the_floors(tmp_path: Path) -> None:
    write_package(tmp_path, {
        "corpus/schema.py": "X = 1\n",
        "corpus_cli/run.py": "from ray_jobs.pipeline import run\nfrom filters.quality import RULES\n",
        "filters/quality.py": "from corpus.schema import X\nRULES = []\n",
        "dedup/minhash.py": "from filters.quality import RULES\n",
        "ray_jobs/pipeline.py": "from corpus import schema\nfrom filters import quality\n\ndef run():\n    pass\n",
    })
    graph = import_graph(tmp_path)
    assert graph["corpus_cli.run"] == {"ray_jobs.pipeline", "filters.quality"}
    assert circle(graph) == []
    assert back_imports(graph) == ["dedup.minhash -> filters.quality"]  # stage packages stay apart

"""Sessions: ``tests`` (the suite, against non-editable installs), ``lint``, ``bench``, ``demo``.

Every session builds a fresh virtualenv and installs torch through ``constraints.txt`` (pinned to
the CPU build this machine has locally) before anything that depends on it.
"""

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = False

ROOT = Path(__file__).parent
CONSTRAINTS = ["-c", str(ROOT / "constraints.txt")]
# Every distribution in the repository (the core is `seqcore-toolkit`: the name `seqcore` on PyPI
# is an unrelated project), installed together so that pip takes the local core, not an index's.
DISTRIBUTIONS = [
    "./core[sentencepiece,moses]",
    "./plugins/transformer",
    "./plugins/lstm",
    "./plugins/adam",
]
TEST_PLUGINS = ["./tests/fixtures/seqcore-plugin-toy"]


# pip byte-compiles every module it installs; torch alone has thousands, which took 15 of its
# 23 s of install here. Without it, Python compiles (and caches) only what is imported...
NO_COMPILE = ["--no-compile"]
# ...provided it may write its cache: with PYTHONDONTWRITEBYTECODE set outside (as on some CI
# hosts) every process would compile torch's modules again, 3.3-4.9 s per `import torch`
# instead of 1.5 s, and the suite starts a few hundred processes (pytest 175 -> 260 s). Every
# session that installs torch takes it out of its commands' environment (nox drops a variable
# set to None).
WRITE_BYTECODE = {"PYTHONDONTWRITEBYTECODE": None}


def install_seqcore(session: nox.Session, *extra: str) -> None:
    session.env.update(WRITE_BYTECODE)
    session.install(*NO_COMPILE, *CONSTRAINTS, "torch==2.13.0")
    session.install(*NO_COMPILE, *CONSTRAINTS, *DISTRIBUTIONS, *extra)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite against non-editable installs (entry points as users get them)."""
    # tensorboard: --tensorboard-logdir is tested writing, and (blocked) without it;
    # pytest-xdist and filelock (which torch also needs): the suite runs in two processes
    install_seqcore(
        session, *TEST_PLUGINS, "pytest>=8", "pytest-xdist", "filelock", "tensorboard", "matplotlib"
    )
    # Two workers, each given whole files (module fixtures built once, each file's tests in
    # their order) and half the cores (tests/parallel.py); the session fixtures several files
    # share are built once for both (tests/built_once.py). No path here: pytest.ini's testpaths
    # is the whole suite, and arguments after -- come last, so `-- -n 0` runs it in one process
    # and `-- tests/packaging` runs that folder alone.
    session.run("pytest", "-n", "2", "--dist", "loadfile", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check; the core's import layers (tests/core/test_layers.py,
    which reads the source and needs nothing installed but pytest)."""
    session.install("ruff==0.17.6", "pytest>=8")  # ruff pinned: formatting changes between releases
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/core/test_layers.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks under bench/: each prints its figures and ratios against a baseline measured in
    the same run."""
    install_seqcore(session)
    session.install("cmeel-mimalloc")  # bench_train.py's row with another memory allocator
    scripts = session.posargs or sorted(str(p) for p in (ROOT / "bench").glob("bench_*.py"))
    for script in scripts:
        session.run("python", script)


@nox.session
def demo(session: nox.Session) -> None:
    """Install everything, build a small corpus from real text, preprocess it, train a small
    transformer with a progress bar, translate held-out sentences with their BLEU, and draw the
    run's loss curves next to its checkpoints."""
    install_seqcore(session, "matplotlib>=3.7")  # the core's [plot] extra, for the curves
    session.run("python", "examples/demo.py", *session.posargs)

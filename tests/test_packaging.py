"""The kit's templates and static files are found however a person gets the code.

A built wheel installed into a clean virtual environment, an editable install (this test run's
own), and a plain checkout on ``PYTHONPATH`` must all render a kit template and serve a kit static
file through Flask.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Run inside the target interpreter: set the kit up, render a macro, fetch every static file.
PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from flask import Flask, render_template_string, url_for
    import revu_widgets
    from revu_widgets.extension import RevUWidgets

    app = Flask("host")
    app.config["REVU_API_KEY"] = "k" * 20
    RevUWidgets(app)
    static = sorted(p.name for p in Path(app.blueprints["revu_widgets"].static_folder).iterdir())
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "revu_widgets/macros.html" import revu_assets %}{{ revu_assets() }}'
        )
        urls = [url_for("revu_widgets.static", filename=name) for name in static]
    words = {}
    for language in ("de", "es", "fr", "pt-BR"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            words[language] = render_template_string('{{ revu_gettext("My offers") }}')
    client = app.test_client()
    served = {}
    for url in urls:
        response = client.get(url)
        served[url] = [response.status_code, len(response.data)]
        response.close()
    print(json.dumps(
        {"package": revu_widgets.__file__, "html": html, "served": served, "words": words}
    ))
    """
)


def _repo_assets(folder: str) -> set[str]:
    root = REPO / folder
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _run_probe(python: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    import json

    out = subprocess.run(
        [str(python), "-c", PROBE],
        check=True,
        capture_output=True,
        text=True,
        cwd="/",
        env=env,
        timeout=120,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _assert_probe_served_kit(result: dict[str, object]) -> None:
    assert "revu-static/revu.css" in str(result["html"])
    served = result["served"]
    assert isinstance(served, dict)
    assert len(served) == len(_repo_assets("static"))
    assert all(status == 200 and size > 0 for status, size in served.values()), served
    # The compiled catalogs are found: the kit speaks each shipped language.
    assert result["words"] == {
        "de": "Meine Angebote",
        "es": "Mis ofertas",
        "fr": "Mes offres",
        "pt-BR": "Minhas ofertas",
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("revu_widgets-*.whl")
    return built


@pytest.fixture
def clean_venv(tmp_path: Path) -> Path:
    """A fresh venv without revu-widgets; the kit's dependencies come from this run's venv."""
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # A plain path line (not this venv's .pth files) so the editable install here stays invisible.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.mark.slow
def test_wheel_holds_every_template_and_static_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "static"):
        for relative in _repo_assets(folder):
            assert f"revu_widgets/{folder}/{relative}" in names, f"{relative} missing from wheel"
    assert "revu_widgets/py.typed" in names
    assert "revu_widgets/locale/messages.pot" in names
    for language in ("de", "es", "fr", "pt_BR"):
        for suffix in ("po", "mo"):
            catalog = f"revu_widgets/locale/{language}/LC_MESSAGES/revu_widgets.{suffix}"
            assert catalog in names, f"{catalog} missing from wheel"
    assert not any(name.startswith(("tests/", "demo_app/", "templates/")) for name in names)


@pytest.mark.slow
def test_installed_wheel_renders_templates_and_serves_static_files(
    wheel: Path, clean_venv: Path
) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(clean_venv),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    result = _run_probe(clean_venv, env={})
    assert str(result["package"]).startswith(str(clean_venv.parent.parent))
    _assert_probe_served_kit(result)


@pytest.mark.slow
def test_plain_checkout_on_pythonpath_finds_templates_and_static(clean_venv: Path) -> None:
    result = _run_probe(clean_venv, env={"PYTHONPATH": str(REPO)})
    assert str(result["package"]).startswith(str(REPO / "revu_widgets"))
    _assert_probe_served_kit(result)


def test_editable_install_finds_templates_and_static() -> None:
    result = _run_probe(Path(sys.executable))
    assert str(result["package"]).startswith(str(REPO / "revu_widgets"))
    _assert_probe_served_kit(result)

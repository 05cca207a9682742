"""Every command answers -h, and the scripts/ shims and console commands exist."""
from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _installed_commands() -> dict[str, str]:
    """pyproject's [project.scripts]: command name -> module under dbprocessing.cli."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r'^(\w+) = "dbprocessing\.cli\.(\w+):main"', section, re.M))


COMMANDS = _installed_commands()


def test_every_command_module_is_installed():
    modules = {p.stem for p in (REPO / "dbprocessing" / "cli").glob("*.py")
               if p.stem not in ("__init__", "context", "console")}
    assert modules == set(COMMANDS.values())
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("command, module", COMMANDS.items())
def test_help(command, module, capsys):
    main = importlib.import_module(f"dbprocessing.cli.{module}").main
    with pytest.raises(SystemExit) as exit_info:
        main(["-h"])
    assert exit_info.value.code == 0
    assert command in capsys.readouterr().out


@pytest.mark.parametrize("command, module", COMMANDS.items())
def test_bad_argument_exits_2(command, module, capsys):
    main = importlib.import_module(f"dbprocessing.cli.{module}").main
    with pytest.raises(SystemExit) as exit_info:
        main(["--no-such-flag"])
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["process_queue", "db_runner"])
@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "soon"])
def test_timeout_must_be_a_positive_finite_number(module, value, capsys):
    """--timeout nan was taken (and meant no limit at all); DBRunner took any number."""
    main = importlib.import_module(f"dbprocessing.cli.{module}").main
    mode = ["-p"] if module == "process_queue" else ["proc"]
    with pytest.raises(SystemExit) as exit_info:
        main(["-m", "unused.sqlite", *mode, "--timeout", value])
    assert exit_info.value.code == 2
    assert f"--timeout: not a positive number of seconds: '{value}'" in capsys.readouterr().err


# Every command's -h and argument errors come before its library (ProcessQueue's
# too: its no-op run imports the Core queries once the arguments are parsed), as
# cron and people call them often.
_IMPORTS_AFTER_HELP = """
import sys
from dbprocessing.cli import {module} as command
try:
    command.main(["-h"])
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "alembic")))
"""


@pytest.mark.parametrize("command, module", COMMANDS.items())
def test_help_imports_no_database_layer(command, module):
    result = subprocess.run([sys.executable, "-c", _IMPORTS_AFTER_HELP.format(module=module)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.strip().splitlines()[-1]
    assert loaded == "[]", f"{command} -h imported {loaded}"


@pytest.mark.parametrize("command", COMMANDS)
def test_script_shim_runs(command):
    result = subprocess.run([sys.executable, str(REPO / "scripts" / f"{command}.py"), "-h"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_console_command_installed(command):
    path = shutil.which(command) or str(Path(sys.executable).parent / command)
    result = subprocess.run([path, "-h"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_installed_create_db_finds_its_migrations(tmp_path):
    """The installed CreateDB (not the source tree) carries the alembic revisions."""
    path = shutil.which("CreateDB") or str(Path(sys.executable).parent / "CreateDB")
    db = tmp_path / "fresh.sqlite"
    result = subprocess.run([path, str(db)], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema revision 0006" in result.stdout and db.is_file()

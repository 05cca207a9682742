"""Every command answers -h, and the scripts/ shims and console commands exist."""
from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {"CreateDB": "create_db", "MigrateDB": "migrate_db", "ProcessQueue": "process_queue",
            "clearProcessingFlag": "clear_processing_flag", "DBRunner": "db_runner",
            "reprocessByCode": "reprocess_by_code", "reprocessByProduct": "reprocess_by_product",
            "reprocessByInstrument": "reprocess_by_instrument",
            "reprocessByDate": "reprocess_by_date",
            "addFromConfig": "add_from_config", "configFromDB": "config_from_db",
            "printStatus": "print_status", "explainBuild": "explain_build",
            "printHistory": "print_history", "printLineage": "print_lineage",
            "release": "release", "htmlCoverage": "html_coverage",
            "printProcessQueue": "print_process_queue",
            "flushProcessQueue": "flush_process_queue",
            "purgeFileFromDB": "purge_file_from_db"}


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
    assert "schema revision 0005" in result.stdout and db.is_file()

"""printLineage and release on real runs of the example mission, both backends."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from dbprocessing.cli import print_lineage, process_queue, release

from .missions import process

L1 = "hello_counter_L1"


def lineage(m, capsys, *argv: str) -> str:
    capsys.readouterr()
    assert print_lineage.main(["-m", m.db_url, *argv]) == 0
    return capsys.readouterr().out


def test_ancestors_and_descendants(made, capsys):
    data = json.loads(lineage(made, capsys, "hello_L2_20250102_v1.0.0.txt", "--json"))
    up = data["ancestors"]
    assert [c["code"] for c in up["codes"]] == ["hello_L1toL2.py"]
    (l1,) = up["inputs"]
    assert l1["file"] == "hello_L1_20250102_v1.0.0.txt" and l1["product"] == L1
    assert [c["code"] for c in l1["codes"]] == ["hello_L0toL1.py"]
    assert sorted(i["file"] for i in l1["inputs"]) == [
        "hello_a_L0_20250101_v1.0.0.txt", "hello_a_L0_20250102_v1.0.0.txt",
        "hello_a_L0_20250103_v1.0.0.txt", "hello_b_L0_20250102_v1.0.0.txt"]
    assert data["descendants"]["children"] == []

    down = json.loads(lineage(made, capsys, "hello_a_L0_20250102_v1.0.0.txt", "--down",
                              "--json"))["descendants"]
    assert sorted(c["file"] for c in down["children"]) == [
        f"hello_L1_2025010{d}_v1.0.0.txt" for d in (1, 2, 3)]
    assert all(len(c["children"]) == 1 for c in down["children"])
    one = json.loads(lineage(made, capsys, "hello_a_L0_20250102_v1.0.0.txt", "--down",
                             "--depth", "1", "--json"))["descendants"]
    assert all(c["children"] == [] for c in one["children"])

    text = lineage(made, capsys, "hello_L1_20250102_v1.0.0.txt")
    assert "ancestors (inputs and codes):" in text and "descendants:" in text
    assert "    code hello_L0toL1.py 1.0.0" in text
    assert "    hello_L2_20250102_v1.0.0.txt [hello_counter_L2 2025-01-02 v1.0.0]" in text


def test_dot_output_is_a_graph_of_the_links(made, capsys):
    dot = lineage(made, capsys, "hello_L1_20250102_v1.0.0.txt", "--dot")
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    ids = {r[0]: r[1] for r in made.query("SELECT filename, file_id FROM file")}
    l1 = ids["hello_L1_20250102_v1.0.0.txt"]
    assert f"  f{ids['hello_b_L0_20250102_v1.0.0.txt']} -> f{l1};" in dot
    assert f"  f{l1} -> f{ids['hello_L2_20250102_v1.0.0.txt']};" in dot
    assert dot.count(" -> ") == 4 + 1 + 1  # four inputs, its code, one child


def test_lineage_of_an_unknown_file(made, capsys):
    assert print_lineage.main(["-m", made.db_url, "nope.txt"]) == 2
    assert "no file 'nope.txt'" in capsys.readouterr().err


def test_lineage_by_file_id_reads_through_core_without_the_orm(made):
    # A question asked from a terminal: printLineage answers through the Core
    # views, so it costs SQLAlchemy's import and not the models' (issue 13).
    ((file_id,),) = made.query("SELECT file_id FROM file WHERE filename = "
                               "'hello_L1_20250102_v1.0.0.txt'")
    code = ("import sys\nfrom dbprocessing.cli import print_lineage\n"
            f"code = print_lineage.main(['-m', {made.db_url!r}, '{file_id}', '--up'])\n"
            "print(code, 'sqlalchemy.orm' in sys.modules, "
            "'dbprocessing.db.models' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].split() == ["0", "False", "False"]
    assert lines[1] == "  hello_L1_20250102_v1.0.0.txt [hello_counter_L1 2025-01-02 v1.0.0]"
    assert "    code hello_L0toL1.py 1.0.0" in lines
    assert "descendants:" not in lines


def test_release_tag_list_diff_export(made, capsys, tmp_path):
    def run(*argv: str) -> str:
        capsys.readouterr()
        assert release.main(["-m", made.db_url, *argv]) == 0
        return capsys.readouterr().out

    assert "tagged 5 file(s)" in run("tag", "1", "-p", L1)
    listed = json.loads(run("--json", "list", "1"))
    assert [f["file"] for f in listed] == [
        f"hello_L1_{d}_v1.0.0.txt" for d in ("20250101", "20250102", "20250103",
                                             "20250104", "20250105")]

    export = tmp_path / "release1.sha1"
    run("export", "1", "-o", str(export))
    for line in export.read_text().splitlines():
        digest, path = line.split("  ", 1)
        assert hashlib.sha1((made.root / path).read_bytes()).hexdigest() == digest

    made.add_incoming("hello_a_L0_20250103_v1.1.0.txt", "100\n")
    assert process_queue.main(["-i", "-m", made.db_url, "-q"]) == 0
    assert process(made, "-q") == 0
    assert "tagged 4 file(s)" in run("tag", "2", "-p", L1, "-e", "2025-01-04")
    changes = json.loads(run("--json", "diff", "1", "2"))
    assert changes["added"] == []
    assert [f["date"] for f in changes["removed"]] == ["2025-01-05"]
    assert [(c["date"], c["from_version"], c["to_version"]) for c in changes["changed"]] == [
        (f"2025-01-0{d}", "1.0.0", "1.1.0") for d in (2, 3, 4)]
    assert json.loads(run("--json", "list")) == [{"release": "1", "files": 5},
                                                 {"release": "2", "files": 4}]


@pytest.mark.parametrize("argv, message", [
    (["tag", "1", "-p", "nosuch"], "no product 'nosuch'"),
    (["tag", "x" * 21], "must be 1 to 20 characters"),
    (["tag", "1", "-s", "2030-01-01"], "no file matches"),
    (["list", "7"], "no release '7'"),
    (["diff", "7", "8"], "no release '7'"),
])
def test_release_bad_input(made, capsys, argv, message):
    assert release.main(["-m", made.db_url, *argv]) == 2
    assert message in capsys.readouterr().err
    assert made.count("release") == 0


def test_a_released_file_cannot_be_deleted_or_retagged(made, capsys):
    assert release.main(["-m", made.db_url, "tag", "v1"]) == 0
    assert release.main(["-m", made.db_url, "tag", "v1"]) == 2
    assert "already exists" in capsys.readouterr().err
    (file_id,) = made.query("SELECT r.file_id FROM release r JOIN file f "
                            "ON f.file_id = r.file_id WHERE f.filename = :n",
                            n="hello_L1_20250102_v1.0.0.txt")[0]
    engine = made.engine()
    try:
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:
                for table in ("filefilelink", "filecodelink"):
                    column = "resulting_file" if table == "filecodelink" else "source_file"
                    conn.execute(sa.text(f"DELETE FROM {table} WHERE {column} = :f"),
                                 {"f": file_id})
                conn.execute(sa.text("DELETE FROM filefilelink WHERE resulting_file = :f"),
                             {"f": file_id})
                conn.execute(sa.text("DELETE FROM unixtime WHERE file_id = :f"), {"f": file_id})
                conn.execute(sa.text("DELETE FROM file WHERE file_id = :f"), {"f": file_id})
    finally:
        engine.dispose()
    assert made.query("SELECT count(*) FROM file WHERE file_id = :f", f=file_id)[0][0] == 1

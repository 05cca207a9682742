"""printProcessQueue, flushProcessQueue and purgeFileFromDB on the example mission,
both backends."""
from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbprocessing.cli import (
    flush_process_queue,
    print_process_queue,
    process_queue,
    purge_file_from_db,
    release,
    reprocess_by_product,
)
from dbprocessing.db.models import Base, File, ProcessQueue
from dbprocessing.purge import FILE_REFERENCES

from .missions import MissionUnderTest, every_row, load_and_ingest, process

L0A, L0B, L1, L2 = ("hello_counter_L0_a", "hello_counter_L0_b", "hello_counter_L1",
                    "hello_counter_L2")


@pytest.fixture
def ingested(hello):  # noqa: F811
    """The example mission with its ten L0 files ingested (and so queued)."""
    load_and_ingest(hello)
    return hello


@pytest.fixture
def made(ingested):
    """The example mission processed: files, links to inputs and codes, event log."""
    assert process(ingested, "-q") == 0
    assert ingested.count("processqueue") == 0
    return ingested


def queue_rows(m: MissionUnderTest) -> list:
    """The queue as the database has it, in file_id order."""
    return m.query("SELECT q.file_id, f.filename, p.product_name, f.utc_file_date, "
                   "f.interface_version, f.quality_version, f.revision_version, "
                   "q.version_bump FROM processqueue q JOIN file f ON f.file_id = q.file_id "
                   "JOIN product p ON p.product_id = f.product_id ORDER BY q.file_id")


def ppq(m: MissionUnderTest, capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = print_process_queue.main([m.db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def listed(out: str) -> list[list[str]]:
    """The rows of a text listing, the header checked and dropped."""
    lines = out.splitlines()
    assert lines[0].split() == ["file_id", "filename", "product", "utc_file_date", "version",
                                "version_bump"]
    return [line.split() for line in lines[1:]]


def insert_lock(m: MissionUnderTest) -> None:
    """A live run (this test process) holds the processing lock."""
    engine = m.engine()
    with engine.begin() as conn:
        conn.execute(sa.text(
            'INSERT INTO logging (currently_processing, pid, processing_start_time, '
            'mission_id, "user", hostname) VALUES (true, :pid, :start, 1, \'someone\', :host)'),
            {"pid": os.getpid(), "host": socket.gethostname(),
             "start": datetime.datetime.utcnow()})
    engine.dispose()


# -- printProcessQueue --------------------------------------------------------------

def test_listing_in_queue_order_with_every_column(ingested, capsys):
    expected = queue_rows(ingested)
    assert len(expected) == 10
    code, out, _ = ppq(ingested, capsys)
    assert code == 0
    assert listed(out) == [[str(r[0]), r[1], r[2], str(r[3])[:10], f"{r[4]}.{r[5]}.{r[6]}", "-"]
                           for r in expected]


def test_forced_bump_is_shown(made, capsys):
    assert reprocess_by_product.main(["-m", made.db_url, L1, "--force", "2",
                                      "-s", "20250102", "-e", "20250103"]) == 0
    code, out, _ = ppq(made, capsys)
    rows = listed(out)
    assert code == 0 and len(rows) == 2
    assert [r[1] for r in rows] == [r[1] for r in queue_rows(made)]
    assert all(r[2] == L1 and r[5] == "2" for r in rows)


def test_product_filter_by_name_and_id(ingested, capsys):
    (b_id,) = ingested.query("SELECT product_id FROM product WHERE product_name = :n", n=L0B)[0]
    _, out, _ = ppq(ingested, capsys, "-p", L0B)
    assert {r[2] for r in listed(out)} == {L0B} and len(listed(out)) == 5
    _, by_id, _ = ppq(ingested, capsys, "-p", str(b_id))
    assert by_id == out
    _, both, _ = ppq(ingested, capsys, "-p", L0A, L0B)
    assert len(listed(both)) == 10
    _, repeated, _ = ppq(ingested, capsys, "-p", L0A, "-p", str(b_id))
    assert repeated == both
    _, none, _ = ppq(ingested, capsys, "-p", L2)
    assert listed(none) == []


def test_unknown_product_exits_2(ingested, capsys):
    code, out, err = ppq(ingested, capsys, "-p", L0A, "nosuch")
    assert code == 2 and out == ""
    assert "no product 'nosuch'" in err and L0A in err  # the known ones are named


def test_sort_by_product_date_filename(made, capsys):
    # Queue order (file_id) differs from the sorted order: every L1 file, then a
    # new L0 version ingested after them.
    assert reprocess_by_product.main(["-m", made.db_url, L1]) == 0
    made.add_incoming("hello_a_L0_20250103_v1.1.0.txt", "100\n")
    assert process_queue.main(["-i", "-m", made.db_url, "-q"]) == 0
    rows = queue_rows(made)
    by_queue = [r[1] for r in rows]
    by_sort = [r[1] for r in sorted(rows, key=lambda r: (r[2], r[3], r[1]))]
    assert by_queue != by_sort and by_sort[0] == "hello_a_L0_20250103_v1.1.0.txt"
    _, out, _ = ppq(made, capsys)
    assert [r[1] for r in listed(out)] == by_queue
    _, out, _ = ppq(made, capsys, "-s")
    assert [r[1] for r in listed(out)] == by_sort
    _, out, _ = ppq(made, capsys, "-s", "-p", L1)
    assert [r[1] for r in listed(out)] == [n for n in by_sort if n.startswith("hello_L1_")]


def test_html_table_with_escaped_names(ingested, capsys):
    engine = ingested.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE product SET product_name = :n WHERE product_name = :o"),
                     {"n": "L0 <b> & \"b\"", "o": L0B})
    engine.dispose()
    code, out, _ = ppq(ingested, capsys, "--html")
    assert code == 0
    assert out.startswith('<table class="processqueue">') and out.rstrip().endswith("</table>")
    assert "<th>file_id</th>" in out and "<th>version_bump</th>" in out
    assert out.count("<tr>") == 1 + 10
    assert "<td>L0 &lt;b&gt; &amp; &quot;b&quot;</td>" in out and "<b>" not in out
    assert "<td>hello_a_L0_20250101_v1.0.0.txt</td>" in out


def test_output_file_is_written_atomically(ingested, capsys, tmp_path, monkeypatch):
    _, stdout_listing, _ = ppq(ingested, capsys)
    target = tmp_path / "reports" / "queue.txt"  # the directory is created
    code, out, _ = ppq(ingested, capsys, "-o", str(target))
    assert code == 0 and out == ""
    assert target.read_text() == stdout_listing
    target.chmod(0o640)
    assert ppq(ingested, capsys, "-o", str(target), "--html")[0] == 0
    assert target.read_text().startswith("<table") and (target.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["queue.txt"]

    # A failure before the rename leaves the old file whole and no temporary behind.
    before = target.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    code, _, err = ppq(ingested, capsys, "-o", str(target))
    assert code == 2 and f"cannot write {target}: disk full" in err
    assert target.read_text() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["queue.txt"]


def test_output_to_a_directory_is_a_usage_error(ingested, capsys, tmp_path):
    code, _, err = ppq(ingested, capsys, "-o", str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_quiet_prints_and_writes_nothing(ingested, capsys, tmp_path):
    assert ppq(ingested, capsys, "-q") == (0, "", "")
    target = tmp_path / "q.html"
    assert ppq(ingested, capsys, "-q", "--html", "-o", str(target)) == (0, "", "")
    assert not target.exists()


def test_count_is_the_exit_status(made, capsys):
    assert reprocess_by_product.main(["-m", made.db_url, L1, "-s", "20250102",
                                      "-e", "20250104"]) == 0
    assert reprocess_by_product.main(["-m", made.db_url, L0A, "-s", "20250101",
                                      "-e", "20250101"]) == 0
    total = made.count("processqueue")
    assert total == 4
    code, out, _ = ppq(made, capsys, "-c")
    assert code == total and len(listed(out)) == total
    assert ppq(made, capsys, "-c", "-q") == (total, "", "")
    assert ppq(made, capsys, "-c", "-q", "-p", L1)[0] == 3
    assert ppq(made, capsys, "-c", "-q", "-p", L2)[0] == 0


def test_count_is_capped_at_255(ingested, capsys):
    engine = ingested.engine()
    (product_id,) = ingested.query("SELECT product_id FROM product WHERE product_name = :n",
                                   n=L0A)[0]
    start = datetime.datetime(2030, 1, 1)
    rows = [{"filename": f"hello_a_L0_{(start + datetime.timedelta(days=i)):%Y%m%d}_v1.0.0.txt",
             "utc_file_date": (start + datetime.timedelta(days=i)).date(),
             "utc_start_time": start + datetime.timedelta(days=i),
             "utc_stop_time": start + datetime.timedelta(days=i, hours=23),
             "data_level": 0.0, "interface_version": 1, "quality_version": 0,
             "revision_version": 0, "file_create_date": start, "exists_on_disk": True,
             "product_id": product_id} for i in range(300)]
    with engine.begin() as conn:
        ids = conn.execute(sa.insert(File.__table__).returning(File.file_id), rows).scalars()
        conn.execute(sa.insert(ProcessQueue.__table__),
                     [{"file_id": i, "version_bump": None} for i in ids])
    engine.dispose()
    assert ingested.count("processqueue") == 310
    assert ppq(ingested, capsys, "-c", "-q")[0] == 255
    assert ppq(ingested, capsys, "-c", "-q", "-p", L0B)[0] == 5


def test_exist_for_empty_and_non_empty_queue(ingested, capsys):
    assert ppq(ingested, capsys, "-e", "-q") == (0, "", "")
    code, out, _ = ppq(ingested, capsys, "-e")
    assert code == 0 and len(listed(out)) == 10
    assert ppq(ingested, capsys, "-e", "-q", "-p", L2)[0] == 1
    assert process(ingested, "-q") == 0
    assert ppq(ingested, capsys, "-e", "-q")[0] == 1


def test_empty_queue(made, capsys, tmp_path):
    code, out, _ = ppq(made, capsys)
    assert code == 0 and listed(out) == []
    assert ppq(made, capsys, "-c")[0] == 0
    assert ppq(made, capsys, "-e")[0] == 1
    _, page, _ = ppq(made, capsys, "--html")
    assert page.count("<tr>") == 1 and "<td>" not in page


def test_count_and_exist_are_exclusive(ingested, capsys):
    with pytest.raises(SystemExit) as exit_info:
        print_process_queue.main([ingested.db_url, "-c", "-e"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_listing_works_while_the_lock_is_held(ingested, capsys):
    insert_lock(ingested)
    code, out, _ = ppq(ingested, capsys, "-c")
    assert code == 10 and len(listed(out)) == 10


def test_missing_database_file(tmp_path, capsys):
    assert print_process_queue.main([str(tmp_path / "nope.sqlite")]) == 2
    assert "no database file" in capsys.readouterr().err


# -- flushProcessQueue --------------------------------------------------------------

def test_flush_removes_every_queue_entry(ingested, capsys):
    files_before = ingested.count("file")
    capsys.readouterr()
    assert flush_process_queue.main([ingested.db_url]) == 0
    assert "flushed 10 file(s) from the process queue" in capsys.readouterr().out
    assert ingested.count("processqueue") == 0
    assert ingested.count("file") == files_before  # only the queue entries go
    (comment, running), = ingested.query(
        "SELECT comment, currently_processing FROM logging ORDER BY logging_id DESC")[:1]
    assert not running and "flushProcessQueue removed 10" in comment
    assert ppq(ingested, capsys, "-e", "-q")[0] == 1
    assert flush_process_queue.main([ingested.db_url]) == 0
    assert "flushed 0 file(s)" in capsys.readouterr().out
    assert process(ingested, "-q") == 0 and ingested.count("file") == files_before


def test_flush_refused_while_the_lock_is_held(ingested, capsys):
    insert_lock(ingested)
    capsys.readouterr()
    assert flush_process_queue.main([ingested.db_url]) == 3
    err = capsys.readouterr().err
    assert f"pid {os.getpid()} on {socket.gethostname()}" in err
    assert ingested.count("processqueue") == 10


# -- purgeFileFromDB ----------------------------------------------------------------

def purge(m: MissionUnderTest, capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = purge_file_from_db.main(["-m", m.db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def file_ids(m: MissionUnderTest) -> dict[str, int]:
    return {r[0]: r[1] for r in m.query("SELECT filename, file_id FROM file")}


def references(m: MissionUnderTest, file_id: int) -> dict[str, int]:
    """How many rows refer to *file_id*, per table and column."""
    counts = {}
    for model, column, _action in FILE_REFERENCES:
        table = model.__tablename__
        counts[f"{table}.{column}"] = m.query(
            f'SELECT count(*) FROM "{table}" WHERE {column} = :f', f=file_id)[0][0]
    return counts


def on_disk(m: MissionUnderTest, name: str) -> Path:
    """Where the archive keeps *name* (not the example's data/ copy, not incoming)."""
    (path,) = [p for p in m.root.rglob(name)
               if p.relative_to(m.root).parts[0] not in ("incoming", "data")]
    return path


def descendants(m: MissionUnderTest, file_id: int) -> set[int]:
    links = m.query("SELECT source_file, resulting_file FROM filefilelink")
    found, frontier = set(), {file_id}
    while frontier:
        frontier = {r for s, r in links if s in frontier} - found
        found |= frontier
    return found


def test_every_reference_to_a_file_is_handled():
    """A new table with a file id must be added to purge's FILE_REFERENCES."""
    handled = {(model.__tablename__, column) for model, column, _ in FILE_REFERENCES}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            refers = any(fk.column.table.name == "file" for fk in column.foreign_keys)
            if table.name != "file" and (refers or column.name == "file_id"):
                assert (table.name, column.name) in handled, f"{table.name}.{column.name}"


def test_purge_one_file(made, capsys):
    name = "hello_L1_20250102_v1.0.0.txt"
    ids = file_ids(made)
    target = ids[name]
    child = ids["hello_L2_20250102_v1.0.0.txt"]
    # Give it a row in every table that can refer to it.
    assert reprocess_by_product.main(["-m", made.db_url, L1, "-s", "20250102",
                                      "-e", "20250103"]) == 0
    engine = made.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO logging_file (logging_id, file_id, code_id) "
                             "VALUES (1, :f, 1)"), {"f": target})
        conn.execute(sa.text("INSERT INTO ingest_pending (file_id, source_path, target_path) "
                             "VALUES (:f, '/in/x', '/out/x')"), {"f": target})
    engine.dispose()
    before = references(made, target)
    assert all(before[k] for k in ("unixtime.file_id", "filefilelink.source_file",
                                   "filefilelink.resulting_file", "filecodelink.resulting_file",
                                   "processqueue.file_id", "logging_file.file_id",
                                   "ingest_pending.file_id", "job_event.file_id"))
    job_events, jobs = made.count("job_event"), made.count("job")
    other_links = made.query("SELECT count(*) FROM filefilelink WHERE source_file <> :f "
                             "AND resulting_file <> :f", f=target)[0][0]
    path = on_disk(made, name)

    code, out, err = purge(made, capsys, "-v", name)
    assert code == 0, err
    assert f"removed {name} (file_id {target}, {L1} 2025-01-02 v1.0.0)" in out
    assert f"the file on disk is left alone at {path}" in out
    assert "unfinished ingest move was cancelled: the file stays at /in/x" in out
    assert "removed 1 file(s) from the database; files on disk are left alone" in out
    assert "note: 1 file(s) made from them remain" in out and "hello_L2_20250102" in out

    after = file_ids(made)
    assert name not in after and len(after) == len(ids) - 1
    assert {n: i for n, i in ids.items() if n != name} == after  # the others intact
    assert all(v == 0 for v in references(made, target).values())
    assert path.is_file()  # the file itself stays
    # The event log keeps its rows; only the purged file's id is cleared.
    assert made.count("job_event") == job_events and made.count("job") == jobs
    assert made.query("SELECT count(*) FROM job WHERE output_name = :n", n=name)[0][0] >= 1
    # Links among other files are untouched; the child only lost its link from it.
    assert made.query("SELECT count(*) FROM filefilelink", )[0][0] == other_links
    assert references(made, child)["filefilelink.resulting_file"] == 0
    assert made.query("SELECT count(*) FROM filecodelink WHERE resulting_file = :f",
                      f=child)[0][0] == 1
    assert made.query("SELECT count(*) FROM processqueue")[0][0] == 1  # 20250103 stays queued
    (comment,), = made.query("SELECT comment FROM logging ORDER BY logging_id DESC")[:1]
    assert comment == "Nominal Exit; purgeFileFromDB removed 1 file(s)"


def test_purge_by_file_id_and_by_path(made, capsys):
    ids = file_ids(made)
    first, second = "hello_L2_20250101_v1.0.0.txt", "hello_L2_20250103_v1.0.0.txt"
    code, out, _ = purge(made, capsys, str(ids[first]), f"/some/dir/{second}")
    assert code == 0 and "removed 2 file(s)" in out
    assert first not in file_ids(made) and second not in file_ids(made)
    assert on_disk(made, first).is_file()


def test_recursive_purge_removes_every_descendant(made, capsys):
    name = "hello_a_L0_20250102_v1.0.0.txt"
    ids = file_ids(made)
    gone = descendants(made, ids[name])
    names = {n for n, i in ids.items() if i in gone}
    assert {"hello_L1_20250102_v1.0.0.txt", "hello_L2_20250102_v1.0.0.txt"} <= names
    assert all(descendants(made, i) <= gone for i in gone)
    paths = [on_disk(made, n) for n in names | {name}]

    code, out, err = purge(made, capsys, "-r", "-v", name)
    assert code == 0, err
    assert f"removed {len(gone) + 1} file(s)" in out
    assert "note:" not in out  # nothing made from them is left
    for n in names:
        assert f"removed {n} " in out and "made from" in out
    after = file_ids(made)
    assert set(after) == set(ids) - names - {name}
    assert "hello_a_L0_20250101_v1.0.0.txt" in after and "hello_b_L0_20250102_v1.0.0.txt" in after
    for i in gone | {ids[name]}:
        assert all(v == 0 for v in references(made, i).values())
    links = made.query("SELECT source_file, resulting_file FROM filefilelink")
    assert links and all(after_id in after.values() for link in links for after_id in link)
    assert all(p.is_file() for p in paths)


def test_released_file_is_refused_and_nothing_changes(made, capsys):
    assert release.main(["-m", made.db_url, "tag", "1", "-p", L2]) == 0
    before = every_row(made)
    released = "hello_L2_20250102_v1.0.0.txt"
    code, out, err = purge(made, capsys, released)
    assert code == 1 and out == ""
    assert f"{released} is in release 1" in err and "nothing removed" in err
    assert every_row(made) == before
    # A descendant in a release refuses the recursive purge of its ancestor.
    code, _, err = purge(made, capsys, "-r", "hello_a_L0_20250102_v1.0.0.txt")
    assert code == 1
    assert f"{released} is in release 1 (made from hello_L1_20250102_v1.0.0.txt" in err
    assert every_row(made) == before
    # Without -r the ancestor itself is not released: it goes.
    assert purge(made, capsys, "hello_a_L0_20250102_v1.0.0.txt")[0] == 0


@pytest.mark.parametrize("argv", [
    ["nosuch.txt"],
    ["hello_L1_20250102_v1.0.0.txt", "nosuch.txt"],            # a good and a bad name
    ["-r", "hello_a_L0_20250101_v1.0.0.txt", "999999"],        # an id no file has
    ["99999999999999999999"],
])
def test_unknown_name_changes_nothing(made, capsys, argv):
    before = every_row(made)
    code, out, err = purge(made, capsys, *argv)
    assert code == 1 and out == ""
    assert f"no file {argv[-1]!r} in the database" in err and "nothing removed" in err
    assert every_row(made) == before


def test_purge_refused_while_the_lock_is_held(made, capsys):
    insert_lock(made)
    before = every_row(made)
    code, _, err = purge(made, capsys, "hello_L2_20250102_v1.0.0.txt")
    assert code == 3 and "holds the processing lock" in err
    assert every_row(made) == before


def test_purged_file_can_be_ingested_again(made, capsys):
    """After a purge the names are free. The files stay on disk, in the way of a
    remake of the same names: -v prints where they are, for the operator to remove."""
    name = "hello_b_L0_20250105_v1.0.0.txt"
    content = on_disk(made, name).read_bytes()
    code, out, _ = purge(made, capsys, "-r", "-v", name)
    assert code == 0
    left = [Path(line.split(" left alone at ", 1)[1]) for line in out.splitlines()
            if " left alone at " in line]
    assert len(left) >= 2 and all(p.is_file() for p in left)
    for path in left:
        path.unlink()
    made.add_incoming(name, content)
    assert process_queue.main(["-i", "-m", made.db_url, "-q"]) == 0
    assert name in file_ids(made)
    assert process(made, "-q") == 0
    assert all(p.is_file() for p in left)  # made again

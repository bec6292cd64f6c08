"""The store's file, seen from another process: held by the running server alone, an ordinary SQLite database after.

Spout opens its database through SQLite's `unix-excl` file layer, which locks the file once for the whole process, so
that commits make no lock calls of their own. These tests pin what a user meets because of that: while the server
runs, another program (here Python's own sqlite3 module) is refused with "database is locked" and no `-shm` file is
made; once the server has stopped, the file opens anywhere and holds every acknowledged message.
"""

import pathlib
import sqlite3
import tempfile

from conftest import Server, call


def test_the_running_servers_file_is_its_own_and_an_ordinary_database_once_it_stops():
    data = pathlib.Path(tempfile.mkdtemp(prefix="spout-e2e-store-"))
    server = Server("--data-dir", str(data))
    try:
        assert call(server, "POST", "/topics", {"name": "kept"})[0] == 201
        assert call(server, "POST", "/topics/kept/messages", text="one line")[0] == 201
        database = data / "spout.db"
        assert database.exists() and (data / "spout.db-wal").exists()
        assert not (data / "spout.db-shm").exists()
        other = sqlite3.connect(database, timeout=0.2)
        try:
            try:
                other.execute("SELECT count(*) FROM messages").fetchone()
                raise AssertionError("another process read the database while the server held it")
            except sqlite3.OperationalError as error:
                assert "locked" in str(error)
        finally:
            other.close()
        # The server still commits after the refused reader.
        assert call(server, "POST", "/topics/kept/messages", text="two lines")[0] == 201
    finally:
        server.stop()
    after = sqlite3.connect(database)
    try:
        rows = after.execute("SELECT topic, data FROM messages ORDER BY seq").fetchall()
    finally:
        after.close()
    assert rows == [("kept", "one line"), ("kept", "two lines")], rows

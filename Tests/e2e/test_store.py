"""The store's file, seen from another process: held by the running server alone, an ordinary SQLite database after.

Spout opens its database through SQLite's `unix-excl` file layer, which locks the file once for the whole process, so
that commits make no lock calls of their own. These tests pin what a user meets because of that: while the server
runs, another program (here Python's own sqlite3 module) is refused with "database is locked" and no `-shm` file is
made; once the server has stopped, the file opens anywhere and holds every acknowledged message.
"""

import http.client
import json
import pathlib
import sqlite3
import tempfile
import threading
import time

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


def sequence(event_id):
    return int(event_id.rsplit("-", 1)[1])


def test_a_publish_that_loses_the_race_with_its_topics_deletion_is_refused_not_acknowledged():
    # A publish committed after its topic's deletion got 201 with an id, but no stream of the topic ever carried it
    # (theirs had ended, `deleted`, at a lower lastId), and the next start dropped it: acknowledged, then lost.
    server = Server()
    try:
        for round in range(8):
            name = f"race{round}"
            assert call(server, "POST", "/topics", {"name": name})[0] == 201
            stream = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
            stream.request("GET", f"/topics/{name}/events")
            events = stream.getresponse()
            acknowledged, stop = [], threading.Event()

            def publish():
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
                while not stop.is_set():
                    connection.request("POST", f"/topics/{name}/messages", body="x", headers={"Content-Type": "text/plain"})
                    answer = connection.getresponse()
                    body = answer.read()
                    if answer.status == 201:
                        acknowledged.append(json.loads(body)["id"])
                    else:
                        assert answer.status == 404, (answer.status, body)
                        return

            publishers = [threading.Thread(target=publish) for _ in range(6)]
            for publisher in publishers:
                publisher.start()
            time.sleep(0.2)
            assert call(server, "DELETE", f"/topics/{name}")[0] == 204
            stop.set()
            for publisher in publishers:
                publisher.join()
            text = events.read().decode()
            stream.close()
            delivered = [line[4:] for line in text.split("\n") if line.startswith("id: ")]
            end = json.loads(text.split("event: end\n", 1)[1].split("data: ", 1)[1].split("\n", 1)[0])
            assert end["reason"] == "deleted"
            late = [i for i in acknowledged if sequence(i) > sequence(end["lastId"])]
            assert not late, f"round {round}: acknowledged after the stream's end at {end['lastId']}: {late}"
            assert set(acknowledged) <= set(delivered)
    finally:
        server.stop()


def test_of_deletes_of_one_topic_or_tail_sent_at_once_one_is_told_204():
    # Each saw it before the first was kept, and 2 to 16 of 20 were told 204; creates at once give one 201.
    server = Server()
    try:
        (server.root / "app.log").write_text("one\n")
        for round in range(3):
            assert call(server, "POST", "/topics", {"name": f"gone{round}"})[0] == 201
            assert call(server, "POST", "/tails", {"path": str(server.root / "app.log"), "name": f"t{round}"})[0] == 201
            for target in (f"/topics/gone{round}", f"/tails/t{round}"):
                statuses, start = [], threading.Barrier(20)

                def delete():
                    start.wait()
                    statuses.append(call(server, "DELETE", target)[0])

                deleters = [threading.Thread(target=delete) for _ in range(20)]
                for deleter in deleters:
                    deleter.start()
                for deleter in deleters:
                    deleter.join()
                assert sorted(statuses) == [204] + [404] * 19, (target, statuses)
    finally:
        server.stop()

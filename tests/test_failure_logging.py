"""Failures are logged by type and place, never by message: an exception raised while serving an
object may quote a value from it, and the request may be an anonymized one."""

from __future__ import annotations

import io
import logging

import pydicom
import pytest

from support.rad69 import Doc, parse_response, request_xml
from wadows.app import ResponseAborted
from wadows.wiring import create_app
from wadows.config import load_config
from wadows.store.filestore import FileStore

PLANTED = "DOE^JANE QZSECRET 1.2.999.31415.7"


class Poisoned:
    """The sample store, with one way to fail chosen by the test."""

    def __init__(self, store: FileStore, fail: str) -> None:
        self.store, self.fail = store, fail

    def lookup(self, uid):
        return self.store.lookup(uid)

    def check(self, instance):
        self.store.check(instance)

    def header(self, instance):
        ds = self.store.header(instance)
        if self.fail == "header":
            del ds.SOPInstanceUID  # the engine refuses such an object
        return ds

    def open(self, instance):
        data = self.store.open(instance).read()
        if self.fail != "stream":
            return io.BytesIO(data)

        class Breaking(io.BytesIO):
            def read(self, n=-1):
                if self.tell() > 200:
                    raise ValueError(f"cannot read {PLANTED}")
                return super().read(n)

        return Breaking(data)

    def health(self):
        return {"ok": True}


def _call(app, body: bytes):
    out = {}

    def start_response(status, headers, exc_info=None):
        out["status"], out["headers"] = status, dict(headers)

    chunks = []
    try:
        for chunk in app({"REQUEST_METHOD": "POST", "PATH_INFO": "/wado-ws", "CONTENT_TYPE": "application/soap+xml",
                          "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}, start_response):
            chunks.append(chunk)
    except ResponseAborted as exc:
        out["aborted"] = True
        # What reaches the server carries nothing of the original: no message, no chained context.
        assert exc.__cause__ is None and exc.__suppress_context__ and "QZSECRET" not in str(exc)
    return out, b"".join(chunks)


@pytest.fixture
def app_for(sample_store, tmp_path):
    def make(fail: str):
        config = load_config(None, store__path=str(sample_store), store__index=str(tmp_path / "i.sqlite"),
                             auth__anonymous="identified")
        return create_app(config, Poisoned(FileStore(sample_store, tmp_path / "i.sqlite"), fail)), config
    return make


def _request(sample_instances, config, anonymize="yes"):
    inst = next(i for i in sample_instances if "PixelData" in pydicom.dcmread(i.path, stop_before_pixels=False))
    return request_xml([Doc(inst.study, inst.series, inst.sop, config.source.repository_unique_id, anonymize)],
                       [inst.transfer_syntax])


@pytest.mark.parametrize("how", ["refused", "engine-error"])
def test_a_header_the_engine_cannot_handle_is_0001_and_logged_without_values(app_for, sample_instances, caplog,
                                                                              monkeypatch, how):
    app, config = app_for("header" if how == "refused" else "none")
    if how == "engine-error":
        def broken(self, header):
            raise ValueError(f"unexpected value {PLANTED}")

        monkeypatch.setattr("wadows.deid.engine.Deidentifier.decide", broken)
    with caplog.at_level(logging.DEBUG):
        out, body = _call(app, _request(sample_instances, config))
    resp = parse_response(out["headers"]["Content-Type"], body)
    assert out["status"].startswith("200") and [e["errorCode"] for e in resp.errors] == ["urn:dicom:wado:0001"]
    assert PLANTED.encode() not in body and "QZSECRET" not in caplog.text and "DOE" not in caplog.text
    if how == "engine-error":
        assert "ValueError" in caplog.text


def test_a_failure_mid_stream_is_logged_by_type_and_place_only(app_for, sample_instances, caplog):
    for anonymize in ("yes", None):
        app, config = app_for("stream")
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            out, _ = _call(app, _request(sample_instances, config, anonymize))
        assert out.get("aborted"), "the connection must be cut, not the response completed"
        assert "ValueError" in caplog.text and "response aborted" in caplog.text
        assert "QZSECRET" not in caplog.text and "DOE" not in caplog.text and "31415" not in caplog.text


def test_served_the_server_logs_a_mid_stream_failure_without_its_message(app_for, sample_instances, caplog):
    """Through waitress, which logs any exception escaping the response with its traceback: the cut is
    ours (ResponseAborted), so the log has our one line naming the cause, no traceback, and no value
    from the object."""
    import threading

    import requests

    from conftest import ServerThread, free_port
    from wadows.server import make_server

    app, config = app_for("stream")
    config = load_config(None, server__port=free_port(), store__path=config.store.path,
                         store__index=config.store.index, auth__anonymous="identified")
    server = ServerThread(make_server(config, app))
    try:
        for anonymize in ("yes", None):
            caplog.clear()
            with caplog.at_level(logging.DEBUG):
                with pytest.raises(requests.exceptions.RequestException):  # cut short: never a whole response
                    r = requests.post(f"http://127.0.0.1:{config.server.port}/wado-ws",
                                      data=_request(sample_instances, config, anonymize),
                                      headers={"Content-Type": "application/soap+xml"}, timeout=30)
                    r.raise_for_status()
                    parse_response(r.headers["Content-Type"], r.content)
                for _ in range(200):  # the task has ended once its connection is closed
                    if not server.server.active_channels:
                        break
                    threading.Event().wait(0.05)
            assert "response aborted" in caplog.text
            assert "Exception while serving" not in caplog.text and "Traceback" not in caplog.text
            assert "QZSECRET" not in caplog.text and "DOE" not in caplog.text and "31415" not in caplog.text
    finally:
        server.close()

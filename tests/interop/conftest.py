"""One wadows for all the interop clients, behind a recording relay whose URL is the server's public URL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from lxml import etree

from conftest import RunningServer, run_server
from interop.harness import Asks, Outcome, Plan, check_anonymized, check_retrieved, digest, plan_for, run_client
from interop.plans import check_docinfo, check_rendered, docinfo_plan, rendered_plan
from interop.wire import WireFacts, WireRecorder, facts

XSD = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
PLACEHOLDER = b"http://wadows.invalid"


@dataclass
class Interop:
    server: RunningServer
    recorder: WireRecorder
    plan: Plan
    documents: dict[str, bytes]  # every URL of the WSDL closure as served -> its bytes

    @property
    def endpoint(self) -> str:
        return self.recorder.base + "/wado-ws"

    @property
    def wsdl_url(self) -> str:
        return self.endpoint + "?wsdl"

    def exercise(self, command: list[str], outdir: Path, *, anonymize: bool, wsdl: str | None = None,
                 **kw) -> WireFacts:
        """Run one client on the RAD-69 plan, judge what it wrote and reported, and say what it put on the wire."""
        outcome, wire = self.ask(command, self.plan, outdir, anonymize=anonymize, wsdl=wsdl, **kw)
        (check_anonymized if anonymize else check_retrieved)(outcome, self.plan)
        return wire

    def rendered(self, command: list[str], outdir: Path, *, anonymize: bool, wsdl: str | None = None,
                 status_bound: bool = True) -> WireFacts:
        """Run one client on the rendered plan (plans.py), judge what it reported and wrote, return the wire."""
        plan = rendered_plan(self.plan)
        outcome, wire = self.ask(command, plan, outdir, anonymize=anonymize, wsdl=wsdl)
        check_rendered(outcome, plan, anonymize=anonymize, status_bound=status_bound)
        return wire

    def docinfo(self, command: list[str], outdir: Path, *, anonymize: bool) -> WireFacts:
        """Run one client on the RetrieveImagingDocumentSetInformation plan (plans.py), judged likewise."""
        plan = docinfo_plan(self.plan)
        outcome, wire = self.ask(command, plan, outdir, anonymize=anonymize)
        check_docinfo(outcome, plan, anonymize=anonymize)
        return wire

    def ask(self, command: list[str], plan: Asks, outdir: Path, *, anonymize: bool, wsdl: str | None = None,
            **kw) -> tuple[Outcome, WireFacts]:
        """Run one client on any plan: what it reported, and what it put on the wire."""
        self.recorder.take()
        outcome = run_client(command, plan, wsdl or self.wsdl_url, self.endpoint, outdir, anonymize=anonymize, **kw)
        return outcome, facts(self.recorder.take())

    @property
    def wsdl_key(self) -> str:
        """The served WSDL and schemas without the relay's port (it changes every run), as a cache key."""
        base = self.recorder.base.encode()
        return digest(*((url.encode() + b"\0" + body).replace(base, PLACEHOLDER)
                        for url, body in sorted(self.documents.items())))


def wsdl_closure(wsdl_url: str) -> dict[str, bytes]:
    """The WSDL and every schema reachable from it through xsd:import/include and wsdl:import, fetched over
    HTTP from the locations as written (relative ones resolved against the importing document's URL,
    as every toolkit does). A location that does not answer 200 with XML fails here."""
    found: dict[str, bytes] = {}
    todo = [wsdl_url]
    while todo:
        url = todo.pop()
        if url in found:
            continue
        r = requests.get(url, timeout=10)
        assert r.status_code == 200, f"{url}: HTTP {r.status_code}"
        found[url] = r.content
        root = etree.fromstring(r.content)
        for el in root.iter(f"{{{XSD}}}import", f"{{{XSD}}}include", f"{{{XSD}}}redefine", f"{{{WSDL_NS}}}import"):
            loc = el.get("schemaLocation") or el.get("location")
            if loc:
                todo.append(urljoin(url, loc))
    return found


@pytest.fixture(scope="session")
def interop(sample_store, sample_instances, tmp_path_factory):
    recorder = WireRecorder()
    # Anonymous callers get identified data: the clients here test the wire, not the access policy.
    running, srv = run_server(sample_store, tmp_path_factory.mktemp("interop-server"),
                              server__public_url=recorder.base + "/wado-ws", auth__anonymous="identified")
    recorder.upstream = ("127.0.0.1", int(running.base.rsplit(":", 1)[1]))
    try:
        plan = plan_for(sample_instances, running.repository)
        yield Interop(running, recorder, plan, wsdl_closure(recorder.base + "/wado-ws?wsdl"))
    finally:
        srv.close()
        recorder.close()

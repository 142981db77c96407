"""data/audit: the committed RELAX NG schema is what tools/gen_audit_schema.py makes from the
standard's text, and a second validator (jing) agrees with lxml on our messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support import needs
from wadows.audit import messages as m

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "service" / "wadows" / "data" / "audit"

pytestmark = pytest.mark.tools


def test_committed_rng_is_generated_from_the_published_rnc():
    needs.need_tool("trang", "trang")
    done = subprocess.run([sys.executable, str(REPO / "tools" / "gen_audit_schema.py"), "--check"])
    assert done.returncode == 0, "run tools/gen_audit_schema.py"


def test_source_is_recorded():
    text = (DATA / "SOURCE.md").read_text()
    assert "A.5.1.1" in text and "2c591286f447224ab83b067e3f505449d4ec2184" in text
    assert (DATA / "audit-message.rnc").read_text().startswith('datatypes xsd = "http://www.w3.org/2001/XMLSchema-datatypes"')


def test_jing_agrees(tmp_path):
    jing = needs.need_tool("jing", "jing")
    src = m.Source("s", user_id="http://h/wado-ws", process_id="1")
    study = m.group_by_study([m.TransferredInstance("1.2.3", "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", "P", "N",
                                                    "2.25.1", "2.25.2")])[0]
    good = tmp_path / "good.xml"
    good.write_bytes(m.instances_transferred(src, m.Peer("u", "127.0.0.1"), study))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b'UserIsRequestor="true"', b'UserIsRequestor="yes"'))
    rng = str(DATA / "audit-message.rng")
    assert subprocess.run([jing, rng, str(good)], capture_output=True).returncode == 0
    assert subprocess.run([jing, rng, str(bad)], capture_output=True).returncode != 0

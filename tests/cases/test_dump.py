"""A copy of the database without the keys reveals no person: no marker string survives in a SQLite
file or a pg_dump, and neither does the personnummer."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from access.models import Membership
from cases.models import Case
from tests.cases.marker_data import MARKER, PERSONNUMMER, create_marked_cases, write_marked_import_file

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from access.models import Agency, Membership, User
from django.core.management import call_command
from tests.cases.marker_data import create_marked_cases, write_marked_import_file
agency = Agency.objects.create(code="dump", name="Dump", kind="socialtjanst_vuxen")
user = User.objects.create(username="dumper")
create_marked_cases(Membership.objects.create(user=user, agency=agency, role="handlaggare"))
write_marked_import_file(IMPORT_FILE)
call_command("import_cases", str(IMPORT_FILE), agency="dump", user="dumper")
print("created")
"""


def forbidden(content: bytes) -> list[str]:
    needles = (MARKER, PERSONNUMMER, "811218-9876", "Öberg", "199001011239", "19900101-1239", "900101-1239")
    found = [needle for needle in needles if needle.encode() in content]
    found += [needle for needle in ("Öberg",) if needle.encode("latin-1") in content]
    return found


def test_a_sqlite_database_file_holds_no_marker(tmp_path: Path) -> None:
    database = tmp_path / "dump.sqlite3"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DATABASE_URL")}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        SKYDDSNAT_KEYSTORE_URL=f"sqlite:///{tmp_path / 'dump-keys.sqlite3'}",
        DJANGO_SETTINGS_MODULE="coordination.settings_test",
    )
    for alias in ("default", "keys"):
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0", "--database", alias],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
    import_file = tmp_path / "import.json"
    script = f"from pathlib import Path\nIMPORT_FILE = Path({str(import_file)!r})\n" + SCRIPT
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout
    assert MARKER.encode() in import_file.read_bytes(), "the import file should carry the markers"
    files = [path for path in tmp_path.iterdir() if path.name.startswith("dump.sqlite3")]
    content = b"".join(path.read_bytes() for path in files)
    assert b"VR-" in content, "the case rows should be in the file"
    assert forbidden(content) == [], f"plaintext found in the database file: {forbidden(content)}"


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_a_pg_dump_holds_no_marker(handlaggare_membership: Membership, tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL suite (make test-postgres)")
    create_marked_cases(handlaggare_membership)
    import_file = tmp_path / "import.json"
    write_marked_import_file(import_file)
    membership = handlaggare_membership
    call_command(
        "import_cases",
        str(import_file),
        agency=membership.agency.code,
        user=membership.user.username,
        stdout=StringIO(),
    )
    assert Case.objects.count() > 3
    settings = connection.settings_dict
    result = subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            settings["HOST"] or "127.0.0.1",
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"] or "postgres",
            settings["NAME"],
        ],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"VR-" in result.stdout
    assert forbidden(result.stdout) == [], f"plaintext found in pg_dump: {forbidden(result.stdout)}"

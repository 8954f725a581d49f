"""The `syndicate` command as a user runs it: real subprocesses, real files."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path

import pytest

from tests.support import MINIMAL_CONFIG, run_cli, running_server, write_config


def dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def article(slug: str, **fields: object) -> str:
    record: dict[str, object] = {
        "slug": slug,
        "title": f"Headline {slug}",
        "standfirst": "What happened",
        "body": "<p>First.</p><p>Second <a href='/x'>link</a>.</p>",
        "section": "news",
        "issue": {"number": 2094, "date": "2026-03-04", "pdf_url": "https://e.test/2094.pdf"},
        "published": "2026-03-04T10:00:00+01:00",
        "authors": [{"slug": "simon-assaf", "name": "Simon Assaf"}, "Salma Haddad"],
        "tags": ["Strikes", "Gaza"],
        "image": {"url": "/img/a.jpg", "caption": "A march", "alt": "Marchers"},
    }
    record.update(fields)
    return json.dumps(record, ensure_ascii=False)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def test_import_stores_articles_and_second_import_changes_nothing(site: Path, tmp_path: Path):
    data = tmp_path / "articles.jsonl"
    data.write_text("\n".join(article(f"a-{i}") for i in range(5)) + "\n", encoding="utf-8")
    first = run_cli("--config", str(site), "import", str(data))
    assert first.returncode == 0, first.stderr
    assert "5 created, 0 updated, 0 unchanged, 0 bad" in first.stdout
    before = dump(tmp_path / "store.db")
    second = run_cli("--config", str(site), "import", str(data))
    assert second.returncode == 0, second.stderr
    assert "0 created, 0 updated, 5 unchanged" in second.stdout
    assert dump(tmp_path / "store.db") == before


def test_import_reports_bad_lines_by_number_and_stores_the_good_ones(site: Path, tmp_path: Path):
    data = tmp_path / "mixed.jsonl"
    lines = [
        article("good-1"),
        "{not json",
        article("bad-section", section="sport"),
        "",
        article("good-2"),
        json.dumps({"slug": "no-title", "published": "2026-01-01T00:00:00Z"}),
        article("bad-date", published="yesterday"),
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("--config", str(site), "import", str(data))
    assert result.returncode == 1
    assert "line 2: not valid JSON" in result.stderr
    assert "line 3: section: unknown section 'sport'" in result.stderr
    assert "line 6: title: is required" in result.stderr
    assert "line 7: published: not an RFC 3339 date-time" in result.stderr
    assert "Traceback" not in result.stderr
    assert "2 created" in result.stdout
    conn = sqlite3.connect(tmp_path / "store.db")
    slugs = {row[0] for row in conn.execute("SELECT slug FROM articles")}
    assert slugs == {"good-1", "good-2"}


def test_import_reports_hostile_json_lines_and_keeps_the_good_ones(site: Path, tmp_path: Path):
    """Lines Python's JSON parser raises on with more than JSONDecodeError."""
    data = tmp_path / "hostile.jsonl"
    lines = [
        article("good-1"),
        "[" * 100_000 + "]" * 100_000,  # nested too deeply: RecursionError
        '{"slug": "huge", "issue": ' + "9" * 5000 + "}",  # over int's 4,300-digit limit
        '{"slug": "nan", "issue": NaN}',
        article("good-2"),
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("--config", str(site), "import", str(data))
    assert result.returncode == 1
    assert "line 2: not valid JSON: nested too deeply" in result.stderr
    assert "line 3: not valid JSON: Exceeds the limit (4300 digits)" in result.stderr
    assert "line 4: not valid JSON: NaN is not JSON" in result.stderr
    assert "Traceback" not in result.stderr
    assert "2 created" in result.stdout
    conn = sqlite3.connect(tmp_path / "store.db")
    slugs = {row[0] for row in conn.execute("SELECT slug FROM articles")}
    assert slugs == {"good-1", "good-2"}


def test_failed_import_loses_nothing_already_stored(site: Path, tmp_path: Path):
    good = tmp_path / "good.jsonl"
    good.write_text(article("kept", title="Original headline") + "\n", encoding="utf-8")
    assert run_cli("--config", str(site), "import", str(good)).returncode == 0
    before = dump(tmp_path / "store.db")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(article("kept", title="") + "\n" + "[1, 2]\n", encoding="utf-8")
    result = run_cli("--config", str(site), "import", str(bad))
    assert result.returncode == 1
    assert "line 1: title: must not be empty (slug 'kept')" in result.stderr
    assert "line 2: record: must be a JSON object" in result.stderr
    assert dump(tmp_path / "store.db") == before


def test_a_long_import_is_stored_in_batches_and_counted_over_all_of_them(
    site: Path, tmp_path: Path
):
    from syndicate.store.core import BATCH_RECORDS

    total = 2 * BATCH_RECORDS + 500  # at least three transactions
    data = tmp_path / "many.jsonl"
    lines = [article(f"a-{i}") for i in range(total)] + ["{not json"]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = run_cli("--config", str(site), "import", str(data))
    assert first.returncode == 1  # the bad last line
    assert f"line {total + 1}: not valid JSON" in first.stderr
    assert f"{total} created, 0 updated, 0 unchanged, 1 bad line(s)" in first.stdout
    conn = sqlite3.connect(tmp_path / "store.db")
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone() == (total,)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    again = run_cli("--config", str(site), "import", str(data))
    assert f"0 created, 0 updated, {total} unchanged, 1 bad line(s)" in again.stdout


def test_import_dry_run_stores_nothing(site: Path, tmp_path: Path):
    data = tmp_path / "a.jsonl"
    data.write_text(article("x") + "\n", encoding="utf-8")
    result = run_cli("--config", str(site), "import", "--dry-run", str(data))
    assert result.returncode == 0
    assert "1 valid, 0 bad (dry run" in result.stdout
    assert not (tmp_path / "store.db").exists()


def test_import_reads_stdin(site: Path, tmp_path: Path):
    result = run_cli("--config", str(site), "import", "-", stdin=article("from-stdin") + "\n")
    assert result.returncode == 0, result.stderr
    assert "1 created" in result.stdout


def test_config_comes_from_env_then_cwd(tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = write_config(elsewhere)
    (tmp_path / "config.toml").write_text("[site]\ntitle = 1\n", encoding="utf-8")
    from_env = run_cli("check", cwd=tmp_path, env={"SYNDICATE_CONFIG": str(config)})
    assert "store.db does not exist" in from_env.stderr
    from_cwd = run_cli("check", cwd=tmp_path, env={"SYNDICATE_CONFIG": ""})
    assert "site.title: must be a string, got an integer" in from_cwd.stderr
    explicit = run_cli("--config", str(config), "check", cwd=tmp_path)
    assert "store.db does not exist" in explicit.stderr


def test_check_lists_every_config_problem_without_traceback(tmp_path: Path):
    broken = MINIMAL_CONFIG.replace('title = "News"', "title = 3").replace(
        "[store]", '[server]\nport = 99999\n[store]\ncolour = "red"'
    )
    config = write_config(tmp_path, broken)
    result = run_cli("--config", str(config), "check")
    assert result.returncode == 1
    assert "sections[0].title: must be a string, got an integer" in result.stderr
    assert "server.port: must be at most 65535, got 99999" in result.stderr
    assert "store.colour: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_reports_a_broken_config_cleanly(tmp_path: Path):
    config = write_config(tmp_path, "[site\n")
    for command in (["check"], ["import", "-"], ["demo"], ["serve"]):
        result = run_cli("--config", str(config), *command, stdin="")
        assert result.returncode == 1, command
        assert "not valid TOML" in result.stderr, command
        assert "Traceback" not in result.stderr, command


def test_check_passes_on_a_healthy_store_and_flags_unknown_sections(site: Path, tmp_path: Path):
    data = tmp_path / "a.jsonl"
    data.write_text(article("one") + "\n", encoding="utf-8")
    run_cli("--config", str(site), "import", str(data))
    ok = run_cli("--config", str(site), "check")
    assert ok.returncode == 0, ok.stderr
    assert "holds 1 articles" in ok.stdout
    site.write_text(MINIMAL_CONFIG.replace('slug = "news"', 'slug = "reports"'), encoding="utf-8")
    flagged = run_cli("--config", str(site), "check")
    assert flagged.returncode == 1
    assert "1 article(s) in section 'news', which config.toml does not define" in flagged.stderr


@pytest.mark.parametrize(
    ("base_url", "warned"),
    [
        ("https://example.org", True),
        ("http://203.0.113.7", False),  # documentation range: not global
        ("http://8.8.8.8", True),
        ("http://127.0.0.1:8080", False),
        ("http://localhost:8080", False),
        ("http://news.internal", False),
    ],
)
def test_check_warns_when_private_fetching_meets_a_public_site(
    site: Path, tmp_path: Path, base_url: str, warned: bool
):
    site.write_text(
        MINIMAL_CONFIG.replace("http://127.0.0.1:8080", base_url)
        + "\n[fetcher]\nallow_private_addresses = true\n",
        encoding="utf-8",
    )
    data = tmp_path / "a.jsonl"
    data.write_text(article("one") + "\n", encoding="utf-8")
    run_cli("--config", str(site), "import", str(data))
    result = run_cli("--config", str(site), "check")
    assert result.returncode == 0, result.stderr
    assert ("warning: fetcher.allow_private_addresses is true" in result.stderr) is warned
    site.write_text(MINIMAL_CONFIG.replace("http://127.0.0.1:8080", base_url), encoding="utf-8")
    assert "warning" not in run_cli("--config", str(site), "check").stderr


def test_check_refuses_a_store_from_a_newer_syndicate(site: Path, tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "store.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    result = run_cli("--config", str(site), "check")
    assert result.returncode == 1
    assert "schema version 999" in result.stderr


def test_demo_refuses_to_overwrite_and_if_empty_keeps(site: Path, tmp_path: Path):
    made = run_cli("--config", str(site), "demo", "--articles", "200")
    assert made.returncode == 0, made.stderr
    before = dump(tmp_path / "store.db")
    refused = run_cli("--config", str(site), "demo", "--articles", "200")
    assert refused.returncode == 1
    assert "--replace" in refused.stderr
    kept = run_cli("--config", str(site), "demo", "--if-empty")
    assert kept.returncode == 0
    assert "keeping it" in kept.stdout
    assert dump(tmp_path / "store.db") == before


def test_serve_answers_healthz(site: Path, tmp_path: Path):
    run_cli("--config", str(site), "demo", "--articles", "50")
    with running_server(site) as root, urllib.request.urlopen(root + "/healthz") as response:
        body = json.loads(response.read())
        assert response.status == 200
        assert body["status"] == "ok"


def test_serve_refuses_a_missing_store(site: Path):
    result = run_cli("--config", str(site), "serve", "--port", "0", timeout=30)
    assert result.returncode == 1
    assert "no store here" in result.stderr


def test_serve_get_runs_one_request(site: Path):
    run_cli("--config", str(site), "demo", "--articles", "50")
    result = run_cli("--config", str(site), "serve", "--get", "/healthz")
    assert result.returncode == 0, result.stderr
    assert "HTTP/1.1 200 OK" in result.stderr
    assert json.loads(result.stdout)["status"] == "ok"

"""parse_record: one JSON record in, an ArticleIn or every bad field at once out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.models import ArticleIn, Author, Image, PrintIssue, Tag
from syndicate.records import (
    FIELDS,
    MAX_AUTHORS,
    MAX_TAGS,
    MAX_TITLE,
    UPDATED_FUTURE_SLACK,
    RecordError,
    parse_record,
)

SECTIONS = {"news", "comment"}


def full_record() -> dict[str, Any]:
    return {
        "slug": "strike-wave",
        "title": "  Strike   wave\nspreads ",
        "standfirst": "Workers walk out\n\nacross the country",
        "body": "<p>First.</p>\n<p>Second <a href='/x'>link</a>.</p>",
        "section": "news",
        "issue": {"number": 2094, "date": "2026-03-04", "pdf_url": "https://e.test/2094.pdf"},
        "published": "2026-03-04T10:00:00+01:00",
        "updated": "2026-03-05T08:30:00Z",
        "authors": [
            {
                "slug": "simon-assaf",
                "name": "Simon Assaf",
                "bio": "Reporter",
                "email": "simon@e.test",
                "url": "https://e.test/simon",
            },
            "Salma Haddad",
        ],
        "tags": ["Strikes", "Gaza"],
        "image": {"url": "/img/a.jpg", "caption": "A march", "alt": "Marchers"},
        "status": "published",
    }


def minimal_record(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "slug": "a",
        "title": "A",
        "published": "2026-03-04T10:00:00Z",
    }
    record.update(fields)
    return record


def errors_of(record: Any, sections: Any = None) -> dict[str, str]:
    with pytest.raises(RecordError) as caught:
        parse_record(record, sections)
    assert caught.value.errors
    return caught.value.errors


def only_error(record: Any, field: str, sections: Any = None) -> str:
    errors = errors_of(record, sections)
    assert set(errors) == {field}, errors
    return errors[field]


# -- valid records -----------------------------------------------------------------------


def test_full_record():
    article = parse_record(full_record(), SECTIONS)
    assert article == ArticleIn(
        slug="strike-wave",
        title="Strike wave spreads",
        standfirst="Workers walk out\n\nacross the country",
        body="<p>First.</p>\n<p>Second <a href='/x'>link</a>.</p>",
        section="news",
        issue=PrintIssue(2094, date(2026, 3, 4), "https://e.test/2094.pdf"),
        published=datetime(2026, 3, 4, 9, 0, tzinfo=UTC),
        updated=datetime(2026, 3, 5, 8, 30, tzinfo=UTC),
        authors=(
            Author(
                "simon-assaf", "Simon Assaf", "Reporter", "simon@e.test", "https://e.test/simon"
            ),
            Author("salma-haddad", "Salma Haddad"),
        ),
        tags=(Tag("strikes", "Strikes"), Tag("gaza", "Gaza")),
        image=Image("/img/a.jpg", "A march", "Marchers"),
        status="published",
    )


def test_full_record_from_json_text():
    record = json.loads(json.dumps(full_record()))
    assert parse_record(record, SECTIONS) == parse_record(full_record(), SECTIONS)


def test_minimal_record_gets_defaults():
    article = parse_record(minimal_record())
    assert article == ArticleIn(
        slug="a",
        title="A",
        standfirst="",
        body="",
        section=None,
        issue=None,
        published=datetime(2026, 3, 4, 10, tzinfo=UTC),
        updated=None,
        authors=(),
        tags=(),
        image=None,
        status="published",
    )


def test_explicit_nulls_mean_absent():
    record = minimal_record(
        standfirst=None,
        body=None,
        section=None,
        issue=None,
        updated=None,
        authors=None,
        tags=None,
        image=None,
        status=None,
    )
    assert parse_record(record) == parse_record(minimal_record())


def test_every_field_is_known():
    assert set(full_record()) == set(FIELDS)


@pytest.mark.parametrize("record", [[], "slug", 3, None, [("slug", "a")]])
def test_record_must_be_an_object(record):
    assert errors_of(record) == {"record": "must be a JSON object"}


# -- authors -----------------------------------------------------------------------------


def test_bare_name_authors_are_slugified():
    article = parse_record(minimal_record(authors=["José Martínez", "  Salma \t Haddad  ", "محمد"]))
    assert article.authors == (
        Author("jose-martinez", "José Martínez"),
        Author("salma-haddad", "Salma Haddad"),
        Author("u-645-62d-645-62f", "محمد"),
    )


def test_object_authors():
    article = parse_record(
        minimal_record(
            authors=[
                {"slug": "sa", "name": "Simon Assaf"},
                {"name": "  Zoë   Brontë "},
                {"name": "X", "email": "", "url": None, "bio": None},
            ]
        )
    )
    assert article.authors == (
        Author("sa", "Simon Assaf"),
        Author("zoe-bronte", "Zoë Brontë"),
        Author("x", "X", "", None, None),
    )


def test_author_order_is_kept():
    names = ["Charlie", "Alice", "Bob"]
    assert [a.name for a in parse_record(minimal_record(authors=names)).authors] == names


@pytest.mark.parametrize(
    "authors",
    [
        ["Simon Assaf", "Simon Assaf"],
        ["Simon Assaf", {"slug": "simon-assaf", "name": "S. Assaf"}],
        ["José", "Jose"],
        ["Simon  Assaf", "simon assaf"],
    ],
)
def test_duplicate_authors_are_rejected(authors):
    assert only_error(minimal_record(authors=authors), "authors") == "names the same author twice"


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        ("Simon Assaf", "must be a list of names or {slug, name} objects"),
        ({"name": "Simon"}, "must be a list of names or {slug, name} objects"),
        (["Simon", "  "], "[1] is an empty name"),
        ([3], "[0] must be a name or a {slug, name} object"),
        ([["Simon"]], "[0] must be a name or a {slug, name} object"),
        ([{"slug": "simon"}], "is required"),
        ([{"name": "   "}], "must not be empty"),
        ([{"name": 5}], "must be a string, got int"),
        ([{"slug": "Simon", "name": "Simon"}], "[0].slug must be a lowercase slug, got 'Simon'"),
        ([{"slug": 7, "name": "Simon"}], "[0].slug must be a lowercase slug, got 7"),
        ([{"name": "Simon", "bio": 1}], "must be a string, got int"),
    ],
)
def test_bad_authors(authors, expected):
    assert only_error(minimal_record(authors=authors), "authors") == expected


def test_too_many_authors():
    authors = [f"Author {i}" for i in range(MAX_AUTHORS + 1)]
    error = only_error(minimal_record(authors=authors), "authors")
    assert error == f"has more than {MAX_AUTHORS} authors"
    assert len(parse_record(minimal_record(authors=authors[:-1])).authors) == MAX_AUTHORS


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://e.test/x", "data:text/html,x"])
def test_author_url_must_be_http(url):
    error = only_error(minimal_record(authors=[{"name": "S", "url": url}]), "authors")
    assert error.startswith("must be an http(s) or relative URL")


# -- unknown and missing fields ----------------------------------------------------------


def test_unknown_fields_are_each_reported():
    errors = errors_of(minimal_record(titel="x", Published="y", section_slug="news"))
    assert errors == {
        "titel": "unknown field",
        "Published": "unknown field",
        "section_slug": "unknown field",
    }


@pytest.mark.parametrize("field", ["slug", "title", "published"])
def test_missing_required_field(field):
    record = minimal_record()
    del record[field]
    assert only_error(record, field) == "is required"


@pytest.mark.parametrize("field", ["slug", "title", "published"])
def test_null_required_field(field):
    assert only_error(minimal_record(**{field: None}), field) == "is required"


def test_every_required_field_missing_at_once():
    assert errors_of({}) == {
        "slug": "is required",
        "title": "is required",
        "published": "is required",
    }


# -- slug and title ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug", ["Hello-World", "hello world", "hello_world", "-hello", "hello-", "a--b", "é", "a/b"]
)
def test_bad_slug(slug):
    assert only_error(minimal_record(slug=slug), "slug") == (
        f"must be lowercase letters, digits and hyphens, got {slug!r}"
    )


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        (12, "must be a string, got int"),
        (["a"], "must be a string, got list"),
        ("a" * 301, "is longer than 300 characters"),
    ],
)
def test_slug_errors(slug, expected):
    assert only_error(minimal_record(slug=slug), "slug") == expected


@pytest.mark.parametrize("slug", ["a", "2026", "strike-wave", "u-645-62d", "a" * 300])
def test_good_slug(slug):
    assert parse_record(minimal_record(slug=slug)).slug == slug


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (5, "must be a string, got int"),
        (5.5, "must be a string, got float"),
        (True, "must be a string, got bool"),
        (["A"], "must be a string, got list"),
        ({"en": "A"}, "must be a string, got dict"),
        ("", "must not be empty"),
        (" \n\t ", "must not be empty"),
        ("x" * (MAX_TITLE + 1), f"is longer than {MAX_TITLE} characters"),
    ],
)
def test_bad_title(title, expected):
    assert only_error(minimal_record(title=title), "title") == expected


def test_title_whitespace_is_collapsed_but_body_is_kept_exactly():
    body = "  <p>a</p>\n\n\t<pre>  x  </pre>  "
    article = parse_record(minimal_record(title="\tA \n  B  ", standfirst=" s \n t ", body=body))
    assert article.title == "A B"
    assert article.standfirst == " s \n t "
    assert article.body == body


@pytest.mark.parametrize(("field", "value"), [("standfirst", 1), ("body", ["<p>"])])
def test_non_string_text(field, value):
    assert only_error(minimal_record(**{field: value}), field).startswith("must be a string")


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04T10:00:00Z", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("2026-03-04T10:00:00z", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("2026-03-04t10:00:00Z", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("2026-03-04 10:00:00Z", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("2026-03-04T10:00:00+00:00", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("2026-03-04T10:00:00-00:00", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("2026-03-04T10:00:00+01:00", datetime(2026, 3, 4, 9, tzinfo=UTC)),
        ("2026-03-04T10:00:00-05:30", datetime(2026, 3, 4, 15, 30, tzinfo=UTC)),
        ("2026-03-04T00:30:00+02:00", datetime(2026, 3, 3, 22, 30, tzinfo=UTC)),
        ("2026-12-31T23:30:00-01:00", datetime(2027, 1, 1, 0, 30, tzinfo=UTC)),
        ("  2026-03-04T10:00:00Z  ", datetime(2026, 3, 4, 10, tzinfo=UTC)),
    ],
)
def test_offset_times_are_normalised_to_utc(text, expected):
    published = parse_record(minimal_record(published=text)).published
    assert published == expected
    assert published.tzinfo is UTC


def test_naive_time_is_taken_as_utc():
    published = parse_record(minimal_record(published="2026-03-04T10:00:00")).published
    assert published == datetime(2026, 3, 4, 10, tzinfo=UTC)
    assert published.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-04T10:00:00.999999Z",
        "2026-03-04T10:00:00.5+00:00",
        "2026-03-04T10:00:00.001",
        "2026-03-04T11:00:00.750+01:00",
    ],
)
def test_fractional_seconds_are_dropped_not_rounded(text):
    published = parse_record(minimal_record(published=text)).published
    assert published == datetime(2026, 3, 4, 10, tzinfo=UTC)
    assert published.microsecond == 0


def test_updated_is_parsed_like_published():
    article = parse_record(minimal_record(updated="2026-03-05T10:00:00.9+02:00"))
    assert article.updated == datetime(2026, 3, 5, 8, tzinfo=UTC)
    assert article.updated.tzinfo is UTC


# -- updated in the future (issue 12) ---------------------------------------------------

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def test_the_slack_for_updated_is_a_few_minutes():
    assert timedelta(minutes=5) == UPDATED_FUTURE_SLACK


@pytest.mark.parametrize(
    "updated",
    ["2026-03-05T12:06:00Z", "2026-03-05T13:05:01+01:00", "2027-01-01T00:00:00Z"],
)
def test_updated_in_the_future_is_refused_with_a_clear_reason(updated):
    with pytest.raises(RecordError) as caught:
        parse_record(minimal_record(updated=updated), now=NOW)
    errors = caught.value.errors
    assert set(errors) == {"updated"}, errors
    reason = errors["updated"]
    assert reason.startswith("is in the future (")
    assert reason.endswith("); set it to when the article was last changed")
    assert "5 minutes" in reason
    assert "2026-03-05T12:00:00Z" in reason
    assert str(caught.value).startswith("updated: is in the future (")


@pytest.mark.parametrize(
    "updated",
    [
        "2026-03-05T12:05:00Z",
        "2026-03-05T12:03:00Z",
        "2026-03-05T12:00:00Z",
        "2020-01-01T00:00:00Z",
    ],
)
def test_updated_up_to_the_slack_ahead_is_accepted(updated):
    assert parse_record(minimal_record(updated=updated), now=NOW).updated is not None


def test_published_in_the_future_still_schedules_when_now_is_given():
    article = parse_record(
        minimal_record(published="2027-01-01T09:00:00Z", updated="2026-03-05T12:00:00Z"), now=NOW
    )
    assert article.published == datetime(2027, 1, 1, 9, tzinfo=UTC)


def test_updated_in_the_future_is_reported_with_the_other_bad_fields():
    record = minimal_record(updated="2030-01-01T00:00:00Z", status="gone", title="")
    with pytest.raises(RecordError) as caught:
        parse_record(record, now=NOW)
    assert set(caught.value.errors) == {"updated", "status", "title"}


def test_without_now_updated_is_not_judged():
    """Callers that pass no clock (the store's own checks, old callers) are unchanged."""
    assert parse_record(minimal_record(updated="2099-01-01T00:00:00Z")).updated is not None


def test_a_naive_now_is_taken_as_utc():
    naive = NOW.replace(tzinfo=None)
    assert parse_record(minimal_record(updated="2026-03-05T12:04:00Z"), now=naive).updated
    with pytest.raises(RecordError):
        parse_record(minimal_record(updated="2026-03-05T12:06:00Z"), now=naive)


# -- bidi controls in titles and names (issue 12) ----------------------------------------

RLO, PDF, LRI, PDI, LRM, RLM = "\u202e", "\u202c", "\u2066", "\u2069", "\u200e", "\u200f"


def test_bidi_overrides_are_stripped_from_titles_names_and_tags_but_not_bodies():
    record = minimal_record(
        title=f"{RLO}Strike{PDF} wave",
        standfirst=f"{RLO}kept",
        body=f"<p>{RLO}kept</p>",
        authors=[f"{RLO}Salma Haddad", {"name": f"Simon {LRI}Assaf{PDI}"}],
        tags=[f"{RLO}Strikes"],
    )
    article = parse_record(record)
    assert article.title == "Strike wave"
    assert [a.name for a in article.authors] == ["Salma Haddad", "Simon Assaf"]
    assert [a.slug for a in article.authors] == ["salma-haddad", "simon-assaf"]
    assert [t.name for t in article.tags] == ["Strikes"]
    assert article.body == f"<p>{RLO}kept</p>"
    assert article.standfirst == f"{RLO}kept"


def test_every_embedding_override_and_isolate_goes():
    controls = "".join(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
    article = parse_record(minimal_record(title=f"A{controls}B", authors=[f"رنا{controls} الشامي"]))
    assert article.title == "AB"
    assert article.authors[0].name == "رنا الشامي"


def test_directional_marks_are_kept():
    """LRM and RLM are marks writers place on purpose, not overrides."""
    article = parse_record(minimal_record(title=f"HTML5{RLM} اليوم", authors=[f"A{LRM}B"]))
    assert article.title == f"HTML5{RLM} اليوم"
    assert article.authors[0].name == f"A{LRM}B"


@pytest.mark.parametrize("title", [RLO, f" {RLO}{PDF} "])
def test_a_title_of_nothing_but_controls_is_empty(title):
    assert only_error(minimal_record(title=title), "title") == "must not be empty"


def test_a_name_of_nothing_but_controls_is_refused():
    assert "empty" in only_error(minimal_record(authors=[RLO]), "authors")
    assert "empty" in only_error(minimal_record(authors=[{"name": RLO}]), "authors")


@pytest.mark.parametrize("field", ["published", "updated"])
@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-03-04T25:00:00Z",
        "2026-03-04T10:61:00Z",
        "2026-03-04T10:00:00+25:00",
        "04/03/2026 10:00",
        "Wed, 04 Mar 2026 10:00:00 GMT",
        "2026-03-04T10:00:00ZZ",
    ],
)
def test_bad_rfc3339_text(field, text):
    error = only_error(minimal_record(**{field: text}), field)
    assert error.startswith("not an RFC 3339 date-time")
    assert error.endswith(f": {text!r}")


@pytest.mark.parametrize("field", ["published", "updated"])
@pytest.mark.parametrize(
    ("value", "kind"), [(1772618400, "int"), (1.5, "float"), (True, "bool"), ([], "list")]
)
def test_non_string_dates(field, value, kind):
    assert only_error(minimal_record(**{field: value}), field) == (
        f"must be an RFC 3339 date-time string, got {kind}"
    )


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_times_that_overflow_in_utc_are_a_record_error(text):
    error = only_error(minimal_record(published=text), "published")
    assert text in error


@pytest.mark.parametrize(
    "text", ["0001-01-01T01:00:00+01:00", "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z"]
)
def test_extreme_but_representable_years(text):
    published = parse_record(minimal_record(published=text)).published
    assert published.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "20260304T100000Z",
        "2026-W10-3T10:00:00Z",
        "2026-063T10:00:00Z",
        "2026-03-04T10",
        "2026-03-04T10:00",
        "2026-03-04",
        "2026-03-04T10:00:00+0100",
        "2026-03-04T10:00:00+01",
        "2026-03-04T10:00:00+01:00:30",
        "+2026-03-04T10:00:00Z",
        "\uff12\uff10\uff12\uff16-03-04T10:00:00Z",  # fullwidth digits
        "2026-03-04T10:00:00.\u0665Z",  # an Arabic-Indic digit
    ],
)
def test_iso_8601_forms_that_are_not_rfc3339_are_rejected(text):
    error = only_error(minimal_record(published=text), "published")
    assert error.startswith("not an RFC 3339 date-time")
    assert error.endswith(f": {text!r}")


# -- section and status ------------------------------------------------------------------


def test_unknown_section_when_sections_are_given():
    error = only_error(minimal_record(section="sport"), "section", SECTIONS)
    assert error == "unknown section 'sport' (configured: comment, news)"


def test_unknown_section_with_no_sections_configured():
    error = only_error(minimal_record(section="news"), "section", set())
    assert error == "unknown section 'news' (configured: none)"


def test_any_section_when_sections_are_not_given():
    assert parse_record(minimal_record(section="sport")).section == "sport"
    assert parse_record(minimal_record(section="news"), SECTIONS).section == "news"
    assert parse_record(minimal_record(section="news"), ["news"]).section == "news"


@pytest.mark.parametrize("section", [1, ["news"], {"slug": "news"}, True])
def test_section_must_be_a_string(section):
    assert only_error(minimal_record(section=section), "section") == "must be a section slug"


@pytest.mark.parametrize(("status", "expected"), [("draft", "draft"), ("published", "published")])
def test_status(status, expected):
    assert parse_record(minimal_record(status=status)).status == expected


def test_status_defaults_to_published():
    assert parse_record(minimal_record()).status == "published"


@pytest.mark.parametrize("status", ["scheduled", "Draft", "PUBLISHED", "", 1, True, ["draft"]])
def test_other_status(status):
    assert only_error(minimal_record(status=status), "status") == (
        f"must be 'published' or 'draft', got {status!r}"
    )


# -- print issue -------------------------------------------------------------------------


def test_issue_as_a_number():
    assert parse_record(minimal_record(issue=2094)).issue == PrintIssue(2094)


def test_issue_as_an_object():
    issue = {"number": 2094, "date": "2026-03-04", "pdf_url": "https://e.test/2094.pdf"}
    assert parse_record(minimal_record(issue=issue)).issue == PrintIssue(
        2094, date(2026, 3, 4), "https://e.test/2094.pdf"
    )


def test_issue_object_with_only_a_number():
    assert parse_record(minimal_record(issue={"number": 7})).issue == PrintIssue(7, None, None)


def test_issue_pdf_may_be_relative():
    issue = {"number": 7, "pdf_url": " /pdf/7.pdf "}
    assert parse_record(minimal_record(issue=issue)).issue == PrintIssue(7, None, "/pdf/7.pdf")


@pytest.mark.parametrize(
    ("issue", "expected"),
    [
        (True, "must be an issue number or an {number, date, pdf_url} object"),
        (False, "must be an issue number or an {number, date, pdf_url} object"),
        ("2094", "must be an issue number or an {number, date, pdf_url} object"),
        (2094.5, "must be an issue number or an {number, date, pdf_url} object"),
        ([2094], "must be an issue number or an {number, date, pdf_url} object"),
        (0, "must be a positive issue number, got 0"),
        (-3, "must be a positive issue number, got -3"),
        (10**9, f"must be a positive issue number, got {10**9}"),
        ({"number": True}, "number must be an integer"),
        ({"number": "7"}, "number must be an integer"),
        ({"date": "2026-03-04"}, "number must be an integer"),
        ({"number": 0}, "must be a positive issue number, got 0"),
        ({"number": 7, "date": "04/03/2026"}, "date must be YYYY-MM-DD, got '04/03/2026'"),
        ({"number": 7, "date": "2026-02-30"}, "date must be YYYY-MM-DD, got '2026-02-30'"),
        ({"number": 7, "date": 20260304}, "date must be YYYY-MM-DD, got 20260304"),
    ],
)
def test_bad_issue(issue, expected):
    assert only_error(minimal_record(issue=issue), "issue") == expected


@pytest.mark.parametrize("pdf", ["javascript:alert(1)", "ftp://e.test/1.pdf", 5, ""])
def test_bad_issue_pdf_url(pdf):
    assert "issue" in errors_of(minimal_record(issue={"number": 1, "pdf_url": pdf}))


# -- image -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/img/a.jpg", "img/a.jpg", "https://cdn.e.test/a.jpg", "//cdn.e.test/a.jpg"]
)
def test_image_as_a_string(url):
    assert parse_record(minimal_record(image=url)).image == Image(url)


def test_image_url_is_trimmed():
    assert parse_record(minimal_record(image="  /a.jpg \n")).image == Image("/a.jpg")


def test_image_as_an_object():
    image = {"url": "https://e.test/a.jpg", "caption": "A march", "alt": "Marchers"}
    assert parse_record(minimal_record(image=image)).image == Image(
        "https://e.test/a.jpg", "A march", "Marchers"
    )
    assert parse_record(minimal_record(image={"url": "/a.jpg"})).image == Image("/a.jpg", "", "")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "  javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "\x01javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "file:///etc/passwd",
    ],
)
def test_dangerous_image_urls_are_rejected(url):
    for image in (url, {"url": url, "alt": "x"}):
        error = only_error(minimal_record(image=image), "image")
        assert error.startswith("must be an http(s) or relative URL")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (5, "must be a URL or an {url, caption, alt} object"),
        (["/a.jpg"], "must be a URL or an {url, caption, alt} object"),
        ({"caption": "x"}, "is required"),
        ({"url": ""}, "must not be empty"),
        ({"url": "/a.jpg", "alt": 1}, "must be a string, got int"),
        ("", "must not be empty"),
    ],
)
def test_bad_image(image, expected):
    assert only_error(minimal_record(image=image), "image") == expected


# -- tags --------------------------------------------------------------------------------


def test_tags_are_slugified_deduplicated_and_trimmed():
    article = parse_record(
        minimal_record(tags=["Strikes", "  strikes ", "Middle  East", "", "   ", "Gaza", "Gaża"])
    )
    assert article.tags == (
        Tag("strikes", "Strikes"),
        Tag("middle-east", "Middle East"),
        Tag("gaza", "Gaza"),
    )


@pytest.mark.parametrize("tags", ["Strikes", [1], ["a", None], {"a": 1}])
def test_tags_must_be_a_list_of_strings(tags):
    assert only_error(minimal_record(tags=tags), "tags") == "must be a list of strings"


def test_too_many_tags():
    tags = [f"tag {i}" for i in range(MAX_TAGS + 1)]
    assert only_error(minimal_record(tags=tags), "tags") == f"has more than {MAX_TAGS} tags"


# -- everything at once ------------------------------------------------------------------


def test_all_errors_of_a_record_are_reported_together():
    record = {
        "slug": "Bad Slug",
        "title": 42,
        "published": "someday",
        "updated": "2026-02-30T00:00:00Z",
        "section": "sport",
        "issue": True,
        "authors": ["A", "A"],
        "tags": "x",
        "image": "javascript:alert(1)",
        "status": "scheduled",
        "colour": "red",
    }
    with pytest.raises(RecordError) as caught:
        parse_record(record, SECTIONS)
    errors = caught.value.errors
    assert set(errors) == set(record)
    assert errors["colour"] == "unknown field"
    message = str(caught.value)
    for field, reason in errors.items():
        assert f"{field}: {reason}" in message


def test_record_error_is_a_value_error():
    assert issubclass(RecordError, ValueError)


# -- surrogates --------------------------------------------------------------------------


def test_lone_surrogates_become_replacement_characters():
    record = minimal_record(
        title="Lone \ud800 high",
        standfirst="low \udfff",
        body="<p>\udc80</p>",
        authors=["Bad \ud83d Name", {"name": "Obj \udc00", "bio": "\ud800"}],
        tags=["tag \udbff"],
        image={"url": "/a\ud800.jpg", "caption": "\ud800cap", "alt": "alt\udfff"},
        issue={"number": 1, "pdf_url": "/p\udfff.pdf"},
    )
    article = parse_record(record)
    assert article.title == "Lone \ufffd high"
    assert article.standfirst == "low \ufffd"
    assert article.body == "<p>\ufffd</p>"
    assert [a.name for a in article.authors] == ["Bad \ufffd Name", "Obj \ufffd"]
    assert article.authors[1].bio == "\ufffd"
    assert [t.name for t in article.tags] == ["tag \ufffd"]
    assert article.image == Image("/a\ufffd.jpg", "\ufffdcap", "alt\ufffd")
    assert article.issue is not None
    assert article.issue.pdf_url == "/p\ufffd.pdf"
    # Nothing left that UTF-8 (and so SQLite) cannot hold.
    for text in (article.title, article.standfirst, article.body, article.image.caption):
        text.encode("utf-8")


def test_a_proper_surrogate_pair_from_json_is_one_character():
    record = json.loads(
        '{"slug": "a", "title": "\\ud83d\\ude00", "published": "2026-01-01T00:00:00Z"}'
    )
    assert parse_record(record).title == "\U0001f600"


def test_lone_surrogate_from_json_is_replaced():
    record = json.loads('{"slug": "a", "title": "x\\ud83dy", "published": "2026-01-01T00:00:00Z"}')
    assert parse_record(record).title == "x\ufffdy"


def test_surrogate_in_slug_is_a_bad_slug():
    assert "slug" in errors_of(minimal_record(slug="a\ud800"))


# -- never a traceback -------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.sampled_from(["2026-03-04T10:00:00Z", "news", "/a.jpg", "0001-01-01T00:00:00Z"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["slug", "name", "number", "date", "pdf_url", "url", "caption", "alt"])
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), json_values, max_size=8))
def test_any_json_object_gives_an_article_or_a_record_error(record):
    errors: dict[str, str] = {}
    try:
        article = parse_record(record, SECTIONS)
    except RecordError as exc:
        errors = exc.errors
    else:
        assert isinstance(article, ArticleIn)
        assert article.published.tzinfo is UTC
        assert article.published.microsecond == 0
        assert article.updated is None or article.updated.tzinfo is UTC
        return
    assert errors
    assert all(isinstance(v, str) and v for v in errors.values())


#: RFC 3339 offsets are whole minutes, up to 23:59 either way.
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=OFFSETS,
    )
)
def test_any_aware_datetime_round_trips_to_the_same_utc_second(moment):
    published = parse_record(minimal_record(published=moment.isoformat())).published
    assert published.tzinfo is UTC
    expected = moment.astimezone(UTC).replace(microsecond=0)
    assert published == expected
    assert abs(published - moment) < timedelta(seconds=1)


def test_an_issue_pdf_length_is_taken_in_bytes():
    record = parse_record(
        minimal_record(
            issue={"number": 2094, "pdf_url": "https://x.example/a.pdf", "pdf_length": 3_000_000}
        )
    )
    assert record.issue is not None
    assert record.issue.pdf_length == 3_000_000
    for bad in (0, -5, "big", 1.5, True, 10**13):
        with pytest.raises(RecordError) as caught:
            parse_record(minimal_record(issue={"number": 2094, "pdf_length": bad}))
        assert "pdf_length" in caught.value.errors["issue"]

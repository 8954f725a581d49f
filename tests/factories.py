"""Hand-made specs and articles for the feed builder tests: no store, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from syndicate.formats.spec import FeedSpec, PageLinks
from syndicate.models import Article, Author, Image, PrintIssue, Tag

ROOT = "https://paper.example"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_spec(**fields: Any) -> FeedSpec:
    """A fully populated spec for the site feed's Atom page 2 of 3."""
    spec = FeedSpec(
        id="tag:paper.example,2025:feed:site",
        title="The Paper",
        subtitle="News, comment and the print edition",
        self_url=f"{ROOT}/feed.atom?page=2",
        html_url=f"{ROOT}/",
        language="en-GB",
        copyright="© 2025 The Paper",
        icon=f"{ROOT}/icon.png",
        logo=f"{ROOT}/logo.png",
        tag_authority="paper.example,2025",
        site_root=ROOT,
        article_path="/articles/{slug}",
        content="full",
        generator="syndicate",
        generator_version="0.1.0",
        generator_uri="https://pypi.org/project/syndicate/",
        pages=PageLinks(
            first=f"{ROOT}/feed.atom",
            last=f"{ROOT}/feed.atom?page=3",
            previous=f"{ROOT}/feed.atom",
            next=f"{ROOT}/feed.atom?page=3",
        ),
        hub_url=f"{ROOT}/websub",
        alternates=(("rss", f"{ROOT}/feed.rss?page=2"), ("json", f"{ROOT}/feed.json?page=2")),
    )
    return replace(spec, **fields)


BODY = (
    (
        '<p>First paragraph with <a href="/articles/older-story">a link</a>, '
        '<a href="https://elsewhere.example/x">an outside link</a> and '
        '<a href="mailto:desk@paper.example">mail</a>.</p>\n'
        '<figure><img src="/media/photo.jpg" srcset="/media/photo-2x.jpg 2x, photo-3x.jpg 3x" '
        'alt="A crowd"><figcaption>Crowd</figcaption></figure>\n'
        '<p><a href="#footnote-1">1</a> <a href="notes/1">notes</a></p>\n'
    )
    + "<p>"
    + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 12
    + "</p>"
)


def make_article(i: int = 1, **fields: Any) -> Article:
    """Article ``i``: newer for bigger i, two bylines, a section, tags, image and PDF."""
    published = T0 + timedelta(hours=i)
    article = Article(
        id=i,
        slug=f"story-{i}",
        title=f"Story {i}: ministers & <em>markets</em>",
        standfirst=f"What happened in story {i}, and why it matters",
        body=BODY,
        section="news",
        issue=PrintIssue(number=2000 + i, date=date(2025, 3, 1), pdf_url=f"/pdf/{2000 + i}.pdf"),
        published=published,
        updated=published + timedelta(minutes=30),
        authors=(
            Author(slug="salma-haddad", name="Salma Haddad"),
            Author(slug="jose-martinez", name="José Martínez", email="jose@paper.example"),
        ),
        tags=(Tag(slug="strikes", name="Strikes"), Tag(slug="nhs", name="NHS")),
        image=Image(url="/media/lead.jpg", caption="Pickets at dawn", alt="People with banners"),
        status="published",
    )
    return replace(article, **fields)


def make_articles(count: int) -> list[Article]:
    """``count`` articles, newest first, as the store hands them over."""
    return [make_article(i) for i in range(count, 0, -1)]

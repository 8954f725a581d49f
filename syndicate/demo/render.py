"""Pre-rendering: the demo's text is made once, into pools, before any article exists.

A million articles cannot each afford template formatting, HTML escaping and
slugging. Instead each desk renders a few thousand distinct headlines (with
their standfirsts, slugs and tags), a power-of-two pool of bodies and a pool
of bylines, and a pool of lead images is shared by all; an article then only
picks from them (see :mod:`syndicate.demo.rows`). Rendering is the fixed
cost of every run, so the pools grow with the demo only up to a cap set by
:mod:`syndicate.demo.plan`.

All randomness comes from the one ``random.Random`` passed in, in a fixed
order: the same seed renders the same pools.
"""

from __future__ import annotations

import functools
import html
import random
from collections.abc import Sequence
from dataclasses import dataclass
from string import Formatter

from syndicate.demo.corpus import NAMES, PHOTOS, PLACES, POOLS
from syndicate.demo.templates import HEADLINES, OWN_VOICE, SENTENCES, STANDFIRSTS
from syndicate.text import slugify


@functools.cache
def _fields(template: str) -> tuple[str, ...]:
    """The pool names a template uses, lower-cased ("{Workers}" uses "workers")."""
    names = (name for _, name, _, _ in Formatter().parse(template) if name)
    return tuple(dict.fromkeys(name[:1].lower() + name[1:] for name in names))


def _render(templates: Sequence[str], rng: random.Random) -> tuple[list[str], list[str]]:
    """Render templates with one shared pick per pool; return the texts and implied tags.

    Sharing the picks is what keeps a headline and its standfirst about the
    same city and the same cause. Only the first template's picks imply tags:
    a tag should name what the headline is about, not what the copy mentions.
    """
    if len(templates) == 1 and not _fields(templates[0]):
        return [templates[0]], []
    picks: dict[str, str] = {}
    tags: list[str] = []
    for index, template in enumerate(templates):
        for key in _fields(template):
            if key in picks:
                continue
            if key in ("fcity", "country"):
                picks["fcity"], picks["country"], implied = rng.choice(PLACES)
            else:
                picks[key], implied = rng.choice(POOLS[key])
            if index == 0:
                tags.extend(implied)
    values = dict(picks)
    values.update({k[:1].upper() + k[1:]: v[:1].upper() + v[1:] for k, v in picks.items()})
    return [t.format(**values) for t in templates], tags


Headline = tuple[str, str, tuple[int, ...], str]


@dataclass(frozen=True)
class Desk:
    """Everything an article of one section is drawn from, rendered in advance."""

    section: str | None
    #: (title, slug stem, sorted tag ids, standfirst); distinct titles, random order.
    headlines: tuple[Headline, ...]
    #: (opening paragraph, the rest); the per-article link goes between them.
    bodies: tuple[tuple[str, str], ...]
    #: Author-id tuples in byline order, drawn with this desk's regulars favoured.
    bylines: tuple[tuple[int, ...], ...]


def _figure(rng: random.Random) -> str:
    stem, _caption, alt = rng.choice(PHOTOS)
    name = f"{stem}-{rng.randrange(1, 40)}"
    return (
        f'<p><img src="/images/{name}.svg" srcset="/images/{name}-640.svg 640w, '
        f'/images/{name}-1280.svg 1280w" alt="{html.escape(alt)}"></p>'
    )


def render_desk(
    rng: random.Random,
    sizes: tuple[int, int],
    key: str,
    section: str | None,
    tag_ids: dict[str, int],
    desk_tags: list[int],
    regulars: list[int],
    everyone: list[int],
) -> Desk:
    """Render one section's pools; ``key`` picks the voice, ``section`` is what is stored.

    ``sizes`` is (distinct headlines wanted, entries in every other pool).
    """
    wanted, pool = sizes
    templates = HEADLINES.get(key, HEADLINES["news"])
    standfirst_templates = STANDFIRSTS.get(key, STANDFIRSTS["news"])
    seen: set[str] = set()
    headlines: list[Headline] = []
    for _ in range(wanted * 4):
        if len(headlines) == wanted:
            break
        template, fixed = rng.choice(templates)
        (title, standfirst), implied = _render((template, rng.choice(standfirst_templates)), rng)
        if title in seen:
            continue
        seen.add(title)
        tags = set(list(dict.fromkeys(tag_ids[t] for t in (*fixed, *implied)))[:4])
        # Top up with the desk's usual topics, to between one and four in all.
        want = max(len(tags), rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))
        want = min(want, len(tags | set(desk_tags)))
        while len(tags) < want:
            tags.add(rng.choice(desk_tags))
        headlines.append((title, slugify(title), tuple(sorted(tags)), standfirst))

    # Each body draws distinct sentence templates, so no line repeats within an article.
    sentence_templates = SENTENCES.get(key, ())
    if key not in OWN_VOICE:
        sentence_templates += SENTENCES[""]
    bodies: list[tuple[str, str]] = []
    for _ in range(pool):
        lengths = [2, 2, 1 + rng.getrandbits(1)]
        chosen = rng.sample(sentence_templates, sum(lengths))
        texts = [html.escape(_render((t,), rng)[0][0], quote=False) for t in chosen]
        paragraphs = []
        for size in lengths:
            paragraphs.append("<p>" + " ".join(texts[:size]) + "</p>")
            del texts[:size]
        if rng.random() < 0.6:
            paragraphs.insert(rng.randrange(2, len(paragraphs) + 1), _figure(rng))
        bodies.append((paragraphs[0], "\n".join(paragraphs[1:])))
    bylines: list[tuple[int, ...]] = []
    for _ in range(pool):
        lead = rng.choice(regulars) if rng.random() < 0.8 else rng.choice(everyone)
        byline = [lead]
        roll = rng.random()
        extra = 2 if roll < 0.03 else 1 if roll < 0.15 else 0
        while len(byline) < 1 + extra:
            other = rng.choice(everyone)
            if other not in byline:
                byline.append(other)
        bylines.append(tuple(byline))
    return Desk(
        section=section,
        headlines=tuple(headlines),
        bodies=tuple(bodies),
        bylines=tuple(bylines),
    )


def lead_images(
    rng: random.Random, pool: int, root: str
) -> tuple[tuple[str, str, str] | None, ...]:
    """Lead images for most articles: some relative, some absolute, ~15% none."""
    images: list[tuple[str, str, str] | None] = []
    for _ in range(pool):
        if rng.random() < 0.15:
            images.append(None)
            continue
        stem, caption, alt = rng.choice(PHOTOS)
        path = f"/images/{stem}-{rng.randrange(1, 40)}.svg"
        url = f"{root}{path}" if rng.random() < 0.3 else path
        credit = rng.choice(NAMES)[0]
        images.append((url, f"{caption} (Picture: {credit})", alt))
    return tuple(images)

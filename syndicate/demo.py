"""A realistic demo publication, written straight into a fresh store file.

The demo has two jobs. It lets an editor see feeds full of believable
articles (Arabic and accented bylines, relative links and images, scheduled
pieces) the moment syndicate is installed, and it lets us measure the store
at sizes no real paper reaches: a million articles must be ready in about a
minute. The second job decides the shape of the code.

Going through :meth:`Store.upsert_articles` would cost several statements and
two trigger runs per article, so instead the file is built beside the target:
the schema comes from the normal migrations (so the result can never drift
from what :meth:`Store.open` expects), then the indexes and triggers are
dropped, rows are bulk-inserted with no journal, the indexes and triggers are
put back from their own saved SQL, the feed counts are recounted, and the
finished file is renamed over the target. An exception at any point leaves
the old store untouched and no temporary file behind; a killed process can
leave a ``.tmp-<pid>`` file beside it, but never a half-written store.

Speed comes from doing the expensive text work once: headlines, standfirsts,
paragraphs and tag sets are rendered into pools up front, and each article
only picks from them with ``getrandbits`` and glues on its own slug, link and
times. Everything is drawn from one ``random.Random(seed)``, so a seed always
gives the same publication for the same ``now``.
"""

from __future__ import annotations

import functools
import html
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Formatter

from syndicate.config import Config
from syndicate.store.core import Store
from syndicate.store.inuse import open_elsewhere
from syndicate.store.migrate import statements
from syndicate.store.schema import RECOUNT
from syndicate.text import slugify

#: The issue that carries the week of ``now``; earlier weeks count down from it.
LAST_ISSUE = 2094
#: Roughly how many web articles a week the paper publishes.
ARTICLES_PER_WEEK = 9
#: Rows handed to one ``executemany`` and one ``progress`` call.
CHUNK = 20_000

#: Most bits used to pick from a pre-rendered pool (pools hold 2**bits entries).
#: Small demos use fewer: rendering the pools is the fixed cost of every run.
_POOL_BITS = 10
_HEADLINES_PER_DESK = 4096


class DemoRefused(Exception):
    """The target already holds real data and the caller did not ask to replace it."""


@dataclass(frozen=True)
class DemoReport:
    """What was written, for the CLI's closing line and for the benchmark."""

    articles: int
    authors: int
    issues: int
    tags: int
    seconds: float


# -- the people ---------------------------------------------------------------

# (name, desk, bio). The desk decides which sections an author mostly writes
# for; the mix of scripts is deliberate, to exercise slugs, XML and fonts.
_AUTHORS: tuple[tuple[str, str, str], ...] = (
    ("سلمى حداد", "international", "Reports on the Middle East and North Africa."),
    ("عمر الخطيب", "international", "Writes about Palestine and the refugee movement."),
    ("ليلى منصور", "international", "Covers Egypt's labour movement from Cairo."),
    ("يوسف عبد الله", "international", "Writes on Sudan and the Horn of Africa."),
    ("نور الهدى سعيد", "comment", "Writes on Islamophobia and the anti-racist movement."),
    ("كريم العلي", "workplace", "A postal worker and union rep in Birmingham."),
    ("رنا الشامي", "culture", "Reviews Arabic literature and cinema."),
    ("هشام بركات", "international", "Covers Lebanon, Syria and the Gulf."),
    ("José Martínez", "international", "Reports from Latin America."),
    ("Zoë Øberg", "features", "Writes long reads on climate and the Nordic left."),
    ("Françoise Lefèvre", "international", "Covers French politics and strikes from Paris."),
    ("Łukasz Wójcik", "workplace", "Writes about migrant workers and the warehouses."),
    ("Siobhán Ní Bhriain", "news", "Reports from Belfast and Derry."),
    ("Björn Åkesson", "culture", "Writes about music and the politics of pop."),
    ("Inés Peña", "comment", "Writes on feminism and reproductive rights."),
    ("Süleyman Yılmaz", "international", "Covers Turkey and the Kurdish struggle."),  # noqa: RUF001
    ("Chloé Dubois", "culture", "Reviews theatre and film."),
    ("Dóra Kovács", "features", "Writes on the history of the European left."),
    ("João Conceição", "international", "Reports from Brazil and Portugal."),
    ("Małgorzata Nowak", "workplace", "Covers care work and the health service."),
    ("René Müller", "comment", "Writes on Marxist economics."),
    ("Sarah Thompson", "news", "News editor."),
    ("Tom Whitfield", "workplace", "Industrial correspondent."),
    ("Rachel Okafor", "news", "Reports on housing and tenants' campaigns."),
    ("Priya Sharma", "comment", "Writes on racism, borders and the state."),
    ("Kwame Mensah", "international", "Covers West Africa."),
    ("Hannah Brooks", "news", "Education correspondent."),
    ("Liam O'Connor", "workplace", "A bus driver and Unite member in Dublin."),
    ("Aisha Begum", "news", "Reports from east London."),
    ("Gareth Pryce", "news", "Covers Wales and the valleys."),
    ("Fiona MacLeod", "news", "Scotland correspondent."),
    ("Daniel Harper", "comment", "Writes on the Labour Party and elections."),
    ("Emma Clarke", "features", "Features editor."),
    ("James Holloway", "workplace", "Covers the rail and tube unions."),
    ("Sophie Turner", "culture", "Culture editor."),
    ("Marcus Bennett", "news", "Covers policing and civil liberties."),
    ("Chloe Walsh", "news", "Health correspondent."),
    ("Nathan Reid", "workplace", "A teacher and NEU rep in Leeds."),
    ("Grace Adeyemi", "features", "Writes about Black history and resistance."),
    ("Owen Jenkins", "comment", "Writes on climate and the fossil fuel industry."),
    ("Lucy Fairbanks", "culture", "Reviews books."),
    ("Sam Patel", "news", "Covers the climate movement."),
    ("Megan Lloyd", "workplace", "Writes about nurses and the NHS unions."),
    ("Ben Carter", "international", "Covers the United States."),
    ("Katie Morrison", "news", "Reports from Glasgow."),
    ("Joe Duffy", "features", "Writes on the history of the trade union movement."),
    ("Ellie Shaw", "culture", "Writes about art and exhibitions."),
    ("Ryan Gallagher", "workplace", "Covers the civil service and PCS."),
    ("Amira Hassan", "comment", "Writes on Palestine solidarity."),
    ("Chris Lambert", "news", "Covers disability rights campaigns."),
    ("Niamh Kelly", "international", "Reports from Ireland and the European Union."),
    ("Paul Ashworth", "features", "Writes on the miners' strike and its legacy."),
    ("Jade Robinson", "news", "Covers students and the universities."),
    ("Adam Novak", "comment", "Writes on philosophy and Marxist theory."),
    ("Ruth Coleman", "workplace", "A care worker and Unison steward in Bristol."),
    ("Imran Qureshi", "news", "Reports from Bradford and the West Riding."),
    ("Helen Marsh", "features", "Writes about women in the workers' movement."),
    ("Tariq Ali Khan", "international", "Covers South Asia."),
    ("Molly Fraser", "culture", "Reviews music and gigs."),
    ("Steve Holt", "workplace", "A retired docker who writes on Liverpool's history."),
    ("Ayesha Malik", "news", "Covers asylum and the Home Office."),
    ("Dan Whitaker", "comment", "Writes on the far right and how to stop it."),
    ("Laura Bishop", "features", "Writes long reads on housing and the cities."),
    ("Kieran Doyle", "news", "Reports from Manchester."),
    ("Bethan Evans", "culture", "Writes about theatre in Wales."),
    ("Mohammed Rahman", "workplace", "A delivery rider organising in London."),
)

# -- tags ---------------------------------------------------------------------

# (name, desks where it turns up as an extra tag without the headline naming it).
# Regions and art forms have no desks: only a headline that names one gets it.
_TAGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Strikes", ("workplace", "news")),
    ("Trade unions", ("workplace", "comment")),
    ("Pay", ("workplace",)),
    ("Pensions", ("workplace",)),
    ("Health and safety", ("workplace",)),
    ("NHS", ("news", "workplace")),
    ("Housing", ("news", "features")),
    ("Climate", ("news", "comment", "features")),
    ("Environment", ("news",)),
    ("Palestine", ("international", "news", "comment")),
    ("Anti-racism", ("news", "comment")),
    ("Far right", ("news", "comment")),
    ("Refugees", ("news", "international")),
    ("Anti-war", ("international", "comment")),
    ("Cost of living", ("news", "workplace")),
    ("Welfare", ("news",)),
    ("Disability rights", ("news",)),
    ("Education", ("news", "workplace")),
    ("Students", ("news",)),
    ("Public services", ("news", "workplace")),
    ("Public ownership", ("comment", "workplace")),
    ("Civil liberties", ("news", "comment")),
    ("Police", ("news",)),
    ("LGBT+ rights", ("news", "comment")),
    ("Women's rights", ("comment", "features")),
    ("Austerity", ("international", "comment")),
    ("Elections", ("comment", "international")),
    ("Labour Party", ("comment",)),
    ("Tories", ("comment", "news")),
    ("Democracy", ("international",)),
    ("Marxism", ("comment", "features")),
    ("History", ("features", "culture")),
    ("Books", ()),
    ("Film", ()),
    ("Music", ()),
    ("Theatre", ()),
    ("Art", ()),
    ("Middle East", ()),
    ("Latin America", ()),
    ("Africa", ()),
    ("Europe", ()),
    ("Asia", ()),
)

# -- word pools for headlines -------------------------------------------------
#
# A pool item is (text, tags). Texts are written as they appear mid-sentence;
# a template field spelt with a capital ("{Workers}") capitalises the first
# letter, so one pool serves both positions.

Item = tuple[str, tuple[str, ...]]

_CITIES: tuple[str, ...] = (
    "Glasgow", "Manchester", "Liverpool", "Leeds", "Sheffield", "Birmingham", "Bristol",
    "Cardiff", "Newcastle", "Nottingham", "Edinburgh", "Belfast", "Swansea", "Leicester",
    "Brighton", "Norwich", "Hull", "Dundee", "London", "Coventry", "Bradford", "Plymouth",
    "Southampton", "Derry", "Aberdeen", "Stoke", "Preston", "Sunderland",
)  # fmt: skip

_CROWDS: tuple[str, ...] = (
    "thousands", "hundreds", "tens of thousands", "crowds", "students", "tenants",
    "nurses", "campaigners", "residents", "pensioners", "school students", "parents",
)  # fmt: skip

_CAUSES: tuple[Item, ...] = (
    ("cuts to disability benefits", ("Disability rights", "Welfare")),
    ("the two-child benefit cap", ("Welfare",)),
    ("the new asylum rules", ("Refugees",)),
    ("deportation flights", ("Refugees",)),
    ("rent rises", ("Housing",)),
    ("evictions", ("Housing",)),
    ("the housing crisis", ("Housing",)),
    ("hospital closures", ("NHS",)),
    ("NHS privatisation", ("NHS", "Public ownership")),
    ("the arms trade", ("Anti-war",)),
    ("new fossil fuel licences", ("Climate",)),
    ("airport expansion", ("Climate",)),
    ("sewage in our rivers", ("Environment",)),
    ("school cuts", ("Education",)),
    ("tuition fees", ("Education", "Students")),
    ("new police powers", ("Civil liberties", "Police")),
    ("racist stop and search", ("Anti-racism", "Police")),
    ("the far right", ("Far right", "Anti-racism")),
    ("fire and rehire", ("Trade unions",)),
    ("the anti-strike law", ("Trade unions", "Strikes")),
    ("the war on Gaza", ("Palestine",)),
    ("energy bills", ("Cost of living",)),
    ("food prices", ("Cost of living",)),
    ("council cuts", ("Public services", "Austerity")),
    ("library closures", ("Public services",)),
    ("water company profits", ("Public ownership",)),
    ("the trans healthcare ban", ("LGBT+ rights",)),
    ("abortion restrictions", ("Women's rights",)),
    ("the pension age rise", ("Pensions",)),
)  # fmt: skip

_ABROAD: tuple[Item, ...] = (
    ("IMF austerity", ("Austerity",)),
    ("military rule", ("Democracy",)),
    ("fuel price rises", ("Cost of living",)),
    ("police killings", ("Police",)),
    ("the new labour law", ("Trade unions",)),
    ("corruption", ("Democracy",)),
    ("water privatisation", ("Public ownership",)),
    ("a giant dam project", ("Environment",)),
    ("land grabs", ("Environment",)),
    ("a stolen election", ("Elections", "Democracy")),
    ("the war", ("Anti-war",)),
    ("bread price rises", ("Cost of living",)),
    ("pension cuts", ("Pensions", "Austerity")),
)

_WORKERS: tuple[str, ...] = (
    "bin workers", "bus drivers", "nurses", "teachers", "lecturers", "warehouse workers",
    "care workers", "rail workers", "junior doctors", "dockers", "cleaners",
    "civil servants", "postal workers", "firefighters", "library staff", "airport staff",
    "call centre workers", "delivery riders", "school support staff", "paramedics",
)  # fmt: skip

_EMPLOYERS: tuple[str, ...] = (
    "the council", "the hospital trust", "the university", "the bus company",
    "the parcel depot", "the airport", "the water company", "the college",
    "the call centre", "a care home chain", "the rail operator", "the port",
    "the distribution centre", "the academy trust",
)  # fmt: skip

_GRIEVANCES: tuple[Item, ...] = (
    ("pay", ("Pay",)),
    ("fire and rehire", ()),
    ("unsafe staffing", ("Health and safety",)),
    ("zero-hours contracts", ()),
    ("pensions", ("Pensions",)),
    ("job cuts", ()),
    ("the sacking of a union rep", ()),
    ("a below-inflation pay offer", ("Pay",)),
    ("bullying managers", ()),
    ("workloads", ()),
    ("sick pay", ("Pay",)),
    ("outsourcing", ("Public ownership",)),
    ("broken safety promises", ("Health and safety",)),
)

# (city, country, tags): one place is picked for both {fcity} and {country}, so
# a headline from Khartoum never gets a standfirst about Chile.
_PLACES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Buenos Aires", "Argentina", ("Latin America",)),
    ("Santiago", "Chile", ("Latin America",)),
    ("São Paulo", "Brazil", ("Latin America",)),
    ("La Paz", "Bolivia", ("Latin America",)),
    ("Mexico City", "Mexico", ("Latin America",)),
    ("Caracas", "Venezuela", ("Latin America",)),
    ("Nairobi", "Kenya", ("Africa",)),
    ("Lagos", "Nigeria", ("Africa",)),
    ("Khartoum", "Sudan", ("Africa",)),
    ("Johannesburg", "South Africa", ("Africa",)),
    ("Cairo", "Egypt", ("Middle East", "Africa")),
    ("Tunis", "Tunisia", ("Middle East", "Africa")),
    ("Beirut", "Lebanon", ("Middle East",)),
    ("Tehran", "Iran", ("Middle East",)),
    ("Baghdad", "Iraq", ("Middle East",)),
    ("Paris", "France", ("Europe",)),
    ("Athens", "Greece", ("Europe",)),
    ("Berlin", "Germany", ("Europe",)),
    ("Madrid", "Spain", ("Europe",)),
    ("Dhaka", "Bangladesh", ("Asia",)),
    ("Colombo", "Sri Lanka", ("Asia",)),
    ("Seoul", "South Korea", ("Asia",)),
    ("Jakarta", "Indonesia", ("Asia",)),
    ("Karachi", "Pakistan", ("Asia",)),
)

_WORKS: tuple[str, ...] = (
    "The Long Shift", "Bread and Roses", "Red Clydeside", "Night Buses", "The Picket",
    "Songs of the Valleys", "Concrete Estates", "A Rent Strike", "The Last Pit",
    "Salt and Iron", "Women of the Docks", "Our Streets", "The Occupation",
    "After the Flood", "Borderlands", "The Mill Girls", "Sisters in Arms",
    "Empire's End", "No Pasarán", "A Year of Strikes", "The Hunger Marchers",
    "Ghosts of the Shipyard", "Tower Block", "The Sweatshop",
)  # fmt: skip

_THEMES: tuple[Item, ...] = (
    ("work", ("Trade unions",)),
    ("empire", ("History",)),
    ("migration", ("Refugees",)),
    ("class", ("Marxism",)),
    ("resistance", ("History",)),
    ("grief", ()),
    ("the climate crisis", ("Climate",)),
    ("race", ("Anti-racism",)),
    ("housing", ("Housing",)),
)

_GENRES: tuple[Item, ...] = (
    ("folk music", ("Music",)),
    ("grime", ("Music",)),
    ("punk", ("Music",)),
    ("reggae", ("Music",)),
    ("kitchen sink drama", ("Theatre",)),
    ("social realist film", ("Film",)),
    ("the working-class novel", ("Books",)),
    ("political poster art", ("Art",)),
    ("protest songs", ("Music",)),
)

_ARTFORMS: tuple[Item, ...] = (
    ("Film", ("Film",)),
    ("Theatre", ("Theatre",)),
    ("Books", ("Books",)),
    ("Music", ("Music",)),
    ("Exhibition", ("Art",)),
    ("TV", ("Film",)),
)

#: Desks whose copy uses only their own sentences (a review should not read like a rally).
_OWN_VOICE = frozenset({"culture"})

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_FIRST_NAMES = (
    "Maria", "Dev", "Janet", "Kofi", "Sinéad", "Tariq", "Agnieszka", "Femi", "Carol",
    "Rhys", "Yasmin", "Pete", "Leila", "Marek", "Shona", "Ahmed", "Bev", "Nasrin",
)  # fmt: skip
_SURNAMES = (
    "Hughes", "Okoro", "Singh", "Kowalski", "McGuire", "Ali", "Evans", "Brennan", "Chowdhury",
    "Foster", "Nwosu", "Campbell", "Farah", "Doherty", "Price",
)  # fmt: skip

# The people quoted and credited in copy (not the bylines).
_NAMES: tuple[Item, ...] = tuple((f"{f} {s}", ()) for f in _FIRST_NAMES for s in _SURNAMES)

_POOLS: dict[str, tuple[Item, ...]] = {
    "city": tuple((c, ()) for c in _CITIES),
    "crowd": tuple((c, ()) for c in _CROWDS),
    "cause": _CAUSES,
    "abroad": _ABROAD,
    "workers": tuple((w, ()) for w in _WORKERS),
    "employer": tuple((e, ()) for e in _EMPLOYERS),
    "grievance": _GRIEVANCES,
    "work": tuple((w, ()) for w in _WORKS),
    "theme": _THEMES,
    "genre": _GENRES,
    "artform": _ARTFORMS,
    "name": _NAMES,
    "weekday": tuple((d, ()) for d in _WEEKDAYS),
}

# (template, tags every headline from it gets)
_HEADLINES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "news": (
        ("{Crowd} march in {city} against {cause}", ()),
        ("Protest in {city} as anger grows over {cause}", ()),
        ("Campaigners in {city} vow to fight {cause}", ()),
        ("{City} rally demands an end to {cause}", ()),
        ("Police attack peaceful protest against {cause} in {city}", ("Police",)),
        ("Victory for {city} campaigners over {cause}", ()),
        ("Government in chaos over {cause}", ("Tories",)),
        ("New figures expose the scale of {cause}", ()),
        ("Occupation in {city} against {cause} enters its second week", ()),
        ("{Crowd} in {city} say no to {cause}", ()),
    ),
    "international": (
        ("General strike shuts down {country}", ("Strikes",)),
        ("Mass protests in {fcity} defy government crackdown", ("Democracy",)),
        ("{Country}: workers take on austerity", ("Austerity",)),
        ("Solidarity grows with strikers in {country}", ("Strikes",)),
        ("Elections in {country}: what is at stake for the left", ("Elections",)),
        ("Students occupy universities across {country}", ("Students",)),
        ("Teachers in {fcity} strike for a living wage", ("Strikes", "Education")),
        ("Thousands rally in {fcity} against the war on Gaza", ("Palestine", "Anti-war")),
        ("{Fcity} protesters face down the riot police", ("Police",)),
        ("IMF deal sparks fury on the streets of {fcity}", ("Austerity",)),
        ("{Crowd} rally in {fcity} against {abroad}", ()),
        ("{Workers} in {country} strike over {grievance}", ("Strikes",)),
        ("{Country}: protests spread as anger at {abroad} grows", ()),
        ("Students in {fcity} lead the fight against {abroad}", ("Students",)),
        ("{Workers} in {fcity} defy ban to protest against {abroad}", ()),
    ),
    "comment": (
        ("Why {cause} is a class question", ()),
        ("The fight against {cause} can win", ()),
        ("Don't let them divide us over {cause}", ()),
        ("What the main parties won't say about {cause}", ("Labour Party",)),
        ("Lessons from the battle over {cause}", ()),
        ("{Cause}: proof that the system is broken", ("Marxism",)),
        ("Labour's silence on {cause} is no accident", ("Labour Party",)),
        ("The bosses want us to pay for {cause}", ()),
        ("Why {workers} should back the fight against {cause}", ("Trade unions",)),
        ("What {city} can teach us about beating {cause}", ()),
        ("From {fcity} to {city}, {cause} is a global story", ()),
    ),
    "features": (
        ("The long history of {cause}, and the fight against it", ("History",)),
        ("'We had no choice': {workers} on why they walked out", ("Strikes",)),
        ("How {city} organised against {cause}", ()),
        ("Interview: the {workers} who beat {grievance}", ("Trade unions",)),
        ("A people's history of {city}", ("History",)),
        ("Inside the {city} {workers}' strike", ("Strikes",)),
        ("When {city} stood up to the fascists", ("History", "Far right")),
        ("From {fcity} to {city}: the new generation of activists", ()),
    ),
    "culture": (
        ("Review: {work} brings {genre} back to life", ()),
        ("{Artform} review: {work}", ()),
        ("Books: {work} and the politics of {theme}", ("Books",)),
        ("The radical roots of {genre}", ("History",)),
        ("Film: {work} puts {workers} centre stage", ("Film",)),
        ("Exhibition in {city} celebrates a century of protest art", ("Art", "History")),
        ("{Work}: a story of {theme} told from below", ("Books",)),
        ("Why {genre} still matters", ()),
    ),
    "workplace": (
        ("{Workers} at {employer} vote to strike over {grievance}", ("Strikes",)),
        ("{Workers} in {city} walk out over {grievance}", ("Strikes",)),
        ("Strike ballot: {workers} reject {grievance}", ("Trade unions",)),
        ("Victory! {Workers} in {city} win on {grievance}", ("Strikes",)),
        ("{Workers} escalate action as bosses refuse to move on {grievance}", ("Strikes",)),
        ("Picket lines solid on day one of {city} {workers}' strike", ("Strikes",)),
        ("Union reps in {city} build for action over {grievance}", ("Trade unions",)),
        ("{Workers} at {employer} win the right to organise", ("Trade unions",)),
    ),
}

_STANDFIRSTS: dict[str, tuple[str, ...]] = {
    "news": (
        "{Crowd} joined the protest in {city} on {weekday}. Organisers say it is only the start.",
        "Campaigners in {city} say {cause} will hit the poorest hardest. They plan to stop it.",
        "Anger over {cause} is spilling onto the streets. {Name} reports from {city}.",
        "A new report lays bare the damage done by {cause} across {city}.",
    ),
    "international": (
        "The movement in {country} is growing. {Name} explains what is driving it.",
        "{Crowd} took to the streets of {fcity} on {weekday} in the biggest protest for years.",
        "Workers in {country} are refusing to pay for a crisis they did not cause.",
    ),
    "comment": (
        "{Cause} is no accident. It is a choice, and it can be reversed, argues {name}.",
        "The debate over {cause} is really about who pays. {Name} says we must fight back.",
        "We need a movement on the streets and in the workplaces, argues {name}.",
    ),
    "features": (
        "{Name} talks to the people of {city} about {cause} and the fight against it.",
        "A long read on how ordinary people in {city} changed history.",
        "Decades on, the lessons of {city} still matter. {Name} looks back.",
    ),
    "culture": (
        "{Name} on a new work that puts {workers} at the centre of the story.",
        "Funny, angry and beautifully made, this is one not to miss, writes {name}.",
        "A flawed but powerful look at {theme}, reviewed by {name}.",
    ),
    "workplace": (
        "{Workers} in {city} say they have had enough of {grievance}. Bosses are rattled.",
        "The ballot result is a huge vote of confidence in the union, says {name}.",
        "Strikers at {employer} are calling for solidarity. Here is how to help.",
    ),
}

# Body sentences: the general ones suit any desk, the rest lend each desk its voice.
_SENTENCES: dict[str, tuple[str, ...]] = {
    "": (
        "“We are not going to back down,” said {name}, who has lived in {city} for twenty years.",
        "Organisers said it was the biggest turnout they had seen in years.",
        "The government insists there is no money, yet it found billions for the banks.",
        "Speaking to the paper, one campaigner said the mood had changed in recent weeks.",
        "A further meeting is planned for next {weekday}, and everyone is welcome.",
        "Local trade unionists brought banners and collected money for the strike fund.",
        "“This is about the kind of society we want to live in,” said {name}.",
        "Supporters have set up a fundraiser and are calling for messages of solidarity.",
        "Ministers have refused to meet the campaigners, who say they will not be ignored.",
        "The council claims its hands are tied, but few people believe that any more.",
        "Many of those taking part had never been on a protest before.",
        "Messages of support came in from across the country and from abroad.",
        "They know that the only thing that has ever won anything is collective action.",
        "The next step is a national demonstration in {city} later this month.",
    ),
    "international": (
        "Protesters in {fcity} chanted against the government late into the night.",
        "The regime has tried to blame foreign agents, but nobody is convinced.",
        "Unions in {country} say they will keep striking until their demands are met.",
        "Prices have doubled in a year while wages have barely moved.",
        "Solidarity protests have been called in {city} and other cities.",
    ),
    "workplace": (
        "Pickets were out from six in the morning, and drivers honked in support.",
        "The union says the row over {grievance} is the last straw after years of cuts.",
        "Management tried to bring in agency staff, but the picket turned them away.",
        "The ballot saw a turnout of more than 70 percent, smashing the legal threshold.",
        "{Workers} in other towns are watching this dispute closely.",
        "A rep said bosses had made millions in profits while offering a real-terms pay cut.",
    ),
    "culture": (
        "The performances are superb, and the script never talks down to its audience.",
        "It is a story about {theme}, told with wit and with fury.",
        "There are weaker moments in the middle, but the final act is devastating.",
        "The director grew up in {city} and it shows in every scene.",
        "It runs until the end of the month, and tickets are cheap on weekdays.",
        "Go and see it, and take a friend who thinks politics is boring.",
        "The critics have been sniffy, which is usually a good sign.",
        "Its working-class characters are neither saints nor victims, just people.",
        "The soundtrack alone is worth the price of admission.",
        "It was made on a shoestring, and the rough edges only add to it.",
        "{Name}, who plays the lead, is a revelation.",
        "Some of the best scenes are set in a {city} launderette.",
    ),
    "comment": (
        "The argument that there is no alternative has been heard many times before.",
        "Every gain working people have made was won by struggle, not handed down.",
        "We should be clear about who benefits from {cause}, and who pays.",
        "The left needs to be bold, confident and rooted in the workplaces.",
    ),
}

_LINK_LEADS = (
    "Read more:",
    "We reported earlier:",
    "See also",
    "Background:",
    "This follows our report,",
    "Related:",
)

# (file stem, caption, alt) of the photo library the demo pretends to have.
_PHOTOS: tuple[tuple[str, str, str], ...] = (
    ("picket-line", "On the picket line", "Strikers in hi-vis jackets holding union placards"),
    ("march-banner", "The march sets off", "A large banner at the front of a street march"),
    ("rally-crowd", "The rally heard from strikers", "A crowd listening to a speaker"),
    ("tenants-meeting", "A packed tenants' meeting", "People seated in a community hall"),
    ("hospital-protest", "Health workers protest", "Nurses with placards outside a hospital"),
    ("climate-strike", "The climate strike", "Young people with hand-painted signs"),
    ("gaza-vigil", "A vigil for Gaza", "Candles and flags at an evening vigil"),
    ("bus-depot", "Outside the bus depot", "Parked buses behind a line of pickets"),
    ("university-occupation", "Students in occupation", "Students with banners in a lecture hall"),
    ("refugee-welcome", "Refugees welcome", "A 'refugees welcome' banner held by protesters"),
    ("book-stall", "The paper's stall", "Newspapers and leaflets laid out on a stall"),
    ("theatre-stage", "On stage", "Actors performing on a dimly lit stage"),
    ("gig-crowd", "The crowd at the gig", "A crowd with raised hands in front of a stage"),
    ("dock-gates", "At the dock gates", "Workers gathered by large industrial gates"),
    ("council-chamber", "Protest at the council meeting", "Campaigners in a public gallery"),
    ("warehouse-walkout", "The walkout", "Warehouse workers standing outside a loading bay"),
)


# -- pre-rendering ------------------------------------------------------------


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
                picks["fcity"], picks["country"], implied = rng.choice(_PLACES)
            else:
                picks[key], implied = rng.choice(_POOLS[key])
            if index == 0:
                tags.extend(implied)
    values = dict(picks)
    values.update({k[:1].upper() + k[1:]: v[:1].upper() + v[1:] for k, v in picks.items()})
    return [t.format(**values) for t in templates], tags


Headline = tuple[str, str, tuple[int, ...], str]


@dataclass(frozen=True)
class _Desk:
    """Everything an article of one section is drawn from, rendered in advance."""

    section: str | None
    #: (title, slug stem, sorted tag ids, standfirst); distinct titles, random order.
    headlines: tuple[Headline, ...]
    #: (opening paragraph, the rest); the per-article link goes between them.
    bodies: tuple[tuple[str, str], ...]
    #: Author-id tuples in byline order, drawn with this desk's regulars favoured.
    bylines: tuple[tuple[int, ...], ...]


def _figure(rng: random.Random) -> str:
    stem, _caption, alt = rng.choice(_PHOTOS)
    name = f"{stem}-{rng.randrange(1, 40)}"
    return (
        f'<p><img src="/images/{name}.jpg" srcset="/images/{name}-640.jpg 640w, '
        f'/images/{name}-1280.jpg 1280w" alt="{html.escape(alt)}"></p>'
    )


def _desk(
    rng: random.Random,
    sizes: tuple[int, int],
    key: str,
    section: str | None,
    tag_ids: dict[str, int],
    desk_tags: list[int],
    regulars: list[int],
    everyone: list[int],
) -> _Desk:
    """Render one section's pools; ``key`` picks the voice, ``section`` is what is stored.

    ``sizes`` is (distinct headlines wanted, entries in every other pool).
    """
    wanted, pool = sizes
    templates = _HEADLINES.get(key, _HEADLINES["news"])
    standfirst_templates = _STANDFIRSTS.get(key, _STANDFIRSTS["news"])
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
    sentence_templates = _SENTENCES.get(key, ())
    if key not in _OWN_VOICE:
        sentence_templates += _SENTENCES[""]
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
    return _Desk(
        section=section,
        headlines=tuple(headlines),
        bodies=tuple(bodies),
        bylines=tuple(bylines),
    )


def _lead_images(
    rng: random.Random, pool: int, root: str
) -> tuple[tuple[str, str, str] | None, ...]:
    """Lead images for most articles: some relative, some absolute, ~15% none."""
    images: list[tuple[str, str, str] | None] = []
    for _ in range(pool):
        if rng.random() < 0.15:
            images.append(None)
            continue
        stem, caption, alt = rng.choice(_PHOTOS)
        path = f"/images/{stem}-{rng.randrange(1, 40)}.jpg"
        url = f"{root}{path}" if rng.random() < 0.3 else path
        credit = rng.choice(_NAMES)[0]
        images.append((url, f"{caption} (Picture: {credit})", alt))
    return tuple(images)


# -- the plan -----------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """The fixed frame of the publication: who writes, which weeks, which tags."""

    authors: list[tuple[int, str, str, str]]
    tags: list[tuple[int, str, str]]
    issues: list[tuple[int, str, str]]
    desks: list[_Desk]
    #: 64 slots of desk indexes, so one ``getrandbits(6)`` picks a section by weight.
    desk_table: tuple[int, ...]
    lead_images: tuple[tuple[str, str, str] | None, ...]
    #: Seconds since ``epoch`` of each article, in id order.
    times: list[int]
    epoch: datetime
    first_issue: int
    drafts: frozenset[int]
    latest_published: int
    #: Bits that pick from the desks' bodies and bylines and from the lead images.
    bits: int


_DESK_WEIGHTS = {
    "news": 20,
    "workplace": 12,
    "international": 12,
    "comment": 9,
    "features": 5,
    "culture": 6,
}


def _weighted_slots(weights: Sequence[int], slots: int) -> tuple[int, ...]:
    """Indexes repeated in proportion to ``weights`` (largest remainder), filling ``slots``.

    Drawn at random, 64 slots can skew a section by half; apportioned, the
    shares come out as configured at every size.
    """
    total = sum(weights)
    exact = [w * slots / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: slots - sum(counts)]:
        counts[i] += 1
    return tuple(i for i, n in enumerate(counts) for _ in range(n))


def _plan(config: Config, articles: int, now: datetime, rng: random.Random) -> _Plan:
    """Decide everything that is not per-article text: the frame all chunks share."""
    root = config.site.root
    bits = max(6, min(_POOL_BITS, (articles - 1).bit_length()))
    sizes = (max(64, min(_HEADLINES_PER_DESK, articles)), 1 << bits)
    authors: list[tuple[int, str, str, str]] = []
    slugs: set[str] = set()
    for i, (name, _desk_key, bio) in enumerate(_AUTHORS, start=1):
        slug = slugify(name)
        if slug in slugs:
            raise AssertionError(f"demo author slug {slug!r} is not unique")
        slugs.add(slug)
        authors.append((i, slug, name, bio))
    tags = [(i, slugify(name), name) for i, (name, _) in enumerate(_TAGS, start=1)]
    tag_ids = {name: i for i, (name, _) in enumerate(_TAGS, start=1)}

    # Sections: known slugs get their own voice; unknown ones borrow the news voice.
    sections: list[str | None] = [s.slug for s in config.sections] or [None]
    keys = [s if s in _HEADLINES else "news" for s in sections]
    everyone = [a[0] for a in authors]
    desks: list[_Desk] = []
    for index, (section, key) in enumerate(zip(sections, keys, strict=True)):
        regulars = [a for a, (_, d, _) in zip(everyone, _AUTHORS, strict=True) if d == section]
        if not regulars:  # an unfamiliar section gets a share of everyone, round-robin
            regulars = everyone[index :: len(sections)] or everyone
        desk_tags = [tag_ids[n] for n, desks_of in _TAGS if key in desks_of]
        desks.append(_desk(rng, sizes, key, section, tag_ids, desk_tags, regulars, everyone))
    desk_table = _weighted_slots([_DESK_WEIGHTS.get(s or "", 8) for s in sections], 64)

    # Weeks run Monday to Sunday; the week holding ``now`` carries LAST_ISSUE.
    # At least two weeks, so a ``now`` early on a Monday still leaves working hours behind it.
    weeks = max(2, min(LAST_ISSUE, -(-articles // ARTICLES_PER_WEEK)))
    today = now.date()
    epoch_day = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    epoch = datetime(epoch_day.year, epoch_day.month, epoch_day.day, tzinfo=UTC)
    first_issue = LAST_ISSUE - weeks + 1

    scheduled = min(1 + rng.getrandbits(1) + rng.getrandbits(1), articles - 1)
    past = articles - scheduled
    end = int((now - epoch).total_seconds()) - 1200  # the newest piece is 20 minutes old
    days = end // 86400 + 1
    times: list[int] = []
    randrange = rng.randrange
    while len(times) < past:
        # Between 06:00 and 23:00, as a newsroom works; resample past the end.
        moment = randrange(days) * 86400 + 21600 + randrange(61200)
        if moment <= end:
            times.append(moment)
    times.sort()
    base = int((now - epoch).total_seconds())
    times += sorted(base + rng.randrange(2 * 3600, 4 * 86400) for _ in range(scheduled))

    last_week = times[-1] // 604800 if times else 0
    issues = []
    for week in range(last_week + 1):
        number = first_issue + week
        day = (epoch + timedelta(days=7 * week + 3)).date()  # the paper is out on Thursday
        issues.append((number, day.isoformat(), f"{root}/pdf/issue-{number}.pdf"))

    draft_count = min(max(1, articles // 400), max(past - 1, 0))
    recent = range(max(1, past - 20 * draft_count), past + 1)
    drafts = frozenset(rng.sample(recent, min(draft_count, len(recent))))
    return _Plan(
        authors=authors,
        tags=tags,
        issues=issues,
        desks=desks,
        desk_table=desk_table,
        lead_images=_lead_images(rng, 1 << bits, root),
        times=times,
        epoch=epoch,
        first_issue=first_issue,
        drafts=drafts,
        latest_published=past,
        bits=bits,
    )


# -- the rows -----------------------------------------------------------------

ArticleRow = tuple[int, str, str, str, str, str | None, int, str, str, str | None, str, str, str]
Chunk = tuple[list[ArticleRow], list[tuple[int, int, int, str]], list[tuple[int, int, str]]]


def _clock(epoch: datetime, seconds: int) -> Callable[[int], str]:
    """A fast formatter for seconds since ``epoch`` in the store's time format.

    ``strftime`` per row would cost more than the insert; date prefixes per
    day and a table of the 86,400 times of day make it two lookups.
    """
    days = seconds // 86400 + 2
    prefixes = [(epoch + timedelta(days=d)).strftime("%Y-%m-%dT") for d in range(days)]
    times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(86400)]

    def spell(moment: int) -> str:
        day, second = divmod(moment, 86400)
        return prefixes[day] + times[second]

    return spell


def _chunks(plan: _Plan, config: Config, rng: random.Random, size: int) -> Iterator[Chunk]:
    """Yield the rows of every article, ``size`` articles at a time, in id order."""
    times = plan.times
    total = len(times)
    spell = _clock(plan.epoch, times[-1] + 4 * 86400 if times else 0)
    getrandbits = rng.getrandbits
    desks = plan.desks
    desk_table = plan.desk_table
    lead_images = plan.lead_images
    drafts = plan.drafts
    latest = plan.latest_published
    first_issue = plan.first_issue
    bits = plan.bits
    article_path = config.site.article_path
    cursors = [0] * len(desks)
    recent: list[tuple[str, str]] = []  # (path, title) of the last 256 published
    for start in range(0, total, size):
        articles: list[ArticleRow] = []
        bylines: list[tuple[int, int, int, str]] = []
        tagged: list[tuple[int, int, str]] = []
        for index in range(start, min(start + size, total)):
            aid = index + 1
            moment = times[index]
            published = spell(moment)
            desk_index = desk_table[getrandbits(6)]
            desk = desks[desk_index]
            headlines = desk.headlines
            title, stem, tags, standfirst = headlines[cursors[desk_index] % len(headlines)]
            cursors[desk_index] += 1
            slug = f"{stem}-{aid}"
            if recent:
                path, linked = recent[getrandbits(8) % len(recent)]
                link = (
                    f'\n<p>{_LINK_LEADS[getrandbits(8) % 6]} <a href="{path}">'
                    f"{html.escape(linked, quote=False)}</a></p>\n"
                )
            else:
                link = "\n"
            opening, rest = desk.bodies[getrandbits(bits)]
            body = opening + link + rest
            if getrandbits(4) == 0 and aid <= latest:  # a correction, a little later
                updated = spell(min(moment + 600 + getrandbits(17), times[latest - 1]))
            else:
                updated = published
            image = lead_images[getrandbits(bits)]
            status = "draft" if aid in drafts else "published"
            articles.append(
                (
                    aid,
                    slug,
                    title,
                    standfirst,
                    body,
                    desk.section,
                    first_issue + moment // 604800,
                    published,
                    updated,
                    image[0] if image else None,
                    image[1] if image else "",
                    image[2] if image else "",
                    status,
                )
            )
            byline = desk.bylines[getrandbits(bits)]
            for position, author in enumerate(byline):
                bylines.append((aid, position, author, published))
            for tag in tags:
                tagged.append((aid, tag, published))
            if status == "published" and aid <= latest:
                entry = (article_path.replace("{slug}", slug).replace("{id}", str(aid)), title)
                if len(recent) < 256:
                    recent.append(entry)
                else:
                    recent[aid & 255] = entry
        yield articles, bylines, tagged


# -- writing the file ---------------------------------------------------------


def _uri(path: Path, mode: str) -> str:
    """A SQLite URI for ``path``, percent-escaped so '?', '#' or '%' in a folder name are safe."""
    return f"{path.resolve().as_uri()}?mode={mode}"


def _count_articles(path: Path) -> int | None:
    """Articles in an existing file: 0 for an empty or article-less file, None if not SQLite.

    Opened read-write but query-only: a read-only connection to a WAL store
    leaves ``-wal`` and ``-shm`` files behind, and a refusal must leave the
    folder exactly as it found it.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        conn = sqlite3.connect(_uri(path, "rw"), uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA query_only = ON")
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        if ("articles",) not in tables:
            return 0
        return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


def _retire_wal(path: Path) -> None:
    """Fold the target's WAL into it, then delete the ``-wal`` and ``-shm`` files.

    A WAL left beside the target would be replayed into the new file and
    corrupt it, so it must go before the rename; checkpointing first means
    that if the rename then fails, the old store has lost nothing.
    """
    if Path(f"{path}-wal").exists():
        try:
            conn = sqlite3.connect(_uri(path, "rw"), uri=True, isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # not a store we can read: it is being replaced all the same
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _fill_file(
    tmp: Path,
    config: Config,
    plan: _Plan,
    rng: random.Random,
    progress: Callable[[int], None] | None,
) -> None:
    """Bulk-load a freshly migrated file, then give it back its indexes and triggers."""
    Store.open(tmp).close()
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        # No journal and no syncs: if anything goes wrong the file is thrown away.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        # 256 MiB: enough to keep the randomly-filled slug index hot at a million
        # articles, small enough for a laptop; more bought nothing measurable.
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA threads = 2")
        saved = conn.execute(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
        conn.execute("BEGIN")
        for kind, name, _sql in saved:
            conn.execute(f'DROP {kind.upper()} "{name}"')
        conn.executemany(
            "INSERT INTO authors (id, slug, name, bio) VALUES (?, ?, ?, ?)", plan.authors
        )
        conn.executemany("INSERT INTO tags (id, slug, name) VALUES (?, ?, ?)", plan.tags)
        conn.executemany(
            "INSERT INTO print_issues (number, date, pdf_url) VALUES (?, ?, ?)", plan.issues
        )
        for articles, bylines, tagged in _chunks(plan, config, rng, CHUNK):
            conn.executemany(
                "INSERT INTO articles (id, slug, title, standfirst, body, section, issue, "
                "published, updated, image_url, image_caption, image_alt, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                articles,
            )
            # The fill triggers are gone, so the copied ``published`` comes with the row.
            conn.executemany(
                "INSERT INTO article_authors (article_id, position, author_id, published) "
                "VALUES (?, ?, ?, ?)",
                bylines,
            )
            conn.executemany(
                "INSERT INTO article_tags (article_id, tag_id, published) VALUES (?, ?, ?)",
                tagged,
            )
            if progress is not None:
                progress(len(articles))
        # Explicit ids already moved the AUTOINCREMENT counter; say so outright anyway.
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'articles'")
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('articles', ?)", (len(plan.times),)
        )
        for _kind, _name, sql in saved:
            conn.execute(sql)
        # The counting triggers were gone too; the feed counts are rebuilt in one pass.
        for statement in statements(RECOUNT):
            conn.execute(statement)
        conn.execute("COMMIT")
        conn.execute("PRAGMA locking_mode = NORMAL")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"could not switch the demo store to WAL (got {mode})")
    finally:
        conn.close()


def generate_demo(
    path: Path,
    config: Config,
    *,
    articles: int = 2400,
    now: datetime,
    replace: bool = False,
    seed: int = 2094,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Write a demo publication of ``articles`` articles to the store at ``path``.

    ``now`` anchors the calendar (the newest article is a little older, one
    to three are scheduled a little after), so the same seed and ``now``
    always give the same file. An existing store with articles is only
    replaced when ``replace`` is true; anything else raises
    :class:`DemoRefused` and leaves the file alone.
    """
    if articles < 1:
        raise ValueError(f"a demo needs at least one article, got {articles}")
    if now.tzinfo is None:
        raise ValueError("naive datetime given as now; attach a time zone first")
    started = time.monotonic()
    path = Path(path)
    if open_elsewhere(path):
        raise DemoRefused(
            f"{path} is open in another process (a running `syndicate serve`?); "
            "stop it before replacing the store"
        )
    if not replace:
        found = _count_articles(path)
        if found is None:
            raise DemoRefused(
                f"{path} exists and is not a syndicate store; pass --replace to overwrite"
            )
        if found:
            raise DemoRefused(f"{path} already holds {found} articles; pass --replace to overwrite")
    rng = random.Random(seed)
    plan = _plan(config, articles, now.astimezone(UTC).replace(microsecond=0), rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    _remove(tmp)
    try:
        _fill_file(tmp, config, plan, rng, progress)
        _retire_wal(path)
        os.replace(tmp, path)
    finally:
        _remove(tmp)
    return DemoReport(
        articles=len(plan.times),
        authors=len(plan.authors),
        issues=len(plan.issues),
        tags=len(plan.tags),
        seconds=time.monotonic() - started,
    )


__all__ = ["DemoRefused", "DemoReport", "generate_demo"]

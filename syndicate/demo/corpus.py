"""The demo's corpus: the people, tags, places, words and photos it writes about.

Pure data, kept apart from the code that uses it, so that making the demo
read differently (other bylines, another country's cities, a new desk's
topics) means editing tuples in one file and touching no logic. The order of
every tuple matters: :mod:`syndicate.demo.render` picks from them with the
demo's seeded generator, so editing, adding or reordering an entry changes
the publication every seed gives.
"""

from __future__ import annotations

# -- the people ---------------------------------------------------------------

# (name, desk, bio). The desk decides which sections an author mostly writes
# for; the mix of scripts is deliberate, to exercise slugs, XML and fonts.
AUTHORS: tuple[tuple[str, str, str], ...] = (
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
TAGS: tuple[tuple[str, tuple[str, ...]], ...] = (
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

CITIES: tuple[str, ...] = (
    "Glasgow", "Manchester", "Liverpool", "Leeds", "Sheffield", "Birmingham", "Bristol",
    "Cardiff", "Newcastle", "Nottingham", "Edinburgh", "Belfast", "Swansea", "Leicester",
    "Brighton", "Norwich", "Hull", "Dundee", "London", "Coventry", "Bradford", "Plymouth",
    "Southampton", "Derry", "Aberdeen", "Stoke", "Preston", "Sunderland",
)  # fmt: skip

CROWDS: tuple[str, ...] = (
    "thousands", "hundreds", "tens of thousands", "crowds", "students", "tenants",
    "nurses", "campaigners", "residents", "pensioners", "school students", "parents",
)  # fmt: skip

CAUSES: tuple[Item, ...] = (
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

ABROAD: tuple[Item, ...] = (
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

WORKERS: tuple[str, ...] = (
    "bin workers", "bus drivers", "nurses", "teachers", "lecturers", "warehouse workers",
    "care workers", "rail workers", "junior doctors", "dockers", "cleaners",
    "civil servants", "postal workers", "firefighters", "library staff", "airport staff",
    "call centre workers", "delivery riders", "school support staff", "paramedics",
)  # fmt: skip

EMPLOYERS: tuple[str, ...] = (
    "the council", "the hospital trust", "the university", "the bus company",
    "the parcel depot", "the airport", "the water company", "the college",
    "the call centre", "a care home chain", "the rail operator", "the port",
    "the distribution centre", "the academy trust",
)  # fmt: skip

GRIEVANCES: tuple[Item, ...] = (
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
PLACES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
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

WORKS: tuple[str, ...] = (
    "The Long Shift", "Bread and Roses", "Red Clydeside", "Night Buses", "The Picket",
    "Songs of the Valleys", "Concrete Estates", "A Rent Strike", "The Last Pit",
    "Salt and Iron", "Women of the Docks", "Our Streets", "The Occupation",
    "After the Flood", "Borderlands", "The Mill Girls", "Sisters in Arms",
    "Empire's End", "No Pasarán", "A Year of Strikes", "The Hunger Marchers",
    "Ghosts of the Shipyard", "Tower Block", "The Sweatshop",
)  # fmt: skip

THEMES: tuple[Item, ...] = (
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

GENRES: tuple[Item, ...] = (
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

ARTFORMS: tuple[Item, ...] = (
    ("Film", ("Film",)),
    ("Theatre", ("Theatre",)),
    ("Books", ("Books",)),
    ("Music", ("Music",)),
    ("Exhibition", ("Art",)),
    ("TV", ("Film",)),
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST_NAMES = (
    "Maria", "Dev", "Janet", "Kofi", "Sinéad", "Tariq", "Agnieszka", "Femi", "Carol",
    "Rhys", "Yasmin", "Pete", "Leila", "Marek", "Shona", "Ahmed", "Bev", "Nasrin",
)  # fmt: skip
SURNAMES = (
    "Hughes", "Okoro", "Singh", "Kowalski", "McGuire", "Ali", "Evans", "Brennan", "Chowdhury",
    "Foster", "Nwosu", "Campbell", "Farah", "Doherty", "Price",
)  # fmt: skip

# The people quoted and credited in copy (not the bylines).
NAMES: tuple[Item, ...] = tuple((f"{f} {s}", ()) for f in FIRST_NAMES for s in SURNAMES)

POOLS: dict[str, tuple[Item, ...]] = {
    "city": tuple((c, ()) for c in CITIES),
    "crowd": tuple((c, ()) for c in CROWDS),
    "cause": CAUSES,
    "abroad": ABROAD,
    "workers": tuple((w, ()) for w in WORKERS),
    "employer": tuple((e, ()) for e in EMPLOYERS),
    "grievance": GRIEVANCES,
    "work": tuple((w, ()) for w in WORKS),
    "theme": THEMES,
    "genre": GENRES,
    "artform": ARTFORMS,
    "name": NAMES,
    "weekday": tuple((d, ()) for d in WEEKDAYS),
}

# -- photos ------------------------------------------------------------------

# (file stem, caption, alt) of the photo library the demo pretends to have.
PHOTOS: tuple[tuple[str, str, str], ...] = (
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

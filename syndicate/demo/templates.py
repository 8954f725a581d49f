"""The demo's voice: headline, standfirst and body-sentence templates per desk.

Each desk (news, international, comment, features, culture, workplace)
writes in its own register, so its feed reads like that section of a paper
rather than one mixed bag. A template names the pools of
:mod:`syndicate.demo.corpus` it draws from as format fields; a field spelt
with a capital ("{Workers}") capitalises the first letter of the pick, so
one pool serves both the start and the middle of a sentence.

Kept apart from the corpus because the two change for different reasons:
the corpus is *what* the paper covers, this is *how* it says it. As there,
order matters: templates are picked by position with the seeded generator.
"""

from __future__ import annotations

#: Desks whose copy uses only their own sentences (a review should not read like a rally).
OWN_VOICE = frozenset({"culture"})

# (template, tags every headline from it gets)
HEADLINES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
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

STANDFIRSTS: dict[str, tuple[str, ...]] = {
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
SENTENCES: dict[str, tuple[str, ...]] = {
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

LINK_LEADS = (
    "Read more:",
    "We reported earlier:",
    "See also",
    "Background:",
    "This follows our report,",
    "Related:",
)

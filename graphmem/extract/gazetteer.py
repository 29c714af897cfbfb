"""Gazetteers for the rule-based pipeline: places, groups, holidays, first names, nicknames.

Lists are lower-case and deliberately modest: countries, US states, major world cities,
continents and well-known regions, nationalities and religions, holidays and big events,
common English first names and the usual English nicknames. They label capitalised names
that the rule-based pipeline finds; they are not meant to find names on their own.
"""

from __future__ import annotations

__all__ = [
    "CITIES",
    "COUNTRIES",
    "EVENT_WORDS",
    "FIRST_NAMES",
    "HOLIDAYS",
    "NAME_CONNECTORS",
    "NICKNAMES",
    "NORP",
    "ORG_WORDS",
    "PLACE_WORDS",
    "REGIONS",
    "US_STATES",
    "place_label",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _lines(text: str) -> frozenset[str]:
    return frozenset(line.strip() for line in text.replace(",", "\n").splitlines() if line.strip())


COUNTRIES = _lines("""
afghanistan, albania, algeria, andorra, angola, antigua and barbuda, argentina, armenia,
australia, austria, azerbaijan, bahamas, the bahamas, bahrain, bangladesh, barbados, belarus,
belgium, belize, benin, bhutan, bolivia, bosnia, bosnia and herzegovina, botswana, brazil,
brunei, bulgaria, burkina faso, burundi, cambodia, cameroon, canada, cape verde,
central african republic, chad, chile, china, colombia, comoros, congo, costa rica,
croatia, cuba, cyprus, czech republic, czechia, denmark, djibouti, dominica,
dominican republic, ecuador, egypt, el salvador, england, equatorial guinea, eritrea,
estonia, eswatini, ethiopia, fiji, finland, france, gabon, gambia, georgia, germany, ghana,
great britain, greece, grenada, guatemala, guinea, guyana, haiti, holland, honduras,
hong kong, hungary, iceland, india, indonesia, iran, iraq, ireland, israel, italy,
ivory coast, jamaica, japan, jordan, kazakhstan, kenya, kiribati, korea, south korea,
north korea, kosovo, kuwait, kyrgyzstan, laos, latvia, lebanon, lesotho, liberia, libya,
liechtenstein, lithuania, luxembourg, madagascar, malawi, malaysia, maldives, mali, malta,
mauritania, mauritius, mexico, micronesia, moldova, monaco, mongolia, montenegro, morocco,
mozambique, myanmar, burma, namibia, nauru, nepal, netherlands, the netherlands,
new zealand, nicaragua, niger, nigeria, north macedonia, northern ireland, norway, oman,
pakistan, palau, palestine, panama, papua new guinea, paraguay, peru, philippines,
the philippines, poland, portugal, puerto rico, qatar, romania, russia, rwanda, samoa,
san marino, saudi arabia, scotland, senegal, serbia, seychelles, sierra leone, singapore,
slovakia, slovenia, solomon islands, somalia, south africa, south sudan, spain, sri lanka,
sudan, suriname, sweden, switzerland, syria, taiwan, tajikistan, tanzania, thailand,
timor-leste, togo, tonga, trinidad, trinidad and tobago, tunisia, turkey, turkiye,
turkmenistan, tuvalu, uganda, ukraine, united arab emirates, uae, united kingdom, uk,
united states, united states of america, usa, us, u.s., u.s.a., america, uruguay,
uzbekistan, vanuatu, vatican, venezuela, vietnam, wales, yemen, zambia, zimbabwe,
tibet, greenland, cuba, bali, sicily, sardinia, corsica, crete, tasmania
""")

US_STATES = _lines("""
alabama, alaska, arizona, arkansas, california, colorado, connecticut, delaware, florida,
georgia, hawaii, idaho, illinois, indiana, iowa, kansas, kentucky, louisiana, maine,
maryland, massachusetts, michigan, minnesota, mississippi, missouri, montana, nebraska,
nevada, new hampshire, new jersey, new mexico, new york state, north carolina,
north dakota, ohio, oklahoma, oregon, pennsylvania, rhode island, south carolina,
south dakota, tennessee, texas, utah, vermont, virginia, washington state, west virginia,
wisconsin, wyoming, ontario, quebec, british columbia, alberta, manitoba, nova scotia,
saskatchewan, queensland, new south wales, victoria, bavaria, catalonia, tuscany,
andalusia, provence, normandy, brittany, punjab, kerala, goa
""")

CITIES = _lines("""
new york, new york city, nyc, los angeles, la, chicago, houston, phoenix, philadelphia,
san antonio, san diego, dallas, san jose, austin, jacksonville, fort worth, columbus,
charlotte, san francisco, indianapolis, seattle, denver, washington, washington dc,
washington d.c., dc, boston, el paso, nashville, detroit, oklahoma city, portland,
las vegas, vegas, memphis, louisville, baltimore, milwaukee, albuquerque, tucson, fresno,
sacramento, kansas city, mesa, atlanta, omaha, colorado springs, raleigh, miami,
long beach, virginia beach, oakland, minneapolis, tulsa, tampa, arlington, new orleans,
wichita, cleveland, bakersfield, aurora, anaheim, honolulu, santa ana, riverside,
corpus christi, lexington, pittsburgh, anchorage, stockton, cincinnati, saint paul,
st. paul, toledo, greensboro, newark, plano, henderson, lincoln, buffalo, orlando,
jersey city, chula vista, fort wayne, st. louis, saint louis, st louis, madison, durham,
lubbock, irvine, laredo, reno, scottsdale, boise, salt lake city, savannah, charleston,
santa fe, santa barbara, santa monica, malibu, palm springs, key west, napa, aspen,
brooklyn, manhattan, queens, the bronx, bronx, staten island, hollywood, berkeley,
cambridge, princeton, ann arbor, providence, hartford, burlington, asheville, sedona,
toronto, montreal, vancouver, ottawa, calgary, edmonton, winnipeg, quebec city, halifax,
mexico city, cancun, guadalajara, monterrey, tijuana, havana, san juan, kingston,
rio de janeiro, rio, sao paulo, são paulo, buenos aires, lima, bogota, bogotá, santiago,
caracas, quito, montevideo, la paz, medellin, medellín, cusco, cartagena,
london, manchester, liverpool, birmingham, leeds, glasgow, edinburgh, bristol, oxford,
brighton, belfast, dublin, cork, paris, lyon, marseille, nice, bordeaux, toulouse,
strasbourg, berlin, munich, hamburg, frankfurt, cologne, stuttgart, düsseldorf, dusseldorf,
dresden, leipzig, vienna, salzburg, zurich, zürich, geneva, bern, basel, lucerne,
amsterdam, rotterdam, the hague, brussels, antwerp, bruges, luxembourg city, copenhagen,
stockholm, gothenburg, oslo, bergen, helsinki, reykjavik, reykjavík, madrid, barcelona,
seville, valencia, granada, malaga, málaga, ibiza, mallorca, majorca, lisbon, porto,
rome, milan, naples, florence, venice, turin, bologna, verona, pisa, palermo, athens,
santorini, mykonos, istanbul, ankara, prague, budapest, warsaw, krakow, kraków, bucharest,
sofia, belgrade, zagreb, dubrovnik, split, ljubljana, bratislava, tallinn, riga, vilnius,
kyiv, kiev, moscow, st. petersburg, saint petersburg, minsk, tbilisi, yerevan, baku,
cairo, alexandria, casablanca, marrakech, marrakesh, tunis, lagos, abuja, accra, nairobi,
addis ababa, dar es salaam, kampala, kigali, johannesburg, cape town, durban, zanzibar,
dubai, abu dhabi, doha, riyadh, jeddah, mecca, medina, tehran, baghdad, beirut, damascus,
amman, jerusalem, tel aviv, mumbai, bombay, delhi, new delhi, bangalore, bengaluru,
chennai, kolkata, calcutta, hyderabad, pune, jaipur, agra, varanasi, karachi, lahore,
islamabad, dhaka, kathmandu, colombo, beijing, shanghai, guangzhou, shenzhen, chengdu,
xi'an, hangzhou, hong kong, macau, taipei, tokyo, osaka, kyoto, hiroshima, nagoya,
sapporo, yokohama, seoul, busan, pyongyang, bangkok, chiang mai, phuket, hanoi,
ho chi minh city, saigon, phnom penh, siem reap, vientiane, yangon, kuala lumpur,
singapore, jakarta, manila, cebu, sydney, melbourne, brisbane, perth, adelaide,
canberra, auckland, wellington, christchurch, queenstown, fiji, honolulu, maui
""")

REGIONS = _lines("""
europe, asia, africa, north america, south america, latin america, central america,
antarctica, australia, oceania, the middle east, middle east, the caribbean, caribbean,
scandinavia, the balkans, balkans, the mediterranean, mediterranean, southeast asia,
east asia, western europe, eastern europe, the midwest, midwest, new england,
the west coast, west coast, the east coast, east coast, the south, the bay area, bay area,
silicon valley, the alps, alps, the himalayas, himalayas, the rockies, rockies,
the rocky mountains, rocky mountains, the andes, andes, the sahara, sahara, the amazon,
the pacific, pacific, the atlantic, atlantic, the arctic, arctic, the outback, outback,
grand canyon, the grand canyon, yellowstone, yosemite, niagara falls, mount everest,
everest, kilimanjaro, mount fuji, lake tahoe, tahoe, the great barrier reef, great lakes,
the great lakes, the highlands, patagonia, appalachia, the appalachians, appalachian trail,
route 66, central park, times square, golden gate bridge, the grand tetons, zion, big sur,
death valley, joshua tree, the everglades, everglades, the smokies, great smoky mountains,
cape cod, the hamptons, long island, martha's vineyard, nantucket, the keys, florida keys,
pacific northwest, the pacific northwest, the northwest, the northeast, the southwest, the southeast,
the deep south, deep south, the great plains, great plains, the gulf coast, gulf coast
""")

NORP = _lines("""
american, americans, canadian, mexican, british, english, scottish, irish, welsh,
french, german, italian, spanish, portuguese, dutch, belgian, swiss, austrian, swedish,
norwegian, danish, finnish, icelandic, polish, czech, hungarian, romanian, greek,
turkish, russian, ukrainian, chinese, japanese, korean, vietnamese, thai, filipino,
indonesian, indian, pakistani, bangladeshi, nepali, sri lankan, iranian, persian,
iraqi, arab, arabic, israeli, lebanese, egyptian, moroccan, nigerian, kenyan, ethiopian,
ghanaian, south african, brazilian, argentinian, argentine, colombian, peruvian,
chilean, venezuelan, cuban, jamaican, haitian, puerto rican, australian, kiwi, european,
asian, african, latino, latina, latinx, hispanic, indigenous, native american,
christian, christians, catholic, catholics, protestant, muslim, muslims, islamic, jewish,
jews, buddhist, hindu, sikh, atheist, mormon, evangelical, orthodox, democrat, democrats,
republican, republicans, lgbt, lgbtq, lgbtq+, lgbtqia, lgbtqia+, queer, transgender,
trans, gay, lesbian, bisexual, nonbinary, non-binary
""")

HOLIDAYS = _lines("""
christmas, christmas eve, christmas day, xmas, thanksgiving, easter, halloween,
new year, new years, new year's, new year's eve, new year's day, nye, hanukkah, chanukah,
diwali, holi, ramadan, eid, passover, kwanzaa, valentine's day, valentines day,
mother's day, mothers day, father's day, fathers day, independence day, fourth of july,
the fourth of july, labor day, memorial day, veterans day, martin luther king day,
mlk day, presidents day, st. patrick's day, st patrick's day, saint patrick's day,
black friday, cyber monday, super bowl, the super bowl, olympics, the olympics,
world cup, the world cup, oktoberfest, mardi gras, coachella, burning man, comic-con,
comic con, pride, pride month, pride parade, lunar new year, chinese new year,
day of the dead, cinco de mayo, juneteenth, boxing day, good friday, earth day,
world series, wimbledon, the oscars, oscars, the grammys, grammys, the met gala
""")

FIRST_NAMES = _lines("""
aaron, abby, abigail, adam, adrian, aiden, alan, albert, alex, alexa, alexander,
alexandra, alexis, alice, alicia, allison, alyssa, amanda, amber, amelia, amy, andrea,
andrew, andy, angela, anna, anne, annie, anthony, antonio, april, aria, ariana, ashley,
audrey, austin, ava, avery, barbara, beatrice, bella, ben, benjamin, beth, betty, beverly,
bill, billy, blake, bob, bobby, brad, bradley, brandon, brenda, brian, brittany, brooke,
bruce, bryan, caleb, calvin, cameron, camila, carl, carla, carlos, carmen, carol,
caroline, carolyn, carter, catherine, charles, charlie, charlotte, chelsea, chloe, chris,
christian, christina, christine, christopher, claire, clara, cody, colin, connor, craig,
cynthia, daisy, dale, dan, daniel, danielle, david, dean, deborah, debra, denise, dennis,
derek, diana, diane, diego, dominic, donald, donna, dorothy, douglas, dylan, eddie, edward,
elena, eli, elijah, elizabeth, ella, ellie, emily, emma, eric, erica, erin, ethan, eva,
evan, evelyn, faith, felix, fernando, fiona, frances, frank, gabriel, gabriella, gary,
gavin, george, gina, gloria, grace, greg, gregory, hailey, hannah, harold, harper, harry,
heather, helen, henry, holly, hunter, ian, isaac, isabel, isabella, isaiah, ivan, jack,
jackson, jacob, jade, jake, james, jamie, jane, janet, jared, jason, jasmine, jean,
jeff, jeffrey, jenna, jennifer, jenny, jeremy, jerry, jesse, jessica, jill, jim, jimmy,
joan, joanna, joe, joel, john, johnny, jon, jonathan, jordan, jose, josé, joseph, josh,
joshua, joy, joyce, juan, judith, judy, julia, julian, julie, justin, kaitlyn, karen,
kate, katherine, kathleen, kathryn, katie, kayla, keith, kelly, ken, kenneth, kevin,
kim, kimberly, kyle, laura, lauren, layla, leah, lee, leo, leon, liam, lily, linda,
lisa, logan, lori, louis, lucas, lucy, luis, luke, luna, madison, maggie, manuel, marcus,
margaret, maria, marie, marilyn, mark, martha, martin, mary, mason, matt, matthew,
maya, megan, melanie, melissa, mia, michael, michelle, miguel, mike, mila, mildred,
molly, monica, nancy, naomi, natalie, nathan, nicholas, nick, nicole, noah, nora,
olivia, oliver, oscar, owen, pamela, patricia, patrick, paul, paula, peter, philip,
priya, rachel, ralph, raj, randy, raymond, rebecca, richard, riley, rita, rob, robert,
roger, ronald, rose, ruby, russell, ruth, ryan, sam, samantha, samuel, sandra, sara,
sarah, scarlett, scott, sean, sebastian, sharon, shirley, sofia, sophia, sophie, stella,
stephanie, stephen, steve, steven, susan, sydney, tammy, taylor, teresa, terry, theresa,
thomas, tim, timothy, tina, todd, tom, tony, tracy, travis, tyler, valerie, vanessa,
victor, victoria, vincent, violet, virginia, walter, wayne, william, willow, wyatt,
xavier, zachary, zoe, zoë, zoey, ahmed, ali, fatima, mohammed, muhammad, omar, aisha,
wei, li, chen, yuki, hiroshi, sakura, arjun, ananya, rahul, deepak, anika, ines, lucia,
mateo, santiago, valentina, sofía, joão, joao, pedro, pablo, javier, alejandro, andrés,
max, cindy, bailey, marley, nina, tara, tessa, troy, vince, wendy, zara, lena, mira
""")

# Common English nicknames -> the full first names they can stand for.
NICKNAMES: dict[str, frozenset[str]] = {
    nick: frozenset(full.split())
    for nick, full in {
        "abby": "abigail", "alex": "alexander alexandra alexis", "al": "albert alan alfred",
        "andy": "andrew", "drew": "andrew", "ben": "benjamin", "benny": "benjamin",
        "beth": "elizabeth bethany", "betty": "elizabeth", "bill": "william",
        "billy": "william", "will": "william", "liam": "william", "bob": "robert",
        "bobby": "robert", "rob": "robert", "robbie": "robert", "bert": "albert robert",
        "cathy": "catherine", "kathy": "katherine kathleen", "kate": "katherine catherine kathleen",
        "katie": "katherine catherine kathleen", "kat": "katherine catherine",
        "chris": "christopher christina christine christian", "chuck": "charles",
        "charlie": "charles charlotte", "dan": "daniel", "danny": "daniel", "dave": "david",
        "davey": "david", "deb": "deborah debra", "debbie": "deborah debra",
        "ed": "edward edwin edmund", "eddie": "edward",
        "teddy": "edward theodore", "ellie": "eleanor elizabeth ellen", "frank": "francis franklin",
        "fred": "frederick alfred", "gabe": "gabriel", "gabby": "gabriella gabrielle",
        "greg": "gregory", "hank": "henry", "harry": "henry harold", "jack": "john jackson",
        "jake": "jacob", "jamie": "james", "jim": "james", "jimmy": "james", "jen": "jennifer",
        "jenny": "jennifer", "jess": "jessica", "jessie": "jessica", "joe": "joseph",
        "joey": "joseph", "jon": "jonathan", "johnny": "john jonathan", "josh": "joshua",
        "kim": "kimberly", "larry": "lawrence", "liz": "elizabeth", "lizzie": "elizabeth",
        "lisa": "elizabeth", "maggie": "margaret", "meg": "margaret megan", "peggy": "margaret",
        "matt": "matthew", "mike": "michael", "mikey": "michael", "mickey": "michael",
        "nate": "nathan nathaniel", "nick": "nicholas", "nicky": "nicholas nicole",
        "pam": "pamela", "pat": "patrick patricia", "patty": "patricia", "pete": "peter",
        "phil": "philip phillip", "rick": "richard", "ricky": "richard", "dick": "richard",
        "rich": "richard", "ron": "ronald", "ronnie": "ronald", "sam": "samantha samuel",
        "sammy": "samuel samantha", "sandy": "sandra", "steve": "steven stephen",
        "stevie": "steven stephen", "sue": "susan", "susie": "susan", "suzy": "susan",
        "ted": "theodore edward", "tom": "thomas", "tommy": "thomas", "tony": "anthony",
        "val": "valerie", "vicky": "victoria", "tori": "victoria", "zach": "zachary",
        "zack": "zachary", "becky": "rebecca", "becca": "rebecca", "mandy": "amanda",
        "manny": "manuel", "mel": "melanie melissa", "nan": "nancy", "ollie": "oliver",
        "sophie": "sophia", "tim": "timothy", "timmy": "timothy", "trish": "patricia",
        "wendy": "gwendolyn", "bella": "isabella", "izzy": "isabel isabella", "lexi": "alexis alexandra",
        "caz": "caroline carolyn", "carrie": "caroline carolyn", "jo": "joanna josephine",
        "gina": "regina georgina", "max": "maximilian maxwell", "ray": "raymond",
        "russ": "russell", "stu": "stuart", "walt": "walter", "fran": "frances francis",
    }.items()
}

ORG_WORDS = _words("""
university college school academy institute inc inc. corp corp. corporation ltd ltd. llc
co co. company club center centre church foundation association society hospital clinic
agency bank group team council department committee organization organisation network
studio studios records press labs lab union federation league alliance charity trust
partners ministries ministry services systems technologies solutions enterprises
industries holdings fund institute shelter chapel synagogue mosque temple cathedral
council board bureau office campus society guild collective coalition cooperative co-op
orchestra choir band ensemble company troupe gym cafe café restaurant bakery bar pub
""")

PLACE_WORDS = _words("""
park lake river mountain mountains mount mt mt. beach bay island islands canyon valley falls
forest ocean sea street st st. avenue ave ave. road rd rd. boulevard blvd lane drive bridge
trail coast desert hills hill square airport station museum stadium arena zoo garden
gardens hall tower cathedral palace castle harbor harbour pier peak ridge springs creek
county city town village district heights plaza mall market center centre resort
reserve sanctuary national monument memorial gallery theater theatre library
""")

EVENT_WORDS = _words("""
festival fest fair conference summit expo convention parade marathon tournament
championship championships cup olympics games gala concert tour show awards ceremony
rally march walk race run series week day night carnival con jamboree
""")

# Lower-case words that may join capitalised words inside one name ("Bank of America").
NAME_CONNECTORS = _words("of de da do dos das del della di la le du von van der den y & 's")


def place_label(name: str) -> str | None:
    """The entity label of a known place name (lower-case), or None.

    Countries, states and cities are ``GPE``; continents, regions and natural or landmark
    places are ``LOC``.
    """
    if name in COUNTRIES or name in US_STATES or name in CITIES:
        return "GPE"
    if name in REGIONS:
        return "LOC"
    return None

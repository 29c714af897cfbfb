"""English word classes for the rule-based language pipeline.

Without a trained tagger there are no parts of speech, so the rule-based pipeline decides
what may be part of a key phrase from these closed and semi-closed word lists: function
words, common verbs (with their inflections), adjectives, adverbs, interjections and nouns
too generic to be worth a node. Words in none of the lists are treated as nouns, which is
right for the open class that matters most (names of things and activities).

All sets hold lower-case words. Building them is pure and cheap (a few milliseconds).
"""

from __future__ import annotations

__all__ = [
    "ACTIVITY_VERBS",
    "ADJECTIVES",
    "ADVERBS",
    "CLASSIFYING_ADJECTIVES",
    "FUNCTION_WORDS",
    "GENERIC_NOUNS",
    "INTERJECTIONS",
    "KINSHIP_WORDS",
    "NOUN_VERBS",
    "PHRASE_STRIP",
    "TITLE_WORDS",
    "VERB_FORMS",
    "verb_base",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS = _words("""
a an the this that these those some any no every each either neither all both half
i me my mine myself you your yours yourself yourselves he him his himself she her hers
herself it its itself we us our ours ourselves they them their theirs themselves one ones
oneself who whom whose which what whatever whoever whichever whomever where when why how
wherever whenever however there here
be am is are was were been being have has had having do does did done doing
will would shall should can could may might must ought cannot
'm 're 's 've 'll 'd n't ’m ’re ’s ’ve ’ll ’d n’t ca wo sha gon na ta
not nor and or but if then else than because since unless until till while whereas
although though so as yet also too either
of in on at to for from by with without within into onto upon about above below over under
across through throughout during before after around among amongst between beyond behind
beside besides along against toward towards via per up down out off away back near
like unlike despite except including inside outside underneath till versus vs
am pm
someone somebody something anyone anybody anything everyone everybody everything
no-one nobody nothing none noone
else whether
other others another such same own
many much more most less least few fewer several lots lot plenty enough
let lets being
zero two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
hundred hundreds thousand thousands million millions billion dozen dozens
""",)

_IRREGULAR = {
    "be": "am is are was were been being 's 're 'm",
    "have": "has had having 've 'd",
    "do": "does did done doing",
    "go": "goes went gone going",
    "get": "gets got gotten getting",
    "make": "makes made making",
    "take": "takes took taken taking",
    "give": "gives gave given giving",
    "come": "comes came coming",
    "see": "sees saw seen seeing",
    "know": "knows knew known knowing",
    "think": "thinks thought thinking",
    "say": "says said saying",
    "tell": "tells told telling",
    "find": "finds found finding",
    "feel": "feels felt feeling",
    "leave": "leaves left leaving",
    "keep": "keeps kept keeping",
    "bring": "brings brought bringing",
    "buy": "buys bought buying",
    "build": "builds built building",
    "begin": "begins began begun beginning",
    "break": "breaks broke broken breaking",
    "catch": "catches caught catching",
    "choose": "chooses chose chosen choosing",
    "draw": "draws drew drawn drawing",
    "drink": "drinks drank drunk drinking",
    "drive": "drives drove driven driving",
    "eat": "eats ate eaten eating",
    "fall": "falls fell fallen falling",
    "fight": "fights fought fighting",
    "fly": "flies flew flown flying",
    "forget": "forgets forgot forgotten forgetting",
    "forgive": "forgives forgave forgiven forgiving",
    "freeze": "freezes froze frozen freezing",
    "grow": "grows grew grown growing",
    "hang": "hangs hung hanging",
    "hear": "hears heard hearing",
    "hide": "hides hid hidden hiding",
    "hold": "holds held holding",
    "hurt": "hurts hurting",
    "lead": "leads led leading",
    "learn": "learns learned learnt learning",
    "lend": "lends lent lending",
    "lose": "loses lost losing",
    "mean": "means meant meaning",
    "meet": "meets met meeting",
    "pay": "pays paid paying",
    "ride": "rides rode ridden riding",
    "ring": "rings rang rung ringing",
    "rise": "rises rose risen rising",
    "run": "runs ran running",
    "sell": "sells sold selling",
    "send": "sends sent sending",
    "shake": "shakes shook shaken shaking",
    "shine": "shines shone shining",
    "shoot": "shoots shot shooting",
    "sing": "sings sang sung singing",
    "sink": "sinks sank sunk sinking",
    "sit": "sits sat sitting",
    "sleep": "sleeps slept sleeping",
    "speak": "speaks spoke spoken speaking",
    "spend": "spends spent spending",
    "stand": "stands stood standing",
    "steal": "steals stole stolen stealing",
    "stick": "sticks stuck sticking",
    "strike": "strikes struck striking",
    "swim": "swims swam swum swimming",
    "teach": "teaches taught teaching",
    "tear": "tears tore torn tearing",
    "throw": "throws threw thrown throwing",
    "understand": "understands understood understanding",
    "wake": "wakes woke woken waking",
    "wear": "wears wore worn wearing",
    "win": "wins won winning",
    "write": "writes wrote written writing",
    "read": "reads reading",
    "put": "puts putting",
    "set": "sets setting",
    "let": "lets letting",
    "cut": "cuts cutting",
    "hit": "hits hitting",
    "quit": "quits quitting",
    "shut": "shuts shutting",
    "spread": "spreads spreading",
    "cost": "costs costing",
    "bet": "bets betting",
    "become": "becomes became becoming",
    "blow": "blows blew blown blowing",
    "feed": "feeds fed feeding",
    "bite": "bites bit bitten biting",
    "dig": "digs dug digging",
    "deal": "deals dealt dealing",
    "dream": "dreams dreamt dreamed dreaming",
    "burn": "burns burnt burned burning",
    "light": "lights lit lighting",
    "lie": "lies lay lain lying lied",
    "lay": "lays laid laying",
    "seek": "seeks sought seeking",
    "sweep": "sweeps swept sweeping",
    "undergo": "undergoes underwent undergone undergoing",
    "overcome": "overcomes overcame overcoming",
    "withdraw": "withdraws withdrew withdrawn withdrawing",
    "wind": "winds wound winding",
    "bear": "bears bore born borne bearing",
    "bend": "bends bent bending",
    "bleed": "bleeds bled bleeding",
    "breed": "breeds bred breeding",
    "flee": "flees fled fleeing",
    "forbid": "forbids forbade forbidden forbidding",
    "slide": "slides slid sliding",
    "spin": "spins spun spinning",
    "split": "splits splitting",
    "swing": "swings swung swinging",
    "upset": "upsets upsetting",
    "rebuild": "rebuilds rebuilt rebuilding",
    "bake": "bakes baked baking",
}

# Common verbs, base form. Regular inflections are generated.
_VERBS = _words("""
accept achieve act add admire admit adopt advise afford agree aim allow amaze apply
appreciate approach argue arrange arrive ask assist attach attack attempt attend
avoid bake balance bang beat beg behave believe belong blame bless block blossom boost
borrow bother bounce bow brainstorm breathe brighten browse brush bump burst call calm
camp care carry celebrate challenge change charge chase chat cheat check cheer chill
chop clap clean clear click climb close coach collaborate collect combine comfort
commit communicate compare compete complain complete concentrate confess confirm
connect consider contact continue contribute convince cook cope count cover crack
craft crash crawl create cross crush cry cultivate cure curl cycle damage dance dare
decide declare decorate dedicate deliver depend describe deserve design desire destroy
develop die disagree disappear discover discuss dislike display dive divide donate
double doubt drag dress drop dry earn educate embrace emerge empower enable encourage
end endure engage enjoy enroll ensure enter entertain escape establish evaluate excite
exercise exist expand expect experience experiment explain explore express face fade
fail fancy fear fetch figure fill film finish fit fix flow fold follow force form
foster frame free frighten fuel gain garden gather gaze glance glow grab graduate greet
grin guarantee guess guide handle happen harm hate head heal help hesitate hike hire
hope host hug hunt hurry identify ignore imagine impact impress improve include
increase influence inform inspire install intend interest interview introduce invent
invest invite involve join joke judge jump kick kill kiss knit knock label land last
laugh launch lean lift like limit link list listen live load lock long look love manage
mark marry match matter measure mention mind miss mix motivate move murmur need nod note
notice nurture obtain occur offer open order organize organise own pack paint park
participate pass pause perform persuade pick picture pitch place plan plant play please
point pop pose post pour practice practise pray prefer prepare present preserve press
pretend prevent print produce promise protect prove provide publish pull pump punch
purchase push question race rain raise reach react realize realise receive recall
recognize recommend record recover recycle reduce reflect refuse regret reject relate
relax release rely remain remember remind remove renovate rent repair repeat replace
reply report represent request require rescue research resist respect respond rest
restore retire return reveal review rock roll ruin rush sail save scare schedule score
scream search secure seem select serve settle shape share shave shift shine shop shout
show sigh sign signal sketch ski skip slip smell smile snap sniff snow solve sort sound
spark spell spoil sponsor spot sprint squeeze stare start stay step stir stop store
stress stretch stroll struggle study succeed suffer suggest suit supply support suppose
surf surprise surround survive suspect swap switch talk taste tease tend test thank
tick tie tire touch tour trace track trade train transform travel treat tremble trip
trust try turn twist type unite unpack update upgrade urge use vanish visit volunteer
vote wait walk wander want warn wash waste watch wave weigh welcome whisper wish wonder
work worry wrap yell zoom pursue chase reconnect rediscover relieve reassure uplift
journal meditate jog paddle kayak hunt skate snowboard bike crochet sew scrapbook
blog vlog stream text email message tweet google binge nap snack brew grill roast fry
stir-fry volunteer mentor tutor babysit foster adopt sculpt mold carve weave embroider
hang reckon guess wanna gotta gonna appreciate reminisce unwind recharge vent
figure stumble realise celebrate bond connect cheer spark thrive flourish bloom
tackle overcome navigate handle juggle balance cherish treasure value admire
accomplish acknowledge adapt adjust announce anticipate apologize assume attract brag
bury calculate cancel claim clarify comment commute compose conquer consume convert
cuddle customize debate decline defend delay delight demand deny depart deposit detect
determine devote dine direct disappoint distract distribute dominate download edit elect
eliminate embark emphasize employ encounter enhance envision evolve examine exceed
exchange excel expose extend fascinate feature flourish focus forward frustrate fulfill
fulfil fund gift glimpse grasp grieve hack harvest highlight honor honour hop illustrate
implement impose incorporate indulge inherit initiate inquire insist inspect integrate
interact interpret interrupt isolate justify lack lick lure maintain manifest master
memorize minimize monitor mourn negotiate network nurse observe occupy operate oppose
overlook overwhelm owe perceive permit persist photograph pile pin polish ponder possess
postpone praise predict prioritize proceed progress promote propose prosper qualify
quote rank rate recruit refer refresh register regain reinforce rejoice relocate
remodel renew reschedule resolve restock resume retain retreat reward rinse risk rub
sacrifice satisfy scan scatter scroll seal seize sense shed shelter shrink sip slam
slice soak soar specialize speed spill sprinkle stack starve steer stimulate stock
strengthen strive submit subscribe substitute summarize supervise surpass sustain
swallow sweat tag tap target tempt terrify thrill tidy tolerate toss transfer translate
transport trap trigger trim triumph uncover undertake unlock upload utilize venture
verify vibe view wipe witness worship wrestle yearn symbolize represent realize
recognise apologise prioritise emphasise summarise specialise criticize criticise
hang rely wish feel seem appear become remain stay keep bring blend rehearse
""") | frozenset(_IRREGULAR)

# Verbs that are at least as often nouns ("support group", "a long walk").
NOUN_VERBS = _words("""
support work love plan run walk hike swim dance paint help care visit change start trip
play show talk call experience cook drink dream hope fear need use look smile hug kiss
laugh cry rest move race ride drive fly climb camp fish garden shop travel volunteer
study practice train exercise design sketch film record picture post text email message
place point park light set step stand rock guide balance challenge struggle present
offer deal trade order process share mix taste smell sound feel list note test report
review question answer vote interview project surf ski skate bike brew grill roast
journal stream blog vlog nap snack hunt tour cover frame label charge link print
transform spark impact influence interest matter mind name face hand head sign
display release return search seat state stress touch turn update view wish end
bond jog swap treat escape schedule result form update class reading writing
highlight feature risk reward view network host gift fund stock shelter progress
sacrifice tag target trigger witness debate demand exchange focus honor master mold
nurse quote rank rate register retreat scan seal sense slice sip stack trap transfer
transport vibe comment act cut store lead
""")

# Activities whose -ing form is a hobby or pursuit worth remembering ("painting", "hiking").
ACTIVITY_VERBS = _words("""
paint draw sketch hike camp swim run jog dance sing cook bake knit crochet sew garden
fish hunt surf ski skate snowboard bike cycle climb read write journal meditate paddle
kayak sail travel volunteer photograph film act sculpt carve weave embroider
scrapbook blog vlog stream skydive dive box wrestle golf bowl shop brew grill compose
tutor mentor babysit foster adopt counsel coach teach train study program code design
craft quilt horseback backpack birdwatch stargaze parent drum spin row ride drive fly
walk fundraise network campaign protest model recycle garden sightsee rollerblade
""")


def _inflect(base: str) -> set[str]:
    """Regular inflections of ``base`` (over-generating a little is harmless)."""
    forms = {base}
    vowels = "aeiou"
    if base.endswith(("s", "x", "z", "ch", "sh", "o")):
        forms.add(base + "es")
    elif base.endswith("y") and len(base) > 1 and base[-2] not in vowels:
        forms.add(base[:-1] + "ies")
    else:
        forms.add(base + "s")
    if base.endswith("e"):
        forms.add(base + "d")
        if base.endswith("ie"):
            forms.add(base[:-2] + "ying")
        elif base.endswith(("ee", "ye", "oe")):
            forms.add(base + "ing")
        else:
            forms.add(base[:-1] + "ing")
    elif base.endswith("y") and len(base) > 1 and base[-2] not in vowels:
        forms.add(base[:-1] + "ied")
        forms.add(base + "ing")
    else:
        forms.add(base + "ed")
        forms.add(base + "ing")
        if (len(base) >= 3 and base[-1] not in vowels + "wxy" and base[-2] in vowels
                and base[-3] not in vowels):
            forms.add(base + base[-1] + "ed")
            forms.add(base + base[-1] + "ing")
    return forms


def _build_verb_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for base in sorted(_VERBS):
        for form in _inflect(base):
            forms.setdefault(form, base)
    for base, irregular in _IRREGULAR.items():
        for form in irregular.split():
            forms[form] = base
        forms[base] = base
    return forms


_VERB_BASE = _build_verb_forms()

VERB_FORMS: frozenset[str] = frozenset(_VERB_BASE)


def verb_base(word: str) -> str | None:
    """The base form of a known verb form (``"went"`` -> ``"go"``), or None."""
    return _VERB_BASE.get(word)


ADJECTIVES = _words("""
good great nice cool awesome amazing wonderful fantastic beautiful lovely happy sad glad
proud excited exciting interesting fun funny hard easy tough difficult important special
big small little large huge tiny long short high low old new young fresh recent early late
best better worse worst bad terrible awful horrible incredible unbelievable brilliant
perfect fine okay ok sweet cute adorable pretty gorgeous stunning lucky thankful grateful
sorry sure ready able unable free busy tired sick ill afraid scared nervous anxious calm
quiet loud warm cold hot cool dark bright clear strong weak real true false right wrong
whole full empty certain various different similar same main major minor personal
positive negative huge super extra fair kind gentle rough safe dangerous healthy strange
weird odd crazy wild serious simple complex rich poor cheap expensive deep wide narrow
heavy light soft sharp smooth clean dirty dry wet quick slow fast rapid busy lazy
powerful helpful meaningful wonderful peaceful joyful colorful colourful beautiful
inspiring inspired amazing supportive creative positive passionate inclusive accepting
loving caring welcoming encouraging motivating motivated uplifting rewarding fulfilling
empowering empowered relaxing relaxed refreshing soothing calming challenging stressful
overwhelming overwhelmed thrilling thrilled stoked pumped psyched keen eager curious
impressive impressed touching touched moving emotional sentimental nostalgic hopeful
inspirational fascinating intriguing engaging entertaining enjoyable memorable magical
precious priceless invaluable valuable worth worthwhile unforgettable remarkable
extraordinary ordinary amazing awesome epic fab fabulous marvelous marvellous splendid
superb terrific tremendous lovely delightful pleasant charming sweet wholesome heartwarming
heartfelt genuine sincere honest brave courageous bold confident strong resilient
determined dedicated committed devoted focused driven ambitious hardworking talented
skilled gifted smart clever wise intelligent thoughtful considerate compassionate
empathetic understanding patient generous friendly kindhearted kind lonely alone
together glad relieved upset angry mad frustrated disappointed worried concerned
stressed depressed anxious hurt heartbroken devastated lost confused unsure uncertain
comfortable uncomfortable content satisfied pleased delighted cheerful joyful jolly
merry blissful ecstatic elated overjoyed awesome chill fun fancy nifty neat rad sick
dope lit sweet tasty delicious yummy awful dreadful gross nasty cool hip trendy stylish
modern classic classical traditional local global international national public private
social mental physical emotional spiritual financial medical legal political cultural
natural artistic musical creative professional educational academic daily weekly monthly
annual regular usual normal typical common rare unique original authentic own favorite
favourite fave main key major next previous final initial entire total complete
open closed available possible impossible necessary essential crucial vital critical
significant huge massive enormous giant vast endless infinite countless numerous
whole-hearted wholehearted grand major brand-new tough toughest
lucky unlucky proud humble kind unkind fantastic fab top-notch first second third
hectic scary upbeat messy tidy cozy cosy chilly sunny rainy snowy windy cloudy stormy
foggy muddy salty spicy sour bitter crispy crunchy juicy cheesy fluffy fuzzy furry shiny
sparkly vibrant vivid pale dull boring bored sleepy hungry thirsty sore stiff achy
injured fragile sturdy solid tight loose steep flat thin thick slim skinny fit active
sporty artsy crafty handy nerdy geeky goofy silly quirky cheeky sassy moody grumpy
cranky shy outgoing introverted extroverted mature immature elderly teenage youthful
ancient vintage retro rustic spacious crowded packed noisy serene tranquil scenic
picturesque breathtaking spectacular majestic lush black white red blue green yellow
orange purple pink gray grey brown golden silver jealous envious wary aware alive awake
asleep alike ashamed embarrassed guilty shocked surprised amazed astonished bummed
gutted hyped blessed fortunate privileged honored honoured humbled insecure vulnerable
fearless tender familiar foreign exotic remote rural urban suburban outdoor indoor
online virtual digital full-time part-time freelance solo mutual shared frequent
occasional constant steady unstable secure proper decent mediocre average excellent
outstanding exceptional phenomenal mind-blowing life-changing eye-opening heart-warming
nerve-wracking bittersweet surreal unreal insane intense extreme mild moderate minimal
basic advanced intermediate competitive casual formal informal official legit valid
unfair equal diverse accessible affordable sustainable eco-friendly organic vegan
vegetarian homemade handmade custom personalized random spontaneous careful careless
mindful conscious independent responsible reliable loyal faithful respectful polite
rude cruel harsh strict dear familiar hopeless helpless clueless speechless homesick
worn exhausted drained burnt beat energized energetic refreshed rested recharged comfy
tricky rigid awkward clumsy nervy edgy funky groovy snazzy swanky classy flashy
""")

# Words dropped from the start of a key phrase ("great group" -> "group").
PHRASE_STRIP = _words("""
good great nice cool awesome amazing wonderful fantastic beautiful lovely happy sad glad
proud excited exciting interesting fun funny hard easy tough difficult important special
big small little huge tiny new old best better worse worst bad terrible awful horrible
incredible unbelievable brilliant perfect fine sweet cute adorable pretty gorgeous stunning
real true whole full certain various different similar same main major minor super extra
lucky thankful grateful sure ready amazing epic fab fabulous marvelous splendid superb
terrific tremendous delightful pleasant charming wholesome heartwarming genuine
meaningful memorable precious priceless unforgettable remarkable such own favorite
favourite fave total entire complete whole first second third next previous final last
many much more most lots lot few several enough other another some any every each all
kinda sorta tons ton bunch couple loads load plenty kind sort type
""")

# Adjectives that classify rather than evaluate: kept at the front of a key phrase
# ("mental health", "high school", "social media"); other adjectives are trimmed off.
CLASSIFYING_ADJECTIVES = _words("""
mental physical social local global national international public private personal
professional financial medical legal political cultural natural artistic musical
educational academic spiritual emotional daily weekly monthly annual digital online
virtual outdoor indoor classical traditional modern vintage retro organic vegan
vegetarian homemade handmade custom competitive formal black white red blue green yellow
orange purple pink gray grey brown golden silver rural urban suburban remote solo
part-time full-time freelance high middle elementary junior senior main young old
foreign exotic spicy sweet sour salty live basic advanced intermediate beginner
creative independent mutual sentimental
""")

ADVERBS = _words("""
really very so too also just still even always never often sometimes usually already
lately recently soon now then again ever maybe perhaps probably definitely totally
absolutely completely truly actually basically literally seriously honestly finally
especially particularly quite rather pretty fairly almost nearly barely hardly only
simply mostly mainly partly together apart alone anyway anyhow somehow otherwise instead
indeed sure surely certainly clearly obviously apparently luckily hopefully thankfully
sadly unfortunately fortunately naturally generally typically usually rarely seldom
constantly continually forever once twice today tonight tomorrow yesterday tho though
abroad ahead afterwards later earlier meanwhile nowadays anymore yet else ago further
furthermore moreover besides however therefore thus hence well much more most less least
super extra real right straight home there here everywhere somewhere anywhere nowhere
outside inside upstairs downstairs overseas forward backward around
alright all-right kinda sorta lotta outta gotta farther further closer plus minus etc
far afar overall
""")

INTERJECTIONS = _words("""
hey hi hello hiya howdy yo heya wow woah whoa woo woohoo yay yippee hooray hurray
haha hahaha hah ha hehe lol lmao rofl omg omfg wtf oh ohh ooh oops ah ahh aw aww awww
hmm hm um uh er erm mm mmm yeah yea yep yup yes no nope nah ok okay k kk sure thanks
thank thx ty congrats congratulations cheers bye goodbye cya welcome please sorry
alright absolutely totally definitely exactly agreed indeed true right gosh geez jeez
damn dang darn bravo kudos ugh meh phew whew shh psst huh eh duh yikes wowza
amen hallelujah wooo yass yas ciao morning evening night gotcha dear btw fyi imo imho tbh
idk ikr smh brb ttyl xoxo xo
""")

# Nouns too generic to be a memory's key phrase on their own.
GENERIC_NOUNS = _words("""
thing things stuff lot lots bit bits kind kinds sort sorts type types way ways time times
day days week weeks month months year years moment moments today tonight tomorrow yesterday
morning afternoon evening night weekend part parts piece pieces one ones something
anything everything nothing someone anyone everyone somebody anybody everybody nobody
people person guy guys folks folk man men woman women place places point points fact
facts case cases matter matters reason reasons sense idea ideas question questions answer
answers end start beginning side sides number numbers level levels area areas aspect
aspects example examples deal lot whole rest kinda sorta bunch couple plenty tons ton
loads load amount amounts pic pics photo photos picture pictures pictures shot shots
image images video videos look looks chance chances opportunity opportunities
experience experiences feeling feelings feels emotion emotions vibe vibes mood moods
help support care love hope luck fun blast joy happiness stuff thanks thank advice
news update updates word words talk chat conversation story stories life lives world
journey process step steps goal goals plan plans dream dreams challenge challenges
difference differences impact effect effects change changes progress success result
results situation situations problem problems issue issues topic topics subject
mind heart soul spirit self yourself myself home house job work family friend friends
kid kids child children mom dad parent parents wife husband son daughter brother sister
thing job lot bit mins min sec secs hour hours minute minutes second seconds
hand hands head heads eye eyes face faces ups downs mix course
""")
# Some of these nouns are generic as a single word yet meaningful in a phrase or as the
# subject of a memory ("family", "kids", "job"): those are kept by the phrase rules below.
_MEANINGFUL_ALONE = _words("""
family friend friends kid kids child children mom dad parent parents wife husband son
daughter brother sister job work home house
""")
GENERIC_NOUNS = GENERIC_NOUNS - _MEANINGFUL_ALONE

KINSHIP_WORDS = _words("""
mom mum mother mama mommy momma dad father papa daddy pa ma grandma grandpa grandmother
grandfather granny nana nan gran grandad granddad grandparents parents sister brother sis
bro aunt auntie aunty uncle cousin wife husband son daughter hubby wifey bestie baby babe
honey sweetie darling buddy pal mate dude
""")

TITLE_WORDS = _words("""
mr mrs ms miss mx dr doctor prof professor sir madam lady lord aunt auntie uncle grandma
grandpa granny cousin coach captain capt officer sergeant sgt pastor father rev reverend
rabbi saint st president senator governor mayor judge king queen prince princess
""")

"""Valences for support-chat sentiment, on a -3..+3 scale.

Written for customer-support language rather than reviews or tweets: "issue"
and "refund" are barely negative (every ticket has one), "still", "again" and
time complaints carry the frustration, and thanks is the strongest positive
signal. Phrases are matched before words and consume them.
"""

from __future__ import annotations

WORDS: dict[str, float] = {
    # gratitude and satisfaction
    "thanks": 2.0, "thank": 2.0, "thx": 2.0, "ty": 1.5, "cheers": 1.5, "appreciate": 2.0, "appreciated": 2.0,
    "grateful": 2.5, "great": 2.0, "perfect": 2.5, "perfectly": 2.0, "awesome": 2.5, "excellent": 2.5,
    "brilliant": 2.5, "wonderful": 2.5, "amazing": 2.5, "fantastic": 2.5, "superb": 2.5, "fab": 2.0,
    "love": 2.5, "loved": 2.5, "lovely": 2.0, "happy": 2.0, "glad": 2.0, "pleased": 2.0, "delighted": 3.0,
    "satisfied": 2.0, "helpful": 2.0, "kind": 1.5, "kindness": 2.0, "friendly": 1.5, "professional": 1.0,
    "best": 2.0, "good": 1.5, "nice": 1.5, "relief": 2.0, "relieved": 2.0, "legend": 2.0, "lifesaver": 3.0,
    "star": 1.0, "works": 1.2, "worked": 1.2, "working": 0.8, "fixed": 1.2, "sorted": 1.5, "resolved": 1.2,
    "solved": 1.2, "easy": 1.2, "quick": 1.0, "fast": 1.0, "faster": 1.0, "better": 1.2, "impressed": 2.0,
    "recommend": 1.5, "enjoy": 1.5, "pleasure": 2.0, "yay": 2.0, "beautiful": 2.0, "super": 1.5, "smooth": 1.2,
    "fine": 0.5, "welcome": 1.0, "early": 1.0, "patience": 1.0, "patient": 1.0, "excited": 2.0, "wow": 1.0,
    "correct": 0.5, "clear": 0.5, "clearly": 0.5, 
    # problems and frustration
    "broken": -2.0, "broke": -1.5, "faulty": -2.0, "damaged": -2.0, "torn": -2.0, "cracked": -2.0,
    "scratch": -1.5, "leaks": -1.5, "leaking": -1.5, "defective": -2.0, "wrong": -1.5, "error": -0.8,
    "errors": -0.8, "fail": -1.5, "failed": -1.5, "fails": -1.5, "failing": -1.5, "failure": -1.5,
    "crash": -2.0, "crashes": -2.0, "crashing": -2.0, "crashed": -2.0, "declined": -1.5, "locked": -1.5,
    "blocked": -1.5, "suspended": -1.5, "lost": -1.5, "losing": -1.5, "stolen": -2.0, "missing": -1.5,
    "disappeared": -1.5, "late": -1.0, "delay": -1.2, "delayed": -1.2, "delays": -1.2, "slow": -1.2,
    "forever": -1.5, "ignored": -2.0, "ignore": -1.5, "useless": -2.5, "terrible": -3.0, "horrible": -3.0,
    "awful": -3.0, "worst": -3.0, "bad": -2.0, "poor": -2.0, "ridiculous": -2.5, "unacceptable": -3.0,
    "disappointed": -2.5, "disappointing": -2.5, "frustrated": -2.5, "frustrating": -2.5, "annoyed": -2.0,
    "annoying": -2.0, "angry": -2.5, "furious": -3.0, "livid": -3.0, "hate": -3.0, "joke": -2.0,
    "nightmare": -3.0, "mess": -2.0, "scam": -3.0, "scammed": -3.0, "cheated": -3.0, "rip-off": -3.0,
    "pathetic": -3.0, "overcharged": -2.5, "outrageous": -3.0, "complicated": -1.5, "worried": -1.5,
    "concerned": -1.0, "confusing": -1.5, "confused": -1.0, "spam": -1.5, "fraud": -2.0, "fraudulent": -2.0,
    "unauthorized": -2.0, "wasted": -2.0, "waste": -2.0, "outage": -1.5, "garbage": -3.0, "rubbish": -2.5,
    "stupid": -2.5, "incompetent": -3.0, "rude": -2.5, "unhelpful": -2.0, "problem": -0.8, "problems": -0.8,
    "issue": -0.3, "unfortunately": -1.0, "waiting": -0.5, "again": -0.4, "seriously": -1.0, "refuse": -2.0,
    "refused": -2.0, "refuses": -2.0, "rejected": -1.5, "doubled": -1.5, "double": -0.8, "twice": -0.5,
    "nobody": -1.0, "unable": -1.0, "omg": -1.0, "ugh": -2.0, "why": -0.4, "overheats": -1.5,
    "drops": -1.0, "threw": -1.5, "thrown": -1.5, "wiped": -1.5, "erased": -1.5, "bounced": -1.5, "dropping": -1.0, "stuck": -1.5, "hopeless": -2.5,
    "sucks": -2.5, "disgusting": -3.0, "shocking": -2.5, "dreadful": -3.0, "kidding": -1.5,
    "wtf": -3.0, "damn": -2.0, "ripoff": -3.0, "unreliable": -2.0, "misleading": -2.0, "lied": -2.5,
}

# Regular expressions (lower-cased text) with their valence; matched first.
PHRASES: dict[str, float] = {
    r"thanks? (?:you )?for nothing": -3.0,
    r"yeah,? right": -2.0,
    r"yeah,? sure": -1.5,
    r"sure,? (?:i'll|i will|let me) just": -2.0,
    r"just great": -2.5,
    r"love how": -2.0,
    r"so-called": -1.5,
    r"(?:you )?must be (?:kidding|joking)": -2.5,
    r"is this a joke": -2.5,
    r"still (?:waiting|no|not|nothing|broken|being|getting|dealing|haven't|hasn't|havent|hasnt|don't|doesn't|dont"
    r"|doesnt|can't|cant|didn't|didnt|isn't|isnt|won't|have no|has no|charging|charged|billed|down)": -2.0,
    r"(?:third|fourth|fifth|sixth|tenth|[0-9]+(?:rd|th)) time": -2.0,
    r"how many (?:more )?times": -2.0,
    r"(?:asked|told you|called|emailed|written|contacted you) (?:twice|three times|again|several times|multiple times)": -1.5,
    r"repeat(?:ing)? myself": -2.0,
    r"(?:been|for|waited|waiting|wait|on hold for) (?:over |almost |nearly |more than )?(?:\d+|a|an|two|three|four|five|six|"
    r"several|many|ten) (?:whole )?(?:minutes|hours|days|weeks|months|week|month|day|hour)": -1.5,
    r"for (?:days|weeks|months|ages|hours)": -1.5,
    r"another (?:week|month|day|delay|outage|error|two weeks|excuse)": -1.5,
    r"on hold": -1.0,
    r"hung up": -2.0,
    r"never (?:came|arrived|showed up|turned up|got|received|heard back|called)": -2.0,
    r"no(?:body| one) (?:has |have |had |is |was |ever )?(?:cares|replied|answered|called|responded|helps|can tell|knows|told)": -2.0,
    r"(?:no|zero) (?:reply|replies|response|responses|answer|answers|update|word|help|signal|idea why|code|email|sms|"
    r"text|callback|call back|refund|money|delivery|parcel|package|internet|service|connection|dial tone)": -1.5,
    r"money back": -1.2,
    r"(?:speak to|talk to|want|get me) (?:a |the |your )?(?:manager|supervisor)": -2.0,
    r"last time i (?:order|buy|use|shop)": -2.5,
    r"never (?:ordering|buying|using|shopping|order|buy)(?: \w+)? again": -2.5,
    r"(?:had|have had) enough": -2.0,
    r"(?:i'm|i am|im) (?:so )?done with": -2.0,
    r"(?:sick|tired|fed up) (?:of|with)": -2.0,
    r"can't believe|cannot believe|can't even|cannot even": -1.5,
    r"(?:can't|cannot|cant|unable to|couldn't) (?:log ?in|sign in|access|pay|check ?out|connect|find|get through|login)": -1.2,
    r"(?:is|was|been|went|goes|it's|are) down": -1.5,
    r"without (?:any )?(?:permission|explanation|warning|notice|reason|consent)": -1.8,
    r"for no reason": -1.8,
    r"(?:do|are|did|does|is) (?:you|anyone|anybody) (?:even|actually) \w+": -2.0,
    r"anyone (?:there|here|home)": -1.2,
    r"expected (?:much |a lot |far )?better": -2.0,
    r"supposed to": -1.0,
    r"charged (?:me )?(?:twice|double|two times)": -2.0,
    r"keeps? (?:crashing|failing|dropping|freezing|happening|charging|sending|logging me out)": -1.5,
    r"(?:takes?|taking|took) (?:so|this|that) long": -1.8,
    r"makes no sense|doesn't make sense|does not make sense": -1.8,
    r"what a (?:mess|joke|nightmare|waste)": -2.5,
    r"rip ?off": -3.0,
    r"(?:thanks|thank you|cheers) again": 2.0,
    r"no (?:worries|problem|problems)(?: at all)?": 1.5,
    r"(?:works?|working|back) (?:again|now|fine|perfectly|great)": 2.0,
    r"came through|went through|worked out": 1.2,
    r"well done|good job|great job|nice work|good work": 2.0,
    r"can't thank you enough|cannot thank you enough": 3.0,
    r"can't wait|cannot wait": 1.5,
    r"you're a star|you are a star|you're the best|you are the best|you guys rock": 2.5,
    r"five stars|5 stars": 2.5,
    r"spot on": 2.0,
    r"all good|all sorted|all set|all fixed": 1.5,
    r"good to know|good news": 1.5,
    r"made my day": 3.0,
    r"extra mile": 2.0,
    r"like a charm": 2.5,
    r"happy to help|glad (?:i|we) could help|my pleasure": 2.0,
    r"couldn't be happier|could not be happier": 3.0,
    r"much better": 1.8,
    r"stopped (?:working|responding|loading|charging)": -2.0,
    r"stop (?:emailing|sending|charging|calling|texting|spamming|billing)": -1.5,
    r"(?:doesn't|does not|didn't|did not|won't|will not|don't|do not|can't|cannot|never|isn't|is not|not|aren't) "
    r"(?:even |really |actually |just )?(?:work|working|works|load|loading|open|opening|respond|responding|understand)": -2.0,
    r"(?:hasn't|has not|haven't|have not|didn't|did not|never|still not|not yet) (?:arrived|come|been \w+|received|got"
    r"|gotten|shown up|turned up|come through|heard back)": -1.5,
    r"nothing (?:loads|works|happens|happened|changed|helps|helped|showed up|shows up)": -1.5,
    r"you (?:said|promised|told me)|(?:i was|we were) (?:told|promised)": -1.0,
    r"saved (?:me|my|the day|us)": 2.5,
    r"charged (?:me )?(?:a |an )?(?:fee|extra|more)": -1.2,
    r"ok(?:ay)?,? (?:thanks|thank you|thx|ty)": 0.4,
    r"nice one": 2.0,
    r"(?:i have|i've got|i got|there's|there is|received) nothing|nothing (?:here|arrived|came|happened)": -1.5,
}

NEGATIONS = frozenset(
    "not no never nothing nobody none neither nor without isn't wasn't aren't weren't don't doesn't didn't "
    "hasn't haven't hadn't can't cannot couldn't won't wouldn't shouldn't ain't isnt wasnt arent dont doesnt "
    "didnt hasnt havent cant couldnt wouldnt shouldnt n't".split()
)
INTENSIFIERS: dict[str, float] = {
    "very": 1.3, "really": 1.3, "so": 1.3, "extremely": 1.5, "absolutely": 1.4, "completely": 1.4,
    "totally": 1.4, "super": 1.3, "incredibly": 1.5, "truly": 1.3, "highly": 1.3, "utterly": 1.5, "such": 1.2,
    "most": 1.2, "too": 1.2, "just": 1.1, "beyond": 1.3, "seriously": 1.2,
    "slightly": 0.6, "somewhat": 0.6, "bit": 0.6, "little": 0.7, "fairly": 0.8, "quite": 0.9,
}
# Opening words that are sarcastic when the rest of the message complains.
SARCASM_OPENERS = frozenset(
    "great perfect wonderful fantastic brilliant lovely awesome wow oh nice excellent super amazing love "
    "thanks cheers".split()
)
EMOTICONS: dict[str, float] = {
    ":)": 1.5, ":-)": 1.5, ":D": 2.0, ":-D": 2.0, ";)": 1.0, "<3": 2.0, ":(": -1.5, ":-(": -1.5,
    ":/": -1.0, ":'(": -2.0, "🙂": 1.5, "😊": 2.0, "😀": 2.0, "👍": 1.5, "🙏": 1.5, "❤️": 2.0, "❤": 2.0,
    "🎉": 2.0, "😡": -2.5, "😠": -2.5, "😤": -2.0, "🙄": -1.5, "😞": -2.0, "😢": -2.0, "👎": -2.0, "🤬": -3.0,
}

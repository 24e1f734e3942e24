"""The phrases support conversations use to close, thank, apologise, own, deflect, escalate and promise.

Kept as small regular expressions in one place: the scorecard, the resolution features and the
summary all read the same language, and a reviewer can see exactly what counts as, say,
ownership. Each pattern matches lower-cased text (`any_match` lowers it).
"""

from __future__ import annotations

import re


def _rx(*alternatives: str) -> re.Pattern:
    # Case-sensitive over lower-cased text: twice as fast as IGNORECASE, measured on demo messages.
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")")


THANKS = _rx(
    r"thanks?\b", r"thank you", r"thx\b", r"appreciate (?:it|that|your help|the help)", r"much appreciated",
    r"you(?:'ve| have) been (?:very |so |really )?helpful", r"that(?:'s| is| was) (?:very |so |really )?helpful",
    r"cheers\b",
)
SATISFIED = _rx(
    r"that (?:works|worked|helps|helped|solves|fixed|sorted)", r"(?:perfect|great|awesome|wonderful|excellent)\b",
    r"all (?:set|good|sorted)", r"problem solved", r"(?:it|that)(?:'s| is) (?:fixed|sorted|resolved|working)",
    r"got it\b", r"sounds good", r"you(?:'re| are) the best",
)
DISSATISFIED = _rx(
    r"still (?:not|no|doesn't|don't|haven't|can't|isn't|waiting|broken)", r"doesn't help", r"not helpful",
    r"(?:this|that) is (?:ridiculous|unacceptable|useless|a joke)", r"waste of (?:my )?time", r"never mind",
    r"forget it", r"not (?:what i|good enough)", r"useless", r"i give up", r"unbelievable", r"not happy",
    r"(?:i'?ll|i will|going to) (?:cancel|leave|go elsewhere|dispute|complain)", r"no (?:help|use)\b",
    r"(?:you|that) didn't (?:help|answer|fix)", r"thanks? (?:for nothing|anyway)", r"so you can'?t", r"can'?t (?:you )?do anything",
)
AGENT_PING = _rx(r"are you still (?:there|with me|around|online)", r"still with me", r"just checking in",
                 r"(?:haven'?t|have not|didn'?t) heard (?:back|from you)")
CLOSE_FOR_SILENCE = _rx(r"(?:haven'?t|have not|didn'?t) heard (?:back|from you)", r"(?:close|end) (?:this|the) (?:chat|conversation)",
                        r"reply any ?time to pick", r"(?:contact|message) us again (?:whenever|when|if)")
AGENT_UNABLE = _rx(
    r"(?:couldn'?t|could not) (?:do more|help (?:further|more)|fix|change|find)", r"(?:isn'?t|is not|wasn'?t) the answer you",
    r"i'?m (?:not able|unable) to", r"(?:i|we) (?:can'?t|cannot|can not|won'?t be able to) \w+",
    r"(?:can'?t|cannot|can not) be (?!happier|better\b)\w+", r"(?:don'?t|do not) have (?:any )?(?:more|further|other)",
    r"there'?s no (?:\w+ )?(?:to|for|we can)", r"unfortunately", r"i'?m afraid", r"not (?:eligible|possible|allowed)",
    r"(?:isn'?t|is not|aren'?t|are not|wasn'?t) (?:covered|eligible|possible|refundable|allowed|something (?:i|we) can)",
    r"outside (?:our|the) \w+ (?:window|policy|period)",
)
CHASING = _rx(r"hello\?+", r"are you (?:still )?there", r"anyone there", r"any(?:one|body) (?:here|there)",
              r"still waiting", r"\?\?+")
REPEAT_MARKERS = _rx(
    r"(?:as )?i (?:already|just) (?:said|told|explained|mentioned|gave|sent)", r"(?:like|as) i said",
    r"again\b", r"for the (?:second|third|\w+th) time", r"i've (?:already )?told you", r"how many times",
)
ESCALATION = _rx(
    r"escalat\w*", r"(?:transfer|transferr?ing|pass(?:ing)?|hand(?:ing)?) (?:you|this|it|your case) (?:over )?to",
    r"supervisor", r"manager", r"specialist team", r"(?:billing|technical|tech|fraud|claims) team",
    r"(?:another|a different|the right) (?:team|department)", r"second[- ]line", r"tier (?:2|two)",
    r"opened? a (?:ticket|case) (?:with|for) (?:our|the)",
)
TRANSFER = _rx(r"transferr?(?:ed|ing)? (?:you|this|to)", r"(?:you(?:'re| are)|i'?m) being transferred",
               r"handing (?:you|this) over", r"joined the (?:chat|conversation)", r"taking over")
CLOSING_OFFER = _rx(
    r"anything else (?:i can|we can|to)", r"anything else\b.*\?", r"is there anything else", r"(?:any )?other questions",
    r"what else can i", r"anything more i can",
)
CLOSING_FAREWELL = _rx(
    r"have a (?:great|good|nice|lovely|wonderful) (?:day|evening|night|weekend|one)", r"thank(?:s| you) for (?:contacting|reaching out|"
    r"chatting|your patience|being a|calling|getting in touch|choosing)", r"take care\b", r"goodbye\b", r"bye\b",
    r"glad (?:i|we) could help", r"happy to (?:have )?help(?:ed)?",
)
EMPATHY = _rx(
    r"(?:i'?m|i am|we'?re|we are) (?:so |very |really |truly )?sorry", r"(?:i|we) apologi[sz]e", r"apologies",
    r"i (?:completely |totally |fully )?understand", r"i can (?:imagine|understand)",
    r"i can see (?:how|why|that (?:this|it|you(?:'re| are)) (?:is |must be |are )?(?:\w+ )?(?:frustrat|annoy|upset|stress|worr))", r"(?:that|this) (?:must be|sounds|is) "
    r"(?:really |very |so )?(?:frustrating|annoying|stressful|inconvenient|upsetting|disappointing)",
    r"i hear you", r"(?:sorry|unfortunate) (?:to hear|about)", r"thank you for (?:your patience|bearing with)",
)
OWNERSHIP = _rx(
    # "I'll <do something>" and "I've <done something>" are commitments; deflection is checked separately.
    r"i(?:'ll| will) (?!not\b|never\b)\w+", r"i(?:'ve| have) (?:just |now |already )?(?:\w+ed|found|sent|made|done|put|set|"
    r"got|taken|given|issued|written|run)\b", r"let me\b", r"let's (?:get|sort|fix|see|look)", r"leave it with me",
    r"i can (?:help|do|take care|sort|fix|process|issue|arrange|check|see)", r"i(?:'m| am) (?:going to|on it|happy to)",
    r"(?:i'd|i would|i'm|i am) (?:be )?(?:glad|happy) to", r"(?:happy|glad) to help",
)
DEFLECTION = _rx(
    r"not my (?:department|job|problem|responsibility)", r"(?:there'?s|there is) nothing (?:i|we) can do",
    r"you(?:'ll| will) have to (?:call|contact|email|go|ask|wait)", r"(?:i|we) can'?t help (?:you )?with that",
    r"(?:that'?s|that is) not (?:something )?(?:i|we) (?:can|handle|deal)", r"call (?:us )?back later", r"try again later",
    r"contact (?:the )?(?:other|another) (?:department|team)", r"out of my hands", r"policy is policy",
)
FOLLOW_UP = _rx(
    r"you(?:'ll| will| should) (?:receive|get|see|hear)", r"(?:we|i)(?:'ll| will) (?:email|call|contact|send|notify|update|"
    r"follow up|reach out|get back|let you know|keep you|monitor|check back)", r"within \d+(?:\s*-\s*\d+)? (?:business |working )?"
    r"(?:days?|hours?|weeks?|minutes?)", r"(?:by|before|on) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|"
    r"the end of)", r"follow[- ]up", r"(?:should|will) (?:arrive|be (?:credited|refunded|processed|delivered|shipped|reflected|back))",
    r"(?:confirmation|tracking) (?:email|number|link)",
)
RUDE = _rx(r"calm down", r"you should have", r"that'?s your problem", r"read the (?:faq|manual|website)", r"obviously",
           r"as i (?:already )?said", r"whatever\b", r"not my fault", r"you people")

# Said by customers when the request is met; said by agents when they check it is.
CHECK_UNDERSTOOD = _rx(r"does (?:that|this) (?:help|make sense|answer|work)", r"did (?:that|this) (?:help|work|solve|answer)",
                       r"is (?:that|this|everything) (?:clear|ok|okay|working)")

WORD = re.compile(r"[a-z0-9']+")
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def any_match(pattern: re.Pattern, text: str) -> bool:
    return pattern.search((text or "").lower()) is not None


def words(text: str) -> list[str]:
    return WORD.findall((text or "").lower())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.split(text or "") if s.strip()]

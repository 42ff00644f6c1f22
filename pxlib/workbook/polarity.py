"""Praise or complaint: the polarity of patients' comments, clause by clause.

Why a lexicon of our own
------------------------
Patients' complaints are mostly about things that did *not* happen ("nobody told
me when I could go home", "I wasn't given any pain relief") or took too long; their
praise is about people ("the nurses were lovely"). General-purpose sentiment
lexicons read such text badly. VADER (Hutto & Gilbert 2014; PyPI ``vaderSentiment``
3.3.2, its lexicon inside the package, no release since May 2020) agreed with the
hand labels of ``tests/fixtures/labelled_comments.csv`` for 49 % of its 136 comments
(compound score cut at +/-0.05, the authors' thresholds; it scores "could be better" and "not given any pain relief" as praise and "nobody
told me" as neutral); NLTK's copy of VADER needs its lexicon downloaded at run time,
which hospital networks and this project forbid. So pxlib keeps a small lexicon for
patient-experience comments, in the same spirit (a valence lexicon plus rules for
negation and contrast, VADER's design), written out below where a team can read and
extend it (:meth:`Lexicon.extend`). It runs offline, needs no model, and its accuracy
on the labelled comments is tested (``tests/workbook/test_themes_polarity.py``): 132 of 136
comments agree (105 of the 106 written before the lexicon, which were used to build
it; the 30 written after it agreed 23 times before five general words were added,
every miss read as neutral), and no praise is read as a complaint or the reverse.

The method
----------
1. **Sentences** end at ``. ! ? ;`` or a line break. **Clauses** are sentences cut
   at commas, at contrast words (*but, however, although, though, whereas, except,
   apart from, otherwise*) and at *and* / *and then* when a new subject follows
   (*and I*, *and the*, *and nobody* ...): "The nurses were lovely | but nobody
   explained my tablets".
2. In each clause, **idioms** are scored first as whole phrases: "could not have
   been kinder" +1, "could be better" -1, "nothing was too much trouble" +1, "had to
   ask" -1, "last minute" -1, "kept informed" +1; "pain relief" is a medicine, not a
   feeling (0). A negator before an idiom flips it ("not kept informed" -1) unless
   the phrase holds its own negation.
3. **Words** score +1 (*kind, lovely, clearly, quickly, listened*) or -1 (*rude,
   cold, noisy, waited, delay, wrong*); an entry ending in ``*`` matches any word
   starting with it (``explain*``: explained, explaining).
   **Expected events** (*told, asked, given, came, arranged, understand, sure,
   enough*) score 0, but -1 when negated: "I was told" is neutral, "nobody told
   me" a complaint.
4. **Negation**: a negator (*not, no, never, n't, nobody, no one, nothing, none,
   without, lack of, hardly, barely, neither, nor, failed to, forgot to*) flips the
   sign of the scored words among the next :data:`NEGATION_WINDOW` content words of
   its clause (little words such as *very, any, the, to, been* are not counted):
   "not kind" -1, "wasn't explained" -1, "not bad" +1, "no delay" +1, "didn't have
   to wait" +1.
5. A clause's **score** is the sum; its polarity is the sign. A comment is
   ``positive`` when some clause is positive and none negative, ``negative`` the
   reverse, ``mixed`` when it has both, ``neutral`` when it has neither.

Themes take the polarity of the clauses that mention them
(:func:`pxlib.workbook.themes.theme_polarities`): "The nurses were lovely but nobody
explained my tablets" is praise for kindness and a complaint about information and
medicines. A theme mentioned in a neutral clause ("My medication was changed | and
no one explained why") takes the polarity of the nearest scored clause of the same
sentence.

Known limits (a human still reads the comments): sarcasm; negation further away than
the window ("not one member of staff was unkind"); idioms not listed ("a ray of
sunshine"); comments in other languages.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

#: how many content words after a negator it reaches
NEGATION_WINDOW = 3

POLARITIES = ("negative", "positive", "mixed", "neutral")
"""A comment's (or a theme mention's) polarity, in this order."""

_POSITIVE = """
    kind* lovely love* wonderful excellent brilliant great good amazing fantastic fab
    superb outstanding best perfect* caring cared friendly helpful helped polite
    respect* compassion* attentive thank* grateful safe clean clear clearly well quick
    quickly prompt* efficient* professional* reassur* comfort* happy pleased calm
    welcoming easy easier smooth* organised useful fine okay ok alright nice pleasant
    supportive support* dignity gentle thorough knowledgeable cheerful recommend*
    listen* explain* quiet sorted lucky marvellous fabulous exceptional incredible
    informative understanding considerate tasty delicious plenty
"""
_NEGATIVE = """
    rude unkind uncaring unhelpful unprofessional dismissive ignor* disrespect* poor*
    bad badly terrible awful horrible dreadful appalling worst worse shambles chaos
    chaotic disorganised cold noisy loud unbearable awake late lateness delay* wait*
    long longer ages rush* hurried wrong mistake* error* missed missing lost forgotten
    confus* unclear worr* anxious scared frighten* nuisance burden upset* distress* stress* frustrat*
    annoy* disappoint* angry alone struggl* difficult impossible hungry thirsty dirty
    filthy smelly tiny inedible tasteless bland cancel* shame sadly unfortunately
    exhaust* expensive complain* complaint* fault problem* issue* useless pointless
    shouted understaffed neglect* uncomfortable unsafe embarrass* humiliat* patronis*
    chased chasing lacking inadequate unacceptable disgrace* unsure
"""
_EVENTS = """
    told tell* inform* updat* asked ask came come given give offered arranged answered
    checked involved included help understand* understood know knew knowing sure
    enough sleep slept eat ate talk* seen visited explained listened able
"""
_NEGATORS = """
    not no never nobody noone none nothing without neither nor hardly barely scarcely
    lack cannot nowhere wasnt didnt couldnt cant dont doesnt isnt arent werent havent
    hasnt hadnt shouldnt wouldnt wont
"""
#: idioms: (regular expression, score, a negator before it flips it), matched before words
_IDIOMS: tuple[tuple[str, float, bool], ...] = (
    # a negation inside the phrase itself: never flipped again
    (
        r"could(?:n't| not|nt) (?:have )?(?:been|be|ask for|wish for) (?:any |a )?(?:better|kinder|nicer|more \w+)",
        1,
        False,
    ),
    (
        r"(?:can't|cannot|can not|cant|couldn't|could not) (?:thank|praise) \w+(?: \w+)? (?:enough|highly enough)",
        1,
        False,
    ),
    (r"nothing (?:was |is )?too much (?:trouble|bother)", 1, False),
    (r"above and beyond", 1, True),
    (r"made (?:a|all the) (?:real |big |huge )?difference", 1, True),
    (r"(?:took|take|taking|takes) (?:the |their |her |his )?time", 1, True),
    (r"kept (?:me |us |my \w+ )?(?:well )?(?:informed|updated|up to date)", 1, True),
    (r"on time|in good time|no time at all", 1, True),
    (
        r"could (?:have )?(?:been|be|do with being) (?:a lot |much |a bit |so much )?(?:better|clearer|quicker|faster|improved|more \w+)",
        -1,
        False,
    ),
    (
        r"could (?:have )?(?:be |been )?improv\w*|room for improvement|needs? (?:to )?improv\w*",
        -1,
        False,
    ),
    (
        r"would (?:have )?(?:liked|like|preferred|appreciated)|would have been (?:nice|good|helpful|better)",
        -1,
        False,
    ),
    (r"should (?:have|'ve) been", -1, False),
    (
        r"had to (?:ask|chase|keep asking|remind|beg|repeat)|having to (?:ask|chase|repeat)",
        -1,
        True,
    ),
    (
        r"(?:several|many|so many|three|four|five|numerous) times|again and again|over and over",
        -1,
        True,
    ),
    (r"last minute|long time|too long|for hours|all day|hours and hours", -1, True),
    (
        r"hard to|short[- ]staffed|out of reach|talked down to|like a number|in pain|left alone",
        -1,
        True,
    ),
    (r"shame about|let down|no idea", -1, True),
    (r"pain relief|pain killers?|painkillers?|as well as|as well", 0, False),
)
_MULTI_NEGATORS = (
    r"no[ -]one",
    r"lack of",
    r"(?:failed|fail|forgot|forget|forgotten) to",
    r"not one",
)
#: little words skipped when counting the negation window
_FILLERS = frozenset(
    """very really so too any the a an of to me us my him her them be been being have had
    has ever at all even quite that much feel felt seem seemed seems get got anything
    anyone anybody us our one was were is are am""".split()
)
#: words that start a new clause after "and" (a new subject)
_SUBJECTS = (
    r"i|i'm|i've|i'd|we|they|he|she|it|it's|there|the|my|our|his|her|their|this|"
    r"nobody|no one|no-one|noone|everyone|everybody|someone|nothing|then"
)

_SENTENCE = re.compile(r"[.!?;\n\r]+")
_CLAUSE = re.compile(
    r",|\b(?:but|however|although|though|whereas|except|apart from|otherwise)\b"
    rf"|\band\s+(?=(?:{_SUBJECTS})\b)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """The words and rules that give a clause its polarity (see the module docstring).

    ``positive``, ``negative`` and ``events`` hold words (``explain*`` matches word
    starts); ``negators`` single words; ``idioms`` (regular expression, score,
    negatable) triples, where ``negatable`` says whether a negator before the phrase
    flips it ("not kept informed").
    """

    positive: frozenset[str]
    negative: frozenset[str]
    events: frozenset[str]
    negators: frozenset[str]
    idioms: tuple[tuple[str, float, bool], ...]

    def extend(
        self,
        *,
        positive: Iterable[str] = (),
        negative: Iterable[str] = (),
        events: Iterable[str] = (),
        negators: Iterable[str] = (),
        idioms: Mapping[str, float] | None = None,
    ) -> Lexicon:
        """A new lexicon with more words (a word moved to another list leaves its old one).

        ``idioms`` maps phrases (regular expressions, matched at word boundaries,
        case-insensitive) to their score; they are tried before the default idioms
        and a negator before them flips them.
        """
        pos, neg, ev = set(self.positive), set(self.negative), set(self.events)
        for words, keep in ((positive, pos), (negative, neg), (events, ev)):
            for w in words:
                w = w.strip().lower()
                for other in (pos, neg, ev):
                    other.discard(w)
                keep.add(w)
        extra = tuple((str(k), float(v), True) for k, v in (idioms or {}).items())
        return Lexicon(
            frozenset(pos),
            frozenset(neg),
            frozenset(ev),
            self.negators | {w.strip().lower() for w in negators},
            extra + self.idioms,
        )

    def word_score(self, token: str) -> tuple[float, bool]:
        """(score, is an expected event) of one lower-case token without apostrophes."""
        return _lookup(self, token)


def _matches(entries: frozenset[str], token: str) -> bool:
    if token in entries:
        return True
    return any(e.endswith("*") and token.startswith(e[:-1]) for e in entries)


@lru_cache(maxsize=8192)
def _lookup(lex: Lexicon, token: str) -> tuple[float, bool]:
    if _matches(lex.negative, token):
        return -1.0, False
    if _matches(lex.positive, token):
        return 1.0, False
    if _matches(lex.events, token):
        return 0.0, True
    return 0.0, False


@lru_cache(maxsize=64)
def _idiom_pattern(idioms: tuple[tuple[str, float, bool], ...]) -> re.Pattern[str]:
    alts = "|".join(f"(?P<i{k}>\\b(?:{p})\\b)" for k, (p, _, _) in enumerate(idioms))
    return re.compile(alts, re.IGNORECASE)


_MULTI_NEG = re.compile(r"\b(?:" + "|".join(_MULTI_NEGATORS) + r")\b")
_IDIOM_TOKEN = re.compile(r"^qqidiom(\d+)$")

DEFAULT_LEXICON = Lexicon(
    positive=frozenset(_words(_POSITIVE)),
    negative=frozenset(_words(_NEGATIVE)),
    events=frozenset(_words(_EVENTS)),
    negators=frozenset(_words(_NEGATORS)),
    idioms=_IDIOMS,
)
"""The lexicon for patient-experience comments described in the module docstring."""


def clause_spans(text: str) -> list[tuple[int, int, int]]:
    """``(start, end, sentence number)`` of each clause of ``text`` (character offsets)."""
    spans: list[tuple[int, int, int]] = []
    sentence_start = 0
    bounds = [(m.start(), m.end()) for m in _SENTENCE.finditer(text)] + [(len(text), len(text))]
    for sentence_no, (s_end, next_start) in enumerate(bounds):
        piece = text[sentence_start:s_end]
        start = sentence_start
        for m in _CLAUSE.finditer(piece):
            spans.append((start, sentence_start + m.start(), sentence_no))
            start = sentence_start + m.end()
        spans.append((start, s_end, sentence_no))
        sentence_start = next_start
    return [(a, b, s) for a, b, s in spans if text[a:b].strip()]


def _idiom_token(m: re.Match[str]) -> str:
    name = next(k for k, v in m.groupdict().items() if v is not None)
    return f" qqidiom{name[1:]} "


def clause_score(clause: str, lexicon: Lexicon | None = None) -> float:
    """The polarity score of one clause: idioms, then words, with a negator flipping
    the scored words (and negatable idioms) among the next :data:`NEGATION_WINDOW`
    content words: a negated positive or expected event scores -1, a negated
    negative +1."""
    lex = DEFAULT_LEXICON if lexicon is None else lexicon
    text = clause.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = _idiom_pattern(lex.idioms).sub(_idiom_token, text)
    text = _MULTI_NEG.sub(" not ", text)
    score = 0.0
    reach = 0  # content words still inside a negation's scope
    for token in _TOKEN.findall(text):
        bare = token.replace("'", "")
        if bare in lex.negators or token.endswith("n't"):
            reach = NEGATION_WINDOW
            continue
        idiom = _IDIOM_TOKEN.match(token)
        if idiom:
            _, value, negatable = lex.idioms[int(idiom.group(1))]
            event = False
            if not negatable:
                reach = 0
        else:
            value, event = lex.word_score(bare)
        negated = reach > 0
        if bare not in _FILLERS:
            reach = max(reach - 1, 0)
        if negated and (event or value):
            score += -1.0 if event or value > 0 else 1.0
        else:
            score += value
    return score


def _sign(x: float) -> int:
    return 1 if x > 0 else (-1 if x < 0 else 0)


def clause_polarities(text: str, lexicon: Lexicon | None = None) -> list[tuple[int, int, int, int]]:
    """``(start, end, sentence, sign)`` per clause of ``text``; ``sign`` is +1, -1 or 0."""
    return [(a, b, s, _sign(clause_score(text[a:b], lexicon))) for a, b, s in clause_spans(text)]


def label(signs: Iterable[int]) -> str:
    """``positive``, ``negative``, ``mixed`` or ``neutral`` from clause signs."""
    signs = set(signs)
    if 1 in signs and -1 in signs:
        return "mixed"
    if 1 in signs:
        return "positive"
    if -1 in signs:
        return "negative"
    return "neutral"


def comment_polarity(text: object, lexicon: Lexicon | None = None) -> str:
    """The polarity of one comment (a missing or empty comment is ``neutral``)."""
    if not isinstance(text, str) or not text.strip():
        return "neutral"
    return label(sign for *_, sign in clause_polarities(text, lexicon))


def mention_signs(
    text: str,
    positions: Iterable[int],
    lexicon: Lexicon | None = None,
    *,
    clauses: list[tuple[int, int, int, int]] | None = None,
) -> list[int]:
    """The sign given to a theme keyword found at each character position of ``text``.

    A keyword takes its clause's sign; in a neutral clause, the sign of the nearest
    scored clause of the same sentence (the later one on a tie); else 0. ``clauses``:
    :func:`clause_polarities` of ``text`` when already computed.
    """
    if clauses is None:
        clauses = clause_polarities(text, lexicon)
    out = []
    for pos in positions:
        k = next((i for i, (a, b, _, _) in enumerate(clauses) if a <= pos < b), None)
        if k is None:  # inside a separator ("," or "but"): the clause that follows
            k = next((i for i, (a, _, _, _) in enumerate(clauses) if a > pos), len(clauses) - 1)
        if k < 0:
            out.append(0)
            continue
        _, _, sentence, sign = clauses[k]
        if sign == 0:
            near = [
                (abs(i - k), -i, s)
                for i, (_, _, sn, s) in enumerate(clauses)
                if sn == sentence and s != 0
            ]
            sign = min(near)[2] if near else 0
        out.append(sign)
    return out

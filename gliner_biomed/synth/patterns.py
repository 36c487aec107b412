"""Open-type weak supervision without an LLM: lexico-syntactic patterns (Hearst patterns,
appositions, parentheticals, copulas) name the type of a mention in the text itself.

"anticancer drugs such as methotrexate and cisplatin" gives ``methotrexate`` and ``cisplatin``
as ``anticancer drug``; "STAT3, a transcription factor that ..." gives ``STAT3`` as
``transcription factor``. Every pattern has a name, and every match records it, so that a run can
say how much each pattern produced and each pattern's precision can be measured on its own.

Texts are split into whitespace chunks and punctuation (so the space-joined tokens of IOB corpora,
"IL - 2 ( a cytokine )", read like running text); noun phrases are runs of chunks without
function words. Types are lower-case noun phrases (determiners and evaluative adjectives
stripped, the head singular, in the grounding's label normal form); mentions keep their exact
character offsets into the text. Plain ``re`` and word lists: deterministic, and no tagger whose
errors would be harder to explain than these heuristics'."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .client import Completion
from .labels import normal_form, singular
from .prompts import Messages

PATTERNS_VERSION = "patterns-v2"  # bump when a pattern or word list changes: part of the cache key

# Function words end noun phrases; a phrase never contains one.
_FUNCTION_WORDS = frozenset("""
a an the this that these those of in on at to for from by with without within into onto upon over under
between among through during after before since until than as and or but nor not no is are was were be
been being has have had do does did can could may might must shall should will would which who whom whose
what when where why how whether if while although though because thus however therefore moreover
furthermore also both either neither each every all any some such its their our his her it they we he she
them us i you your here there then very most more less only even just well especially particularly notably
including like e.g. i.e. respectively via per versus vs et al using used other others another
include includes included show shows showed shown display displays displayed express expresses
investigate investigated led induce induces contain contains containing suggest suggests
seem seems appear appears remain remains play plays act acts bind binds occur occurs exhibit exhibits
regulate regulates affect affects implicate implicates mediate mediates stimulate stimulates control controls
activate activates cleave cleaves remove removes encounter encounters involve involves require requires
promote promotes inhibit inhibits enhance enhances whereas
""".split())
# Stripped from the front of a type: they say how the authors feel about the type, not what it is.
_TYPE_NOISE = frozenset("""
new novel several various different many certain specific important major common known well-known putative
potential potent selective particular numerous multiple diverse distinct additional further similar related
traditional conventional classical typical usual previous recent main key relevant possible frequent rare
unknown unique individual corresponding respective standard special simple single large small high low
strong weak good poor useful effective interesting notable prominent significant critical crucial essential
powerful broad wide general same certain other such own available current existing established candidate
commonly widely used described identified characterized characterised reported
given shown seen taken found made chosen undergone myriad
""".split())
# After the head, these make a type phrase run on ("transcription factors known to ...", "a
# protein kinase capable of ..."); cut from its end.
_POSTNOMINAL = frozenset("""
known important capable essential common specific similar due first often found seen distinct analogous
typical necessary prior homologous responsible involved present required alone
""".split())
# Adjectives that end a type phrase as if they were its head ("a safe and effective ...").
_ADJECTIVE_HEADS = frozenset("""
safe rapid slow fast clear yet inefficient prevalent inhibitory nonselective pharmacologic apoptotic
negative positive dominant recessive neuronal multimodular spontaneous useful
""".split())
# Heads that name no type ("a number of", "a total of", "one of the") or are too vague to teach one.
_GENERIC_HEADS = frozenset("""
one other example instance way thing case kind type form number total lot part set variety range series
majority member fact result manner extent level cause consequence feature aspect point time day year week
month hour minute role use effect area reason issue problem question study report paper work group
amount degree proportion percentage rate ratio value increase decrease change difference
""".split())
# Mentions that are words of the discourse, not entities.
_GENERIC_MENTIONS = frozenset("""
patient patients study studies case cases result results data analysis analyses others it this that these
those they we which one ones both all subject subjects individual individuals people group groups control
controls sample samples method methods factor factors agent agents treatment conditions
""".split())
_ARTICLES = frozenset({"a", "an"})
_LY_NOUNS = frozenset({"family", "subfamily", "superfamily", "assembly", "anomaly", "supply", "monopoly", "ally"})
_PUNCTUATION = frozenset(",;:()[]{}?!")
_CHUNK = re.compile(r"[^\s,;:()\[\]{}?!]+|[,;:()\[\]{}?!]")
_JOINERS = frozenset({"-", "/", "+", "'", "\u2010", "\u2011", "\u2013"})  # inside names once IOB text has spaced them
_TYPE_WORD = re.compile(r"[a-z][a-z'\-]*[a-z]")
_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "al.", "vs.", "etc."})
_MAX_MENTION_CHUNKS = 6
_MAX_TYPE_WORDS = 4
_MAX_LIST_ITEMS = 8
_TYPE_OF = frozenset({"type", "kind", "class", "form", "subtype", "family", "member", "subclass", "subfamily", "group", "variant"})


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def is_punctuation(self) -> bool:
        return self.text in _PUNCTUATION or self.text == "."

    @property
    def in_phrase(self) -> bool:
        """May stand inside a noun phrase."""
        return not self.is_punctuation and self.lower not in _FUNCTION_WORDS

    @property
    def in_name(self) -> bool:
        """May stand inside a mention: as in a phrase, but no lower-case participle ("clone
        encoding oryzacystatin" names oryzacystatin)."""
        return self.in_phrase and not (self.text.islower() and len(self.text) > 4 and self.text.endswith(("ing", "ed")))


def chunks_of(text: str) -> List[Chunk]:
    """Whitespace chunks and punctuation, with a sentence-final full stop as a chunk of its own
    ("cisplatin." -> "cisplatin", "."), abbreviations ("e.g.", "E. coli") left whole; an initial
    before a capitalised word ends a sentence ("replication factor C. Replication ...")."""
    chunks = []
    for match in _CHUNK.finditer(text):
        word, start, end = match.group(), match.start(), match.end()
        initial = re.fullmatch(r"[A-Z]\.", word) and not text[end:].lstrip()[:1].isupper()
        if len(word) > 1 and word.endswith(".") and word.lower() not in _ABBREVIATIONS and not initial:
            chunks.append(Chunk(word[:-1], start, end - 1))
            chunks.append(Chunk(".", end - 1, end))
        else:
            chunks.append(Chunk(word, start, end))
    return chunks


@dataclass(frozen=True)
class PatternMatch:
    """One pattern instance: its mentions (character spans) and their type."""

    pattern: str
    type: str
    mentions: Tuple[Tuple[int, int], ...]


# --- noun phrases --------------------------------------------------------------------------

def _phrase_forward(chunks: Sequence[Chunk], i: int, limit: int = _MAX_MENTION_CHUNKS) -> int:
    """End (exclusive) of the longest mention phrase starting at ``i``: chunks that may stand in
    a name, at most ``limit``, not ending on a joiner."""
    j = i
    while j < len(chunks) and j - i < limit and chunks[j].in_name:
        j += 1
    if j < len(chunks) and chunks[j].in_name:
        return i  # the name goes on past the limit: its first chunks are no mention
    while j > i and chunks[j - 1].text in _JOINERS:
        j -= 1
    return j if i < len(chunks) and chunks[i].text not in _JOINERS else i


def _phrase_backward(chunks: Sequence[Chunk], end: int, limit: int = _MAX_MENTION_CHUNKS) -> int:
    """Start of the longest mention phrase ending just before ``end``."""
    i = end
    while i > 0 and end - i < limit and chunks[i - 1].in_name:
        i -= 1
    while i < end and chunks[i].text in _JOINERS:
        i += 1
    return i if end > 0 and chunks[end - 1].text not in _JOINERS else end


def _mention(text: str, chunks: Sequence[Chunk], i: int, j: int) -> Optional[Tuple[int, int]]:
    """The span of chunks ``[i, j)`` if it can be an entity mention."""
    if j <= i or j - i > _MAX_MENTION_CHUNKS:
        return None
    words = [chunk.lower for chunk in chunks[i:j]]
    joined = " ".join(words)
    if joined in _GENERIC_MENTIONS or words[0].isdigit() or len(joined) < 2 or not any(ch.isalpha() for ch in joined):
        return None
    if len(words) == 1 and _adverb(words[0]):  # "Similarly, a ..."
        return None
    return chunks[i].start, chunks[j - 1].end


def _adverb(word: str) -> bool:
    return word.endswith("ly") and singular(word) not in _LY_NOUNS and not word.endswith("lies")


def _type_words(words: List[str]) -> Optional[List[str]]:
    """A type phrase's words without leading noise (evaluative adjectives, adverbs), or None."""
    # Leading "-ed" words are more often the clause's verb ("we studied anticancer drugs") than
    # part of the type; the head is checked below.
    while words and (words[0] in _TYPE_NOISE or _adverb(words[0]) or words[0].endswith("ed")):
        words = words[1:]
    while words and (words[-1] in _POSTNOMINAL or _adverb(words[-1])):
        words = words[:-1]
    if not words or len(words) > _MAX_TYPE_WORDS:
        return None
    head = words[-1]
    if len(head) < 3 or _adverb(head) or head.endswith(("ing", "ed")) or head in _ADJECTIVE_HEADS or singular(head) in _GENERIC_HEADS:
        return None
    return words


def _type_run_forward(chunks: Sequence[Chunk], i: int) -> int:
    """End of the run of lower-case words (type words, joiners between them) from ``i``."""
    j = i
    while j < len(chunks) and j - i < 2 * _MAX_TYPE_WORDS and chunks[j].in_phrase and (
            _TYPE_WORD.fullmatch(chunks[j].text) or (chunks[j].text in _JOINERS and j > i)):
        j += 1
    while j > i and chunks[j - 1].text in _JOINERS:
        j -= 1
    return j


def _type_run_backward(chunks: Sequence[Chunk], end: int) -> int:
    i = end
    while i > 0 and end - i < 2 * _MAX_TYPE_WORDS and chunks[i - 1].in_phrase and (
            _TYPE_WORD.fullmatch(chunks[i - 1].text) or (chunks[i - 1].text in _JOINERS and i < end)):
        i -= 1
    while i < end and chunks[i].text in _JOINERS:
        i += 1
    return i


def _type_name(chunks: Sequence[Chunk], i: int, j: int, plural: bool) -> Optional[str]:
    """The normalised type of chunks ``[i, j)``; ``plural``: its head must be a plural (the
    hypernym of a Hearst list is), which also keeps verbs out ("looks like")."""
    joined = re.sub(r"\s*([\-/'\u2010\u2011\u2013])\s*", r"\1", " ".join(chunk.lower for chunk in chunks[i:j]))
    words = _type_words(joined.split())
    if words is None:
        return None
    if plural and singular(words[-1]) == words[-1]:
        return None
    name = normal_form(" ".join(words))
    return name or None


def _type_after_article(chunks: Sequence[Chunk], i: int) -> Optional[Tuple[str, int]]:
    """(type, end) of "a Y" / "a type of (the) Y" starting at the article ``chunks[i]``; the type
    must end at a phrase boundary (punctuation, a function word, the end), so "a yeast Ras
    protein" is no "yeast", and trailing participles ("a yeast gene required for") are cut."""
    if i >= len(chunks) or chunks[i].lower not in _ARTICLES:
        return None
    start = i + 1
    if start + 1 < len(chunks) and chunks[start].lower in _TYPE_OF and chunks[start + 1].lower == "of":
        start += 2
        if start < len(chunks) and chunks[start].lower == "the":
            start += 1
    end = _type_run_forward(chunks, start)
    if end < len(chunks) and chunks[end].in_phrase:
        # Stopped by a capitalised word, a number, a symbol: the phrase goes on but is no type.
        if not chunks[end].text.endswith(("ed", "ing")) or not chunks[end].text.islower():
            return None
    while end - start > 1 and chunks[end - 1].text.endswith(("ed", "ing")):
        end -= 1
    name = _type_name(chunks, start, end, plural=False)
    return (name, end) if name else None


def _list_forward(text: str, chunks: Sequence[Chunk], i: int) -> List[Tuple[int, int]]:
    """Mentions of the coordination starting at ``i``: "A, B (BB), and C" -> A, B, BB, C."""
    mentions: List[Tuple[int, int]] = []
    while i < len(chunks) and len(mentions) < _MAX_LIST_ITEMS:
        j = _phrase_forward(chunks, i)
        span = _mention(text, chunks, i, j)
        if span is None:
            break
        mentions.append(span)
        abbreviation, j = _abbreviation_at(text, chunks, j)
        mentions.extend(abbreviation)
        if j < len(chunks) and chunks[j].text == ",":
            j += 1
            if j < len(chunks) and chunks[j].lower in ("and", "or"):
                return mentions + _last_item(text, chunks, j + 1)
            i = j
        elif j < len(chunks) and chunks[j].lower in ("and", "or"):
            return mentions + _last_item(text, chunks, j + 1)
        else:
            break
    return mentions


_MAX_ABBREVIATION_CHUNKS = 4


def _abbreviation_at(text: str, chunks: Sequence[Chunk], j: int) -> Tuple[List[Tuple[int, int]], int]:
    """([span], end) of a bracketed short name at ``j`` ("methotrexate (MTX)", "( IL - 1ra )"),
    else ([], j)."""
    if j < len(chunks) and chunks[j].text == "(":
        end = _phrase_forward(chunks, j + 1, _MAX_ABBREVIATION_CHUNKS)
        span = _mention(text, chunks, j + 1, end)
        if span and end < len(chunks) and chunks[end].text == ")":
            return [span], end + 1
    return [], j


def _mentions_before(text: str, chunks: Sequence[Chunk], end: int) -> List[Tuple[int, int]]:
    """The mention ending just before ``end``, and its bracketed short name if it has one
    ("oryzacystatin ( Oc ) , a ...")."""
    if end > 0 and chunks[end - 1].text == ")":
        for opening in range(end - 2, max(end - 3 - _MAX_ABBREVIATION_CHUNKS, 0), -1):
            if chunks[opening].text == "(":
                abbreviation, after = _abbreviation_at(text, chunks, opening)
                name = _mention(text, chunks, _phrase_backward(chunks, opening), opening)
                return [name] + abbreviation if name and after == end else []
        return []
    span = _mention(text, chunks, _phrase_backward(chunks, end), end)
    return [span] if span else []


def _last_item(text: str, chunks: Sequence[Chunk], i: int) -> List[Tuple[int, int]]:
    span = _mention(text, chunks, i, _phrase_forward(chunks, i))
    return [span] if span else []


def _list_backward(text: str, chunks: Sequence[Chunk], end: int) -> List[Tuple[int, int]]:
    """Mentions of the coordination ending just before ``end`` (the "and" of "and other")."""
    start = _phrase_backward(chunks, end)
    span = _mention(text, chunks, start, end)
    if span is None:
        return []
    mentions = [span]
    while start > 1 and chunks[start - 1].text == "," and len(mentions) < _MAX_LIST_ITEMS:
        end = start - 1
        start = _phrase_backward(chunks, end)
        span = _mention(text, chunks, start, end)
        if span is None:
            break
        mentions.append(span)
    return mentions[::-1]


# --- the patterns --------------------------------------------------------------------------

def _words_at(chunks: Sequence[Chunk], i: int, words: Sequence[str]) -> bool:
    return i + len(words) <= len(chunks) and all(chunks[i + k].lower == word for k, word in enumerate(words))


def _triggers(chunks: Sequence[Chunk], triggers: Sequence[Sequence[str]], first: int = 1):
    """(position, trigger) for each position from ``first`` where a trigger starts (the first
    that matches, so list longer triggers before their prefixes)."""
    for i in range(first, len(chunks)):
        for words in triggers:
            if _words_at(chunks, i, words):
                yield i, words
                break


def _hearst_forward(name: str, triggers: Sequence[Sequence[str]], comma: str):
    """ "Y such as X1, X2 and X3": plural type before the trigger, mentions after it.
    ``comma``: "optional", "required" or "none" before the trigger."""

    def find(text: str, chunks: Sequence[Chunk]) -> List[PatternMatch]:
        found = []
        for i, words in _triggers(chunks, triggers):
            type_end = i
            if chunks[i - 1].text in (",", "("):
                if comma == "none":
                    continue
                type_end = i - 1
            elif comma == "required":
                continue
            type_start = _type_run_backward(chunks, type_end)
            if type_start == type_end:
                continue
            type_name = _type_name(chunks, type_start, type_end, plural=True)
            first = i + len(words)
            if first < len(chunks) and chunks[first].text == ",":
                first += 1  # "e.g., X"
            mentions = _list_forward(text, chunks, first) if type_name else []
            if mentions:
                found.append(PatternMatch(name, type_name, tuple(mentions)))
        return found

    find.__name__ = name
    return find


def _and_other(text: str, chunks: Sequence[Chunk]) -> List[PatternMatch]:
    """ "X1, X2 and other Y": mentions before, plural type after."""
    found = []
    for i in range(1, len(chunks) - 2):
        if chunks[i].lower in ("and", "or") and chunks[i + 1].lower == "other":
            end = _type_run_forward(chunks, i + 2)
            if end < len(chunks) and chunks[end].in_phrase:
                continue
            type_name = _type_name(chunks, i + 2, end, plural=True)
            mentions = _list_backward(text, chunks, i) if type_name else []
            if mentions:
                found.append(PatternMatch("and_other", type_name, tuple(mentions)))
    return found


def _described_by_article(name: str, opener: str, closers: Optional[Tuple[str, ...]]):
    """ "X, a Y" (apposition) / "X (a Y)" (parenthetical): a mention, ``opener``, then an
    article and a type, followed by one of ``closers`` when given. The type may be "a member
    of the Y family", "an inhibitor of ..."."""

    def find(text: str, chunks: Sequence[Chunk]) -> List[PatternMatch]:
        found = []
        for i in range(1, len(chunks) - 2):
            if chunks[i].text != opener:
                continue
            typed = _type_after_article(chunks, i + 1)
            if typed is None or (closers is not None and (typed[1] >= len(chunks) or chunks[typed[1]].text not in closers)):
                continue
            mentions = _mentions_before(text, chunks, i)
            if mentions:
                found.append(PatternMatch(name, typed[0], tuple(mentions)))
        return found

    find.__name__ = name
    return find


_COPULAS = (("is", "known", "to", "be"), ("is", "thought", "to", "be"), ("is",), ("was",), ("represents",), ("remains",),
            ("acts", "as"), ("serves", "as"), ("functions", "as"))


def _copula(text: str, chunks: Sequence[Chunk]) -> List[PatternMatch]:
    """ "X is a Y" (also "X acts as a Y", "X is thought to be a Y")."""
    found = []
    for i, verb in _triggers(chunks, _COPULAS):
        typed = _type_after_article(chunks, i + len(verb))
        mentions = _mentions_before(text, chunks, i) if typed else []
        if mentions:
            found.append(PatternMatch("copula", typed[0], tuple(mentions)))
    return found


_NAMING = (("known", "as"), ("termed",), ("called",), ("designated",), ("named",), ("referred", "to", "as"))


def _known_as(text: str, chunks: Sequence[Chunk]) -> List[PatternMatch]:
    """ "a Y (,) termed X" / "a Y known as X": type (after an article) before, name after."""
    found = []
    for i, verb in _triggers(chunks, _NAMING, first=2):
        type_end = i - 1 if chunks[i - 1].text == "," else i
        type_start = _type_run_backward(chunks, type_end)
        if type_start == type_end or type_start == 0 or chunks[type_start - 1].lower not in ("a", "an", "the"):
            continue
        type_name = _type_name(chunks, type_start, type_end, plural=False)
        first = i + len(verb)
        mention = _mention(text, chunks, first, _phrase_forward(chunks, first)) if type_name else None
        if mention:
            found.append(PatternMatch("known_as", type_name, (mention,)))
    return found


# Words that precede a name as modifiers, not as its type ("the human IL-6", "the mutant p53").
_NAME_MODIFIERS = frozenset("""
human mouse murine rat bovine porcine chicken yeast viral bacterial mammalian mutant wild-type recombinant
endogenous exogenous purified soluble native full-length truncated active inactive cellular nuclear
two three four five six seven eight nine ten average mean median total entire complete whole mature late early
highest lowest serum consensus free former female male long short adjacent core apparent southern
northern western von small large effect type length
""".split())
_MOLECULE_WORDS = frozenset({"DNA", "RNA", "CDNA", "MRNA", "DNAS", "RNAS"})
# A type read before a name ends on a noun; these endings mark adjectives ("the intracellular X").
_ADJECTIVE_ENDINGS = ("al", "ic", "ive", "ous", "ar", "est", "ary", "ible", "able")


def _name_like(chunk: Chunk, min_length: int = 2) -> bool:
    """A chunk that reads as a proper name: a capital or a digit in it (STAT3, IL, K562, HeLa,
    Escherichia), at least ``min_length`` characters."""
    return len(chunk.text) >= min_length and chunk.in_name and any(ch.isupper() or ch.isdigit() for ch in chunk.text)


def _line_name_shape(name: str) -> bool:
    """A digit or an inner capital (K562, MCF - 7, HeLa): how cell-line names look, unlike a
    capitalised word ("Tumor") or a cancer's acronym ("HCC")."""
    return any(ch.isdigit() for ch in name) or re.search(r"[a-z][A-Z]", name) is not None


def _name_forward(text: str, chunks: Sequence[Chunk], i: int) -> Optional[Tuple[int, int, int]]:
    """(start, end, next chunk) of a proper name at ``i`` that ends at a phrase boundary: name-like
    chunks and the joiners between them ("IL - 6"), or a binomial ("Escherichia coli"); None when
    ordinary words follow it ("the protein kinase C pathway" names no "C pathway")."""
    if i >= len(chunks) or not _name_like(chunks[i]):
        return None
    j = i + 1
    while j + 1 < len(chunks) and chunks[j].text in _JOINERS and chunks[j + 1].in_name and not chunks[j + 1].is_punctuation:
        j += 2
    if j == i + 1 and j < len(chunks) and chunks[i].text[:1].isupper() and chunks[i].text[1:].islower() and chunks[j].text.islower() \
            and chunks[j].in_name and len(chunks[j].text) > 2:
        j += 1  # Genus species
    if j < len(chunks) and chunks[j].in_name:
        return None
    span = _mention(text, chunks, i, j)
    return (span[0], span[1], j) if span else None


def _type_before_name(text: str, chunks: Sequence[Chunk]) -> List[PatternMatch]:
    """ "the Y X": a definite type phrase right before a proper name ("the transcription factor
    STAT3", "the cytokine IL-6", "the bacterium Escherichia coli")."""
    found = []
    for i, chunk in enumerate(chunks[:-2]):
        if chunk.lower != "the":
            continue
        end = _type_run_forward(chunks, i + 1)
        head = chunks[end - 1].lower if end > i + 1 else ""
        if not head or end - i - 1 > _MAX_TYPE_WORDS or head in _NAME_MODIFIERS or head.endswith(_ADJECTIVE_ENDINGS):
            continue
        name = _name_forward(text, chunks, end)
        if name and text[name[0]:name[1]].upper() in _MOLECULE_WORDS:
            continue  # "the cell line RNA" is RNA of the line
        type_name = _type_name(chunks, i + 1, end, plural=False) if name else None
        if type_name:
            found.append(PatternMatch("type_before_name", type_name, ((name[0], name[1]),)))
    return found


def _cell_line(text: str, chunks: Sequence[Chunk]) -> List[PatternMatch]:
    """ "X cell line(s)" / "cell line(s) X": a name of three or more characters with a digit or
    an inner capital next to "cell line" ("the HeLa cell line", "the erythroleukemia cell line
    K562"; after it, an acronym too: "cell line CHO"); in "CD4+ T cell line" the name before is
    the cells' kind, not the line's name, so a short word there names nothing."""
    found = []
    for i, words in _triggers(chunks, [("cell", "line"), ("cell", "lines")], first=0):
        mentions = []
        start = _phrase_backward(chunks, i)
        before = text[chunks[start].start:chunks[i - 1].end] if start < i else ""
        # A name before "cell line" needs a digit or an inner capital (HeLa, K562, MCF - 7): a
        # capitalised word there is as often a sentence's first word ("Tumor cell lines") or
        # the cancer the lines come from ("HCC cell lines").
        short_word = chunks[i - 1].text.isalpha() and len(chunks[i - 1].text) <= 2
        if len(before) >= 3 and not short_word and all(_name_like(c, 1) or c.text in _JOINERS for c in chunks[start:i]) \
                and _line_name_shape(before):
            span = _mention(text, chunks, start, i)
            if span and not (start > 0 and chunks[start - 1].in_name):
                mentions.append(span)
        name = _name_forward(text, chunks, i + 2)
        after = text[name[0]:name[1]] if name else ""
        if len(after) >= 3 and (_line_name_shape(after) or (after.isupper() and after not in _MOLECULE_WORDS)):
            mentions.append((name[0], name[1]))
        if mentions:
            found.append(PatternMatch("cell_line", "cell line", tuple(mentions)))
    return found


Finder = Callable[[str, Sequence[Chunk]], List[PatternMatch]]

# name -> finder; the order is the report's. Each is tested on its own in tests/test_synth_patterns.py.
PATTERNS: Dict[str, Finder] = {
    "such_as": _hearst_forward("such_as", [("such", "as")], comma="optional"),
    "including": _hearst_forward("including", [("including",)], comma="optional"),
    "especially": _hearst_forward("especially", [("especially",), ("particularly",), ("notably",), ("in", "particular")], comma="required"),
    "eg": _hearst_forward("eg", [("e.g.",), ("e.g",)], comma="optional"),
    "like": _hearst_forward("like", [("like",)], comma="none"),
    "and_other": _and_other,
    "apposition": _described_by_article("apposition", ",", closers=None),
    "parenthetical": _described_by_article("parenthetical", "(", closers=(")", ",", ";")),
    "copula": _copula,
    "known_as": _known_as,
    "type_before_name": _type_before_name,
    "cell_line": _cell_line,
}


def mine(text: str, patterns: Optional[Sequence[str]] = None) -> List[PatternMatch]:
    """All matches of ``patterns`` (default: all) in ``text``, in pattern order then text order."""
    names = list(PATTERNS) if patterns is None else list(patterns)
    unknown = [name for name in names if name not in PATTERNS]
    if unknown:
        raise ValueError(f"unknown patterns {unknown}; known: {', '.join(PATTERNS)}")
    chunks = chunks_of(text)
    return [match for name in names for match in PATTERNS[name](text, chunks)]


class WithheldTypes:
    """Type names a training corpus must not teach (the held-out phrasings of the unseen-type
    evaluation): a mined type is withheld when its normal form is one of them, or its head is a
    one-word one ("anticancer drug" teaches "drug" as much as "drug" does)."""

    def __init__(self, phrases: Iterable[str] = ()):
        self.phrases = frozenset(filter(None, (normal_form(phrase) for phrase in phrases)))
        self.heads = frozenset(phrase for phrase in self.phrases if " " not in phrase)

    def __contains__(self, type_name: str) -> bool:
        return type_name in self.phrases or type_name.rsplit(" ", 1)[-1] in self.heads

    def __len__(self) -> int:
        return len(self.phrases)


def matches_as_answer(text: str, matches: Sequence[PatternMatch], withheld: WithheldTypes = WithheldTypes()) -> str:
    """The matches as an annotation answer in the LLM backends' shape, with offsets and the
    pattern of every entity, so that `synth ground` grounds them like an LLM's; mentions of a
    withheld type go to ``withheld`` (counted by :func:`pattern_report`, never grounded)."""
    answer: Dict[str, List[Dict]] = {"entities": [], "withheld": []}
    for match in matches:
        for start, end in match.mentions:
            entity = {"text": text[start:end], "label": match.type, "start": start, "end": end, "pattern": match.pattern}
            answer["withheld" if match.type in withheld else "entities"].append(entity)
    return json.dumps(answer, ensure_ascii=False)


class PatternBackend:
    """The ``patterns`` annotator: no model, no prompt; the request is the text itself."""

    parallel = False
    reads_text = True  # annotate() sends the text as the one message instead of a rendered prompt
    worth_caching = False  # recomputing an answer is cheaper than a cache lookup

    def __init__(self, patterns: Optional[Sequence[str]] = None, withheld: WithheldTypes = WithheldTypes()):
        self.patterns = tuple(PATTERNS) if patterns is None else tuple(patterns)
        mine("", self.patterns)  # unknown names fail here, before any text is read
        self.withheld = withheld
        self.model = PATTERNS_VERSION

    def generation_params(self) -> Dict:
        return {"patterns": list(self.patterns), "withheld": sorted(self.withheld.phrases)}

    def complete(self, messages: Messages) -> Completion:
        text = messages[-1]["content"]
        return Completion(matches_as_answer(text, mine(text, self.patterns), self.withheld), "stop", {}, attempts=1)

    def complete_batch(self, batch: List[Messages]) -> List[Completion]:
        return [self.complete(messages) for messages in batch]


def pattern_report(responses: Iterable[str], patterns: Sequence[str] = tuple(PATTERNS)) -> Dict[str, Dict[str, int]]:
    """Per pattern, over pattern-backend answers (``response`` strings): ``texts`` with an entity
    from it, its ``entities``, and mentions ``withheld`` for their type; every pattern in
    ``patterns`` is listed, with zeros if it matched nothing."""
    texts: Counter = Counter()
    entities: Counter = Counter()
    withheld: Counter = Counter()
    for response in responses:
        answer = json.loads(response)
        seen = Counter(entity["pattern"] for entity in answer["entities"])
        entities.update(seen)
        texts.update(seen.keys())
        withheld.update(entity["pattern"] for entity in answer.get("withheld", []))
    return {name: {"texts": texts[name], "entities": entities[name], "withheld": withheld[name]} for name in patterns}

"""The type vocabulary (label_maps/type_vocabulary.yaml): concept groups of entity types with their
surface forms, descriptions, is-a and overlap relations, the source types of every corpus that are
mentions of each group, and each corpus's negative policy. Training reads it to ask for a type in
many phrasings and to pick negative types that are really negative (docs/open-types.md).

Names are matched case-insensitively with whitespace collapsed (``"Gene  Product"`` is ``gene product``);
a source type is named ``"corpus:SourceType"``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Set, Tuple, Union

import yaml

from .label_maps import LABEL_MAP_DIR, load_label_map

DEFAULT_VOCABULARY = LABEL_MAP_DIR / "type_vocabulary.yaml"
_LINE = "__line__"
GROUP_KEYS = {"name", "names", "held_out_names", "description", "parents", "overlaps", "members"}
CORPUS_KEYS = {"exhaustive", "extra_negatives", "role_types"}


class VocabularyError(ValueError):
    """Bad vocabulary file: names the file, the line and the entry at fault."""


def normalize(phrase: str) -> str:
    return " ".join(phrase.split()).casefold()


def _singular_forms(norm: str) -> List[str]:
    """The phrase, then plain English singulars of its last word (``cell lines`` -> ``cell line``,
    ``bodies`` -> ``body``), tried in turn when the phrase itself is not in the vocabulary."""
    forms = [norm]
    if norm.endswith("ies"):
        forms.append(norm[:-3] + "y")
    if norm.endswith("es"):
        forms.append(norm[:-2])
    if norm.endswith("s") and not norm.endswith("ss"):
        forms.append(norm[:-1])
    return forms


def _lookup(table: Mapping[str, str], norm: str) -> Optional[str]:
    return next((table[form] for form in _singular_forms(norm) if form in table), None)


@dataclass(frozen=True)
class TypeGroup:
    """One concept: ``name`` plus ``names`` are its training surface forms, ``held_out_names``
    mean it too but are reserved for evaluation; ``members`` are ``corpus:SourceType`` keys."""

    name: str
    names: Tuple[str, ...]
    held_out_names: Tuple[str, ...]
    description: str
    parents: Tuple[str, ...]
    overlaps: Tuple[str, ...]
    members: Tuple[str, ...]
    line: Optional[int] = None

    @property
    def surface_forms(self) -> Tuple[str, ...]:
        """Training phrasings, the natural name first (empty for a held-out-only group)."""
        return tuple(dict.fromkeys(([] if self.held_out_only else [self.name]) + list(self.names)))

    @property
    def held_out_only(self) -> bool:
        """A group whose every phrasing is held out: its own name is one of them."""
        return normalize(self.name) in {normalize(n) for n in self.held_out_names}


@dataclass(frozen=True)
class CorpusPolicy:
    corpus: str
    exhaustive: Tuple[str, ...]
    extra_negatives: Tuple[str, ...] = ()
    role_types: Tuple[str, ...] = ()  # source types classed by the mention's role, not its meaning


class _LineLoader(yaml.SafeLoader):
    """Records the 1-based line of every mapping, so that errors can point at the entry."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class TypeVocabulary:
    """Groups, relations and corpus policies, checked on construction (see :func:`load_type_vocabulary`)."""

    def __init__(self, groups: Iterable[TypeGroup], policies: Iterable[CorpusPolicy], source: str = "<vocabulary>"):
        self.source = source
        self.groups: Dict[str, TypeGroup] = {}
        for group in groups:
            if normalize(group.name) in self.groups:
                other = self.groups[normalize(group.name)]
                raise self._error(group, f"group {group.name!r} is defined twice (also at line {other.line})")
            self.groups[normalize(group.name)] = group
        self.policies: Dict[str, CorpusPolicy] = {p.corpus: p for p in policies}
        self._phrases: Dict[str, str] = {}  # normalized training phrase -> group key
        self._held_out: Dict[str, str] = {}  # normalized held-out phrase -> group key
        self._members: Dict[str, str] = {}  # "corpus:SourceType" -> group key
        self._index()
        self._ancestors = {key: self._closure(key) for key in self.groups}
        self._descendants: Dict[str, Set[str]] = {key: set() for key in self.groups}
        for key, ancestors in self._ancestors.items():
            for ancestor in ancestors:
                self._descendants[ancestor].add(key)
        self._overlapping = self._overlap_pairs()
        self._judgements: Dict[Tuple[str, FrozenSet[str]], Dict[str, FrozenSet[str]]] = {}
        self._check_policies()

    # -- construction and checks -----------------------------------------------------------------
    def _error(self, group: Optional[TypeGroup], message: str) -> VocabularyError:
        where = self.source if group is None or group.line is None else f"{self.source}, line {group.line}"
        entry = "" if group is None else f" (group {group.name!r})"
        return VocabularyError(f"{where}{entry}: {message}")

    def _key(self, group: TypeGroup, name: str, role: str) -> str:
        key = normalize(name)
        if key not in self.groups:
            raise self._error(group, f"{role} {name!r} is not a group of the vocabulary")
        return key

    def _index(self) -> None:
        for key, group in self.groups.items():
            if not group.description.strip():
                raise self._error(group, "empty description")
            if not group.surface_forms and not group.held_out_names:
                raise self._error(group, "no names: give names (training phrasings) or held_out_names")
            for phrase, table, kind in [(p, self._phrases, "name") for p in group.surface_forms] + [
                    (p, self._held_out, "held-out name") for p in group.held_out_names]:
                if not phrase.strip():
                    raise self._error(group, f"empty {kind}")
                norm = normalize(phrase)
                for other_table in (self._phrases, self._held_out):
                    if norm in other_table:
                        other = self.groups[other_table[norm]]
                        where = "this group" if other_table[norm] == key else f"group {other.name!r} (line {other.line})"
                        raise self._error(group, f"{kind} {phrase!r} is already a phrasing of {where}")
                table[norm] = key
            if group.held_out_only and group.names:
                raise self._error(group, "the group name is held out, so its other phrasings must be held out too "
                                         "(move names to held_out_names)")
            for member in group.members:
                corpus, _, source_type = member.partition(":")
                if not corpus or not source_type:
                    raise self._error(group, f"member {member!r} is not 'corpus:SourceType'")
                if member in self._members:
                    other = self.groups[self._members[member]]
                    raise self._error(group, f"source type {member} is already a member of group {other.name!r} "
                                             f"(line {other.line}): a type belongs to exactly one group")
                if group.held_out_only:
                    raise self._error(group, f"member {member}: a group with only held-out names cannot have members "
                                             "(training would have to name it)")
                self._members[member] = key
            for name in group.parents + group.overlaps:
                self._key(group, name, "parent" if name in group.parents else "overlap")
            both = {normalize(p) for p in group.parents} & {normalize(o) for o in group.overlaps}
            if both:
                raise self._error(group, f"{sorted(both)} listed both as parent and as overlap")

    def _closure(self, key: str) -> Set[str]:
        """Strict ancestors of group ``key`` (a cycle is an error)."""
        seen: Set[str] = set()
        stack = [(key, (key,))]
        while stack:
            current, path = stack.pop()
            for parent in self.groups[current].parents:
                parent_key = normalize(parent)
                if parent_key in path:
                    raise self._error(self.groups[key], f"parents form a cycle: {' -> '.join(path + (parent_key,))}")
                if parent_key not in seen:
                    seen.add(parent_key)
                    stack.append((parent_key, path + (parent_key,)))
        return seen

    def _overlap_pairs(self) -> Set[FrozenSet[str]]:
        """Declared overlaps, as unordered pairs. Not inherited: a sequence feature overlaps a
        gene (CRAFT's SO marks the word "gene"), but a protein mutation does not; each pair that
        shares mentions is written down. A group overlapping its own ancestor is an error."""
        pairs: Set[FrozenSet[str]] = set()
        for key, group in self.groups.items():
            for other in group.overlaps:
                other_key = normalize(other)
                if other_key in self._ancestors[key] or key in self._ancestors[other_key]:
                    raise self._error(group, f"overlap {other!r} is already an ancestor or descendant")
                pairs.add(frozenset((key, other_key)))
        return pairs

    def _check_policies(self) -> None:
        for member, key in self._members.items():
            corpus = member.split(":", 1)[0]
            if corpus not in self.policies:
                raise self._error(self.groups[key], f"member {member}: corpus {corpus!r} has no entry under corpora")
        for corpus, policy in self.policies.items():
            where = f"{self.source}: corpora.{corpus}"
            for name in policy.exhaustive + policy.extra_negatives:
                if normalize(name) not in self.groups:
                    raise VocabularyError(f"{where}: {name!r} is not a group of the vocabulary")
            exhaustive = {normalize(n) for n in policy.exhaustive}
            own = self.own_groups(corpus)
            for role_type in policy.role_types:
                if f"{corpus}:{role_type}" not in self._members:
                    raise VocabularyError(f"{where}: role type {role_type!r} is not a member source type of {corpus}")
            missing = sorted(self.groups[k].name for k in own - exhaustive)
            if missing:
                raise VocabularyError(f"{where}: exhaustive must list the groups of its own source types; missing {missing}")
            for name in policy.extra_negatives:
                for gold in own:
                    if self._relation(normalize(name), gold, trusted=frozenset()) != "excludes":
                        raise VocabularyError(f"{where}: extra negative {name!r} conflicts with the corpus's own type "
                                              f"{self.groups[gold].name!r} (synonym, parent, child or overlap): "
                                              "a name cannot be both a true type and a negative")

    # -- lookups ----------------------------------------------------------------------------------
    def resolve(self, name: str) -> Optional[str]:
        """The group key of a group name, training or held-out phrasing (or its plural), or
        ``corpus:SourceType``."""
        if name in self._members:
            return self._members[name]
        norm = normalize(name)
        exact = self._phrases.get(norm) or self._held_out.get(norm) or (norm if norm in self.groups else None)
        return exact or _lookup(self._phrases, norm) or _lookup(self._held_out, norm) or _lookup({g: g for g in self.groups}, norm)

    def _group(self, name: str) -> TypeGroup:
        key = self.resolve(name)
        if key is None:
            raise KeyError(f"{name!r} is neither a phrasing nor a source type (corpus:Type) of the type vocabulary {self.source}")
        return self.groups[key]

    def group_of(self, name: str) -> Optional[str]:
        """Natural name of the group ``name`` belongs to (training or held-out phrasing, or
        ``corpus:SourceType``); None when the vocabulary does not know it."""
        key = self.resolve(name)
        return None if key is None else self.groups[key].name

    def group_of_head(self, phrase: str) -> Optional[str]:
        """``group_of`` the phrase, else of its longest final run of words that the vocabulary
        knows: English noun phrases end in their head, so a mined "human leukemic cell line" is a
        ``cell line`` and an "inflammatory cytokine" a ``cytokine``; None when no final run is known."""
        head = self.head_phrase(phrase)
        return None if head is None else self.group_of(head)

    def head_phrase(self, phrase: str) -> Optional[str]:
        """The longest final run of the phrase's words (normalised) that the vocabulary knows: the
        head that ``group_of_head`` resolves ("gram negative bacterium" -> "bacterium"); None when
        no final run is known. The run keeps the phrase's own casing ("viral DNA" -> "DNA")."""
        words = phrase.split()
        return next((head for i in range(len(words)) for head in [" ".join(words[i:])] if self.group_of(head)), None)

    def group_of_source(self, corpus: str, source_type: str) -> Optional[str]:
        return self.group_of(f"{corpus}:{source_type}")

    def surface_forms(self, name: str) -> List[str]:
        """Training phrasings of the group of ``name`` (its natural name first); KeyError if unknown."""
        return list(self._group(name).surface_forms)

    def description(self, name: str) -> str:
        return self._group(name).description

    def parents(self, name: str) -> List[str]:
        return [self.groups[normalize(p)].name for p in self._group(name).parents]

    def ancestors(self, name: str) -> Set[str]:
        return {self.groups[k].name for k in self._ancestors[normalize(self._group(name).name)]}

    def descendants(self, name: str) -> Set[str]:
        return {self.groups[k].name for k in self._descendants[normalize(self._group(name).name)]}

    def contains_phrase(self, text: str) -> bool:
        """Whether training shows ``text`` (or its singular) as a type; held-out phrasings: False."""
        norm = normalize(text)
        return norm not in self._held_out and _lookup(self._phrases, norm) is not None

    def training_phrases(self) -> Set[str]:
        return {phrase for group in self.groups.values() for phrase in group.surface_forms}

    def held_out_phrases(self) -> Set[str]:
        return {phrase for group in self.groups.values() for phrase in group.held_out_names}

    def compatible(self, type_a: str, type_b: str) -> bool:
        """Same group (synonyms included) or one an ancestor of the other; unknown names: False."""
        a, b = self.resolve(type_a), self.resolve(type_b)
        if a is None or b is None:
            return False
        return a == b or a in self._ancestors[b] or b in self._ancestors[a]

    def _relation(self, label: str, gold: str, trusted: FrozenSet[str], own: FrozenSet[str] = frozenset()) -> str:
        """How a prompt label of group ``label`` treats a gold mention of group ``gold``:
        ``covers`` (same group or an ancestor: the mention is a positive), ``ambiguous`` (a
        descendant, or an overlap the corpus does not settle: the label must not be asked), or
        ``excludes`` (disjoint: the mention is a negative). ``trusted``: groups the corpus
        annotates exhaustively; two trusted groups that overlap are told apart by the corpus.
        ``own``: groups the corpus annotates as types of their own, so a mention it gives the
        ancestor's type is not one of them (BioNLP13CG: an amino acid is never a Simple_chemical)."""
        if label == gold or label in self._ancestors[gold]:
            return "covers"
        if label in self._descendants[gold]:
            return "excludes" if label in own else "ambiguous"
        if frozenset((label, gold)) in self._overlapping and not (label in trusted and gold in trusted):
            return "ambiguous"
        return "excludes"

    def conflicts(self, gold_type: str) -> Set[str]:
        """Training phrasings never to be used as a negative for ``gold_type``: its synonyms, its
        ancestors', its descendants' and overlapping groups' phrasings (the conflict table)."""
        gold = self._group(gold_type)
        gold_key = normalize(gold.name)
        return {phrase for key, group in self.groups.items()
                if self._relation(key, gold_key, frozenset()) != "excludes" for phrase in group.surface_forms}

    # -- corpus policies -----------------------------------------------------------------------------
    def policy(self, corpus: str) -> CorpusPolicy:
        if corpus not in self.policies:
            raise KeyError(f"corpus {corpus!r} has no negative policy in the type vocabulary {self.source} "
                           f"(known: {', '.join(sorted(self.policies))})")
        return self.policies[corpus]

    def exhaustive_groups(self, corpus: str) -> FrozenSet[str]:
        return frozenset(normalize(n) for n in self.policy(corpus).exhaustive)

    def own_groups(self, corpus: str) -> FrozenSet[str]:
        """Groups of the corpus's own source types."""
        return frozenset(key for member, key in self._members.items() if member.split(":", 1)[0] == corpus)

    def askable_groups(self, corpus: str) -> Set[str]:
        """Group keys an example of ``corpus`` may be asked about at all: its exhaustive groups,
        their descendants, and its extra negatives (the negative policy)."""
        exhaustive = self.exhaustive_groups(corpus)
        out = set(exhaustive) | {normalize(n) for n in self.policy(corpus).extra_negatives}
        for key in exhaustive:
            out |= self._descendants[key]
        return {key for key in out if self.groups[key].surface_forms}

    def label_judgements(self, corpus: str, gold_source_types: Iterable[str]) -> Dict[str, FrozenSet[str]]:
        """For an example of ``corpus`` with these gold source types: every askable group (natural
        name) -> the gold source types it covers (empty: a valid negative). Groups ambiguous for
        any gold type are left out. Cached per (corpus, gold types)."""
        cache_key = (corpus, frozenset(gold_source_types))
        if cache_key not in self._judgements:
            self._judgements[cache_key] = self._judge(*cache_key)
        return self._judgements[cache_key]

    def _judge(self, corpus: str, gold_source_types: FrozenSet[str]) -> Dict[str, FrozenSet[str]]:
        trusted = self.exhaustive_groups(corpus)
        own, roles = self.own_groups(corpus), set(self.policy(corpus).role_types)
        golds = {}
        for source_type in gold_source_types:
            key = self._members.get(f"{corpus}:{source_type}")
            if key is None:
                raise KeyError(f"source type {source_type!r} of corpus {corpus!r} is not a member of any group of "
                               f"the type vocabulary {self.source}")
            golds[source_type] = key
        out = {}
        for label in self.askable_groups(corpus):
            relations = {t: self._relation(label, g, trusted, frozenset() if t in roles else own) for t, g in golds.items()}
            if "ambiguous" not in relations.values():
                out[self.groups[label].name] = frozenset(t for t, r in relations.items() if r == "covers")
        return dict(sorted(out.items()))

    def contrast_groups(self, corpus: str, gold_source_types: Iterable[str]) -> List[str]:
        """Natural names of the groups that exclude every gold type of an example of ``corpus``
        (disjoint: no synonym, ancestor, descendant or overlap of any) and that the corpus does not
        annotate (so they are not askable as ordinary negatives: its other mentions may be of
        them). Asked in a prompt, such a type is judged only on the example's gold mentions."""
        cache_key = ("contrast", corpus, frozenset(gold_source_types))
        if cache_key not in self._judgements:
            golds = [f"{corpus}:{t}" for t in cache_key[2] if f"{corpus}:{t}" in self._members]
            askable = self.askable_groups(corpus)
            self._judgements[cache_key] = [
                name for name in (self.excluding_groups(golds) if golds else ())
                if self.groups[normalize(name)].surface_forms and normalize(name) not in askable
            ]
        return self._judgements[cache_key]

    def excluding_groups(self, names: Iterable[str]) -> List[str]:
        """Natural names of the groups disjoint from every group of ``names`` (phrasings or
        ``corpus:SourceType``; none a synonym, ancestor, descendant or overlap of any of them)."""
        names = list(names)
        keys = [self.resolve(name) for name in names]
        if not keys or None in keys:
            raise KeyError(f"not phrasings of the type vocabulary {self.source}: {[n for n, k in zip(names, keys) if k is None] or 'none given'}")
        return sorted(group.name for key, group in self.groups.items()
                      if all(self._relation(key, gold, frozenset()) == "excludes" for gold in keys))

    def negatives_for(self, corpus: str, gold_types: Iterable[str] = ()) -> List[str]:
        """Natural names of the groups that may be asked as negatives in an example of ``corpus``
        whose gold source types are ``gold_types`` (all its mentions are annotated and none is one)."""
        judged = self.label_judgements(corpus, gold_types)
        return [name for name, covered in judged.items() if not covered]

    def check_label_maps(self, corpora: Optional[Iterable[str]] = None) -> None:
        """Every source type of every training corpus's label map is a member of a group, and its
        canonical label is a phrasing of that group or of an ancestor the corpus annotates
        exhaustively, and never ambiguous for another type of the corpus (so the canonical prompt
        stays well defined). Evaluation-only corpora (Chia) are not training data: not checked."""
        from .corpora import training_corpora

        names = sorted(corpora if corpora is not None else training_corpora())
        for corpus in names:
            label_map = load_label_map(corpus)
            trusted, own, roles = self.exhaustive_groups(corpus), self.own_groups(corpus), set(self.policy(corpus).role_types)
            for source_type, label in label_map.items():
                key = self._members.get(f"{corpus}:{source_type}")
                if key is None:
                    raise VocabularyError(f"{self.source}: source type {source_type!r} of label map "
                                          f"{LABEL_MAP_DIR / (corpus + '.yaml')} is in no group (add '{corpus}:{source_type}' to a group's members)")
                if label is None:
                    continue
                label_key = self._phrases.get(normalize(label))
                if label_key is None or not (label_key == key or (label_key in self._ancestors[key] and label_key in trusted)):
                    raise VocabularyError(f"{self.source}: canonical label {label!r} of {corpus}:{source_type} is not a "
                                          f"phrasing of its group {self.groups[key].name!r} or of an exhaustive ancestor")
                for other, other_key in self._members.items():
                    other_own = frozenset() if other.split(":", 1)[1] in roles else own
                    if other.split(":", 1)[0] == corpus and self._relation(label_key, other_key, trusted, other_own) == "ambiguous":
                        raise VocabularyError(f"{self.source}: canonical label {label!r} of {corpus}:{source_type} is ambiguous "
                                              f"for the corpus's type {other} (a kind of it, or an overlap the corpus does not settle)")


def _tuple(value, group_name: str, field_name: str, where: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VocabularyError(f"{where} (group {group_name!r}): {field_name} must be a list of strings")
    return tuple(value)


def parse_type_vocabulary(data, source: str = "<vocabulary>") -> TypeVocabulary:
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list) or not isinstance(data.get("corpora"), dict):
        raise VocabularyError(f"{source}: a type vocabulary is a mapping with 'groups' (a list) and 'corpora' (a mapping)")
    groups = []
    for index, entry in enumerate(data["groups"]):
        line = entry.get(_LINE) if isinstance(entry, dict) else None
        where = f"{source}, line {line}" if line else f"{source}, groups[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise VocabularyError(f"{where}: empty vocabulary entry: each group needs a non-empty 'name'")
        unknown = sorted(set(entry) - GROUP_KEYS - {_LINE})
        if unknown:
            raise VocabularyError(f"{where} (group {entry['name']!r}): unknown key(s) {unknown}; known: {sorted(GROUP_KEYS)}")
        description = entry.get("description")
        if not isinstance(description, str):
            raise VocabularyError(f"{where} (group {entry['name']!r}): a one-line 'description' is required")
        groups.append(TypeGroup(entry["name"], *(_tuple(entry.get(f), entry["name"], f, where) for f in ("names", "held_out_names")),
                                description, *(_tuple(entry.get(f), entry["name"], f, where) for f in ("parents", "overlaps", "members")),
                                line=line))
    policies = []
    for corpus, entry in data["corpora"].items():
        if corpus == _LINE:
            continue
        where = f"{source}: corpora.{corpus}"
        if not isinstance(entry, dict) or not entry.get("exhaustive"):
            raise VocabularyError(f"{where}: give 'exhaustive', the groups every mention of which the corpus annotates")
        unknown = sorted(set(entry) - CORPUS_KEYS - {_LINE})
        if unknown:
            raise VocabularyError(f"{where}: unknown key(s) {unknown}; known: {sorted(CORPUS_KEYS)}")
        policies.append(CorpusPolicy(corpus, *(_tuple(entry.get(f), corpus, f, where) for f in ("exhaustive", "extra_negatives", "role_types"))))
    return TypeVocabulary(groups, policies, source)


@functools.lru_cache(maxsize=8)
def _load(path: str) -> TypeVocabulary:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_LineLoader)  # noqa: S506 -- SafeLoader subclass
    except FileNotFoundError:
        raise FileNotFoundError(f"type vocabulary {path} does not exist") from None
    except yaml.YAMLError as error:
        raise VocabularyError(f"{path}: not valid YAML: {error}") from None
    return parse_type_vocabulary(data, path)


def load_type_vocabulary(path: Optional[Union[str, Path]] = None) -> TypeVocabulary:
    """The vocabulary at ``path`` (default: the package's type_vocabulary.yaml), checked; cached per path."""
    return _load(str(Path(path or DEFAULT_VOCABULARY).resolve()))


def vocabulary_markdown_table(vocabulary: TypeVocabulary) -> str:
    """The groups as a Markdown table (docs/open-types.md holds it; a test keeps the two equal)."""
    rows = ["| group | training phrasings | held-out phrasings | parents | overlaps | source types |",
            "| --- | --- | --- | --- | --- | --- |"]
    for group in vocabulary.groups.values():
        cells = (group.name, ", ".join(group.surface_forms), ", ".join(group.held_out_names), ", ".join(group.parents),
                 ", ".join(group.overlaps), ", ".join(group.members))
        rows.append("| " + " | ".join(cell or "-" for cell in cells) + " |")
    return "\n".join(rows) + "\n"

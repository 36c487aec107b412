"""The type vocabulary: coverage of every label map, relations, negative policies, bad input."""

import textwrap
from pathlib import Path

import pytest

from gliner_biomed.dataset_builders import load_label_map
from gliner_biomed.dataset_builders.corpora import training_corpora
from gliner_biomed.dataset_builders.type_vocabulary import (
    DEFAULT_VOCABULARY,
    VocabularyError,
    load_type_vocabulary,
)


@pytest.fixture(scope="module")
def vocabulary():
    return load_type_vocabulary()


def test_every_label_map_type_of_every_corpus_is_in_a_group(vocabulary):
    vocabulary.check_label_maps()  # raises naming the first uncovered type
    for corpus in training_corpora():
        for source_type, label in load_label_map(corpus).items():
            group = vocabulary.group_of_source(corpus, source_type)
            assert group is not None, f"{corpus}:{source_type}"
            assert vocabulary.compatible(label, f"{corpus}:{source_type}"), (corpus, source_type, label)
            assert len(vocabulary.surface_forms(group)) >= 3, f"{group}: too few phrasings"
            assert vocabulary.description(group)


def test_fine_types_are_kept_next_to_coarse_names(vocabulary):
    assert vocabulary.group_of_source("bionlp09", "Protein") == "protein"
    assert "gene or gene product" in vocabulary.parents("protein")
    assert vocabulary.group_of_source("tmvar3", "ProteinMutation") == "protein mutation"
    assert vocabulary.ancestors("tmvar3:DNAMutation") >= {"sequence variant"}
    assert vocabulary.group_of_source("ncbi-disease", "DiseaseClass") == "disease class"
    assert vocabulary.group_of_source("craft", "CL") == "cell type"
    assert len({vocabulary.group_of_source("bionlp13cg", t) for t in load_label_map("bionlp13cg")}) == 16


def test_relations_and_compatibility(vocabulary):
    assert vocabulary.compatible("gene", "Gene Product")  # synonyms, case and spacing ignored
    assert vocabulary.compatible("protein", "gene or gene product")  # child / parent
    assert vocabulary.compatible("cytokine", "gene or gene product")  # held-out child, two levels down
    assert vocabulary.compatible("bacterium", "organism")
    assert not vocabulary.compatible("cell line", "cell type")  # siblings are different groups
    assert not vocabulary.compatible("chemical", "disease")
    assert not vocabulary.compatible("kinase inhibitor", "chemical")  # unknown phrase
    assert vocabulary.group_of("not a type at all") is None
    # plurals, as mined or typed: the singular's group
    assert vocabulary.group_of("Cell Lines") == "cell line" and vocabulary.group_of("cytokines") == "cytokine"
    assert vocabulary.group_of("bodies") is None and vocabulary.group_of("species") == "species"
    assert vocabulary.compatible("proteins", "genes") and vocabulary.contains_phrase("proteins")
    assert not vocabulary.contains_phrase("drugs") and not vocabulary.contains_phrase("transcription factors")
    # mined types by their head words: the longest final run of words the vocabulary knows
    assert vocabulary.group_of_head("human leukemic cell lines") == "cell line"
    assert vocabulary.group_of_head("gram negative bacterium") == "bacterium" and vocabulary.group_of_head("Cell Line") == "cell line"
    assert vocabulary.group_of_head("kinase inhibitor") is None and vocabulary.group_of_head("mechanism whereby") is None
    # the head itself, in the phrase's own casing (what open_head_phrasing asks)
    assert vocabulary.head_phrase("gram negative bacterium") == "bacterium" and vocabulary.head_phrase("viral DNA") == "DNA"
    assert vocabulary.head_phrase("human leukemic cell lines") == "cell lines" and vocabulary.head_phrase("chemokine") == "chemokine"
    assert vocabulary.head_phrase("mechanism whereby") is None


def test_held_out_phrasings_are_known_but_never_training_phrases(vocabulary):
    for phrase in ("drug", "condition", "procedure", "measurement", "observation", "person", "device", "visit",
                   "bacterium", "cytokine", "transcription factor", "adverse event", "lab test", "DNA", "RNA"):
        assert not vocabulary.contains_phrase(phrase), phrase
        assert phrase in vocabulary.held_out_phrases()
        assert vocabulary.group_of(phrase) is not None
    for phrase in ("protein", "cell line", "cell type", "species", "chemical", "disease", "gene"):
        assert vocabulary.contains_phrase(phrase), phrase
    assert not vocabulary.training_phrases() & vocabulary.held_out_phrases()
    with pytest.raises(KeyError, match="neither a phrasing"):
        vocabulary.surface_forms("no such type")
    assert vocabulary.surface_forms("drug") == []  # held out: training never names it


def test_conflict_table(vocabulary):
    gene_conflicts = vocabulary.conflicts("bc2gm:GENE")
    assert {"gene", "protein", "gene product", "gene family", "protein complex"} <= gene_conflicts
    assert "chemical" not in gene_conflicts and "protein mutation" not in gene_conflicts
    assert {"disorder", "cancer", "specific disease", "lesion"} <= vocabulary.conflicts("disease")
    assert "cell type" not in vocabulary.conflicts("cell line") and "cell" in vocabulary.conflicts("cell line")


def test_negative_policy_of_partially_annotated_corpora(vocabulary):
    # NCBI-disease annotates only diseases: a chemical or gene negative would be a lie about unannotated text.
    assert set(vocabulary.negatives_for("ncbi-disease")) <= {"disease", "specific disease", "disease class", "cancer"}
    assert vocabulary.negatives_for("ncbi-disease", ["Modifier"]) == []  # every kind of disease is ambiguous there
    assert "chemical" not in vocabulary.negatives_for("bc2gm") and "disease" not in vocabulary.negatives_for("bionlp13cg")
    assert "chemical" in vocabulary.negatives_for("bc5cdr", ["Disease"])
    assert "protein" not in vocabulary.negatives_for("bc2gm", ["GENE"])  # a child of the gold type: ambiguous
    assert "protein" in vocabulary.negatives_for("bc2gm", [])  # no gene in the sentence: no protein either
    judged = vocabulary.label_judgements("tmvar3", ["ProteinMutation", "Gene"])
    assert judged["sequence variant"] == {"ProteinMutation"} and judged["protein mutation"] == {"ProteinMutation"}
    assert judged["DNA mutation"] == frozenset() and "protein" not in judged
    with pytest.raises(KeyError, match="no negative policy"):
        vocabulary.negatives_for("chia")
    with pytest.raises(KeyError, match="not a member"):
        vocabulary.negatives_for("bc5cdr", ["Gene"])


GOOD = """\
groups:
  - name: chemical
    names: [compound]
    description: a chemical
    members: [bc5cdr:Chemical]
  - name: drug
    held_out_names: [drug]
    description: a medicine
    parents: [chemical]
  - name: disease
    names: [disorder]
    description: a disease
    members: [bc5cdr:Disease]
corpora:
  bc5cdr:
    exhaustive: [chemical, disease]
"""


def _write(tmp_path, text):
    path = tmp_path / "vocabulary.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_small_good_file_loads(tmp_path):
    vocabulary = load_type_vocabulary(_write(tmp_path, GOOD))
    assert vocabulary.negatives_for("bc5cdr", ["Chemical"]) == ["disease"]
    assert vocabulary.surface_forms("bc5cdr:Chemical") == ["chemical", "compound"]


@pytest.mark.parametrize("old, new, message", [
    ("    names: [compound]\n", "    names: [compound, '']\n", r"line 2 \(group 'chemical'\): empty name"),
    ("  - name: drug\n", "  - name: ''\n", r"line 6: empty vocabulary entry"),
    ("    description: a medicine\n", "", r"line 6 \(group 'drug'\): a one-line 'description' is required"),
    ("    names: [disorder]\n", "    names: [disorder, compound]\n",
     r"line 10 \(group 'disease'\): name 'compound' is already a phrasing of group 'chemical' \(line 2\)"),
    ("    names: [disorder]\n", "    names: [disorder, Disorder]\n", r"name 'Disorder' is already a phrasing of this group"),
    ("    names: [disorder]\n", "    names: [disorder, drug]\n", r"'drug' is already a phrasing of group 'drug'"),
    ("    members: [bc5cdr:Disease]\n", "    members: [bc5cdr:Disease, bc5cdr:Chemical]\n",
     r"source type bc5cdr:Chemical is already a member of group 'chemical' \(line 2\)"),
    ("    parents: [chemical]\n", "    parents: [chemical]\n    members: [bc5cdr:Drug]\n",
     r"group 'drug'\): member bc5cdr:Drug: a group with only held-out names cannot have members"),
    ("    parents: [chemical]\n", "    parents: [medicine]\n", r"parent 'medicine' is not a group"),
    ("    members: [bc5cdr:Chemical]\n", "    members: [bc5cdr:Chemical]\n    parents: [drug]\n",
     r"parents form a cycle"),
    ("    exhaustive: [chemical, disease]\n", "    exhaustive: [chemical]\n",
     r"corpora.bc5cdr: exhaustive must list the groups of its own source types; missing \['disease'\]"),
    ("    exhaustive: [chemical, disease]\n", "    exhaustive: [chemical, disease]\n    extra_negatives: [drug]\n",
     r"extra negative 'drug' conflicts with the corpus's own type 'chemical'.*both a true type and a negative"),
    ("    members: [bc5cdr:Disease]\n", "    members: [bc5cdr:Disease]\n    overlaps: [chemical]\n    parents: [chemical]\n",
     r"\['chemical'\] listed both as parent and as overlap"),
    ("corpora:\n  bc5cdr:\n", "corpora:\n  ncbi:\n", r"member bc5cdr:Chemical: corpus 'bc5cdr' has no entry under corpora"),
    ("    names: [compound]\n", "    names: [compound]\n    synonyms: [x]\n", r"unknown key\(s\) \['synonyms'\]"),
])
def test_bad_vocabulary_is_an_error_naming_file_line_and_entry(tmp_path, old, new, message):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(VocabularyError, match=message) as caught:
        load_type_vocabulary(path)
    assert str(path) in str(caught.value)


def test_label_map_type_missing_from_the_vocabulary_is_named(tmp_path):
    vocabulary = load_type_vocabulary(_write(tmp_path, GOOD.replace("    members: [bc5cdr:Disease]\n", "")))
    with pytest.raises(VocabularyError, match=r"source type 'Disease' of label map .*bc5cdr.yaml is in no group"):
        vocabulary.check_label_maps(["bc5cdr"])


def test_default_vocabulary_is_package_data():
    assert DEFAULT_VOCABULARY.is_file() and DEFAULT_VOCABULARY.parent.name == "label_maps"


def test_role_types_must_be_the_corpus_own_types(tmp_path):
    path = _write(tmp_path, GOOD.replace("    exhaustive: [chemical, disease]\n",
                                         "    exhaustive: [chemical, disease]\n    role_types: [Modifier]\n"))
    with pytest.raises(VocabularyError, match=r"corpora.bc5cdr: role type 'Modifier' is not a member source type of bc5cdr"):
        load_type_vocabulary(path)


def test_docs_table_is_the_vocabulary(vocabulary):
    from gliner_biomed.dataset_builders.type_vocabulary import vocabulary_markdown_table

    docs = (Path(__file__).resolve().parents[1] / "docs" / "open-types.md").read_text(encoding="utf-8")
    assert vocabulary_markdown_table(vocabulary) in docs, "regenerate the table in docs/open-types.md (command above it)"

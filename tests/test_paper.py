"""The paper's published numbers (omnilearn.paper): every table as printed in arXiv:2404.16091."""

import pytest

from omnilearn import paper
from omnilearn.paper import Entry, parse

#: table → (rows, column keys) as printed
SHAPES = {
    "Table I": (14, ("accuracy", "auc", "rejection@0.5", "rejection@0.3")),
    "Table II": (8, ("accuracy", "auc", "rejection@0.5", "rejection@0.3")),
    "Table III": (2, ("auc", "accuracy", "rejection@0.5", "rejection@0.8")),
    "Table IV": (10, ("auc", "accuracy", "rejection@0.5", "rejection@0.8")),
    "Table V": (2, ("auc", "accuracy", "rejection@0.1", "rejection@0.5")),
    "Table VI": (36, ("w1m", "w1p", "w1efp", "fpnd", "cov", "mmd")),
    "Table VII": (33, ("w1m", "w1p", "w1efp", "cov", "mmd")),
    "Table VIII": (2, paper.OMNIFOLD_COLUMNS),
    "Table IX": (6, paper.OMNIFOLD_COLUMNS),
}


@pytest.mark.parametrize("name", SHAPES)
def test_every_table_has_the_papers_rows_and_columns(name):
    table = paper.TABLES[name]
    rows, columns = SHAPES[name]
    assert table.name == name and len(table.rows) == rows and table.columns == columns
    assert len(table.headers) == len(columns)
    assert len({(r.group, r.model) for r in table.rows}) == rows  # no row twice


def test_generation_tables_are_grouped_by_jet_class():
    for table, per_class in ((paper.TABLE_VI, (8, 8, 8, 6, 6)), (paper.TABLE_VII, (7, 7, 7, 6, 6))):
        assert table.groups == ("g", "q", "t", "w", "z")
        assert tuple(len(list(table.rows_of(g))) for g in table.groups) == per_class
        for g in table.groups:  # the four rows our runs are compared with are in every class
            for model in ("PET generator", "PET generator (Ideal)", "OmniLearn", "OmniLearn (Ideal)"):
                assert table.row(model, g) is not None, (table.name, g, model)
    assert paper.generation_table(30) is paper.TABLE_VI and paper.generation_table(150) is paper.TABLE_VII


@pytest.mark.parametrize("name", SHAPES)
def test_every_cell_parses_and_prints_back_as_printed(name):
    for row in paper.TABLES[name].rows:
        for cell in row.cells:
            assert cell is None or str(parse(cell)) == cell, (row.model, cell)


def test_parse():
    assert parse("568 ± 9") == Entry(568.0, 9.0, 0, 0)
    assert parse("0.9872") == Entry(0.9872, None, 4, 0)
    assert parse("39.92 ± 0.1") == Entry(39.92, 0.1, 2, 1)  # Table II prints unequal decimals
    assert str(parse("207.30")) == "207.30"  # trailing zeros kept
    assert parse(None) is None
    for bad in ("-", "", "0.5 +- 0.1", "2289±204", "about 3"):
        with pytest.raises(ValueError):
            parse(bad)


def test_spot_values_against_the_paper():
    top, qg = paper.TABLE_I, paper.TABLE_II
    assert top.entry("OmniLearn", "auc") == Entry(0.9872, None, 4)
    assert top.entry("OmniLearn", "rejection@0.3") == Entry(2647, 192, 0, 0)
    assert top.entry("PELICAN [79]", "rejection@0.3") is None  # printed "-"
    assert top.text(top.row("JEDI-net [36]"), "rejection@0.3") == "774.6"
    assert qg.entry("PET classifier", "rejection@0.5") == Entry(39.92, 0.1, 2, 1)
    assert paper.TABLE_III.entry("OmniLearn", "rejection@0.8").value == 4.836
    assert paper.TABLE_IV.text(paper.TABLE_IV.row("OmniLearn (40M)"), "rejection@0.5") == "207.30"
    assert paper.TABLE_V.entry("PET classifier", "auc").value == 0.5691
    assert paper.TABLE_VI.entry("OmniLearn", "w1efp", "t") == Entry(1.31, 0.18, 2, 2)
    assert paper.TABLE_VI.entry("MP-GAN [44]", "w1efp", "t") == Entry(2, 1, 0, 0)
    assert paper.TABLE_VI.entry("OmniLearn", "fpnd", "w") is None
    assert paper.TABLE_VII.entry("OmniLearn (Ideal)", "w1p", "g").value == 0.22
    assert paper.TABLE_VII.text(paper.TABLE_VII.row("OmniLearn"), "fpnd") is None  # no FPND column


def test_headers_and_keys():
    assert paper.rejection_key(0.5) == "rejection@0.5"
    assert paper.header("rejection@0.3") == "1/εB (εS = 0.3)" and paper.header("auc") == "AUC"
    assert paper.TABLE_III.headers[:2] == ("AUC", "Acc")


def test_a_malformed_cell_is_refused():
    with pytest.raises(ValueError, match="not a published number"):
        paper.PaperTable("Table X", "", ("auc",), (paper.PublishedRow("m", ("0.9 ± ",)),))
    with pytest.raises(ValueError, match="cells for"):
        paper.PaperTable("Table X", "", ("auc", "accuracy"), (paper.PublishedRow("m", ("0.9",)),))


def test_omnifold_tables_spot_values():
    assert paper.OMNIFOLD_COLUMNS == ("mass", "multiplicity", "width", "log_rho", "tau21", "z_g")
    assert paper.TABLE_VIII.entry("OmniLearn", "mass") == Entry(0.027, 0.008, 3, 3)
    assert paper.TABLE_VIII.entry("PET classifier", "z_g") == Entry(0.04, 0.01, 2, 2)
    assert paper.TABLE_IX.entry("OmniLearn", "multiplicity") == Entry(0.34, 0.1, 2, 1)
    assert paper.TABLE_IX.entry("IBU", "mass") == Entry(9.31, None, 2)
    assert paper.TABLE_IX.entry("OmniFold (DeepSets)", "z_g").value == 0.68
    assert paper.TABLE_IX.headers == ("Jet mass", "N", "Jet width", "log ρ", "τ21", "z_g")

import pytest

from optimiser.errors import ConfigError
from optimiser.yamlio import MAX_DEPTH, parse_bytes, resolve_scalar


@pytest.mark.parametrize("text, value", [
    ("no", "no"), ("on", "on"), ("yes", "yes"), ("off", "off"),   # YAML 1.1 booleans stay text
    ("true", True), ("False", False), ("~", None), ("null", None), ("", None),
    ("0755", 755), ("1e-7", 1e-7), ("1e3", 1000.0), ("140_000", 140000), ("1_000.5", 1000.5),
    ("12:30", "12:30"), ("2027-01-01", "2027-01-01"), ("0x1F", 31), ("0o17", 15),
    ("-3", -3), (".5", 0.5), ("copd.spirometry", "copd.spirometry"),
])
def test_yaml_12_core_scalars(text, value):
    assert resolve_scalar(text) == value
    assert type(resolve_scalar(text)) is type(value)


def test_special_floats():
    import math
    assert math.isinf(resolve_scalar(".inf")) and resolve_scalar("-.Inf") < 0
    assert math.isnan(resolve_scalar(".nan"))


def test_quoted_scalars_stay_text():
    doc = parse_bytes(b"a: '12'\nb: \"true\"\n", "f.yaml")
    assert doc.data == {"a": "12", "b": "true"}


def test_marks_for_keys_and_values():
    doc = parse_bytes(b"top:\n  inner: [1, {k: 2}]\n", "f.yaml")
    assert doc.keys[("top", "inner")] == (2, 3)
    # "  inner: [1, {k: 2}]": '{' is column 14, the value 2 column 18
    assert doc.values[("top", "inner", 1, "k")] == (2, 18)
    assert doc.where(("top", "inner", 1, "missing")) == (2, 14)   # nearest ancestor


def _messages(raw: bytes) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_bytes(raw, "f.yaml")
    return [str(i) for i in info.value.issues]


def test_duplicate_keys_at_any_depth():
    assert _messages(b"a: 1\nb:\n  c: 1\n  c: 2\na: 3\n") == [
        "f.yaml:4:3: b.c: duplicate key 'c' (first given at line 3)",
        "f.yaml:5:1: a: duplicate key 'a' (first given at line 1)",
    ]


def test_tags_are_refused():
    assert _messages(b"a: !!python/object:os.system x\n") == [
        "f.yaml:1:4: a: YAML tag '!!python/object:os.system' is not allowed; write plain values"]


def test_deep_nesting_refused_without_crash():
    msgs = _messages(b"[" * 100_000)
    assert msgs == [f"f.yaml:1:{MAX_DEPTH + 1}: nested more than {MAX_DEPTH} levels deep"]


def test_alias_bomb_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    msgs = _messages("\n".join(lines).encode())
    assert len(msgs) == 1 and "expands to more than" in msgs[0]


def test_bad_encoding_and_tabs_are_located():
    assert _messages(b"a: 1\nb: \xff\n") == ["f.yaml:2:4: file is not valid UTF-8 text"]
    assert _messages(b"a:\n\tb: 1\n") == ["f.yaml:2:1: tab used for indentation; indent with spaces"]


def test_syntax_error_is_located():
    (msg,) = _messages(b"a: [1, 2\nb: 3\n")
    assert msg.startswith("f.yaml:2:") and "YAML syntax error" in msg


def test_set_on_an_anchored_mapping_changes_only_that_path(tmp_path):
    """``b: *x`` shares ``a``'s object once parsed; ``--set a.q=2`` must leave ``b.q`` at 1."""
    from optimiser import overrides
    from optimiser.yamlio import parse_text

    doc = parse_text("a: &x {q: 1, r: {s: 3}}\nb: *x\n", "t.yaml")
    assert overrides.apply(doc, ["a.q=2", "a.r.s=4"]) == []
    assert doc.data["a"] == {"q": 2, "r": {"s": 4}}
    assert doc.data["b"] == {"q": 1, "r": {"s": 3}}
